#include "tokens/TokenService.h"

#include "tokens/JwtCodec.h"
#include "tokens/TokenLedger.h"
#include "util/CanonicalJson.h"

#include <QDateTime>
#include <QTimeZone>
#include <QUuid>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <string>
#include <string_view>
#include <vector>

namespace m1 {

namespace detail {

// An HMAC-SHA256 context already keyed with the secret. Each signature starts from a copy, so the
// key schedule (ipad/opad blocks) is computed once per secret instead of once per token.
class HmacKey {
public:
    static std::shared_ptr<const HmacKey> create(const QByteArray& secret) {
        EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
        if (!mac)
            return nullptr;
        EVP_MAC_CTX* context = EVP_MAC_CTX_new(mac);
        EVP_MAC_free(mac); // the context holds its own reference
        if (!context)
            return nullptr;
        char digest[] = "SHA256";
        const OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
            OSSL_PARAM_construct_end()};
        if (EVP_MAC_init(context, reinterpret_cast<const unsigned char*>(secret.constData()),
                         size_t(secret.size()), params) != 1) {
            EVP_MAC_CTX_free(context);
            return nullptr;
        }
        return std::shared_ptr<const HmacKey>(new HmacKey(context));
    }

    ~HmacKey() { EVP_MAC_CTX_free(m_template); }
    HmacKey(const HmacKey&) = delete;
    HmacKey& operator=(const HmacKey&) = delete;

    static constexpr size_t kOutputBytes = 32;

    bool sign(std::string_view data, unsigned char (&out)[kOutputBytes]) const {
        EVP_MAC_CTX* context = EVP_MAC_CTX_dup(m_template);
        if (!context)
            return false;
        size_t length = 0;
        const bool ok = EVP_MAC_update(context, reinterpret_cast<const unsigned char*>(data.data()),
                                       data.size()) == 1 &&
                        EVP_MAC_final(context, out, &length, kOutputBytes) == 1 &&
                        length == kOutputBytes;
        EVP_MAC_CTX_free(context);
        return ok;
    }

private:
    explicit HmacKey(EVP_MAC_CTX* context) : m_template(context) {}
    EVP_MAC_CTX* m_template;
};

} // namespace detail

namespace {

constexpr qsizetype kMaxTokenBytes = 4096;
constexpr size_t kSha256Bytes = detail::HmacKey::kOutputBytes;
constexpr qint64 kMaxLeewaySeconds = 60;
constexpr int kMinSecretBytes = 32;
constexpr std::string_view kIssuer = "m1-agent-control";
constexpr std::string_view kSubject = "approval";
// base64url of {"alg":"HS256","typ":"JWT"}: what mint() writes and PyJWT writes too, so the
// common case skips decoding and parsing the header.
constexpr std::string_view kHeaderSegment = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

bool isLowerHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// Only a jti of this shape is ever quoted in a message, so a message cannot carry attacker text.
bool isCanonicalUuid(std::string_view text) {
    if (text.size() != 36)
        return false;
    for (size_t i = 0; i < text.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? text[i] != '-' : !isLowerHex(text[i]))
            return false;
    }
    return true;
}

bool isSha256Hex(std::string_view text) {
    if (text.size() != 64)
        return false;
    for (char c : text) {
        if (!isLowerHex(c))
            return false;
    }
    return true;
}

struct Decoded {
    std::string signingInputStorage;
    std::vector<jwt::Member> claims;
};

// Times in refusals as a person reads them elsewhere (token verify, history): ISO 8601, UTC.
QString isoUtc(qint64 seconds) {
    return QDateTime::fromSecsSinceEpoch(seconds, QTimeZone::utc()).toString(Qt::ISODate);
}

bool sameBytes(const QByteArray& a, std::string_view b) {
    return std::string_view(a.constData(), size_t(a.size())) == b;
}

