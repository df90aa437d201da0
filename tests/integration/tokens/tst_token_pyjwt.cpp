#include "TestSupport.h"
#include "tokens/TokenService.h"
#include "util/CanonicalJson.h"

#include <QFileInfo>
#include <QJsonDocument>
#include <QStandardPaths>
#include <QtTest>

using m1::Scope;
using m1::TokenService;

namespace {

// The Debian interpreter carries python3-jwt; a pyenv shim on PATH may not.
QString python() {
    if (QFileInfo::exists(QStringLiteral("/usr/bin/python3")))
        return QStringLiteral("/usr/bin/python3");
    return QStandardPaths::findExecutable(QStringLiteral("python3"));
}

QProcessEnvironment secretEnv(const QByteArray& secret) {
    QProcessEnvironment env;
    env.insert(QStringLiteral("M1_TEST_SECRET_HEX"), QString::fromLatin1(secret.toHex()));
    return env;
}

const QString kVerifyScript = QStringLiteral(
    "import binascii, json, os, sys, jwt\n"
    "secret = binascii.unhexlify(os.environ['M1_TEST_SECRET_HEX'])\n"
    "token = sys.stdin.read().strip()\n"
    "claims = jwt.decode(token, secret, algorithms=['HS256'], issuer='m1-agent-control',\n"
    "                    leeway=30, options={'require': ['exp', 'iat', 'iss', 'sub', 'jti']})\n"
    "assert claims['sub'] == 'approval', claims['sub']\n"
    "assert 0 < claims['exp'] - claims['iat'] <= 300\n"
    "print(json.dumps(claims, sort_keys=True))\n");

// Mints with PyJWT: HS256 with the right key, then alg none, HS512 and a wrong key. The argument
// hash is computed by Python's json.dumps, so this also checks the canonical form.
const QString kMintScript = QStringLiteral(
    "import binascii, hashlib, json, os, sys, time, uuid, jwt\n"
    "secret = binascii.unhexlify(os.environ['M1_TEST_SECRET_HEX'])\n"
    "args = json.loads(sys.stdin.read())\n"
    "canonical = json.dumps(args, sort_keys=True, separators=(',', ':'), ensure_ascii=False)\n"
    "now = int(time.time())\n"
    "claims = {'toolName': 'write_file', 'scope': 'write', 'iat': now, 'exp': now + 300,\n"
    "          'jti': str(uuid.uuid4()), 'iss': 'm1-agent-control', 'sub': 'approval',\n"
    "          'runId': 'run-py', 'argsSha256': "
    "hashlib.sha256(canonical.encode('utf-8')).hexdigest()}\n"
    "print(jwt.encode(claims, secret, algorithm='HS256'))\n"
    "print(jwt.encode(claims, None, algorithm='none'))\n"
    "print(jwt.encode(claims, secret, algorithm='HS512'))\n"
    "print(jwt.encode(claims, b'w' * 32, algorithm='HS256'))\n");

} // namespace

