// m1ctl as a new user meets it, end to end as real processes: the findings of the new-user review
// (costs of today in the month's projection, replay runs that cost nothing and count against no
// budget, errors said once with their code and as JSON with --json, reads of a read-only store,
// sub-command help, plurals, usage errors for input that would silently match nothing, the
// policy's reason when an allow rule's wildcard does not cover a shell variable).
#include "TestSupport.h"

#include "store/AuditStore.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <unistd.h>

using m1::AuditEvent;
using m1::test::ProcessResult;
using m1::test::runM1ctl;
using m1::test::writeFile;

class TestM1ctlReview : public QObject {
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_home;
    QString m_db;
    QString m_workspace;

    QProcessEnvironment env() const {
        QProcessEnvironment e;
        e.insert(QStringLiteral("XDG_DATA_HOME"), m_home->filePath(QStringLiteral("data")));
        e.insert(QStringLiteral("XDG_CONFIG_HOME"), m_home->filePath(QStringLiteral("config")));
        e.insert(QStringLiteral("M1_JWT_SECRET"),
                 QStringLiteral("cli-test-secret-0123456789abcdef0123456789"));
        e.insert(QStringLiteral("ANTHROPIC_API_KEY"), QString());
        return e;
    }
    ProcessResult m1ctl(QStringList args, const QByteArray& stdinData = {}) const {
        return runM1ctl(QStringList{QStringLiteral("--db"), m_db} + args, env(), stdinData);
    }
    static QJsonObject json(const QByteArray& out) { return QJsonDocument::fromJson(out).object(); }
    bool writeSettings(const QByteArray& content) const {
        return writeFile(m_home->filePath(QStringLiteral("config/m1-agent-control/settings.json")),
                         content);
    }

    // One finished run with one API call at `at`, recorded the way the run loop records it.
    static bool recordRun(const QString& database, const QString& runId, const QString& provider,
                          qint64 costMicros, qint64 at) {
        auto store = m1::AuditStore::open(database);
        if (!store)
            return false;
        auto writer = (*store)->startWriter();
        if (!writer)
            return false;
        AuditEvent::RunStart start;
        start.agent = QStringLiteral("orchestrator");
        start.goal = QStringLiteral("spend");
        start.model = QStringLiteral("claude-sonnet-4-6");
        start.provider = provider;
        AuditEvent::ApiCallInfo info;
        info.model = start.model;
        info.attempt = 1;
        info.inputTokens = 1000;
        info.outputTokens = 100;
        info.costMicros = costMicros;
        info.latencyMs = 10;
        info.httpStatus = 200;
        AuditEvent::RunTotals totals;
        totals.stopReason = QStringLiteral("completed");
        totals.steps = 1;
        totals.inputTokens = 1000;
        totals.outputTokens = 100;
        totals.costMicros = costMicros;
        for (const AuditEvent& e :
             {AuditEvent::runStarted(runId, start, at), AuditEvent::apiCall(runId, info, at + 1),
              AuditEvent::runFinished(runId, totals, at + 2)})
            if (!(*writer)->write(e))
                return false;
        return true;
    }

    QString transcript(const QString& name) const {
        const QString path = m_home->filePath(name);
        const QJsonObject turn{
            {"content", QJsonArray{QJsonObject{{"type", "text"}, {"text", "Done."}}}},
            {"stop_reason", "end_turn"},
            {"usage", QJsonObject{{"input_tokens", 100000}, {"output_tokens", 20000}}}};
        const QJsonObject t{
            {"schema", 1}, {"model", "claude-sonnet-4-6"}, {"turns", QJsonArray{turn}}};
        writeFile(path, QJsonDocument(t).toJson());
        return path;
    }

private Q_SLOTS:
    void init() {
        m_home = std::make_unique<QTemporaryDir>();
        QVERIFY(m_home->isValid());
        m_db = m_home->filePath(QStringLiteral("store/audit.sqlite"));
        m_workspace = m_home->filePath(QStringLiteral("ws"));
        QVERIFY(QDir().mkpath(m_workspace));
        QVERIFY(writeFile(m_workspace + QStringLiteral("/README.md"), "hello\n"));
    }

