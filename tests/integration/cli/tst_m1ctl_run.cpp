// m1ctl run as a person uses it from a shell: Ctrl-C (SIGINT) or SIGTERM ends the run as
// user_cancelled with its audit records and exit status 8, a second one quits at once; a reused
// --run-id and an unusable --token are usage errors before anything is recorded; tokens are spent
// in the ledger of the --db store.
#include "TestSupport.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QUuid>
#include <QtTest>

#include <csignal>

using m1::test::ProcessResult;
using m1::test::runM1ctl;
using m1::test::writeFile;

namespace {

QJsonObject toolTurn(const QString& id, const QString& name, const QJsonObject& input) {
    return QJsonObject{
        {"content",
         QJsonArray{
             QJsonObject{{"type", "text"}, {"text", "Proposing."}},
             QJsonObject{{"type", "tool_use"}, {"id", id}, {"name", name}, {"input", input}}}},
        {"stop_reason", "tool_use"},
        {"usage", QJsonObject{{"input_tokens", 100}, {"output_tokens", 10}}}};
}

QJsonObject endTurn(const QString& text) {
    return QJsonObject{{"content", QJsonArray{QJsonObject{{"type", "text"}, {"text", text}}}},
                       {"stop_reason", "end_turn"},
                       {"usage", QJsonObject{{"input_tokens", 110}, {"output_tokens", 5}}}};
}

// The process id of a descendant of pid that runs a program called name (from /proc/*/stat), or
// 0.
qint64 findDescendant(qint64 pid, const QByteArray& name) {
    QHash<qint64, QList<qint64>> children;
    QHash<qint64, QByteArray> names;
    const QStringList entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs);
    for (const QString& entry : entries) {
        bool numeric = false;
        const qint64 id = entry.toLongLong(&numeric);
        if (!numeric)
            continue;
        QFile stat(QStringLiteral("/proc/%1/stat").arg(id));
        if (!stat.open(QIODevice::ReadOnly))
            continue;
        const QByteArray line = stat.readAll();
        const qsizetype open = line.indexOf('(');
        const qsizetype close = line.lastIndexOf(')');
        if (open < 0 || close < open)
            continue;
        const QList<QByteArray> fields = line.mid(close + 2).split(' ');
        if (fields.size() < 2)
            continue;
        names.insert(id, line.mid(open + 1, close - open - 1));
        children[fields.at(1).toLongLong()].append(id);
    }
    QList<qint64> pending{pid};
    while (!pending.isEmpty()) {
        const qint64 parent = pending.takeLast();
        for (const qint64 child : children.value(parent)) {
            if (names.value(child) == name)
                return child;
            pending.append(child);
        }
    }
    return 0;
}

QString compact(const QJsonObject& o) {
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

} // namespace