// Builds refusals; its tr() shares TokenService's translation context.
struct TokenRefusal {
    Q_DECLARE_TR_FUNCTIONS(TokenService)

public:
    static std::unexpected<Error> make(const char* code, const QString& reason,
                                       std::string_view jti = {}, bool verified = true) {
        QString message;
        if (jti.empty() || !isCanonicalUuid(jti)) {
            message = tr("Approval token refused (%1): %2").arg(QLatin1String(code), reason);
        } else if (verified) {
            message = tr("Approval token %1 refused (%2): %3")
                          .arg(QLatin1String(jti.data(), qsizetype(jti.size())),
                               QLatin1String(code), reason);
        } else {
            message = tr("Approval token %1 (unverified id) refused (%2): %3")
                          .arg(QLatin1String(jti.data(), qsizetype(jti.size())),
                               QLatin1String(code), reason);
        }
        return fail(QString::fromLatin1(code), message);
    }
};

// The jti of a payload whose signature did not verify: quoted as unverified so a person can tell
// which approval it claimed to be; anything not shaped like a UUID is left out.
std::string peekJti(std::string_view payloadSegment) {
    std::string payload;
    std::vector<jwt::Member> members;
    if (!jwt::decodeBase64Url(payloadSegment, payload) ||
        jwt::parseObject(payload, members) != jwt::ParseStatus::Ok)
        return {};
    const jwt::Member* jti = jwt::find(members, "jti");
    if (!jti || jti->kind != jwt::Kind::String || !isCanonicalUuid(jti->text))
        return {};
    return jti->text;
}

// Shape, header, signature and payload JSON: everything before a single claim is interpreted.
std::optional<Error> decodeSigned(const detail::HmacKey& key, const QString& token,
                                  Decoded& decoded) {
    using R = TokenRefusal;
    // The cap comes before any decoding, so a huge input costs one comparison.
    if (token.size() > kMaxTokenBytes)
        return R::make("token.malformed",
                       TokenRefusal::tr("longer than %1 bytes").arg(kMaxTokenBytes))
            .error();
    std::string& bytes = decoded.signingInputStorage;
    bytes.resize(size_t(token.size()));
    const QChar* chars = token.constData();
    for (qsizetype i = 0; i < token.size(); ++i) {
        const char16_t unit = chars[i].unicode();
        if (unit >= 0x80)
            return R::make("token.malformed",
                           TokenRefusal::tr("contains characters outside base64url"))
                .error();
        bytes[size_t(i)] = char(unit);
    }
    const std::string_view text(bytes);
    const size_t firstDot = text.find('.');
    const size_t secondDot =
        firstDot == std::string_view::npos ? firstDot : text.find('.', firstDot + 1);
    if (secondDot == std::string_view::npos || text.find('.', secondDot + 1) != text.npos)
        return R::make("token.malformed",
                       TokenRefusal::tr("a token has exactly three parts separated by dots"))
            .error();
    const std::string_view headerSegment = text.substr(0, firstDot);
    const std::string_view payloadSegment = text.substr(firstDot + 1, secondDot - firstDot - 1);
    const std::string_view signatureSegment = text.substr(secondDot + 1);
    if (headerSegment.empty() || payloadSegment.empty())
        return R::make("token.malformed", TokenRefusal::tr("a part of the token is empty")).error();

    // The verifier, not the header, picks the algorithm; the header is only checked to agree.
    if (headerSegment != kHeaderSegment) {
        std::string header;
        if (!jwt::decodeBase64Url(headerSegment, header))
            return R::make("token.malformed", TokenRefusal::tr("the header is not valid base64url"))
                .error();
        std::vector<jwt::Member> fields;
        const jwt::ParseStatus status = jwt::parseObject(header, fields);
        if (status == jwt::ParseStatus::NotJson)
            return R::make("token.malformed", TokenRefusal::tr("the header is not valid JSON"))
                .error();
        if (status == jwt::ParseStatus::NotObject)
            return R::make("token.alg",
                           TokenRefusal::tr("the header is not a JSON object and names no "
                                            "algorithm; only HS256 is accepted"))
                .error();
        const jwt::Member* alg = jwt::find(fields, "alg");
        if (!alg || alg->kind != jwt::Kind::String || alg->text != "HS256")
            return R::make("token.alg",
                           TokenRefusal::tr("the header's algorithm is not HS256, the only "
                                            "algorithm accepted"))
                .error();
        for (const char* field : {"kid", "jku", "x5u", "jwk", "x5c", "crit"}) {
            if (jwt::find(fields, field))
                return R::make("token.header",
                               TokenRefusal::tr("the header carries the field \"%1\", which "
                                                "approval tokens never use")
                                   .arg(QLatin1String(field)))
                    .error();
        }
        for (const jwt::Member& field : fields) {
            if (field.key != "alg" && field.key != "typ")
                return R::make("token.header",
                               TokenRefusal::tr("the header carries an unsupported field"))
                    .error();
        }
        const jwt::Member* typ = jwt::find(fields, "typ");
        if (typ && (typ->kind != jwt::Kind::String || typ->text != "JWT"))
            return R::make("token.type",
                           TokenRefusal::tr("the header's type is not JWT; this is another "
                                            "kind of token"))
                .error();
    }

    // Checked after the header so that an unsigned "alg":"none" token is named as such.
    if (signatureSegment.empty())
        return R::make("token.signature", TokenRefusal::tr("the token carries no signature"))
            .error();
    std::string signature;
    if (!jwt::decodeBase64Url(signatureSegment, signature))
        return R::make("token.malformed", TokenRefusal::tr("the signature is not valid base64url"))
            .error();
    unsigned char computed[kSha256Bytes];
    if (!key.sign(text.substr(0, secondDot), computed))
        return R::make("token.signature", TokenRefusal::tr("the signature could not be computed"))
            .error();
    // Exact length first, then a comparison whose time does not depend on where bytes differ.
    if (signature.size() != kSha256Bytes ||
        CRYPTO_memcmp(signature.data(), computed, kSha256Bytes) != 0)
        return R::make(
                   "token.signature",
                   TokenRefusal::tr("the signature does not match (forged, altered, or signed with "
                                    "another secret, e.g. before the secret was rotated)"),
                   peekJti(payloadSegment), false)
            .error();

    std::string payload;
    if (!jwt::decodeBase64Url(payloadSegment, payload))
        return R::make("token.malformed", TokenRefusal::tr("the payload is not valid base64url"))
            .error();
    if (jwt::parseObject(payload, decoded.claims) != jwt::ParseStatus::Ok)
        return R::make("token.malformed", TokenRefusal::tr("the payload is not a JSON object"))
            .error();
    return std::nullopt;
}

