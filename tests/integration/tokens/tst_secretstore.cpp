#include "TestSupport.h"
#include "config/SecretStore.h"
#include "util/AppIdentity.h"

#include <QCoreApplication>
#include <QTextStream>
#include <QUuid>
#include <QtTest>

using m1::SecretStore;

namespace {

constexpr char kProbeFlag[] = "--probe-jwt-secret";
constexpr char kRotateFlag[] = "--rotate-jwt-secret";
constexpr char kApiKeyFlag[] = "--probe-api-key";

// Child-process modes: print "<code>\n<message>" of the operation ("ok" on success).
int runHelper(const char* flag) {
    qunsetenv("M1_JWT_SECRET");
    QTextStream out(stdout);
    if (qstrcmp(flag, kProbeFlag) == 0) {
        const auto secret = SecretStore::jwtSecret();
        out << (secret ? QStringLiteral("ok") : secret.error().code) << '\n'
            << (secret ? QString() : secret.error().message) << '\n';
        return 0;
    }
    if (qstrcmp(flag, kApiKeyFlag) == 0) {
        // M1_JWT_SECRET set, no API key: the message must ask only for what is missing.
        qputenv("M1_JWT_SECRET", QByteArray(40, 'k'));
        qunsetenv("ANTHROPIC_API_KEY");
        const auto key = SecretStore::apiKey();
        out << (key ? QStringLiteral("ok") : key.error().code) << '\n'
            << (key ? QString() : key.error().message) << '\n';
        return 0;
    }
    const auto status = SecretStore::rotateJwtSecret();
    out << (status ? QStringLiteral("ok") : status.error().code) << '\n'
        << (status ? QString() : status.error().message) << '\n';
    return 0;
}

QProcessEnvironment withoutSessionBus() {
    QProcessEnvironment env;
    env.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"),
               QStringLiteral("unix:path=/nonexistent"));
    return env;
}

} // namespace