class TestM1ctlRun : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_home;
    QString m_db;
    QString m_workspace;

    QProcessEnvironment env() const {
        QProcessEnvironment e;
        e.insert(QStringLiteral("XDG_DATA_HOME"), m_home->filePath(QStringLiteral("data")));
        e.insert(QStringLiteral("XDG_CONFIG_HOME"), m_home->filePath(QStringLiteral("config")));
        e.insert(QStringLiteral("M1_JWT_SECRET"),
                 QStringLiteral("run-cli-secret-0123456789abcdef0123456789ab"));
        e.insert(QStringLiteral("ANTHROPIC_API_KEY"), QString());
        return e;
    }
    QString transcript(const QString& name, const QJsonArray& turns) const {
        const QString path = m_home->filePath(name);
        writeFile(path,
                  QJsonDocument(
                      QJsonObject{{"schema", 1}, {"model", "claude-sonnet-4-6"}, {"turns", turns}})
                      .toJson());
        return path;
    }
    QStringList runArgs(const QString& transcriptPath, const QStringList& extra) const {
        return QStringList{QStringLiteral("--db"),
                           m_db,
                           QStringLiteral("run"),
                           QStringLiteral("--goal"),
                           QStringLiteral("test"),
                           QStringLiteral("--provider"),
                           QStringLiteral("replay"),
                           QStringLiteral("--transcript"),
                           transcriptPath,
                           QStringLiteral("--workspace"),
                           m_workspace,
                           QStringLiteral("--replay-pace"),
                           QStringLiteral("0")} +
               extra;
    }
    QStringList column(const QString& database, const QString& sql) const {
        QStringList values;
        const QString name = QUuid::createUuid().toString();
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
            db.setDatabaseName(database);
            if (db.open()) {
                QSqlQuery q(db);
                if (q.exec(sql))
                    while (q.next())
                        values << q.value(0).toString();
            }
        }
        QSqlDatabase::removeDatabase(name);
        return values;
    }
    QStringList column(const QString& sql) const { return column(m_db, sql); }

    // Starts m1ctl run in the background with the live stream on stdout.
    void startRun(QProcess& process, const QStringList& args) const {
        QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
        const QProcessEnvironment extra = env();
        for (const QString& key : extra.keys())
            e.insert(key, extra.value(key));
        process.setProcessEnvironment(e);
        process.start(QStringLiteral(M1CTL_PATH), args);
    }
    // Waits until the process's standard output contains text (what was read is appended to
    // *out); false on a timeout or when the process ended first.
    static bool waitForOutput(QProcess& process, const QByteArray& text, QByteArray* out,
                              int timeoutMs = 60000) {
        QElapsedTimer clock;
        clock.start();
        while (!out->contains(text)) {
            if (process.state() == QProcess::NotRunning || clock.elapsed() > timeoutMs)
                return false;
            process.waitForReadyRead(200);
            *out += process.readAllStandardOutput();
        }
        return true;
    }

