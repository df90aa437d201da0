// FUZZ-01: TokenService::verify over arbitrary bytes. Oracles: no crash or sanitizer report;
// nothing is accepted under a random key that no one ever signed with.
#include "tokens/TokenService.h"

#include <QByteArray>
#include <QString>

#include <openssl/rand.h>

#include <cstdint>
#include <cstdlib>
#include <optional>

namespace {

constexpr qint64 kFixedNow = 1764000000; // inside the lifetime of the seed tokens

m1::TokenService makeService(QByteArray secret) {
    m1::TokenService::Options options;
    options.clock = [] { return kFixedNow; };
    return *m1::TokenService::create(std::move(secret), options);
}

std::optional<m1::TokenService> g_fixed;
std::optional<m1::TokenService> g_random;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (!g_fixed) {
        g_fixed = makeService(QByteArrayLiteral("fuzz-secret-0123456789abcdef-0123456789abcdef"));
        QByteArray random(32, '\0');
        RAND_bytes(reinterpret_cast<unsigned char*>(random.data()), 32);
        g_random = makeService(random);
    }
    const QString token =
        QString::fromUtf8(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    (void)g_fixed->verify(token, {});
    (void)g_fixed->jtiOf(token);
    if (g_random->verify(token, {}).has_value() || g_random->jtiOf(token).has_value())
        std::abort(); // a forgery: accepted under a key nobody signed with
    return 0;
}