class TestSecretStore : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        m1::initApplicationIdentity();
        qunsetenv("M1_JWT_SECRET");
        qunsetenv("ANTHROPIC_API_KEY");
        const QString key = QStringLiteral("probe-") + QUuid::createUuid().toString(QUuid::Id128);
        const auto written = SecretStore::writeEntry(key, "x");
        if (!written)
            QFAIL(qPrintable(QStringLiteral("No usable keychain (run through scripts/test, which "
                                            "starts gnome-keyring): ") +
                             written.error().message));
        QVERIFY(SecretStore::deleteEntry(key));
    }

    // SEC-04: write, read, overwrite, delete; afterwards not found.
    void roundTrip() {
        const QString key = QStringLiteral("test-") + QUuid::createUuid().toString(QUuid::Id128);
        QByteArray binary(48, '\0');
        for (int i = 0; i < binary.size(); ++i)
            binary[i] = char(i * 37 + 1);
        QVERIFY(SecretStore::writeEntry(key, binary));
        QCOMPARE(*SecretStore::readEntry(key), binary);
        QVERIFY(SecretStore::writeEntry(key, "second value"));
        QCOMPARE(*SecretStore::readEntry(key), QByteArray("second value"));
        QVERIFY(SecretStore::deleteEntry(key));
        const auto gone = SecretStore::readEntry(key);
        QVERIFY(!gone);
        QCOMPARE(gone.error().code, QStringLiteral("secret.not_found"));
    }

    void apiKeyRoundTrip() {
        QCOMPARE(SecretStore::setApiKey(QStringLiteral("  ")).error().code,
                 QStringLiteral("secret.empty"));
        QVERIFY(SecretStore::setApiKey(QStringLiteral("sk-ant-api03-test-FAKE-key-AA")));
        QCOMPARE(*SecretStore::apiKey(), QStringLiteral("sk-ant-api03-test-FAKE-key-AA"));
        QVERIFY(SecretStore::setApiKey(QStringLiteral("sk-ant-api03-test-FAKE-key-BB")));
        QCOMPARE(*SecretStore::apiKey(), QStringLiteral("sk-ant-api03-test-FAKE-key-BB"));
        qputenv("ANTHROPIC_API_KEY", "sk-ant-from-env-FAKE");
        QCOMPARE(*SecretStore::apiKey(), QStringLiteral("sk-ant-from-env-FAKE"));
        qputenv("ANTHROPIC_API_KEY", "");
        QCOMPARE(*SecretStore::apiKey(), QStringLiteral("sk-ant-api03-test-FAKE-key-BB"));
        qunsetenv("ANTHROPIC_API_KEY");
        QVERIFY(SecretStore::deleteApiKey());
        const auto none = SecretStore::apiKey();
        QVERIFY(!none);
        QCOMPARE(none.error().code, QStringLiteral("secret.not_found"));
        QVERIFY(none.error().message.contains(QLatin1String("ANTHROPIC_API_KEY")));
        // An empty stored key is never handed out.
        QVERIFY(SecretStore::writeEntry(QStringLiteral("anthropic-api-key"), QByteArray()));
        QCOMPARE(SecretStore::apiKey().error().code, QStringLiteral("secret.not_found"));
        QVERIFY(SecretStore::deleteApiKey());
    }

    // JWT-22: created on first use from RAND_bytes, 32 bytes, different for each new profile.
    void jwtSecretIsCreatedOnce() {
        (void)SecretStore::deleteEntry(QStringLiteral("jwt-secret"));
        const auto first = SecretStore::jwtSecret();
        QVERIFY2(first, qPrintable(first ? QString() : first.error().message));
        QCOMPARE(first->size(), 32);
        QCOMPARE(*SecretStore::jwtSecret(), *first);
        QCOMPARE(*SecretStore::readEntry(QStringLiteral("jwt-secret")), *first);
        QVERIFY(SecretStore::deleteEntry(QStringLiteral("jwt-secret")));
        const auto second = SecretStore::jwtSecret();
        QVERIFY(second);
        QCOMPARE(second->size(), 32);
        QVERIFY(*second != *first);
        QVERIFY(*first != QByteArray(32, '\0'));
    }

    // SEC-12: rotation writes a new secret; a failed write keeps the old one.
    void rotation() {
        const auto before = SecretStore::jwtSecret();
        QVERIFY(before);
        QVERIFY(SecretStore::rotateJwtSecret());
        const auto after = SecretStore::jwtSecret();
        QCOMPARE(after->size(), 32);
        QVERIFY(*after != *before);

        const auto child = m1::test::runProgram(QCoreApplication::applicationFilePath(),
                                                {QLatin1String(kRotateFlag)}, withoutSessionBus());
        QCOMPARE(child.exitCode, 0);
        QVERIFY2(child.out.startsWith("secret.no_keychain\n"), child.out.constData());
        QCOMPARE(*SecretStore::jwtSecret(), *after);

        qputenv("M1_JWT_SECRET", QByteArray(40, 'e'));
        QCOMPARE(SecretStore::rotateJwtSecret().error().code,
                 QStringLiteral("secret.env_override"));
        qunsetenv("M1_JWT_SECRET");
        QCOMPARE(*SecretStore::jwtSecret(), *after);
    }

    void environmentOverride() {
        qputenv("M1_JWT_SECRET", "too-short-secret");
        const auto shortSecret = SecretStore::jwtSecret();
        QVERIFY(!shortSecret);
        QCOMPARE(shortSecret.error().code, QStringLiteral("secret.too_short"));
        QVERIFY(shortSecret.error().message.contains(QLatin1String("M1_JWT_SECRET")));
        QVERIFY(shortSecret.error().message.contains(QLatin1String("32")));
        QVERIFY(!shortSecret.error().message.contains(QLatin1String("too-short-secret")));
        qputenv("M1_JWT_SECRET", "");
        QCOMPARE(SecretStore::jwtSecret().error().code, QStringLiteral("secret.too_short"));
        const QByteArray exact(32, 'k');
        qputenv("M1_JWT_SECRET", exact);
        QCOMPARE(*SecretStore::jwtSecret(), exact);
        qunsetenv("M1_JWT_SECRET");
    }

    // SEC-01: no Secret Service on the bus, no M1_JWT_SECRET: a clear error naming the variable
    // that stands in for the missing secret, and only that one.
    void noKeychain_data() {
        QTest::addColumn<QString>("flag");
        QTest::addColumn<QByteArray>("named");
        QTest::addColumn<QByteArray>("notNamed");
        QTest::newRow("jwt secret")
            << QString::fromLatin1(kProbeFlag) << QByteArray("M1_JWT_SECRET")
            << QByteArray("ANTHROPIC_API_KEY");
        QTest::newRow("api key") << QString::fromLatin1(kApiKeyFlag)
                                 << QByteArray("ANTHROPIC_API_KEY") << QByteArray("M1_JWT_SECRET");
    }
    void noKeychain() {
        QFETCH(QString, flag);
        QFETCH(QByteArray, named);
        QFETCH(QByteArray, notNamed);
        const auto child = m1::test::runProgram(QCoreApplication::applicationFilePath(), {flag},
                                                withoutSessionBus());
        QCOMPARE(child.exitCode, 0);
        const QList<QByteArray> lines = child.out.split('\n');
        QVERIFY2(lines.size() >= 2, child.out.constData());
        QCOMPARE(lines.at(0), QByteArray("secret.no_keychain"));
        QVERIFY(lines.at(1).contains("No keychain service is available"));
        QVERIFY2(lines.at(1).contains(named), lines.at(1).constData());
        QVERIFY2(!lines.at(1).contains(notNamed), lines.at(1).constData());
    }
};

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    m1::initApplicationIdentity();
    if (argc == 2 && (qstrcmp(argv[1], kProbeFlag) == 0 || qstrcmp(argv[1], kRotateFlag) == 0 ||
                      qstrcmp(argv[1], kApiKeyFlag) == 0))
        return runHelper(argv[1]);
    TestSecretStore test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_secretstore.moc"