const jwt::Member* stringClaim(const std::vector<jwt::Member>& claims, std::string_view name) {
    const jwt::Member* member = jwt::find(claims, name);
    return member && member->kind == jwt::Kind::String ? member : nullptr;
}

QString fromUtf8(std::string_view text) {
    return QString::fromUtf8(text.data(), qsizetype(text.size()));
}

} // namespace

TokenService::TokenService(QByteArray secret, Options options,
                           std::shared_ptr<const detail::HmacKey> key)
    : m_secret(std::move(secret)), m_options(std::move(options)), m_key(std::move(key)) {}

Result<TokenService> TokenService::create(QByteArray secret, Options options) {
    if (secret.size() < kMinSecretBytes)
        return fail(QStringLiteral("token.secret"),
                    tr("The signing secret has %1 bytes; at least %2 are required.")
                        .arg(secret.size())
                        .arg(kMinSecretBytes));
    if (options.maxTtlSeconds <= 0 || options.defaultTtlSeconds <= 0 ||
        options.defaultTtlSeconds > options.maxTtlSeconds || options.leewaySeconds < 0 ||
        options.leewaySeconds > kMaxLeewaySeconds)
        return fail(QStringLiteral("token.options"),
                    tr("Invalid token options: lifetimes must be positive with the default at "
                       "most the maximum, and the leeway between 0 and %1 seconds.")
                        .arg(kMaxLeewaySeconds));
    auto key = detail::HmacKey::create(secret);
    if (!key)
        return fail(QStringLiteral("token.secret"),
                    tr("OpenSSL could not set up HMAC-SHA256 with the signing secret."));
    return TokenService(std::move(secret), std::move(options), std::move(key));
}

Result<TokenService> TokenService::create(QByteArray secret) {
    return create(std::move(secret), Options{});
}

qint64 TokenService::now() const {
    return m_options.clock ? m_options.clock() : QDateTime::currentSecsSinceEpoch();
}

