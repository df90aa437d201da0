#include "Bench.h"

#include "tokens/TokenService.h"

#include <QJsonObject>

#include <openssl/evp.h>
#include <openssl/hmac.h>

using namespace m1::bench;

namespace {

const QByteArray kSecret = QByteArrayLiteral("bench-secret-0123456789abcdef-0123456789abcdef");

m1::TokenService makeService() {
    return *m1::TokenService::create(kSecret);
}

QJsonObject benchArgs() {
    return QJsonObject{{QStringLiteral("path"), QStringLiteral("src/core/tokens/TokenService.cpp")},
                       {QStringLiteral("offset"), 0},
                       {QStringLiteral("limit"), 200}};
}

m1::TokenService::Expectation benchExpectation() {
    return {QStringLiteral("read_file"), m1::Scope::Read, benchArgs(), QStringLiteral("run-bench")};
}

QString withMacByteFlipped(const QString& token, int byteIndex) {
    const qsizetype dot = token.lastIndexOf(QLatin1Char('.'));
    QByteArray mac =
        QByteArray::fromBase64(token.mid(dot + 1).toLatin1(), QByteArray::Base64UrlEncoding);
    mac[byteIndex] = char(mac[byteIndex] ^ 0x01);
    return token.left(dot + 1) + QString::fromLatin1(mac.toBase64(QByteArray::Base64UrlEncoding |
                                                                  QByteArray::OmitTrailingEquals));
}

QList<Result> runTokenBenchmarks() {
    const m1::TokenService service = makeService();
    const QString token = *service.mint(QStringLiteral("read_file"), m1::Scope::Read, benchArgs(),
                                        QStringLiteral("run-bench"));
    const QByteArray signingInput = token.left(token.lastIndexOf(QLatin1Char('.'))).toLatin1();
    const m1::TokenService::Expectation expectation = benchExpectation();
    constexpr int kSamples = 200;
    constexpr int kIterations = 500;

    QList<Result> results;
    // What a straightforward implementation pays per token: one-shot HMAC() over header.payload.
    results.append(measureNs(QStringLiteral("hmac_sha256_raw"), kSamples, kIterations, [&](int n) {
        unsigned char out[EVP_MAX_MD_SIZE];
        unsigned int length = 0;
        for (int i = 0; i < n; ++i) {
            HMAC(EVP_sha256(), kSecret.constData(), int(kSecret.size()),
                 reinterpret_cast<const unsigned char*>(signingInput.constData()),
                 size_t(signingInput.size()), out, &length);
            doNotOptimize(out[0]);
        }
    }));

    Result mint = measureNs(QStringLiteral("token_mint"), kSamples, kIterations / 5, [&](int n) {
        for (int i = 0; i < n; ++i) {
            auto minted = service.mint(QStringLiteral("read_file"), m1::Scope::Read, benchArgs(),
                                       QStringLiteral("run-bench"));
            doNotOptimize(minted);
        }
    });
    results.append(mint);

    // Full check including the argument hash; the ledger look-up is excluded.
    Result verify = measureNs(QStringLiteral("token_verify"), kSamples, kIterations, [&](int n) {
        for (int i = 0; i < n; ++i) {
            auto claims = service.verify(token, expectation);
            if (!claims)
                qFatal("bench token did not verify: %s", qPrintable(claims.error().message));
            doNotOptimize(claims);
        }
    });
    verify.baseline = QStringLiteral("hmac_sha256_raw");
    verify.target = QStringLiteral("ratio <= 4");
    results.append(verify);

    // JWT-08: a mismatch in the first MAC byte must cost what one in the last byte costs.
    const QString firstWrong = withMacByteFlipped(token, 0);
    const QString lastWrong = withMacByteFlipped(token, 31);
    auto refuse = [&](const QString& bad) {
        return [&service, &expectation, bad](int n) {
            for (int i = 0; i < n; ++i) {
                auto claims = service.verify(bad, expectation);
                if (claims)
                    qFatal("a forged MAC verified");
                doNotOptimize(claims);
            }
        };
    };
    // Interleaved samples so that machine noise hits both sides alike.
    Result last;
    Result first;
    {
        std::vector<Result> firsts;
        std::vector<Result> lasts;
        for (int round = 0; round < 5; ++round) {
            lasts.push_back(measureNs(QStringLiteral("token_verify_mismatch_last_byte"),
                                      kSamples / 5, kIterations, refuse(lastWrong)));
            firsts.push_back(measureNs(QStringLiteral("token_verify_mismatch_first_vs_last_byte"),
                                       kSamples / 5, kIterations, refuse(firstWrong)));
        }
        auto median = [](std::vector<Result> rs) {
            std::sort(rs.begin(), rs.end(),
                      [](const Result& a, const Result& b) { return a.p50 < b.p50; });
            Result r = rs[rs.size() / 2];
            r.n *= qint64(rs.size());
            return r;
        };
        last = median(lasts);
        first = median(firsts);
    }
    results.append(last);
    first.baseline = QStringLiteral("token_verify_mismatch_last_byte");
    first.target = QStringLiteral("ratio ~ 1.0 (mismatch in MAC byte 0 vs byte 31)");
    results.append(first);
    return results;
}

} // namespace

M1_BENCHMARK("tokens", runTokenBenchmarks);
