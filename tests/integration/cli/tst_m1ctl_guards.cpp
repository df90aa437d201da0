// m1ctl's guard rails against a typo or a mix-up: dev seed needs an explicit --db and never
// writes into a real audit trail or over its own seed; reading commands refuse a --db that does
// not exist instead of creating it; audit verify calls a damaged file damaged (status 3); a
// missing M1_SETTINGS file or an unknown M1_LOG_LEVEL is an error, not a silent fallback.
#include "TestSupport.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

using m1::test::ProcessResult;
using m1::test::readFile;
using m1::test::runM1ctl;
using m1::test::writeFile;

class TestM1ctlGuards : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_home;

    QProcessEnvironment env() const {
        QProcessEnvironment e;
        e.insert(QStringLiteral("XDG_DATA_HOME"), m_home->filePath(QStringLiteral("data")));
        e.insert(QStringLiteral("XDG_CONFIG_HOME"), m_home->filePath(QStringLiteral("config")));
        e.insert(QStringLiteral("M1_JWT_SECRET"),
                 QStringLiteral("guards-secret-0123456789abcdef0123456789abc"));
        return e;
    }
    ProcessResult m1ctl(const QStringList& args) const { return runM1ctl(args, env()); }
    QString path(const QString& name) const { return m_home->filePath(name); }
    QString defaultDb() const { return path(QStringLiteral("data/m1-agent-control/audit.sqlite")); }
    ProcessResult seed(const QString& db, const QString& seedNumber) const {
        return m1ctl({QStringLiteral("--db"), db, QStringLiteral("dev"), QStringLiteral("seed"),
                      QStringLiteral("--runs"), QStringLiteral("20"),
                      QStringLiteral("--calls-per-run"), QStringLiteral("2"),
                      QStringLiteral("--seed"), seedNumber});
    }