class TestTokenPyJwt : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        m_python = python();
        QVERIFY2(!m_python.isEmpty(), "python3 not found");
        const auto probe = m1::test::runProgram(
            m_python, {QStringLiteral("-c"), QStringLiteral("import jwt; print(jwt.__version__)")});
        QVERIFY2(probe.exitCode == 0, "PyJWT (python3-jwt) is not installed");
    }

    // JWT-23: PyJWT accepts what the project mints.
    void pyjwtVerifiesProjectTokens_data() {
        QTest::addColumn<QString>("tool");
        QTest::addColumn<int>("scope");
        QTest::addColumn<QByteArray>("args");
        QTest::addColumn<QString>("run");
        QTest::newRow("JWT-23/read") << QStringLiteral("read_file") << int(Scope::Read)
                                     << QByteArray("{\"path\":\"a.txt\"}") << QStringLiteral("r1");
        QTest::newRow("JWT-23/unicode-tool-and-run")
            << QStringLiteral("t\u00f6\u00f6l") << int(Scope::Execute)
            << QByteArray("{\"argv\":[\"echo\",\"\xf0\x9f\x98\x80\"]}")
            << QStringLiteral("run \"quoted\"\n");
        QTest::newRow("JWT-23/empty-run")
            << QStringLiteral("write_file") << int(Scope::Write) << QByteArray("{}") << QString();
    }
    void pyjwtVerifiesProjectTokens() {
        QFETCH(QString, tool);
        QFETCH(int, scope);
        QFETCH(QByteArray, args);
        QFETCH(QString, run);
        const auto service = TokenService::create(m1::test::testSecret());
        QVERIFY(service);
        const QJsonObject arguments = QJsonDocument::fromJson(args).object();
        const auto token = service->mint(tool, Scope(scope), arguments, run);
        QVERIFY(token);
        const auto result =
            m1::test::runProgram(m_python, {QStringLiteral("-c"), kVerifyScript},
                                 secretEnv(m1::test::testSecret()), token->toLatin1());
        QVERIFY2(result.exitCode == 0, result.err.constData());
        const QJsonObject claims = QJsonDocument::fromJson(result.out).object();
        QCOMPARE(claims.value(QStringLiteral("toolName")).toString(), tool);
        QCOMPARE(claims.value(QStringLiteral("scope")).toString(), m1::scopeToString(Scope(scope)));
        QCOMPARE(claims.value(QStringLiteral("runId")).toString(), run);
        QCOMPARE(claims.value(QStringLiteral("argsSha256")).toString().toLatin1(),
                 m1::CanonicalJson::sha256Hex(arguments));

        // Negative control: PyJWT refuses the same token under another key.
        const auto wrongKey =
            m1::test::runProgram(m_python, {QStringLiteral("-c"), kVerifyScript},
                                 secretEnv(QByteArray(32, 'w')), token->toLatin1());
        QVERIFY(wrongKey.exitCode != 0);
        QVERIFY(wrongKey.err.contains("InvalidSignatureError"));
    }

    // JWT-23: the project verifies PyJWT's HS256 token and refuses none, HS512 and a wrong key.
    void projectVerifiesPyjwtTokens() {
        const QByteArray args =
            "{\"path\":\"notes/\xc3\xbc\xf0\x9f\x98\x80.txt\",\"content\":\"a\\nb \\\"c\\\"\","
            "\"mode\":{\"z\":1,\"a\":[true,null,1.5]}}";
        const auto result = m1::test::runProgram(m_python, {QStringLiteral("-c"), kMintScript},
                                                 secretEnv(m1::test::testSecret()), args);
        QVERIFY2(result.exitCode == 0, result.err.constData());
        const QList<QByteArray> tokens = result.out.trimmed().split('\n');
        QCOMPARE(tokens.size(), 4);
        const auto service = TokenService::create(m1::test::testSecret());
        const TokenService::Expectation expectation{QStringLiteral("write_file"), Scope::Write,
                                                    QJsonDocument::fromJson(args).object(),
                                                    QStringLiteral("run-py")};
        const auto good = service->verify(QString::fromLatin1(tokens[0]), expectation);
        QVERIFY2(good, qPrintable(good ? QString() : good.error().message));
        QCOMPARE(good->toolName, QStringLiteral("write_file"));
        QCOMPARE(service->verify(QString::fromLatin1(tokens[1]), expectation).error().code,
                 QStringLiteral("token.alg"));
        QCOMPARE(service->verify(QString::fromLatin1(tokens[2]), expectation).error().code,
                 QStringLiteral("token.alg"));
        QCOMPARE(service->verify(QString::fromLatin1(tokens[3]), expectation).error().code,
                 QStringLiteral("token.signature"));
    }

private:
    QString m_python;
};

QTEST_GUILESS_MAIN(TestTokenPyJwt)
#include "tst_token_pyjwt.moc"
