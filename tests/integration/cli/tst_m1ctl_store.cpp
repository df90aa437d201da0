// m1ctl's audit-store commands end to end, as real processes on a temporary database given with
// --db: dev seed, history list/show, export costs, metrics, audit verify/prune (also after
// tampering, SQL-15), and the token ledger in the same database.
#include "TestSupport.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <limits>

using m1::test::ProcessResult;
using m1::test::readFile;
using m1::test::runM1ctl;

class TestM1ctlStore : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_home;
    QString m_db;

    QProcessEnvironment env() const {
        QProcessEnvironment e;
        e.insert(QStringLiteral("XDG_DATA_HOME"), m_home.filePath(QStringLiteral("data")));
        e.insert(QStringLiteral("XDG_CONFIG_HOME"), m_home.filePath(QStringLiteral("config")));
        e.insert(QStringLiteral("M1_JWT_SECRET"),
                 QStringLiteral("cli-test-secret-0123456789abcdef0123456789"));
        return e;
    }
    ProcessResult m1ctl(QStringList args, const QString& db = {}) const {
        args.prepend(db.isEmpty() ? m_db : db);
        args.prepend(QStringLiteral("--db"));
        return runM1ctl(args, env(), {}, 300000);
    }
    static QJsonObject json(const ProcessResult& r) {
        return QJsonDocument::fromJson(r.out).object();
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_home.isValid());
        m_db = m_home.filePath(QStringLiteral("store/audit.sqlite"));
        const ProcessResult r = m1ctl(
            {"dev", "seed", "--runs", "300", "--calls-per-run", "5", "--seed", "7", "--json"});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject o = json(r);
        QCOMPARE(o.value("runs").toInt(), 300);
        QCOMPARE(o.value("toolCalls").toInt(), 1500);
        QVERIFY(o.value("apiCalls").toInt() >= 300 * 3);
    }

    void helpForEveryCommand_data() {
        QTest::addColumn<QStringList>("command");
        QTest::newRow("history list") << QStringList{"history", "list"};
        QTest::newRow("history show") << QStringList{"history", "show"};
        QTest::newRow("export costs") << QStringList{"export", "costs"};
        QTest::newRow("metrics") << QStringList{"metrics"};
        QTest::newRow("audit verify") << QStringList{"audit", "verify"};
        QTest::newRow("audit prune") << QStringList{"audit", "prune"};
        QTest::newRow("dev seed") << QStringList{"dev", "seed"};
    }
    void helpForEveryCommand() {
        QFETCH(QStringList, command);
        const ProcessResult r = runM1ctl(command + QStringList{"--help"}, env());
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains("Exit status"), r.out.constData());
        const ProcessResult bad = runM1ctl(command + QStringList{"--no-such-option"}, env());
        QCOMPARE(bad.exitCode, 2);
        QVERIFY(bad.err.startsWith("m1ctl: "));
        QCOMPARE(bad.err.count('\n'), 1);
    }

    void mainHelpListsTheCommands() {
        const ProcessResult r = runM1ctl({"--help"}, env());
        QCOMPARE(r.exitCode, 0);
        for (const char* word : {"history list", "export costs", "metrics", "audit verify",
                                 "audit prune", "dev seed", "--db PATH_OR_URL"})
            QVERIFY2(r.out.contains(word), word);
    }

    void seededStoreVerifies() {
        const ProcessResult r = m1ctl({"audit", "verify", "--json"});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject o = json(r);
        QVERIFY(o.value("intact").toBool());
        QVERIFY(o.value("checkedEvents").toInt() >= 300);
        QCOMPARE(o.value("integrity").toString(), QStringLiteral("ok"));
        const ProcessResult text = m1ctl({"audit", "verify"});
        QCOMPARE(text.exitCode, 0);
        QVERIFY(text.out.contains("intact"));
    }

    void historyListPagesAndFilters() {
        const ProcessResult first = m1ctl({"history", "list", "--limit", "5", "--json"});
        QVERIFY2(first.exitCode == 0, first.err.constData());
        const QJsonObject page = json(first);
        QCOMPARE(page.value("runs").toArray().size(), 5);
        QVERIFY(page.value("hasMore").toBool());
        const QString next = page.value("next").toString();
        QVERIFY(!next.isEmpty());
        const ProcessResult second =
            m1ctl({"history", "list", "--limit", "5", "--after", next, "--json"});
        const QJsonArray runs2 = json(second).value("runs").toArray();
        QCOMPARE(runs2.size(), 5);
        const qint64 lastOfFirst =
            page.value("runs").toArray().at(4).toObject().value("startedAt").toInteger();
        QVERIFY(runs2.at(0).toObject().value("startedAt").toInteger() <= lastOfFirst);
        QVERIFY(runs2.at(0).toObject().value("runId") !=
                page.value("runs").toArray().at(4).toObject().value("runId"));

        const ProcessResult agent = m1ctl(
            {"history", "list", "--agent", "reviewer", "--stop-reason", "completed", "--json"});
        const QJsonArray filtered = json(agent).value("runs").toArray();
        QVERIFY(!filtered.isEmpty());
        for (const QJsonValue& v : filtered) {
            QCOMPARE(v.toObject().value("agent").toString(), QStringLiteral("reviewer"));
            QCOMPARE(v.toObject().value("stopReason").toString(), QStringLiteral("completed"));
        }
        const ProcessResult search =
            m1ctl({"history", "list", "--search", "CHANGELOG", "--since", "90d", "--json"});
        for (const QJsonValue& v : json(search).value("runs").toArray())
            QVERIFY(v.toObject().value("goal").toString().contains("changelog"));

        // Sorted in the store: the costliest runs first, the next page goes on below them.
        const QJsonObject costly =
            json(m1ctl({"history", "list", "--sort", "cost", "--limit", "4", "--json"}));
        QCOMPARE(costly.value("runs").toArray().size(), 4);
        qint64 previous = std::numeric_limits<qint64>::max();
        for (const QJsonValue& v : costly.value("runs").toArray()) {
            const qint64 cost = v.toObject().value("costMicros").toInteger(-1);
            QVERIFY(cost <= previous);
            previous = cost;
        }
        QVERIFY(costly.value("next").toString().contains('@'));
        const QJsonArray cheaper =
            json(m1ctl({"history", "list", "--sort", "cost", "--limit", "4", "--after",
                        costly.value("next").toString(), "--json"}))
                .value("runs")
                .toArray();
        QCOMPARE(cheaper.size(), 4);
        QVERIFY(cheaper.at(0).toObject().value("costMicros").toInteger(-1) <= previous);
        const QJsonArray oldest =
            json(m1ctl({"history", "list", "--ascending", "--limit", "2", "--json"}))
                .value("runs")
                .toArray();
        QVERIFY(oldest.at(0).toObject().value("startedAt").toInteger() <=
                oldest.at(1).toObject().value("startedAt").toInteger());
        QCOMPARE(m1ctl({"history", "list", "--sort", "goal"}).exitCode, 2);

        const ProcessResult table = m1ctl({"history", "list", "--limit", "3"});
        QCOMPARE(table.exitCode, 0);
        QVERIFY(table.out.contains("started (UTC)"));
        QVERIFY(table.out.contains("--after"));

        QCOMPARE(m1ctl({"history", "list", "--since", "yesterday"}).exitCode, 2);
        QCOMPARE(m1ctl({"history", "list", "--limit", "0"}).exitCode, 2);
        const ProcessResult missing =
            m1ctl({"history", "list"}, m_home.filePath(QStringLiteral("none/audit.sqlite")));
        QCOMPARE(missing.exitCode, 1);
        QVERIFY(missing.err.contains("no audit database"));
        QVERIFY(!QFile::exists(m_home.filePath(QStringLiteral("none/audit.sqlite"))));
    }

    void historyShowsOneRun() {
        const QString runId = json(m1ctl({"history", "list", "--limit", "1", "--json"}))
                                  .value("runs")
                                  .toArray()
                                  .at(0)
                                  .toObject()
                                  .value("runId")
                                  .toString();
        const ProcessResult r = m1ctl({"history", "show", runId, "--json"});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject run = json(r);
        QCOMPARE(run.value("runId").toString(), runId);
        const QJsonArray calls = run.value("toolCalls").toArray();
        QCOMPARE(calls.size(), 5);
        for (int i = 1; i < calls.size(); ++i)
            QVERIFY(calls.at(i - 1).toObject().value("proposedAt").toInteger() <=
                    calls.at(i).toObject().value("proposedAt").toInteger());
        QVERIFY(!run.value("apiCalls").toArray().isEmpty());
        const ProcessResult text = m1ctl({"history", "show", runId});
        QCOMPARE(text.exitCode, 0);
        QVERIFY(text.out.contains("tool calls (5)"));
        const ProcessResult unknown = m1ctl({"history", "show", "no-such-run"});
        QCOMPARE(unknown.exitCode, 1);
        QVERIFY(unknown.err.contains("no-such-run"));
    }

    void exportCosts() {
        const QString file = m_home.filePath(QStringLiteral("costs.csv"));
        const ProcessResult r = m1ctl({"export", "costs", "--totals", "--out", file});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QByteArray csv = readFile(file);
        QVERIFY(csv.startsWith("date,model,runs,api_calls,input_tokens,output_tokens,"
                               "cache_write_tokens,cache_read_tokens,cost_usd,unpriced_calls\r\n"));
        QCOMPARE(csv.count("\r\n"), csv.count('\n'));
        const QList<QByteArray> lines = csv.trimmed().split('\n');
        QVERIFY(lines.size() > 60); // ~90 days, several models a day
        QVERIFY(lines.last().startsWith("total,,"));
        // The same report on standard output.
        const ProcessResult out = m1ctl({"export", "costs", "--totals"});
        QCOMPARE(out.exitCode, 0);
        QCOMPARE(out.out, csv);
        // A range of whole days.
        const QByteArray oneDay = lines.at(1).left(10);
        const ProcessResult day = m1ctl({"export", "costs", "--from", QString::fromLatin1(oneDay),
                                         "--to", QString::fromLatin1(oneDay)});
        for (const QByteArray& line : day.out.trimmed().split('\n').mid(1))
            QVERIFY(line.startsWith(oneDay));
        QCOMPARE(m1ctl({"export", "costs", "--from", "2024-13-01"}).exitCode, 2);
        QCOMPARE(m1ctl({"export", "costs", "--out", m_home.filePath("nodir/x/y.csv")}).exitCode, 1);
    }

    // The exposition of a seeded store passes Prometheus's own linter.
    void metricsPrometheusPassesPromtool() {
        const QString promtool = QStandardPaths::findExecutable(QStringLiteral("promtool"));
        if (promtool.isEmpty())
            QSKIP("promtool not installed (Debian package prometheus, in M1_TEST_PACKAGES)");
        const QString db = m_home.filePath(QStringLiteral("prom/audit.sqlite"));
        const ProcessResult seeded =
            m1ctl({"dev", "seed", "--runs", "50", "--calls-per-run", "5", "--json"}, db);
        QVERIFY2(seeded.exitCode == 0, seeded.err.constData());
        const ProcessResult r = m1ctl({"metrics", "--prometheus"}, db);
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY(r.out.contains("# TYPE m1_"));
        QVERIFY(r.out.contains("m1_active_runs"));
        const ProcessResult checked = m1::test::runProgram(
            promtool, {QStringLiteral("check"), QStringLiteral("metrics")}, {}, r.out);
        QVERIFY2(checked.exitCode == 0, (checked.out + checked.err).constData());
    }

    void metricsJsonAndText() {
        const ProcessResult r = m1ctl({"metrics", "--json"});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject o = json(r);
        for (const char* key : {"runs", "tools", "agents", "approvals", "errorRate", "costByModel",
                                "costByDay", "costByModelDay", "tokensByDay", "projection"})
            QVERIFY2(o.contains(QLatin1String(key)), key);
        QCOMPARE(o.value("runs").toObject().value("runs").toInt(), 300);
        QCOMPARE(o.value("tools").toArray().size(), 6);
        // SBX-27: the approval rate per scope of the prompts (the seed has person decisions).
        const QJsonArray scopes = o.value("approvalsByScope").toArray();
        QVERIFY(!scopes.isEmpty());
        qint64 prompts = 0;
        for (const QJsonValue& v : scopes) {
            const QJsonObject scope = v.toObject();
            QVERIFY(!scope.value("scope").toString().isEmpty());
            QVERIFY(scope.value("approvalRate").toDouble() >= 0.0);
            QVERIFY(scope.value("approvalRate").toDouble() <= 1.0);
            QVERIFY(scope.value("approved").toInteger() + scope.value("denied").toInteger() <=
                    scope.value("prompts").toInteger());
            prompts += scope.value("prompts").toInteger();
        }
        QVERIFY(prompts > 0);
        QVERIFY(o.value("runs").toObject().value("durationMs").toObject().value("p95").toInteger() >
                0);
        const ProcessResult weekly = m1ctl({"metrics", "--from", "30d", "--interval", "week"});
        QCOMPARE(weekly.exitCode, 0);
        QVERIFY(weekly.out.contains("Error rate per week"));
        QVERIFY(weekly.out.contains("Prompts by scope"));
        QVERIFY(weekly.out.contains("approval rate"));
        QVERIFY(weekly.out.contains("projected"));
        QCOMPARE(m1ctl({"metrics", "--interval", "month"}).exitCode, 2);
    }

    void tokenLedgerUsesTheAuditDatabase() {
        const QString jti = QStringLiteral("0f0e0d0c-0b0a-4908-8706-050403020100");
        const ProcessResult r = m1ctl({"token", "revoke", jti});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        {
            QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "inspect-ledger");
            db.setDatabaseName(m_db);
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(
                q.exec(QStringLiteral("SELECT state FROM token_ledger WHERE jti = '%1'").arg(jti)));
            QVERIFY(q.next());
            QCOMPARE(q.value(0).toString(), QStringLiteral("revoked"));
        }
        QSqlDatabase::removeDatabase("inspect-ledger");
        // No separate ledger file any more.
        QVERIFY(
            !QFile::exists(m_home.filePath(QStringLiteral("data/m1-agent-control/tokens.sqlite"))));
    }

    void pruneThenVerify() {
        const ProcessResult dry =
            m1ctl({"audit", "prune", "--older-than", "30", "--dry-run", "--json"});
        QVERIFY2(dry.exitCode == 0, dry.err.constData());
        const qint64 wouldGo = json(dry).value("runs").toInteger();
        QVERIFY(wouldGo > 100);
        QCOMPARE(json(m1ctl({"metrics", "--json"})).value("runs").toObject().value("runs").toInt(),
                 300);
        const ProcessResult text = m1ctl({"audit", "prune", "--older-than", "30", "--dry-run"});
        QVERIFY(text.out.startsWith("Would remove"));

        const ProcessResult pruned = m1ctl({"audit", "prune", "--older-than", "30", "--json"});
        QCOMPARE(pruned.exitCode, 0);
        QCOMPARE(json(pruned).value("runs").toInteger(), wouldGo);
        QCOMPARE(json(m1ctl({"metrics", "--json"})).value("runs").toObject().value("runs").toInt(),
                 300 - wouldGo);
        QCOMPARE(m1ctl({"audit", "verify"}).exitCode, 0);
        QCOMPARE(m1ctl({"audit", "prune"}).exitCode, 2);
    }

    // A store written by a real replay run verifies, tool calls included; a tool_calls row
    // changed afterwards (a denied command shown as executed) fails verify with status 3 and a
    // sentence that names the row, the column and both values.
    void replayRunVerifiesAndEditedCallFails() {
        const QString db = m_home.filePath(QStringLiteral("replay/audit.sqlite"));
        const QString workspace = m_home.filePath(QStringLiteral("replay/ws"));
        QVERIFY(QDir().mkpath(workspace));
        QVERIFY(m1::test::writeFile(workspace + QStringLiteral("/a.txt"), "alpha\n"));
        const auto toolTurn = [](const char* id, const char* name, const QJsonObject& input) {
            return QJsonObject{
                {"content",
                 QJsonArray{QJsonObject{
                     {"type", "tool_use"}, {"id", id}, {"name", name}, {"input", input}}}},
                {"stop_reason", "tool_use"},
                {"usage", QJsonObject{{"input_tokens", 100}, {"output_tokens", 10}}}};
        };
        const QJsonArray turns{
            toolTurn("toolu_r", "read_file", {{"path", "a.txt"}}),
            toolTurn("toolu_w", "write_file", {{"path", "w.txt"}, {"content", "w"}}),
            toolTurn("toolu_x", "run_command", {{"argv", QJsonArray{"rm", "-rf", "a.txt"}}}),
            QJsonObject{{"content", QJsonArray{QJsonObject{{"type", "text"}, {"text", "done"}}}},
                        {"stop_reason", "end_turn"},
                        {"usage", QJsonObject{{"input_tokens", 110}, {"output_tokens", 5}}}}};
        const QString transcript = m_home.filePath(QStringLiteral("replay/t.json"));
        QVERIFY(m1::test::writeFile(
            transcript,
            QJsonDocument(
                QJsonObject{{"schema", 1}, {"model", "claude-sonnet-4-6"}, {"turns", turns}})
                .toJson()));
        QProcessEnvironment e = env();
        e.insert(QStringLiteral("ANTHROPIC_API_KEY"), QString());
        const ProcessResult run =
            runM1ctl({"--db", db, "run", "--goal", "replay", "--provider", "replay", "--transcript",
                      transcript, "--workspace", workspace, "--replay-pace", "0", "--run-id",
                      "r-replay", "--auto-approve", "write"},
                     e, {}, 300000);
        QVERIFY2(run.exitCode == 0, run.err.constData());

        const ProcessResult sound = m1ctl({"audit", "verify", "--json"}, db);
        QVERIFY2(sound.exitCode == 0, sound.err.constData());
        QVERIFY(json(sound).value("intact").toBool());
        QCOMPARE(json(sound).value("checkedCalls").toInt(), 3);
        QCOMPARE(json(sound).value("checkedRuns").toInt(), 1);
        QCOMPARE(json(sound).value("findings").toArray().size(), 0);

        qint64 proposedAt = 0;
        {
            QSqlDatabase sql = QSqlDatabase::addDatabase("QSQLITE", "tamper-call");
            sql.setDatabaseName(db);
            QVERIFY(sql.open());
            QSqlQuery q(sql);
            QVERIFY(q.exec("SELECT status FROM tool_calls WHERE request_id = 'toolu_x'") &&
                    q.next());
            QCOMPARE(q.value(0).toString(), QStringLiteral("denied"));
            q.finish();
            QVERIFY(q.exec("SELECT min(seq) FROM audit_events WHERE request_id = 'toolu_x'") &&
                    q.next());
            proposedAt = q.value(0).toLongLong();
            q.finish();
            QVERIFY(q.exec("UPDATE tool_calls SET status = 'executed' WHERE request_id = "
                           "'toolu_x'"));
        }
        QSqlDatabase::removeDatabase("tamper-call");
        const ProcessResult text = m1ctl({"audit", "verify"}, db);
        QCOMPARE(text.exitCode, 3);
        QVERIFY2(text.err.contains(
                     QStringLiteral("tool_calls row toolu_x of run r-replay says status "
                                    "'executed', but its events (from event %1) say 'denied': "
                                    "the table was changed outside M1 Agent Control.")
                         .arg(proposedAt)
                         .toUtf8()),
                 text.err.constData());
        const ProcessResult j = m1ctl({"audit", "verify", "--json"}, db);
        QCOMPARE(j.exitCode, 3);
        const QJsonObject o = json(j);
        QVERIFY(!o.value("intact").toBool());
        QVERIFY(o.value("chainIntact").toBool());
        QCOMPARE(o.value("problem").toString(), QStringLiteral("projection"));
        QCOMPARE(o.value("brokenAtSeq").toInteger(), proposedAt);
        const QJsonObject finding = o.value("findings").toArray().at(0).toObject();
        QCOMPARE(finding.value("table").toString(), QStringLiteral("tool_calls"));
        QCOMPARE(finding.value("runId").toString(), QStringLiteral("r-replay"));
        QCOMPARE(finding.value("callId").toString(), QStringLiteral("toolu_x"));
        QCOMPARE(finding.value("column").toString(), QStringLiteral("status"));
        QCOMPARE(finding.value("stored").toString(), QStringLiteral("executed"));
        QCOMPARE(finding.value("expected").toString(), QStringLiteral("denied"));
        QCOMPARE(finding.value("seq").toInteger(), proposedAt);
        QCOMPARE(o.value("moreFindings").toInteger(), 0);
    }

    // SQL-15: an edited event makes verify fail and name the row.
    void tamperedStoreFailsVerify() {
        {
            QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "tamper");
            db.setDatabaseName(m_db);
            QVERIFY(db.open());
            QSqlQuery q(db);
            QVERIFY(q.exec("SELECT min(seq) + 10 FROM audit_events") && q.next());
            m_tampered = q.value(0).toLongLong();
            q.finish();
            QVERIFY(q.exec(QStringLiteral("UPDATE audit_events SET at = at + 1 WHERE seq = %1")
                               .arg(m_tampered)));
        }
        QSqlDatabase::removeDatabase("tamper");
        const ProcessResult r = m1ctl({"audit", "verify"});
        QCOMPARE(r.exitCode, 3);
        QVERIFY2(r.err.contains(QStringLiteral("broken at event %1").arg(m_tampered).toUtf8()),
                 r.err.constData());
        const ProcessResult j = m1ctl({"audit", "verify", "--json"});
        QCOMPARE(j.exitCode, 3);
        QCOMPARE(json(j).value("brokenAtSeq").toInteger(), m_tampered);
        QCOMPARE(json(j).value("problem").toString(), QStringLiteral("changed"));
    }

private:
    qint64 m_tampered = 0;
};

QTEST_GUILESS_MAIN(TestM1ctlStore)
#include "tst_m1ctl_store.moc"