    // Today's costs are part of this month: not "$0 so far" on the first day of use.
    void projectionCountsToday() {
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        QVERIFY(recordRun(m_db, QStringLiteral("run_today"), QStringLiteral("claude"), 380000,
                          now - 1000));
        const ProcessResult r = m1ctl({"metrics", "--json"});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject p = json(r.out).value("projection").toObject();
        QCOMPARE(p.value("todayMicros").toInteger(), 380000);
        QCOMPARE(p.value("monthToDateMicros").toInteger(), 380000);
        QVERIFY(p.value("projectedMonthMicros").toInteger() >= 380000);
        const ProcessResult text = m1ctl({"metrics"});
        QVERIFY2(text.out.contains("This month: $0.380000 so far"), text.out.constData());
    }

    // A replay is recorded with the transcript's model or not at all, and costs nothing.
    void replayModelAndCost() {
        const QString t = transcript(QStringLiteral("t.json"));
        ProcessResult r = m1ctl({"run", "--provider", "replay", "--transcript", t, "--goal", "x",
                                 "--model", "nosuch-model", "--workspace", m_workspace, "--json"});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("claude-sonnet-4-6"), r.err.constData());
        QCOMPARE(json(r.out).value("error").toObject().value("code").toString(),
                 QStringLiteral("cli.usage"));

