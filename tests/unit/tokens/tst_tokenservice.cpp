#include "TestSupport.h"
#include "tokens/TokenService.h"
#include "util/CanonicalJson.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QMessageAuthenticationCode>
#include <QRegularExpression>
#include <QTimeZone>
#include <QtTest>

#include <map>

using m1::Scope;
using m1::TokenService;

// moc cannot tokenise some raw string literals, and there is nothing for it to see here.
#ifndef Q_MOC_RUN
namespace {

constexpr qint64 kNow = 1'700'000'000;
const QString kJti = QStringLiteral("0b7e2c1a-5d3f-4a8e-9c21-7f6e5d4c3b2a");

QByteArray b64(const QByteArray& bytes) {
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray defaultArgsJson() {
    return R"({"path":"docs/readme.md"})";
}

QJsonObject defaultArgs() {
    return QJsonDocument::fromJson(defaultArgsJson()).object();
}

// Claims as raw JSON literals, so tests can write numbers Qt's parser would normalise.
using RawClaims = std::map<QByteArray, QByteArray>;

RawClaims defaultClaims() {
    return {
        {"toolName", R"("read_file")"},
        {"scope", R"("read")"},
        {"iat", QByteArray::number(kNow)},
        {"exp", QByteArray::number(kNow + 300)},
        {"jti", "\"" + kJti.toLatin1() + "\""},
        {"iss", R"("m1-agent-control")"},
        {"sub", R"("approval")"},
        {"runId", R"("run-1")"},
        {"argsSha256", "\"" + m1::CanonicalJson::sha256Hex(defaultArgs()) + "\""},
    };
}

QByteArray payloadOf(const RawClaims& claims) {
    QByteArray out = "{";
    for (const auto& [key, value] : claims) {
        if (out.size() > 1)
            out += ',';
        out += "\"" + key + "\":" + value;
    }
    return out + "}";
}

QByteArray withClaim(const QByteArray& key, const QByteArray& raw) {
    RawClaims claims = defaultClaims();
    claims[key] = raw;
    return payloadOf(claims);
}

QByteArray withoutClaim(const QByteArray& key) {
    RawClaims claims = defaultClaims();
    claims.erase(key);
    return payloadOf(claims);
}

const QByteArray kHeader = R"({"alg":"HS256","typ":"JWT"})";
const QByteArray kHeaderWithoutTyp = R"({"alg":"HS256"})";
const QByteArray kHeaderReordered = R"({"typ":"JWT","alg":"HS256"})";
const QString kLengthThenMemcmp =
    QStringLiteral(R"(size\(\)\s*!=\s*kSha256Bytes\s*\|\|\s*\n?\s*CRYPTO_memcmp)");
const QString kSignatureEquality = QStringLiteral(
    R"((\w*(sig|mac|hmac|computed|expected)\w*(\(\))?\s*[=!]=\s*\w*(sig|mac|hmac|computed|expected)\w*))");
const QString kPlainMemcmp = QStringLiteral(R"((?<!CRYPTO_)\bmemcmp\s*\()");
const QString kStrcmp = QStringLiteral(R"(\bstr(n)?cmp\s*\()");
const QString kSignatureEq = QStringLiteral(R"(\b(signature|computed)\s*==)");

QString forge(const QByteArray& header, const QByteArray& payload,
              const QByteArray& key = m1::test::testSecret(),
              QCryptographicHash::Algorithm algorithm = QCryptographicHash::Sha256) {
    const QByteArray input = b64(header) + "." + b64(payload);
    return QString::fromLatin1(input + "." +
                               b64(QMessageAuthenticationCode::hash(input, key, algorithm)));
}

// Signs the segments exactly as given, so the MAC is right even over invalid base64url.
QString signRaw(const QString& headerSegment, const QString& payloadSegment) {
    const QByteArray input = (headerSegment + QLatin1Char('.') + payloadSegment).toUtf8();
    return QString::fromUtf8(input) + QLatin1Char('.') +
           QString::fromLatin1(b64(QMessageAuthenticationCode::hash(input, m1::test::testSecret(),
                                                                    QCryptographicHash::Sha256)));
}

struct Row {
    QString token;
    QString code;
    QString tool = QStringLiteral("read_file");
    int scope = int(Scope::Read);
    QByteArray args = defaultArgsJson();
    QString run = QStringLiteral("run-1");
    qint64 now = kNow;
};

void addRow(const char* name, const Row& row) {
    QTest::newRow(name) << row.token << row.code << row.tool << row.scope << row.args << row.run
                        << row.now;
}

void addAlgorithmRows() {
    const QByteArray payload = payloadOf(defaultClaims());
    const QByteArray signingInput = b64(R"({"alg":"none","typ":"JWT"})") + "." + b64(payload);
    addRow("JWT-01/alg-none-empty-signature",
           {QString::fromLatin1(signingInput + "."), QStringLiteral("token.alg")});
    addRow("JWT-01/alg-none-junk-signature",
           {QString::fromLatin1(signingInput + ".AAAA"), QStringLiteral("token.alg")});
    for (const char* alg : {"none", "None", "NONE", "nOnE", "none ", "", "hs256", "HS256 "}) {
        const QByteArray header = R"({"alg":")" + QByteArray(alg) + R"(","typ":"JWT"})";
        addRow(qPrintable(QStringLiteral("JWT-01/alg-%1").arg(QString::fromLatin1(alg))),
               {forge(header, payload), QStringLiteral("token.alg")});
    }
    addRow("JWT-02/alg-HS384", {forge(R"({"alg":"HS384","typ":"JWT"})", payload,
                                      m1::test::testSecret(), QCryptographicHash::Sha384),
                                QStringLiteral("token.alg")});
    addRow("JWT-02/alg-HS512", {forge(R"({"alg":"HS512","typ":"JWT"})", payload,
                                      m1::test::testSecret(), QCryptographicHash::Sha512),
                                QStringLiteral("token.alg")});
    const QByteArray pem = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n"
                           "-----END PUBLIC KEY-----\n";
    for (const char* alg : {"RS256", "ES256", "PS256", "EdDSA"}) {
        const QByteArray header = R"({"alg":")" + QByteArray(alg) + R"(","typ":"JWT"})";
        addRow(qPrintable(QStringLiteral("JWT-03/alg-%1").arg(QLatin1String(alg))),
               {forge(header, payload, pem), QStringLiteral("token.alg")});
    }
    const std::pair<const char*, QByteArray> odd[] = {
        {"absent", R"({"typ":"JWT"})"},
        {"256", R"({"alg":256,"typ":"JWT"})"},
        {"null", R"({"alg":null,"typ":"JWT"})"},
        {"true", R"({"alg":true,"typ":"JWT"})"},
        {"array", R"({"alg":["HS256"],"typ":"JWT"})"},
        {"object", R"({"alg":{"a":1},"typ":"JWT"})"},
        {"header-is-array", "[]"},
        {"header-is-string", R"("HS256")"},
    };
    for (const auto& [name, header] : odd)
        addRow(qPrintable(QStringLiteral("JWT-04/alg-%1").arg(QLatin1String(name))),
               {forge(header, payload), QStringLiteral("token.alg")});
}

void addHeaderRows() {
    const QByteArray payload = payloadOf(defaultClaims());
    const std::pair<const char*, QByteArray> fields[] = {
        {"kid-path", R"("kid":"../../etc/passwd")"},
        {"kid-sql", "\"kid\":\"\x27 OR 1=1 --\""},
        {"jku", "\"jku\":\"https:\x2f/evil.example/jwks.json\""},
        {"x5u", "\"x5u\":\"https:\x2f/evil.example/cert.pem\""},
        {"jwk", R"("jwk":{"kty":"oct","k":"AAAA"})"},
        {"x5c", R"("x5c":["MIIB"])"},
        {"crit", R"("crit":["exp"])"},
        {"unknown-field", R"("zip":"DEF")"},
    };
    for (const auto& [name, field] : fields)
        addRow(qPrintable(QStringLiteral("JWT-05/%1").arg(QLatin1String(name))),
               {forge(R"({"alg":"HS256",)" + field + R"(,"typ":"JWT"})", payload),
                QStringLiteral("token.header")});
    for (const char* typ : {R"("at+jwt")", R"("dpop+jwt")", R"("jwt")", R"("JWT ")", "1", "null"})
        addRow(qPrintable(QStringLiteral("JWT-06/typ-%1").arg(QLatin1String(typ))),
               {forge(R"({"alg":"HS256","typ":)" + QByteArray(typ) + "}", payload),
                QStringLiteral("token.type")});
}

void addSignatureRows() {
    const QString good = forge(kHeader, payloadOf(defaultClaims()));
    const qsizetype lastDot = good.lastIndexOf(QLatin1Char('.'));
    const QString signingInput = good.left(lastDot + 1);
    const QByteArray mac =
        QByteArray::fromBase64(good.mid(lastDot + 1).toLatin1(), QByteArray::Base64UrlEncoding);
    for (int bit = 0; bit < 256; ++bit) {
        QByteArray flipped = mac;
        flipped[bit / 8] = char(flipped[bit / 8] ^ (1 << (bit % 8)));
        addRow(
            qPrintable(QStringLiteral("JWT-07/bit-flip-%1").arg(bit)),
            {signingInput + QString::fromLatin1(b64(flipped)), QStringLiteral("token.signature")});
    }
    for (int length : {0, 16, 31})
        addRow(qPrintable(QStringLiteral("JWT-07/mac-cut-to-%1").arg(length)),
               {signingInput + QString::fromLatin1(b64(mac.left(length))),
                QStringLiteral("token.signature")});
    addRow("JWT-07/mac-plus-one-byte",
           {signingInput + QString::fromLatin1(b64(mac + QByteArray(1, '\0'))),
            QStringLiteral("token.signature")});
    addRow("JWT-07/wrong-key", {forge(kHeader, payloadOf(defaultClaims()),
                                      "another-secret-0123456789abcdef-0123456789"),
                                QStringLiteral("token.signature")});
    // A second spelling of the same MAC (non-zero trailing bits) is not accepted either.
    QString noncanonical = good;
    const QChar last = noncanonical.back();
    noncanonical.back() = QChar(last.unicode() == 'A' ? 'B' : last.unicode() + 1);
    if (QByteArray::fromBase64(noncanonical.mid(lastDot + 1).toLatin1(),
                               QByteArray::Base64UrlEncoding) == mac)
        addRow("JWT-07/noncanonical-base64", {noncanonical, QStringLiteral("token.malformed")});
}

void addShapeRows() {
    const QString good = forge(kHeader, payloadOf(defaultClaims()));
    const QStringList parts = good.split(QLatin1Char('.'));
    const QString h = parts[0], p = parts[1], s = parts[2];
    const QString dot = QStringLiteral(".");
    addRow("JWT-10/zero-dots", {h + p + s, QStringLiteral("token.malformed")});
    addRow("JWT-10/one-dot", {h + dot + p, QStringLiteral("token.malformed")});
    addRow("JWT-10/three-dots", {good + dot + s, QStringLiteral("token.malformed")});
    addRow("JWT-10/four-dots", {good + dot + dot, QStringLiteral("token.malformed")});
    addRow("JWT-10/empty-header", {dot + p + dot + s, QStringLiteral("token.malformed")});
    addRow("JWT-10/empty-payload", {h + dot + dot + s, QStringLiteral("token.malformed")});
    addRow("JWT-10/only-dots", {QStringLiteral(".."), QStringLiteral("token.malformed")});
    addRow("JWT-10/empty", {QString(), QStringLiteral("token.malformed")});
    addRow("JWT-10/one-mib", {QString(1024 * 1024, QLatin1Char('A')) + dot + p + dot + s,
                              QStringLiteral("token.malformed")});
    addRow("JWT-10/64-kib-header",
           {forge("{\"alg\":\"HS256\",\"x\":\"" + QByteArray(64 * 1024, 'x') + "\"}",
                  payloadOf(defaultClaims())),
            QStringLiteral("token.malformed")});
    addRow("JWT-10/4097-bytes", {good + dot + QString(4096 - good.size(), QLatin1Char('A')),
                                 QStringLiteral("token.malformed")});
    addRow("JWT-10/padding",
           {h + QStringLiteral("==") + dot + p + dot + s, QStringLiteral("token.malformed")});
    for (const char* bad : {"+", "/", "*", " ", "\n"})
        addRow(
            qPrintable(
                QStringLiteral("JWT-10/char-%1").arg(QString::fromLatin1(QByteArray(bad).toHex()))),
            {signRaw(h, p + QLatin1String(bad)), QStringLiteral("token.malformed")});
    addRow("JWT-10/payload-padding",
           {signRaw(h, p + QStringLiteral("==")), QStringLiteral("token.malformed")});
    addRow("JWT-10/non-ascii",
           {h + dot + p + QStringLiteral("\u00e9") + dot + s, QStringLiteral("token.malformed")});
    addRow("JWT-10/header-not-json", {forge("{\"alg\":\"HS256\"", payloadOf(defaultClaims())),
                                      QStringLiteral("token.malformed")});
    addRow("JWT-10/header-duplicate-alg",
           {forge(R"({"alg":"none","alg":"HS256"})", payloadOf(defaultClaims())),
            QStringLiteral("token.malformed")});
    addRow("JWT-10/payload-not-json",
           {forge(kHeader, "{\"exp\":"), QStringLiteral("token.malformed")});
    addRow("JWT-10/payload-array", {forge(kHeader, "[1,2]"), QStringLiteral("token.malformed")});
    addRow("JWT-10/payload-bad-utf8",
           {forge(kHeader, withClaim("runId", "\"\xc3\x28\"")), QStringLiteral("token.malformed")});
    addRow("JWT-10/payload-duplicate-claim",
           {forge(kHeader, payloadOf(defaultClaims()).chopped(1) + R"(,"runId":"run-2"})"),
            QStringLiteral("token.malformed")});
}

void addClaimRows() {
    for (const char* claim : {"exp", "iat", "nbf"}) {
        const std::pair<const char*, QByteArray> values[] = {
            {"string", "\"" + QByteArray::number(kNow + 100) + "\""},
            {"null", "null"},
            {"negative", "-1"},
            {"fractional", QByteArray::number(kNow + 100) + ".5"},
            {"integral-float", QByteArray::number(kNow + 100) + ".0"},
            {"exponent", "1.7e9"},
            {"1e300", "1e300"},
            {"above-2^53", "9007199254740993"},
            {"bool", "true"},
            {"array", "[1700000100]"},
        };
        for (const auto& [name, raw] : values)
            addRow(
                qPrintable(
                    QStringLiteral("JWT-12/%1-%2").arg(QLatin1String(claim), QLatin1String(name))),
                {forge(kHeader, withClaim(claim, raw)), QStringLiteral("token.claims")});
    }
    addRow("JWT-12/exp-in-milliseconds",
           {forge(kHeader, withClaim("exp", QByteArray::number((kNow + 300) * 1000))),
            QStringLiteral("token.claims")});
    for (const char* claim :
         {"toolName", "scope", "iat", "exp", "jti", "iss", "sub", "runId", "argsSha256"})
        addRow(qPrintable(QStringLiteral("claims/missing-%1").arg(QLatin1String(claim))),
               {forge(kHeader, withoutClaim(claim)), QStringLiteral("token.claims")});
    addRow("claims/jti-not-uuid",
           {forge(kHeader, withClaim("jti", R"("../../etc")")), QStringLiteral("token.claims")});
    addRow("claims/jti-number",
           {forge(kHeader, withClaim("jti", "42")), QStringLiteral("token.claims")});
    addRow("claims/scope-admin",
           {forge(kHeader, withClaim("scope", R"("admin")")), QStringLiteral("token.claims")});
    addRow("claims/scope-uppercase",
           {forge(kHeader, withClaim("scope", R"("READ")")), QStringLiteral("token.claims")});
    addRow("claims/args-uppercase-hex",
           {forge(kHeader,
                  withClaim("argsSha256",
                            "\"" + m1::CanonicalJson::sha256Hex(defaultArgs()).toUpper() + "\"")),
            QStringLiteral("token.claims")});
    addRow("claims/iss-wrong",
           {forge(kHeader, withClaim("iss", R"("someone-else")")), QStringLiteral("token.issuer")});
    addRow("claims/sub-wrong",
           {forge(kHeader, withClaim("sub", R"("access")")), QStringLiteral("token.subject")});

    RawClaims day = defaultClaims();
    day["exp"] = QByteArray::number(kNow + 86400);
    addRow("JWT-13/lifetime-one-day",
           {forge(kHeader, payloadOf(day)), QStringLiteral("token.claims")});
    RawClaims zero = defaultClaims();
    zero["exp"] = QByteArray::number(kNow);
    addRow("JWT-13/lifetime-zero",
           {forge(kHeader, payloadOf(zero)), QStringLiteral("token.claims")});
    RawClaims negative = defaultClaims();
    negative["exp"] = QByteArray::number(kNow - 10);
    addRow("JWT-13/lifetime-negative",
           {forge(kHeader, payloadOf(negative)), QStringLiteral("token.claims")});
    RawClaims max = defaultClaims();
    max["exp"] = QByteArray::number(kNow + 301);
    addRow("JWT-13/lifetime-301", {forge(kHeader, payloadOf(max)), QStringLiteral("token.claims")});
}

void addTimeRows() {
    const QString token = forge(kHeader, payloadOf(defaultClaims())); // iat kNow, exp kNow + 300
    const qint64 exp = kNow + 300;
    const qint64 leeway = 30;
    Row row{token, QString()};
    row.now = exp + leeway - 1;
    addRow("JWT-14/now-exp+L-1-accept", row);
    row.now = exp + leeway;
    row.code = QStringLiteral("token.expired");
    addRow("JWT-14/now-exp+L-refuse", row);
    row.now = exp + 100000;
    addRow("JWT-14/long-expired-refuse", row);

    // iat = now + L accepted, now + L + 1 refused: the clock is set back from iat.
    row = Row{token, QString()};
    row.now = kNow - leeway;
    addRow("JWT-14/iat-now+L-accept", row);
    row.now = kNow - leeway - 1;
    row.code = QStringLiteral("token.not_yet_valid");
    addRow("JWT-14/iat-now+L+1-refuse", row);

    RawClaims nbf = defaultClaims();
    nbf["nbf"] = QByteArray::number(kNow + leeway + 1);
    addRow("JWT-14/nbf-now+L+1-refuse",
           {forge(kHeader, payloadOf(nbf)), QStringLiteral("token.not_yet_valid")});
    nbf["nbf"] = QByteArray::number(kNow + leeway);
    addRow("JWT-14/nbf-now+L-accept", {forge(kHeader, payloadOf(nbf)), QString()});
}

void addExpectationRows() {
    const QString token = forge(kHeader, payloadOf(defaultClaims()));
    Row row{token, QStringLiteral("token.tool")};
    row.tool = QStringLiteral("Read_file");
    addRow("JWT-16/tool-case", row);
    row.tool = QStringLiteral("write_file");
    addRow("JWT-16/other-tool", row);

    row = Row{token, QStringLiteral("token.args")};
    row.args = R"({"path":"docs/readme.mD"})";
    addRow("JWT-16/arg-byte-changed", row);
    row.args = R"({"path":"docs/readme.md","extra":1})";
    addRow("JWT-16/arg-added", row);
    row.args = "{}";
    addRow("JWT-16/args-removed", row);
    row = Row{token, QString()};
    row.args = "{ \"path\" :\n \"docs/readme.md\" }";
    addRow("JWT-16/whitespace-hashes-alike", row);

    row = Row{token, QStringLiteral("token.run")};
    row.run = QStringLiteral("run-2");
    addRow("JWT-16/other-run", row);

    row = Row{token, QStringLiteral("token.scope")};
    row.scope = int(Scope::Write);
    addRow("JWT-17/read-token-for-write-tool", row);
    row.scope = int(Scope::Execute);
    addRow("JWT-17/read-token-for-execute-tool", row);
    Row exec{forge(kHeader, withClaim("scope", R"("execute")")), QStringLiteral("token.scope")};
    addRow("JWT-17/execute-token-for-read-tool", exec);
    exec.scope = int(Scope::Write);
    addRow("JWT-17/execute-token-for-write-tool", exec);
    exec.scope = int(Scope::Execute);
    exec.code.clear();
    addRow("JWT-17/execute-token-for-execute-tool", exec);
}

TokenService makeService(qint64* clock, qint64 leeway = 30) {
    TokenService::Options options;
    options.leewaySeconds = leeway;
    options.clock = [clock] { return *clock; };
    auto service = TokenService::create(m1::test::testSecret(), options);
    if (!service)
        qFatal("cannot create the token service: %s", qPrintable(service.error().message));
    return *service;
}

} // namespace
#endif // Q_MOC_RUN

class TestTokenService : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roundTrip() {
        qint64 now = kNow;
        const TokenService service = makeService(&now);
        const QJsonObject args = defaultArgs();
        const auto token =
            service.mint(QStringLiteral("read_file"), Scope::Read, args, QStringLiteral("run-1"));
        QVERIFY2(token, qPrintable(token ? QString() : token.error().message));
        QCOMPARE(token->count(QLatin1Char('.')), 2);
        QVERIFY(token->startsWith(QLatin1String("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.")));
        const auto claims = service.verify(
            *token, {QStringLiteral("read_file"), Scope::Read, args, QStringLiteral("run-1")});
        QVERIFY2(claims, qPrintable(claims ? QString() : claims.error().message));
        QCOMPARE(claims->toolName, QStringLiteral("read_file"));
        QCOMPARE(claims->scope, Scope::Read);
        QCOMPARE(claims->iat, kNow);
        QCOMPARE(claims->exp, kNow + 300);
        QCOMPARE(claims->runId, QStringLiteral("run-1"));
        QCOMPARE(claims->argsSha256.toLatin1(), m1::CanonicalJson::sha256Hex(args));
        QVERIFY(QRegularExpression(
                    QStringLiteral("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                   "[0-9a-f]{12}$"))
                    .match(claims->jti)
                    .hasMatch());
        QCOMPARE(*service.jtiOf(*token), claims->jti);

        const QByteArray payload = QByteArray::fromBase64(
            token->section(QLatin1Char('.'), 1, 1).toLatin1(), QByteArray::Base64UrlEncoding);
        const QJsonObject object = QJsonDocument::fromJson(payload).object();
        QCOMPARE(object.value(QStringLiteral("iss")).toString(),
                 QStringLiteral("m1-agent-control"));
        QCOMPARE(object.value(QStringLiteral("sub")).toString(), QStringLiteral("approval"));
        QCOMPARE(object.size(), 9);

        // Unset expectation fields are not checked.
        QVERIFY(service.verify(*token, {}));
        // Two mints differ in jti.
        const auto other =
            service.mint(QStringLiteral("read_file"), Scope::Read, args, QStringLiteral("run-1"));
        QVERIFY(*other != *token);
    }

    void mintOptions() {
        qint64 now = kNow;
        const TokenService service = makeService(&now);
        const auto shortLived = service.mint(QStringLiteral("t"), Scope::Write, {}, {}, 10);
        QVERIFY(shortLived);
        QCOMPARE(service.verify(*shortLived, {})->exp, kNow + 10);
        QCOMPARE(service.mint(QStringLiteral("t"), Scope::Write, {}, {}, 301).error().code,
                 QStringLiteral("token.ttl"));
        QCOMPARE(service.mint(QStringLiteral("t"), Scope::Write, {}, {}, -1).error().code,
                 QStringLiteral("token.ttl"));
        QCOMPARE(service.mint(QString(), Scope::Write, {}, {}).error().code,
                 QStringLiteral("token.tool"));
        QCOMPARE(TokenService::create(QByteArray(31, 'x')).error().code,
                 QStringLiteral("token.secret"));
        QVERIFY(TokenService::create(QByteArray(32, 'x')));
        TokenService::Options options;
        options.leewaySeconds = 61;
        QCOMPARE(TokenService::create(m1::test::testSecret(), options).error().code,
                 QStringLiteral("token.options"));
    }

    void positiveControlForgedHs256() {
        qint64 now = kNow;
        const TokenService service = makeService(&now);
        const auto claims = service.verify(forge(kHeader, payloadOf(defaultClaims())), {});
        QVERIFY2(claims, qPrintable(claims ? QString() : claims.error().message));
        // Header without typ, or with another member order, is fine too.
        QVERIFY(service.verify(forge(kHeaderWithoutTyp, payloadOf(defaultClaims())), {}));
        QVERIFY(service.verify(forge(kHeaderReordered, payloadOf(defaultClaims())), {}));
    }

    void refusals_data() {
        QTest::addColumn<QString>("token");
        QTest::addColumn<QString>("code"); // empty: must verify
        QTest::addColumn<QString>("tool");
        QTest::addColumn<int>("scope");
        QTest::addColumn<QByteArray>("args");
        QTest::addColumn<QString>("run");
        QTest::addColumn<qint64>("now");
        addAlgorithmRows();
        addHeaderRows();
        addSignatureRows();
        addShapeRows();
        addClaimRows();
        addTimeRows();
        addExpectationRows();
    }
    void refusals() {
        QFETCH(QString, token);
        QFETCH(QString, code);
        QFETCH(QString, tool);
        QFETCH(int, scope);
        QFETCH(QByteArray, args);
        QFETCH(QString, run);
        QFETCH(qint64, now);
        qint64 clock = now;
        const TokenService service = makeService(&clock);
        const TokenService::Expectation expectation{tool, Scope(scope),
                                                    QJsonDocument::fromJson(args).object(), run};
        const auto result = service.verify(token, expectation);
        if (code.isEmpty()) {
            QVERIFY2(result, qPrintable(result ? QString() : result.error().message));
            return;
        }
        QVERIFY2(!result, "the token was accepted");
        QCOMPARE(result.error().code, code);
        const QString message = result.error().message;
        QVERIFY2(message.contains(code), qPrintable(message));
        // JWT-24: no token, no signature (received or expected), no secret in the message.
        QVERIFY(!token.isEmpty() ? !message.contains(token) : true);
        const QStringList parts = token.split(QLatin1Char('.'));
        for (const QString& part : parts) {
            if (part.size() >= 8)
                QVERIFY2(!message.contains(part), qPrintable(message));
        }
        if (parts.size() == 3) {
            const QByteArray expected = b64(QMessageAuthenticationCode::hash(
                (parts[0] + QLatin1Char('.') + parts[1]).toLatin1(), m1::test::testSecret(),
                QCryptographicHash::Sha256));
            QVERIFY(!message.contains(QString::fromLatin1(expected)));
            QVERIFY(!message.contains(QString::fromLatin1(expected.left(10))));
        }
        QVERIFY(!message.contains(QString::fromLatin1(m1::test::testSecret())));
        QVERIFY(!message.contains(QString::fromLatin1(m1::test::testSecret().toHex())));
        // JWT-24: the jti is named once the signature verified.
        const QStringList unverifiable = {
            QStringLiteral("token.malformed"), QStringLiteral("token.alg"),
            QStringLiteral("token.header"), QStringLiteral("token.type"),
            QStringLiteral("token.signature")};
        const QString tag = QString::fromLatin1(QTest::currentDataTag());
        const bool jtiUnknown = unverifiable.contains(code) ||
                                tag.startsWith(QLatin1String("claims/jti")) ||
                                tag == QLatin1String("claims/missing-jti");
        if (!jtiUnknown)
            QVERIFY2(message.contains(kJti), qPrintable(message));
    }

    void leewayZero() {
        qint64 now = kNow + 299;
        const TokenService service = makeService(&now, 0);
        const QString token = forge(kHeader, payloadOf(defaultClaims()));
        QVERIFY(service.verify(token, {}));
        now = kNow + 300;
        const auto expired = service.verify(token, {});
        QCOMPARE(expired.error().code, QStringLiteral("token.expired"));
        // Times as a person reads them (ISO 8601, UTC), not epoch seconds.
        const QString expiredAt =
            QDateTime::fromSecsSinceEpoch(kNow + 300, QTimeZone::utc()).toString(Qt::ISODate);
        QVERIFY2(expired.error().message.contains(expiredAt), qPrintable(expired.error().message));
        QVERIFY2(!expired.error().message.contains(QString::number(kNow + 300)),
                 qPrintable(expired.error().message));
    }

    // JWT-20: a rotated secret voids every open token, with its own code.
    void rotatedSecretRefusesOpenTokens() {
        qint64 now = kNow;
        const TokenService before = makeService(&now);
        const auto token = before.mint(QStringLiteral("t"), Scope::Read, {}, {});
        TokenService::Options options;
        options.clock = [&now] { return now; };
        const auto after = TokenService::create(QByteArray(32, 'n'), options);
        const auto result = after->verify(*token, {});
        QCOMPARE(result.error().code, QStringLiteral("token.signature"));
        QCOMPARE(after->jtiOf(*token).error().code, QStringLiteral("token.signature"));
        // The unverified jti is named as such, so a person can tell which approval it was.
        QVERIFY2(result.error().message.contains(*before.jtiOf(*token)),
                 qPrintable(result.error().message));
    }

    // JWT-08 (structural): MACs are compared with CRYPTO_memcmp after an exact length check.
    void sourceUsesConstantTimeComparison() {
        const QByteArray source =
            m1::test::readFile(QStringLiteral(M1_SOURCE_DIR "/src/core/tokens/TokenService.cpp"));
        QVERIFY(!source.isEmpty());
        const QString text = QString::fromUtf8(source);
        QVERIFY(text.contains(QLatin1String("CRYPTO_memcmp(")));
        QVERIFY(text.contains(QRegularExpression(kLengthThenMemcmp)));
        // No ==/!= between two signature-like operands, no plain memcmp/strcmp.
        const QRegularExpression equality(kSignatureEquality,
                                          QRegularExpression::CaseInsensitiveOption);
        QVERIFY2(!text.contains(equality), qPrintable(equality.match(text).captured(0)));
        QVERIFY(!text.contains(QRegularExpression(kPlainMemcmp)));
        QVERIFY(!text.contains(QRegularExpression(kStrcmp)));
        QVERIFY(!text.contains(QRegularExpression(kSignatureEq)));
    }
};

QTEST_GUILESS_MAIN(TestTokenService)
#include "tst_tokenservice.moc"