private Q_SLOTS:
    void init() {
        m_home = std::make_unique<QTemporaryDir>();
        QVERIFY(m_home->isValid());
        m_db = m_home->filePath(QStringLiteral("audit.sqlite"));
        m_workspace = m_home->filePath(QStringLiteral("ws"));
        QVERIFY(QDir().mkpath(m_workspace));
        QVERIFY(writeFile(m_workspace + QStringLiteral("/a.txt"), "alpha\n"));
    }

    // The review's case: a slow replay run, SIGINT after its first output: the run ends
    // user_cancelled, recorded, and m1ctl exits 8.
    void interruptCancelsTheRun_data() {
        QTest::addColumn<int>("signalNumber");
        QTest::newRow("SIGINT") << int(SIGINT);
        QTest::newRow("SIGTERM") << int(SIGTERM);
    }
    void interruptCancelsTheRun() {
        QFETCH(int, signalNumber);
        QProcess process;
        startRun(process,
                 {QStringLiteral("--db"), m_db, QStringLiteral("run"), QStringLiteral("--goal"),
                  QStringLiteral("demo"), QStringLiteral("--provider"), QStringLiteral("replay"),
                  QStringLiteral("--replay-pace"), QStringLiteral("200"),
                  QStringLiteral("--run-id"), QStringLiteral("r-interrupted")});
        QVERIFY(process.waitForStarted());
        QByteArray out;
        QVERIFY2(waitForOutput(process, "--- step 1", &out), out.constData());
        QCOMPARE(::kill(pid_t(process.processId()), signalNumber), 0);
        QVERIFY(process.waitForFinished(60000));
        out += process.readAllStandardOutput();
        const QByteArray err = process.readAllStandardError();
        QCOMPARE(process.exitStatus(), QProcess::NormalExit);
        QVERIFY2(process.exitCode() == 8, (out + err).constData());
        QVERIFY2(err.contains("stopping the run"), err.constData());
        QVERIFY(out.contains("user_cancelled"));
        QCOMPARE(column("SELECT stop_reason FROM runs WHERE run_id = 'r-interrupted'"),
                 QStringList{"user_cancelled"});
        QCOMPARE(column("SELECT count(*) FROM audit_events WHERE run_id = 'r-interrupted' AND "
                        "kind = 'run.finished'"),
                 QStringList{"1"});
    }

    // A second Ctrl-C while the first waits for a running command quits at once (130); the run
    // stays unfinished.
    void secondInterruptQuitsAtOnce() {
        const QString path =
            transcript(QStringLiteral("sleep.json"),
                       {toolTurn(QStringLiteral("toolu_s"), QStringLiteral("run_command"),
                                 {{"argv", QJsonArray{"sleep", "20"}}}),
                        endTurn(QStringLiteral("done"))});
        QProcess process;
        startRun(process,
                 runArgs(path, {QStringLiteral("--auto-approve"), QStringLiteral("execute"),
                                QStringLiteral("--run-id"), QStringLiteral("r-quit")}));
        QVERIFY(process.waitForStarted());
        QByteArray out;
        QVERIFY2(waitForOutput(process, "approved", &out), out.constData());
        // The command runs: a cancelled run waits for it, so the first Ctrl-C cannot end the run
        // before the second arrives.
        qint64 sleeper = 0;
        QTRY_VERIFY_WITH_TIMEOUT((sleeper = findDescendant(process.processId(), "sleep")) != 0,
                                 30000);
        QCOMPARE(::kill(pid_t(process.processId()), SIGINT), 0);
        QByteArray err;
        QElapsedTimer clock;
        clock.start();
        while (!err.contains("stopping the run") && clock.elapsed() < 30000) {
            process.waitForReadyRead(100);
            err += process.readAllStandardError();
        }
        QVERIFY2(err.contains("stopping the run"), err.constData());
        QCOMPARE(::kill(pid_t(process.processId()), SIGINT), 0);
        QVERIFY(process.waitForFinished(30000));
        err += process.readAllStandardError();
        QCOMPARE(process.exitCode(), 130);
        QVERIFY2(err.contains("quitting at once"), err.constData());
        QCOMPARE(column("SELECT coalesce(stop_reason, 'running') FROM runs WHERE run_id = "
                        "'r-quit'"),
                 QStringList{"running"});
        // The command outlives m1ctl's immediate exit: end it rather than let it linger.
        ::kill(pid_t(sleeper), SIGKILL);
    }

    void reusedRunIdIsAUsageError() {
        const QString path = transcript(QStringLiteral("end.json"), {endTurn("done")});
        const ProcessResult first =
            runM1ctl(runArgs(path, {QStringLiteral("--run-id"), QStringLiteral("r1")}), env());
        QVERIFY2(first.exitCode == 0, first.err.constData());
        const QStringList events = column("SELECT count(*) FROM audit_events");
        const ProcessResult again =
            runM1ctl(runArgs(path, {QStringLiteral("--run-id"), QStringLiteral("r1")}), env());
        QCOMPARE(again.exitCode, 2);
        QVERIFY2(again.err.contains("run id r1 already exists in the audit store"),
                 again.err.constData());
        QVERIFY(!again.err.contains("UNIQUE"));
        QCOMPARE(again.err.count('\n'), 1);
        QCOMPARE(column("SELECT count(*) FROM audit_events"), events);
        QCOMPARE(column("SELECT stop_reason FROM runs"), QStringList{"completed"});
    }

    void unusableTokenIsRefusedAtStart_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("runId");
        QTest::addColumn<QString>("errorPart");
        QTest::newRow("garbage") << "garbage"
                                 << "r-tok"
                                 << "token.malformed";
        QTest::newRow("for another run") << "other-run"
                                         << "r-tok"
                                         << "another run";
        QTest::newRow("without --run-id") << "no-run"
                                          << ""
                                          << "--run-id";
        QTest::newRow("revoked") << "revoked"
                                 << "r-tok"
                                 << "token.revoked";
    }
    void unusableTokenIsRefusedAtStart() {
        QFETCH(QString, kind);
        QFETCH(QString, runId);
        QFETCH(QString, errorPart);
        const QJsonObject args{{"path", "w.txt"}, {"content", "w"}};
        const QString path =
            transcript(QStringLiteral("write.json"),
                       {toolTurn(QStringLiteral("toolu_w"), QStringLiteral("write_file"), args),
                        endTurn(QStringLiteral("done"))});
        QString token = QStringLiteral("garbage-token-XYZZY");
        if (kind != QLatin1String("garbage")) {
            const ProcessResult minted = runM1ctl(
                {QStringLiteral("token"), QStringLiteral("mint"), QStringLiteral("--tool"),
                 QStringLiteral("write_file"), QStringLiteral("--scope"), QStringLiteral("write"),
                 QStringLiteral("--args"), compact(args), QStringLiteral("--run"),
                 kind == QLatin1String("other-run") ? QStringLiteral("r-other")
                                                    : QStringLiteral("r-tok")},
                env());
            QCOMPARE(minted.exitCode, 0);
            token = QString::fromUtf8(minted.out).trimmed();
        }
        if (kind == QLatin1String("revoked")) {
            const ProcessResult revoked =
                runM1ctl({QStringLiteral("--db"), m_db, QStringLiteral("token"),
                          QStringLiteral("revoke"), token},
                         env());
            QCOMPARE(revoked.exitCode, 0);
        }
        QStringList extra{QStringLiteral("--token"), token};
        if (!runId.isEmpty())
            extra << QStringLiteral("--run-id") << runId;
        const ProcessResult r = runM1ctl(runArgs(path, extra), env());
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(errorPart.toUtf8()), r.err.constData());
        QVERIFY2(!r.err.contains(token.toUtf8()), "the token must never be echoed");
        QCOMPARE(r.err.count('\n'), 1);
        QVERIFY(!QFile::exists(m_workspace + QStringLiteral("/w.txt")));
        QCOMPARE(column("SELECT count(*) FROM runs"), QStringList{"0"});
    }

    // A token a run spends is spent in the --db store's ledger, where tool exec and token verify
    // look (not in the default database).
    void runSpendsTokensInTheDbLedger() {
        const QJsonObject args{{"path", "w.txt"}, {"content", "w"}};
        const QString path =
            transcript(QStringLiteral("write.json"),
                       {toolTurn(QStringLiteral("toolu_w"), QStringLiteral("write_file"), args),
                        endTurn(QStringLiteral("done"))});
        const ProcessResult minted =
            runM1ctl({QStringLiteral("token"), QStringLiteral("mint"), QStringLiteral("--tool"),
                      QStringLiteral("write_file"), QStringLiteral("--scope"),
                      QStringLiteral("write"), QStringLiteral("--args"), compact(args),
                      QStringLiteral("--run"), QStringLiteral("r-ledger")},
                     env());
        QCOMPARE(minted.exitCode, 0);
        const QString token = QString::fromUtf8(minted.out).trimmed();
        const ProcessResult r =
            runM1ctl(runArgs(path, {QStringLiteral("--token"), token, QStringLiteral("--run-id"),
                                    QStringLiteral("r-ledger")}),
                     env());
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY(QFile::exists(m_workspace + QStringLiteral("/w.txt")));
        const ProcessResult verified =
            runM1ctl({QStringLiteral("--db"), m_db, QStringLiteral("token"),
                      QStringLiteral("verify"), token},
                     env());
        QCOMPARE(verified.exitCode, 3);
        QVERIFY2(verified.err.contains("token.consumed"), verified.err.constData());
        QVERIFY(
            !QFile::exists(m_home->filePath(QStringLiteral("data/m1-agent-control/audit.sqlite"))));
    }
};

QTEST_GUILESS_MAIN(TestM1ctlRun)
#include "tst_m1ctl_run.moc"
