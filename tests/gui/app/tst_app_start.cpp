// The desktop app's start (AppContext::create, whose error m1-control shows in its "Cannot start"
// dialog) refuses a settings file M1_SETTINGS names but that does not exist, like m1ctl, instead
// of starting with the defaults.
#include "AppContext.h"

#include <QFile>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

class TestAppStart : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        qputenv("M1_JWT_SECRET", "app-start-secret-0123456789abcdef0123456789");
    }
    void cleanup() { qunsetenv("M1_SETTINGS"); }

    void missingNamedSettingsFileStopsTheStart() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString settings = dir.filePath(QStringLiteral("settings.json"));
        qputenv("M1_SETTINGS", settings.toUtf8());
        m1::AppContext::Options options;
        options.database = dir.filePath(QStringLiteral("audit.sqlite"));
        options.forceReplay = true;
        const auto refused = m1::AppContext::create(options);
        QVERIFY(!refused);
        QCOMPARE(refused.error().code, QStringLiteral("config.missing"));
        QVERIFY(refused.error().message.contains(settings));
        QVERIFY(!QFile::exists(options.database)); // refused before anything was opened

        QFile file(settings);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("{}\n");
        file.close();
        const auto started = m1::AppContext::create(options);
        QVERIFY2(started, qPrintable(started ? QString() : started.error().message));
    }
};

QTEST_MAIN(TestAppStart)
#include "tst_app_start.moc"