Result<QString> TokenService::mint(const QString& toolName, Scope scope,
                                   const QJsonObject& arguments, const QString& runId,
                                   qint64 ttlSeconds) const {
    const qint64 ttl = ttlSeconds == 0 ? m_options.defaultTtlSeconds : ttlSeconds;
    if (ttl <= 0 || ttl > m_options.maxTtlSeconds)
        return fail(
            QStringLiteral("token.ttl"),
            tr("A token lifetime must lie between 1 and %1 seconds.").arg(m_options.maxTtlSeconds));
    if (toolName.isEmpty())
        return fail(QStringLiteral("token.tool"), tr("A token must name a tool."));

    TokenClaims claims;
    claims.toolName = toolName;
    claims.scope = scope;
    claims.iat = now();
    claims.exp = claims.iat + ttl;
    claims.jti = QUuid::createUuid().toString(QUuid::WithoutBraces);
    claims.runId = runId;
    claims.argsSha256 = QString::fromLatin1(CanonicalJson::sha256Hex(arguments));
    if (claims.argsSha256.isEmpty())
        return fail(QStringLiteral("token.args"), tr("The arguments could not be hashed."));

    QByteArray signingInput = QByteArray(kHeaderSegment.data(), qsizetype(kHeaderSegment.size()));
    signingInput += '.';
    signingInput += jwt::encodeBase64Url(CanonicalJson::serialize(claims.toJson()));
    unsigned char signature[kSha256Bytes];
    if (!m_key->sign(std::string_view(signingInput.constData(), size_t(signingInput.size())),
                     signature))
        return fail(QStringLiteral("token.signature"), tr("The token could not be signed."));
    signingInput += '.';
    signingInput += jwt::encodeBase64Url(
        QByteArray(reinterpret_cast<const char*>(signature), qsizetype(kSha256Bytes)));
    return QString::fromLatin1(signingInput);
}