private Q_SLOTS:
    void init() {
        m_home = std::make_unique<QTemporaryDir>();
        QVERIFY(m_home->isValid());
    }

    void devSeedNeedsAnExplicitDb() {
        const ProcessResult r =
            m1ctl({QStringLiteral("dev"), QStringLiteral("seed"), QStringLiteral("--runs"),
                   QStringLiteral("5"), QStringLiteral("--calls-per-run"), QStringLiteral("1")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.startsWith("m1ctl: ") && r.err.contains("--db"), r.err.constData());
        QCOMPARE(r.err.count('\n'), 1);
        QVERIFY(!QFile::exists(defaultDb()));
    }

    void devSeedTwiceWithOneSeedSaysSo() {
        const QString db = path(QStringLiteral("seeded.sqlite"));
        const ProcessResult first = seed(db, QStringLiteral("3"));
        QVERIFY2(first.exitCode == 0, first.err.constData());
        const ProcessResult again = seed(db, QStringLiteral("3"));
        QCOMPARE(again.exitCode, 2);
        QVERIFY2(again.err.contains("already holds") && again.err.contains("--seed"),
                 again.err.constData());
        QVERIFY2(!again.err.contains("UNIQUE") && !again.err.contains("fetch row"),
                 again.err.constData());
        // Another seed adds to the same synthetic store.
        const ProcessResult other = seed(db, QStringLiteral("4"));
        QVERIFY2(other.exitCode == 0, other.err.constData());
        QCOMPARE(
            m1ctl({QStringLiteral("--db"), db, QStringLiteral("audit"), QStringLiteral("verify")})
                .exitCode,
            0);
    }

    void devSeedRefusesARealAuditTrail() {
        const QString db = path(QStringLiteral("real.sqlite"));
        const QString workspace = path(QStringLiteral("ws"));
        QVERIFY(writeFile(workspace + QStringLiteral("/README.md"), "hello\n"));
        // A real run: one tool exec.
        const ProcessResult real =
            m1ctl({QStringLiteral("--db"), db, QStringLiteral("tool"), QStringLiteral("exec"),
                   QStringLiteral("--workspace"), workspace, QStringLiteral("--tool"),
                   QStringLiteral("read_file"), QStringLiteral("--args"),
                   QStringLiteral("{\"path\":\"README.md\"}")});
        QVERIFY2(real.exitCode == 0, real.err.constData());
        const ProcessResult r = seed(db, QStringLiteral("1"));
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("not seeded"), r.err.constData());
        const ProcessResult list = m1ctl({QStringLiteral("--db"), db, QStringLiteral("history"),
                                          QStringLiteral("list"), QStringLiteral("--json")});
        QCOMPARE(QJsonDocument::fromJson(list.out).object().value("runs").toArray().size(), 1);
    }

    // A mistyped --db: reading commands say there is no database and create none.
    void readingCommandsRefuseAMissingDatabase_data() {
        QTest::addColumn<QStringList>("command");
        QTest::newRow("alerts list") << QStringList{"alerts", "list"};
        QTest::newRow("alerts resolve") << QStringList{"alerts", "resolve", "a1"};
        QTest::newRow("history list") << QStringList{"history", "list"};
        QTest::newRow("history show") << QStringList{"history", "show", "r1"};
        QTest::newRow("export costs") << QStringList{"export", "costs"};
        QTest::newRow("metrics") << QStringList{"metrics"};
        QTest::newRow("audit verify") << QStringList{"audit", "verify"};
        QTest::newRow("audit prune") << QStringList{"audit", "prune", "--older-than", "30"};
    }
    void readingCommandsRefuseAMissingDatabase() {
        QFETCH(QStringList, command);
        const QString db = path(QStringLiteral("typo/audti.sqlite"));
        const ProcessResult r = m1ctl(QStringList{QStringLiteral("--db"), db} + command);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("no audit database"), r.err.constData());
        QVERIFY(!QFile::exists(db));
        QVERIFY(!QDir(path(QStringLiteral("typo"))).exists());
    }

    // What verify is for: a file that is not a database, is cut short or is empty is damaged.
    void auditVerifyCallsADamagedFileDamaged_data() {
        QTest::addColumn<QString>("damage");
        QTest::newRow("not SQLite") << "text";
        QTest::newRow("cut short") << "truncated";
        QTest::newRow("empty") << "empty";
    }
    void auditVerifyCallsADamagedFileDamaged() {
        QFETCH(QString, damage);
        const QString db = path(QStringLiteral("damaged.sqlite"));
        if (damage == QLatin1String("text")) {
            QVERIFY(writeFile(db, QByteArray("this is not a database\n").repeated(300)));
        } else {
            QCOMPARE(seed(db, QStringLiteral("1")).exitCode, 0);
            QFile file(db);
            QVERIFY(file.resize(damage == QLatin1String("empty") ? 0 : file.size() - 1000));
        }
        const QByteArray before = readFile(db);
        const ProcessResult r =
            m1ctl({QStringLiteral("--db"), db, QStringLiteral("audit"), QStringLiteral("verify")});
        QCOMPARE(r.exitCode, 3);
        QVERIFY2(r.err.contains("damaged"), r.err.constData());
        QCOMPARE(r.err.count('\n'), 1);
        const ProcessResult json = m1ctl({QStringLiteral("--db"), db, QStringLiteral("audit"),
                                          QStringLiteral("verify"), QStringLiteral("--json")});
        QCOMPARE(json.exitCode, 3);
        const QJsonObject o = QJsonDocument::fromJson(json.out).object();
        QCOMPARE(o.value("intact").toBool(true), false);
        QCOMPARE(o.value("damaged").toBool(), true);
        QCOMPARE(readFile(db), before); // left untouched
    }

    void missingSettingsFileIsAnError() {
        QProcessEnvironment e = env();
        const QString missing = path(QStringLiteral("setings.json"));
        e.insert(QStringLiteral("M1_SETTINGS"), missing);
        const QString workspace = path(QStringLiteral("ws"));
        QVERIFY(QDir().mkpath(workspace));
        const ProcessResult r = runM1ctl(
            {QStringLiteral("policy"), QStringLiteral("check"), QStringLiteral("--workspace"),
             workspace, QStringLiteral("--tool"), QStringLiteral("read_file"),
             QStringLiteral("--args"), QStringLiteral("{\"path\":\"a\"}")},
            e);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("config.missing") && r.err.contains(missing.toUtf8()),
                 r.err.constData());
        QCOMPARE(r.err.count('\n'), 1);
        QVERIFY(r.out.isEmpty());
        // The same file present: accepted.
        QVERIFY(writeFile(missing, "{}\n"));
        const ProcessResult ok = runM1ctl(
            {QStringLiteral("policy"), QStringLiteral("check"), QStringLiteral("--workspace"),
             workspace, QStringLiteral("--tool"), QStringLiteral("read_file"),
             QStringLiteral("--args"), QStringLiteral("{\"path\":\"a\"}")},
            e);
        QVERIFY2(ok.exitCode == 0, ok.err.constData());
    }

    void unknownLogLevelIsAnError() {
        QProcessEnvironment e = env();
        e.insert(QStringLiteral("M1_LOG_LEVEL"), QStringLiteral("bogus"));
        const ProcessResult r = runM1ctl({QStringLiteral("tool"), QStringLiteral("list")}, e);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("M1_LOG_LEVEL") && r.err.contains("debug, info, warning, critical"),
                 r.err.constData());
        QVERIFY(r.out.isEmpty());
        e.insert(QStringLiteral("M1_LOG_LEVEL"), QStringLiteral("warning"));
        QCOMPARE(runM1ctl({QStringLiteral("tool"), QStringLiteral("list")}, e).exitCode, 0);
    }
};

QTEST_GUILESS_MAIN(TestM1ctlGuards)
#include "tst_m1ctl_guards.moc"
