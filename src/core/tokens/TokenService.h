#pragma once

#include "model/Scope.h"
#include "tokens/TokenClaims.h"
#include "util/Error.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QJsonObject>
#include <QString>

#include <functional>
#include <memory>
#include <optional>

namespace m1 {

class TokenLedger;
namespace detail {
class HmacKey;
}

// Mints and verifies approval tokens: HS256 JWTs bound to one exact call (tool, run, arguments).
//
// Refusal codes (stable; each error message names the reason, never the token, a signature or
// the secret): token.malformed (shape, size cap 4096 bytes, base64url, JSON), token.alg (alg
// other than HS256, none included), token.header (kid/jku/x5u/jwk/x5c/crit present, or other
// unsupported header fields), token.type (typ other than JWT), token.signature, token.claims
// (missing or mistyped claim, lifetime outside (0, max]), token.expired, token.not_yet_valid
// (nbf or iat in the future beyond the leeway), token.issuer, token.subject, token.scope (token
// scope differs from the tool's scope), token.tool, token.args, token.run, token.revoked,
// token.consumed.
class TokenService {
    Q_DECLARE_TR_FUNCTIONS(TokenService)

public:
    struct Options {
        qint64 defaultTtlSeconds = 300;
        qint64 maxTtlSeconds = 300;
        qint64 leewaySeconds = 30;
        // Seconds since the epoch; injectable for tests.
        std::function<qint64()> clock;
    };

    // What the token must match. Fields left unset are not checked (m1ctl token verify without
    // --tool); ToolExecutor always sets all of them.
    struct Expectation {
        std::optional<QString> toolName;
        std::optional<Scope> scope; // the tool's scope; the token's scope must equal it
        std::optional<QJsonObject> arguments;
        std::optional<QString> runId;
    };

    // The secret must be at least 32 bytes ("token.secret" otherwise).
    static Result<TokenService> create(QByteArray secret, Options options);
    static Result<TokenService> create(QByteArray secret);

    // ttlSeconds 0 means the default; more than the maximum is refused ("token.ttl").
    Result<QString> mint(const QString& toolName, Scope scope, const QJsonObject& arguments,
                         const QString& runId, qint64 ttlSeconds = 0) const;

    // Signature, header and claims, plus the expectation. With a ledger, also revoked/consumed.
    Result<TokenClaims> verify(const QString& token, const Expectation& expectation,
                               const TokenLedger* ledger = nullptr) const;

    // The jti of a token whose signature verifies (used by revoke), without lifetime checks.
    Result<QString> jtiOf(const QString& token) const;

    qint64 now() const;
    const Options& options() const { return m_options; }

private:
    TokenService(QByteArray secret, Options options, std::shared_ptr<const detail::HmacKey> key);

    QByteArray m_secret;
    Options m_options;
    // The HMAC key schedule, computed once per secret and shared by copies of the service.
    std::shared_ptr<const detail::HmacKey> m_key;
};

} // namespace m1