Result<TokenClaims> TokenService::verify(const QString& token, const Expectation& expectation,
                                         const TokenLedger* ledger) const {
    using R = TokenRefusal;
    Decoded decoded;
    if (auto error = decodeSigned(*m_key, token, decoded))
        return std::unexpected(*error);
    const std::vector<jwt::Member>& claims = decoded.claims;

    const jwt::Member* jtiClaim = stringClaim(claims, "jti");
    const std::string_view jti = jtiClaim ? std::string_view(jtiClaim->text) : std::string_view();
    if (!jtiClaim || !isCanonicalUuid(jti))
        return R::make("token.claims",
                       TokenRefusal::tr("the token id (jti) is missing or not a UUID"));

    const jwt::Member* iss = stringClaim(claims, "iss");
    const jwt::Member* sub = stringClaim(claims, "sub");
    const jwt::Member* tool = stringClaim(claims, "toolName");
    const jwt::Member* scopeClaim = stringClaim(claims, "scope");
    const jwt::Member* run = stringClaim(claims, "runId");
    const jwt::Member* args = stringClaim(claims, "argsSha256");
    if (!iss || !sub || !tool || !scopeClaim || !run || !args)
        return R::make(
            "token.claims",
            TokenRefusal::tr("a required claim (iss, sub, toolName, scope, runId, argsSha256) is "
                             "missing or not a string"),
            jti);

    // The JSON type is checked first: an integer is a plain digit literal up to 2^53, so strings,
    // null, negatives, fractions, exponents and out-of-range values are all refused here.
    qint64 iat = 0;
    qint64 exp = 0;
    qint64 nbf = 0;
    const jwt::Member* iatClaim = jwt::find(claims, "iat");
    const jwt::Member* expClaim = jwt::find(claims, "exp");
    const jwt::Member* nbfClaim = jwt::find(claims, "nbf");
    if (!iatClaim || !jwt::parseNonNegativeInteger(*iatClaim, iat) || !expClaim ||
        !jwt::parseNonNegativeInteger(*expClaim, exp) ||
        (nbfClaim && !jwt::parseNonNegativeInteger(*nbfClaim, nbf)))
        return R::make(
            "token.claims",
            TokenRefusal::tr("iat and exp (and nbf if present) must be whole seconds written as "
                             "JSON integers between 0 and 2^53"),
            jti);

    if (iss->text != kIssuer)
        return R::make("token.issuer",
                       TokenRefusal::tr("the token was not issued by m1-agent-control"), jti);
    if (sub->text != kSubject)
        return R::make("token.subject", TokenRefusal::tr("the token is not an approval token"),
                       jti);

    const std::optional<Scope> scope = scopeFromString(fromUtf8(scopeClaim->text));
    if (!scope)
        return R::make("token.claims",
                       TokenRefusal::tr("the scope claim is not read, write or execute"), jti);
    if (tool->text.empty())
        return R::make("token.claims", TokenRefusal::tr("the toolName claim is empty"), jti);
    if (!isSha256Hex(args->text))
        return R::make("token.claims",
                       TokenRefusal::tr("argsSha256 is not 64 lowercase hexadecimal digits"), jti);

    // A minting bug or a stolen key cannot create a long-lived approval: the lifetime itself is
    // bounded, not only the expiry.
    if (exp - iat <= 0 || exp - iat > m_options.maxTtlSeconds)
        return R::make(
            "token.claims",
            TokenRefusal::tr("the lifetime (exp - iat = %1 s) lies outside (0, %2] seconds")
                .arg(exp - iat)
                .arg(m_options.maxTtlSeconds),
            jti);

    const qint64 current = now();
    const qint64 leeway = m_options.leewaySeconds;
    if (current >= exp + leeway)
        return R::make(
            "token.expired",
            TokenRefusal::tr("expired at %1 (now %2, leeway %3 s); approve the call again")
                .arg(isoUtc(exp), isoUtc(current))
                .arg(leeway),
            jti);
    if (nbfClaim && nbf > current + leeway)
        return R::make("token.not_yet_valid",
                       TokenRefusal::tr("not valid before %1 (now %2, leeway %3 s)")
                           .arg(isoUtc(nbf), isoUtc(current))
                           .arg(leeway),
                       jti);
    // A future iat would stretch the real lifetime beyond the maximum.
    if (iat > current + leeway)
        return R::make("token.not_yet_valid",
                       TokenRefusal::tr("issued in the future at %1 (now %2, leeway %3 s)")
                           .arg(isoUtc(iat), isoUtc(current))
                           .arg(leeway),
                       jti);

    if (expectation.toolName && !sameBytes(expectation.toolName->toUtf8(), tool->text))
        return R::make("token.tool", TokenRefusal::tr("the token approves a different tool"), jti);
    // Exact match: the scope order governs what policy may approve, not where an approval may be
    // reused, so an execute token does not open a read tool either (JWT-17).
    if (expectation.scope && *expectation.scope != *scope)
        return R::make("token.scope",
                       TokenRefusal::tr("the token's scope %1 differs from the tool's scope %2")
                           .arg(scopeToString(*scope), scopeToString(*expectation.scope)),
                       jti);
    if (expectation.arguments &&
        !sameBytes(CanonicalJson::sha256Hex(*expectation.arguments), args->text))
        return R::make("token.args", TokenRefusal::tr("the token approves different arguments"),
                       jti);
    if (expectation.runId && !sameBytes(expectation.runId->toUtf8(), run->text))
        return R::make("token.run", TokenRefusal::tr("the token belongs to a different run"), jti);

    if (ledger) {
        const Result<TokenLedger::State> state = ledger->state(fromUtf8(jti));
        if (!state)
            return std::unexpected(state.error());
        if (*state == TokenLedger::State::Consumed)
            return R::make(
                "token.consumed",
                TokenRefusal::tr("the approval was already used; approve the call again"), jti);
        if (*state == TokenLedger::State::Revoked)
            return R::make("token.revoked", TokenRefusal::tr("the approval was revoked"), jti);
    }

    TokenClaims result;
    result.toolName = fromUtf8(tool->text);
    result.scope = *scope;
    result.iat = iat;
    result.exp = exp;
    result.jti = fromUtf8(jti);
    result.runId = fromUtf8(run->text);
    result.argsSha256 = fromUtf8(args->text);
    return result;
}

Result<QString> TokenService::jtiOf(const QString& token) const {
    Decoded decoded;
    if (auto error = decodeSigned(*m_key, token, decoded))
        return std::unexpected(*error);
    const jwt::Member* jti = stringClaim(decoded.claims, "jti");
    if (!jti || !isCanonicalUuid(jti->text))
        return TokenRefusal::make("token.claims",
                                  TokenRefusal::tr("the token id (jti) is missing or not a UUID"));
    return fromUtf8(jti->text);
}

} // namespace m1
