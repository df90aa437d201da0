// settings.json: defaults, every key's validation (a bad file is refused whole, naming the key),
// and where the Claude API address comes from.
#include "config/Settings.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using m1::Settings;

class TstSettings : public QObject {
    Q_OBJECT
private slots:
    void init() { qunsetenv("ANTHROPIC_BASE_URL"); }
    void cleanup() { qunsetenv("ANTHROPIC_BASE_URL"); }

    void defaults() {
        const auto s = Settings::parse("{}", QStringLiteral("settings.json"));
        QVERIFY(s);
        QVERIFY(!s->policy.readNeedsApproval);
        QVERIFY(s->policy.writeNeedsApproval);
        QVERIFY(s->policy.executeNeedsApproval);
        QCOMPARE(s->policy.maxToolCallsPerRun, 50);
        QCOMPARE(s->policy.maxStepsPerRun, 100);
        QCOMPARE(s->tokenTtlSeconds, 300);
        QVERIFY(s->claudeBaseUrl.isEmpty());
        QVERIFY(s->effectiveBaseUrl().isEmpty());
    }

    void refused_data() {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("needle");
        QTest::newRow("not json") << QByteArray("{") << QStringLiteral("at byte");
        QTest::newRow("array") << QByteArray("[]") << QStringLiteral("JSON object");
        QTest::newRow("unknown key")
            << QByteArray("{\"approval\": {}}") << QStringLiteral("unknown key \"approval\"");
        QTest::newRow("bool as string") << QByteArray("{\"approvals\": {\"read\": \"yes\"}}")
                                        << QStringLiteral("approvals.read");
        QTest::newRow("limit zero")
            << QByteArray("{\"limits\": {\"maxSteps\": 0}}") << QStringLiteral("limits.maxSteps");
        QTest::newRow("claude not object")
            << QByteArray("{\"claude\": \"x\"}") << QStringLiteral("claude must be an object");
        QTest::newRow("claude unknown")
            << QByteArray("{\"claude\": {\"apiKey\": \"sk\"}}") << QStringLiteral("claude.apiKey");
        QTest::newRow("base url number")
            << QByteArray("{\"claude\": {\"baseUrl\": 5}}") << QStringLiteral("claude.baseUrl");
        QTest::newRow("plain http remote")
            << QByteArray("{\"claude\": {\"baseUrl\": \"http://api.example.com\"}}")
            << QStringLiteral("only https");
        QTest::newRow("no host") << QByteArray("{\"claude\": {\"baseUrl\": \"https://\"}}")
                                 << QStringLiteral("only https");
        QTest::newRow("ftp") << QByteArray("{\"claude\": {\"baseUrl\": \"ftp://127.0.0.1\"}}")
                             << QStringLiteral("only https");
    }
    void refused() {
        QFETCH(QByteArray, json);
        QFETCH(QString, needle);
        const auto s = Settings::parse(json, QStringLiteral("/cfg/settings.json"));
        QVERIFY(!s);
        QCOMPARE(s.error().code, QStringLiteral("settings.invalid"));
        QVERIFY2(s.error().message.contains(QStringLiteral("/cfg/settings.json")),
                 qPrintable(s.error().message));
        QVERIFY2(s.error().message.contains(needle), qPrintable(s.error().message));
    }

    void baseUrlAccepted_data() {
        QTest::addColumn<QString>("url");
        QTest::newRow("https") << QStringLiteral("https://proxy.internal.example/anthropic");
        QTest::newRow("loopback http") << QStringLiteral("http://127.0.0.1:8089");
        QTest::newRow("localhost http") << QStringLiteral("http://localhost:9000");
    }
    void baseUrlAccepted() {
        QFETCH(QString, url);
        const QByteArray json = "{\"claude\": {\"baseUrl\": \"" + url.toUtf8() + "\"}}";
        const auto s = Settings::parse(json, QStringLiteral("settings.json"));
        QVERIFY2(s, s ? "" : qPrintable(s.error().message));
        QCOMPARE(s->claudeBaseUrl, url);
        QCOMPARE(s->effectiveBaseUrl(), url);
    }

    // The environment wins over the file, as for every other setting.
    void environmentWins() {
        const auto s = Settings::parse("{\"claude\": {\"baseUrl\": \"https://a.example\"}}",
                                       QStringLiteral("settings.json"));
        QVERIFY(s);
        qputenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:1234");
        QCOMPARE(s->effectiveBaseUrl(), QStringLiteral("http://127.0.0.1:1234"));
        QCOMPARE(s->claudeBaseUrl, QStringLiteral("https://a.example"));
    }

    // A file M1_SETTINGS names must exist: a typo must not quietly bring back the defaults
    // (m1ctl and the desktop app both load through Settings::load()).
    void namedFileMustExist() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("settings.json"));
        qputenv("M1_SETTINGS", path.toUtf8());
        const auto missing = Settings::load();
        QVERIFY(!missing);
        QCOMPARE(missing.error().code, QStringLiteral("config.missing"));
        QVERIFY2(missing.error().message.contains(path), qPrintable(missing.error().message));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("{\"tokens\": {\"ttlSeconds\": 120}}");
        file.close();
        const auto loaded = Settings::load();
        QVERIFY2(loaded, qPrintable(loaded ? QString() : loaded.error().message));
        QCOMPARE(loaded->tokenTtlSeconds, 120);
        qunsetenv("M1_SETTINGS");
    }
};

QTEST_GUILESS_MAIN(TstSettings)
#include "tst_settings.moc"