        r = m1ctl({"run", "--provider", "replay", "--transcript", t, "--goal", "x", "--workspace",
                   m_workspace, "--replay-pace", "0", "--json"});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject report = json(r.out);
        QCOMPARE(report.value("model").toString(), QStringLiteral("claude-sonnet-4-6"));
        QCOMPARE(report.value("billed").toBool(true), false);
        QCOMPARE(report.value("cost_usd").toDouble(-1), 0.0);
        QCOMPARE(report.value("cost_complete").toBool(), true);
        const ProcessResult history = m1ctl({"history", "list", "--json"});
        QCOMPARE(history.exitCode, 0);
        const QJsonObject run = json(history.out).value("runs").toArray().at(0).toObject();
        QCOMPARE(run.value("costMicros").toInteger(-1), 0);
    }

    // Budgets count real spending only: a replay run is never refused for them and never uses
    // them up (the demo first, then a real run, must work), and old replayed costs do not count.
    void replayIsOutsideTheBudgets() {
        QVERIFY(writeSettings("{\"monitoring\":{\"budgets\":{\"dailyUsd\":0.05}}}"));
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        // An old store: a replay run recorded with a cost before replays were free.
        QVERIFY(recordRun(m_db, QStringLiteral("run_old_replay"), QStringLiteral("replay"), 900000,
                          now - 2000));
        const QString t = transcript(QStringLiteral("t.json"));
        for (int i = 0; i < 2; ++i) {
            const ProcessResult r =
                m1ctl({"run", "--provider", "replay", "--transcript", t, "--goal", "x",
                       "--workspace", m_workspace, "--replay-pace", "0", "--json"});
            QVERIFY2(r.exitCode == 0, r.err.constData());
        }
        // Real spending over the budget: the replay still runs (it costs nothing).
        QVERIFY(recordRun(m_db, QStringLiteral("run_real"), QStringLiteral("claude"), 60000,
                          now - 1000));
        const ProcessResult r =
            m1ctl({"run", "--provider", "replay", "--transcript", t, "--goal", "x", "--workspace",
                   m_workspace, "--replay-pace", "0", "--json"});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY(!r.err.contains("budget"));
    }

    // Errors: said once, with the stable code, and as JSON on stdout when --json was given.
    void errorsSaidOnceWithCode() {
        const QString args = QStringLiteral("{\"path\":\"README.md\"}");
        ProcessResult minted =
            m1ctl({"token", "mint", "--tool", "read_file", "--scope", "read", "--args", args});
        QCOMPARE(minted.exitCode, 0);
        const QString token = QString::fromUtf8(minted.out).trimmed();
        ProcessResult r = m1ctl(
            {"token", "verify", token, "--tool", "read_file", "--args", "{\"path\":\"other.md\"}"});
        QCOMPARE(r.exitCode, 3);
        QCOMPARE(r.err.count("refused"), 1);
        QVERIFY2(r.err.contains("(token.args)"), r.err.constData());

        r = m1ctl({"tool", "exec", "--workspace", m_workspace, "--tool", "read_file", "--args",
                   "{\"path\":3}"});
        QCOMPARE(r.exitCode, 3);
        QCOMPARE(r.err.count("do not match"), 1);
        QVERIFY2(r.err.contains("[policy.schema]"), r.err.constData());

        // --json: the error object on stdout, the line on stderr.
        r = m1ctl({"history", "show", "no-such-run", "--json"});
        QCOMPARE(r.exitCode, 1);
        const QJsonObject error = json(r.out).value("error").toObject();
        QCOMPARE(error.value("code").toString(), QStringLiteral("history.not_found"));
        QVERIFY(!error.value("message").toString().isEmpty());
        QVERIFY(r.err.startsWith("m1ctl: "));
        QVERIFY2(r.err.contains("[history.not_found]"), r.err.constData());
    }

    // Reads work on a store in a folder that cannot be written, and change nothing.
    void readsOnReadOnlyStore() {
        QVERIFY(recordRun(m_db, QStringLiteral("run_ro"), QStringLiteral("claude"), 1000,
                          QDateTime::currentMSecsSinceEpoch() - 1000));
        const QString folder = QFileInfo(m_db).path();
        const QStringList reads[] = {{"history", "list"}, {"history", "show", "run_ro"},
                                     {"audit", "verify"}, {"alerts", "list"},
                                     {"export", "costs"}, {"metrics"}};
        const bool root = ::geteuid() == 0;
        const QString bwrap = QStandardPaths::findExecutable(QStringLiteral("bwrap"));
        if (root && bwrap.isEmpty())
            QSKIP("Running as root without bwrap: no way to make the folder read-only.");
        if (!root)
            QVERIFY(QFile::setPermissions(folder, QFileDevice::ReadOwner | QFileDevice::ExeOwner));
        for (const QStringList& read : reads) {
            const QStringList args = QStringList{QStringLiteral("--db"), m_db} + read;
            ProcessResult r;
            if (root) {
                // Root writes anywhere: a read-only bind mount stands in for the mode.
                r = m1::test::runProgram(bwrap,
                                         QStringList{"--bind", "/", "/", "--ro-bind", folder,
                                                     folder, "--dev", "/dev", "--proc", "/proc",
                                                     QStringLiteral(M1CTL_PATH)} +
                                             args,
                                         env());
            } else {
                r = runM1ctl(args, env());
            }
            QVERIFY2(r.exitCode == 0, qPrintable(read.join(' ') + ": " + r.err));
            QVERIFY(!r.err.contains("Nothing was written"));
        }
        if (!root)
            QVERIFY(QFile::setPermissions(folder, QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                                      QFileDevice::ExeOwner));
    }

    void subCommandHelp() {
        ProcessResult r = runM1ctl({"token", "revoke", "--help"}, env());
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.startsWith("Usage: m1ctl token revoke [options] TOKEN_OR_JTI\n"),
                 r.out.constData());
        QVERIFY2(r.out.contains("\n  TOKEN_OR_JTI  "), r.out.constData());
        r = runM1ctl({"history", "list", "--help"}, env());
        QVERIFY2(r.out.startsWith("Usage: m1ctl history list [options]\n"), r.out.constData());
        // The group's help lists its commands; no command at all is a usage error.
        r = runM1ctl({"history"}, env());
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.out.contains("history list|show"));
        r = runM1ctl({"alerts", "--help"}, env());
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains("resolve"));
        r = runM1ctl({"alerts", "frob"}, env());
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("unknown command \"alerts frob\""), r.err.constData());
    }

    void smallOnes() {
        // No match is a successful search.
        ProcessResult r = m1ctl({"tool", "exec", "--workspace", m_workspace, "--tool",
                                 "search_files", "--args", "{\"pattern\":\"nothing-here\"}"});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.startsWith("No matches"));

        // An empty token on standard input is a usage error.
        r = m1ctl({"token", "verify", "-"}, QByteArray());
        QCOMPARE(r.exitCode, 2);
        r = m1ctl({"token", "revoke", "-"}, QByteArray());
        QCOMPARE(r.exitCode, 2);

        // JSON that is not an object.
        r = m1ctl({"policy", "check", "--workspace", m_workspace, "--tool", "read_file", "--args",
                   "null"});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("must be a JSON object"), r.err.constData());

        // --db after the command.
        r = runM1ctl({"history", "list", "--db", m_db}, env());
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("--db goes before the command"), r.err.constData());

        QCOMPARE(m1ctl({"metrics", "--json", "--prometheus"}).exitCode, 2);

        // What would silently match nothing.
        QVERIFY(recordRun(m_db, QStringLiteral("run_small"), QStringLiteral("claude"), 1000,
                          QDateTime::currentMSecsSinceEpoch() - 1000));
        r = m1ctl({"history", "list", "--stop-reason", "bogus"});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.contains("completed"));
        QCOMPARE(m1ctl({"history", "list", "--stop-reason", "running"}).exitCode, 0);
        r = m1ctl({"export", "costs", "--from", "2026-11-30", "--to", "2026-11-01"});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.out.isEmpty());

        // Plurals.
        const QString csv = m_home->filePath(QStringLiteral("costs.csv"));
        r = m1ctl({"export", "costs", "--out", csv});
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.err.contains("1 row written"), r.err.constData());
        r = m1ctl({"metrics"});
        QVERIFY2(r.out.contains("1 run,"), r.out.constData());
        QVERIFY2(!r.out.contains("1 runs") && !r.out.contains("1 API calls"), r.out.constData());
    }

    // "ls *" exists but does not cover "$HOME": the reason says so instead of "No rule decided".
    void ruleNotCoveringVariable() {
        const QString rules = m_home->filePath(QStringLiteral("rules.json"));
        QVERIFY(writeFile(rules, "{\"allow\":[\"run_command(ls *)\"]}"));
        const ProcessResult r =
            m1ctl({"policy", "check", "--workspace", m_workspace, "--rules", rules, "--tool",
                   "run_command", "--args", "{\"argv\":[\"ls\",\"$HOME\"]}"});
        QCOMPARE(r.exitCode, 4);
        QVERIFY2(!r.out.contains("No rule decided"), r.out.constData());
        QVERIFY2(r.out.contains("ls *") && r.out.contains("$HOME"), r.out.constData());
    }

    // Only what is missing: with M1_JWT_SECRET set, the API key line does not ask for it.
    void secretStatusSaysOnlyWhatIsMissing() {
        QProcessEnvironment e = env();
        e.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"),
                 QStringLiteral("unix:path=/nonexistent/m1-no-bus"));
        const ProcessResult r = runM1ctl({"secret", "status"}, e);
        QCOMPARE(r.exitCode, 0);
        const QByteArray apiLine = r.out.mid(r.out.indexOf("API key"));
        QVERIFY2(apiLine.contains("ANTHROPIC_API_KEY"), r.out.constData());
        QVERIFY2(!apiLine.contains("M1_JWT_SECRET"), r.out.constData());
        const ProcessResult run = runM1ctl({"--db", m_db, "run", "--provider", "claude", "--goal",
                                            "x", "--workspace", m_workspace},
                                           e);
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(!run.err.contains("M1_JWT_SECRET"), run.err.constData());
        QVERIFY2(run.err.contains("[secret.no_keychain]"), run.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestM1ctlReview)
#include "tst_m1ctl_review.moc"
