#include "util/Sha256.h"

#include <QCryptographicHash>

#include <openssl/evp.h>

#include <memory>

namespace m1 {

namespace {

struct DigestContextFree {
    void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

} // namespace

QByteArray sha256Hex(QByteArrayView first, QByteArrayView second) {
    static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    thread_local const std::unique_ptr<EVP_MD_CTX, DigestContextFree> context(EVP_MD_CTX_new());
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (sha256 == nullptr || context == nullptr ||
        EVP_DigestInit_ex(context.get(), sha256, nullptr) != 1 ||
        EVP_DigestUpdate(context.get(), first.data(), size_t(first.size())) != 1 ||
        EVP_DigestUpdate(context.get(), second.data(), size_t(second.size())) != 1 ||
        EVP_DigestFinal_ex(context.get(), digest, &length) != 1) {
        // Not expected with a working OpenSSL; Qt's implementation gives the same digest.
        QCryptographicHash hash(QCryptographicHash::Sha256);
        hash.addData(first);
        hash.addData(second);
        return hash.result().toHex();
    }
    return QByteArray(reinterpret_cast<const char*>(digest), int(length)).toHex();
}

} // namespace m1
