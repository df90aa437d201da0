// The write side of the audit store over both backends (SQLite file, throwaway PostgreSQL):
// events and projections, acknowledgements, transitions, the hash chain and what verify finds
// (SQL-15), retention with anchoring, the token ledger (SQL-16), the text filter hook.
#include "PgTestServer.h"
#include "store/AuditSeeder.h"
#include "store/AuditStore.h"

#include <QAtomicInteger>
#include <QJsonArray>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <memory>

using namespace m1;

namespace {

AuditEvent::RunTotals totals(const char* stopReason) {
    AuditEvent::RunTotals result;
    result.stopReason = QString::fromLatin1(stopReason);
    return result;
}

AuditEvent::ApiCallInfo api(const char* model, int attempt, qint64 inputTokens, qint64 outputTokens,
                            std::optional<qint64> cost, int status, const char* errorType = "") {
    AuditEvent::ApiCallInfo info;
    info.model = QString::fromLatin1(model);
    info.attempt = attempt;
    info.inputTokens = inputTokens;
    info.outputTokens = outputTokens;
    info.costMicros = cost;
    info.latencyMs = 300;
    info.httpStatus = status;
    info.errorType = QString::fromLatin1(errorType);
    return info;
}

AuditEvent::RunStart goal(const char* text) {
    AuditEvent::RunStart start;
    start.goal = QString::fromLatin1(text);
    return start;
}

qint64 scalar(const QString& connection, const QString& sql) {
    QSqlQuery query(QSqlDatabase::database(connection, false));
    if (!query.exec(sql) || !query.next())
        return -1;
    return query.value(0).toLongLong();
}

QString text(const QString& connection, const QString& sql) {
    QSqlQuery query(QSqlDatabase::database(connection, false));
    if (!query.exec(sql) || !query.next())
        return QStringLiteral("<error>");
    return query.value(0).toString();
}

bool execSql(const QString& connection, const QString& sql) {
    QSqlQuery query(QSqlDatabase::database(connection, false));
    const bool ok = query.exec(sql);
    if (!ok)
        qWarning() << sql << query.lastError().text();
    return ok;
}

} // namespace

class TstStoreWriter : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<test::PgTestServer> m_pg;
    QTemporaryDir m_dir;
    int m_counter = 0;

    QString location(const QString& backend) {
        ++m_counter;
        if (backend == QLatin1String("sqlite"))
            return m_dir.filePath(QStringLiteral("db%1/audit.sqlite").arg(m_counter));
        return m_pg->createDatabase(QStringLiteral("w%1").arg(m_counter));
    }

    static void addBackends() {
        QTest::addColumn<QString>("backend");
        QTest::newRow("sqlite") << QStringLiteral("sqlite");
        QTest::newRow("postgres") << QStringLiteral("postgres");
    }

    // A run with two calls: one executed, one denied. Returns the last seq.
    static qint64 writeRun(AuditWriter& writer, const QString& runId, qint64 start) {
        AuditEvent::RunStart run;
        run.agent = QStringLiteral("tester");
        run.goal = QStringLiteral("fix the test");
        run.model = QStringLiteral("claude-x");
        const QList<AuditEvent> events{
            AuditEvent::runStarted(runId, run, start),
            AuditEvent::callProposed(runId, QStringLiteral("c1"), 1, QStringLiteral("read_file"),
                                     QStringLiteral("read"), {{"path", "a.txt"}}, start + 1),
            AuditEvent::callApproved(runId, QStringLiteral("c1"), QStringLiteral("auto"), {},
                                     QStringLiteral("jti-") + runId, {}, start + 2),
            AuditEvent::callExecuted(runId, QStringLiteral("c1"), {{"path", "a.txt"}},
                                     QStringLiteral("hello"), 3, start + 3),
            AuditEvent::callProposed(runId, QStringLiteral("c2"), 2, QStringLiteral("run_command"),
                                     QStringLiteral("execute"), {{"argv", "rm"}}, start + 4),
            AuditEvent::callDenied(runId, QStringLiteral("c2"), QStringLiteral("person"),
                                   QStringLiteral("me"), QStringLiteral("no"), start + 5),
            AuditEvent::runFinished(runId, totals("end_turn"), start + 6),
        };
        qint64 seq = 0;
        for (const AuditEvent& event : events) {
            const AuditAck ack = writer.write(event, 30000);
            if (!ack) {
                qWarning() << ack.error().code << ack.error().message;
                return -1;
            }
            seq = *ack;
        }
        return seq;
    }

    // Two runs for the projection check: p1 (finished) with a call approved by a rule and
    // executed, one denied by a rule, one edited and approved by a person; p2 still open with one
    // approved call. 16 events; each call's first event: p1 c1 2, c2 6, c3 9; p2 c1 15.
    static bool writeDecidedRuns(AuditWriter& writer) {
        const auto policy = [](PolicyDecision::Kind kind, const char* reason) {
            PolicyDecision decision;
            decision.kind = kind;
            decision.reason = QString::fromLatin1(reason);
            decision.source = DecisionSource::Rule;
            return decision;
        };
        const QJsonObject edited{{"path", "c.txt"}, {"content", "x"}};
        AuditEvent::RunTotals done = totals("completed");
        done.proposed = 3;
        done.approved = 2;
        done.denied = 1;
        done.executed = 2;
        done.steps = 3;
        const QList<AuditEvent> events{
            AuditEvent::runStarted("p1", goal("tidy up"), 100),
            AuditEvent::callProposed("p1", "c1", 1, "read_file", "read", {{"path", "a.txt"}}, 101),
            AuditEvent::policyChecked("p1", "c1", policy(PolicyDecision::Kind::Allow, "reads"),
                                      102),
            AuditEvent::callApproved("p1", "c1", "rule", "policy", "jti-c1", {}, 103),
            AuditEvent::callExecuted("p1", "c1", {{"path", "a.txt"}}, "alpha", 4, 104),
            AuditEvent::callProposed("p1", "c2", 2, "run_command", "execute",
                                     {{"argv", QJsonArray{"rm", "-rf", "/"}}}, 105),
            AuditEvent::policyChecked("p1", "c2", policy(PolicyDecision::Kind::Deny, "no rm"), 106),
            AuditEvent::callDenied("p1", "c2", "rule", "deny-rm", "dangerous", 107),
            AuditEvent::callProposed("p1", "c3", 3, "write_file", "write",
                                     {{"path", "b.txt"}, {"content", "x"}}, 108),
            AuditEvent::policyChecked("p1", "c3", policy(PolicyDecision::Kind::Ask, "writes"), 109),
            AuditEvent::callApproved("p1", "c3", "person", "alice", "jti-c3", edited, 110),
            AuditEvent::callExecuted("p1", "c3", edited, "written", 6, 111),
            AuditEvent::runFinished("p1", done, 112),
            AuditEvent::runStarted("p2", goal("still going"), 200),
            AuditEvent::callProposed("p2", "c1", 1, "read_file", "read", {{"path", "z"}}, 201),
            AuditEvent::callApproved("p2", "c1", "auto", "--auto-approve read", "jti-p2", {}, 202),
        };
        for (const AuditEvent& event : events) {
            if (const AuditAck ack = writer.write(event, 30000); !ack) {
                qWarning() << ack.error().code << ack.error().message;
                return false;
            }
        }
        return true;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_pg = std::make_unique<test::PgTestServer>();
        if (!m_pg->start())
            QFAIL(qPrintable(QStringLiteral("PostgreSQL test server: ") + m_pg->errorString()));
    }

    void lifecycleAndProjections_data() { addBackends(); }
    void lifecycleAndProjections() {
        QFETCH(QString, backend);
        StoreConfig options;
        options.maxStoredOutputBytes = 16;
        auto store = AuditStore::open(location(backend), options);
        QVERIFY2(store, qPrintable(store ? QString() : store.error().message));
        auto writer = (*store)->startWriter();
        QVERIFY2(writer, qPrintable(writer ? QString() : writer.error().message));
        AuditWriter& w = **writer;
        const QString c = (*store)->connectionName();
        const qint64 t0 = 1'700'000'000'000;

        AuditEvent::RunStart run;
        run.agent = QStringLiteral("agent-1");
        run.goal = QStringLiteral("goal");
        run.constraints = {{"max_steps", 5}};
        run.model = QStringLiteral("claude-x");
        run.provider = QStringLiteral("replay");
        run.workspace = QStringLiteral("/ws");
        run.dryRun = true;
        QCOMPARE(*w.write(AuditEvent::runStarted("r1", run, t0)), 1);
        QVERIFY(w.write(AuditEvent::planUpdated("r1", QJsonArray{"step one"}, t0 + 1)));
        QVERIFY(w.write(AuditEvent::callProposed("r1", "c1", 1, "write_file", "write",
                                                 {{"path", "a"}, {"content", "x"}}, t0 + 2)));
        PolicyDecision decision;
        decision.kind = PolicyDecision::Kind::Ask;
        decision.reason = QStringLiteral("writes need approval");
        decision.source = DecisionSource::Rule;
        decision.ruleText = QStringLiteral("write_file(*)");
        decision.ruleFile = QStringLiteral("policy.json");
        QVERIFY(w.write(AuditEvent::policyChecked("r1", "c1", decision, t0 + 3)));
        const QJsonObject edited{{"path", "b"}, {"content", "x"}};
        QVERIFY(w.write(
            AuditEvent::callApproved("r1", "c1", "person", "alice", "jti-1", edited, t0 + 4)));
        // The output is longer than the cap and ends in multi-byte characters.
        const QString output = QStringLiteral("0123456789abcdé€€€€");
        auto ticket = w.submit(AuditEvent::callExecuted("r1", "c1", edited, output, 42, t0 + 5));
        QVERIFY(w.waitForAck(ticket, 30000));
        QVERIFY(ticket.ack.isFinished());
        QVERIFY(
            w.write(AuditEvent::callProposed("r1", "c2", 2, "run_command", "execute", {}, t0 + 6)));
        QVERIFY(
            w.write(AuditEvent::callDenied("r1", "c2", "rule", "deny-rm", "dangerous", t0 + 7)));
        QVERIFY(w.write(AuditEvent::callProposed("r1", "c3", 3, "read_file", "read", {}, t0 + 8)));
        QVERIFY(w.write(AuditEvent::callApproved("r1", "c3", "auto", {}, "jti-3", {}, t0 + 9)));
        QVERIFY(w.write(AuditEvent::callFailed("r1", "c3", {}, "no such file", "", 1, t0 + 10)));
        QVERIFY(w.write(AuditEvent::callProposed("r1", "c4", 4, "read_file", "read", {}, t0 + 11)));
        QVERIFY(w.write(AuditEvent::callExpired("r1", "c4", "nobody answered", t0 + 12)));
        QVERIFY(
            w.write(AuditEvent::apiCall("r1", api("claude-x", 1, 100, 20, 1500, 200), t0 + 13)));
        QVERIFY(w.write(AuditEvent::apiCall(
            "r1", api("claude-x", 2, 5, 0, std::nullopt, 529, "overloaded_error"), t0 + 14)));
        QVERIFY(w.write(AuditEvent::alertRaised("a1", "budget", "warning", "80% of budget", "r1",
                                                {{"pct", 80}}, t0 + 15)));
        QVERIFY(w.write(AuditEvent::alertResolved("a1", "raised the budget", t0 + 16)));
        const QString q = QStringLiteral(
            "SELECT calls_proposed || ',' || calls_approved || ',' || calls_denied || ',' || "
            "calls_executed || ',' || calls_failed || ',' || input_tokens || ',' || "
            "coalesce(cost_micros, -1) || ',' || cost_complete || ',' || dry_run FROM runs");
        QCOMPARE(text(c, q), QStringLiteral("4,2,1,1,1,105,1500,0,1"));

        AuditEvent::RunTotals totals;
        totals.stopReason = QStringLiteral("end_turn");
        totals.proposed = 4;
        totals.steps = 4;
        totals.inputTokens = 105;
        totals.costMicros = 1500;
        totals.costComplete = false;
        const AuditAck last = w.write(AuditEvent::runFinished("r1", totals, t0 + 1000));
        QVERIFY(last);
        QCOMPARE(*last, 18);

        QCOMPARE(text(c, "SELECT stop_reason FROM runs"), QStringLiteral("end_turn"));
        QCOMPARE(scalar(c, "SELECT duration_ms FROM runs"), 1000);
        QCOMPARE(scalar(c, "SELECT started_day FROM runs"), t0 / 86400000);
        QCOMPARE(text(c, "SELECT plan_json FROM runs"), QStringLiteral("[\"step one\"]"));
        QCOMPARE(text(c, "SELECT status FROM tool_calls WHERE request_id = 'c1'"),
                 QStringLiteral("executed"));
        QCOMPARE(text(c, "SELECT args_proposed_json FROM tool_calls WHERE request_id = 'c1'"),
                 QStringLiteral("{\"content\":\"x\",\"path\":\"a\"}"));
        QCOMPARE(text(c, "SELECT args_edited_json FROM tool_calls WHERE request_id = 'c1'"),
                 QStringLiteral("{\"content\":\"x\",\"path\":\"b\"}"));
        QCOMPARE(text(c, "SELECT policy_rule || '|' || policy_rule_file || '|' || policy_decision "
                         "|| '|' || approver || '|' || token_jti FROM tool_calls WHERE request_id "
                         "= 'c1'"),
                 QStringLiteral("write_file(*)|policy.json|ask|alice|jti-1"));
        const QByteArray fullUtf8 = output.toUtf8();
        QCOMPARE(scalar(c, "SELECT output_size FROM tool_calls WHERE request_id = 'c1'"),
                 fullUtf8.size());
        QCOMPARE(text(c, "SELECT output_sha256 FROM tool_calls WHERE request_id = 'c1'"),
                 QString::fromLatin1(
                     QCryptographicHash::hash(fullUtf8, QCryptographicHash::Sha256).toHex()));
        // Cut at 16 bytes, backed up to a character boundary: "0123456789abcdé" is 16 bytes.
        QCOMPARE(text(c, "SELECT output FROM tool_calls WHERE request_id = 'c1'"),
                 QStringLiteral("0123456789abcdé"));
        QCOMPARE(scalar(c, "SELECT output_truncated FROM tool_calls WHERE request_id = 'c1'"), 1);
        QCOMPARE(text(c, "SELECT status FROM tool_calls WHERE request_id = 'c2'"),
                 QStringLiteral("denied"));
        QCOMPARE(text(c, "SELECT error FROM tool_calls WHERE request_id = 'c3'"),
                 QStringLiteral("no such file"));
        QCOMPARE(text(c, "SELECT status FROM tool_calls WHERE request_id = 'c4'"),
                 QStringLiteral("expired"));
        QCOMPARE(scalar(c, "SELECT count(*) FROM api_calls WHERE cost_micros IS NULL"), 1);
        QCOMPARE(text(c, "SELECT resolution_note FROM alerts"),
                 QStringLiteral("raised the budget"));
        QCOMPARE(scalar(c, "SELECT count(*) FROM audit_events"), 18);

        auto report = (*store)->verify();
        QVERIFY(report);
        QVERIFY2(report->intact, qPrintable(report->message));
        QCOMPARE(report->checkedEvents, 18);
        QCOMPARE(report->lastSeq, 18);
    }

    void refusedTransitionWritesNothing_data() { addBackends(); }
    void refusedTransitionWritesNothing() {
        QFETCH(QString, backend);
        auto store = AuditStore::open(location(backend));
        QVERIFY(store);
        auto writer = (*store)->startWriter();
        QVERIFY(writer);
        const QString c = (*store)->connectionName();
        QVERIFY((*writer)->write(AuditEvent::runStarted("r", {})));
        QVERIFY((*writer)->write(AuditEvent::callProposed("r", "c", 1, "t", "read", {})));
        // Executed without approval: refused, and the chain does not move.
        const AuditAck ack = (*writer)->write(AuditEvent::callExecuted("r", "c", {}, "x", 1));
        QVERIFY(!ack);
        QCOMPARE(ack.error().code, QStringLiteral("store.transition"));
        // An event for an unknown run.
        QVERIFY(!(*writer)->write(AuditEvent::callProposed("nope", "c", 1, "t", "read", {})));
        // The same proposal twice.
        QVERIFY(!(*writer)->write(AuditEvent::callProposed("r", "c", 1, "t", "read", {})));
        QCOMPARE(scalar(c, "SELECT last_seq FROM chain_head"), 2);
        QCOMPARE(scalar(c, "SELECT count(*) FROM audit_events"), 2);
        QCOMPARE(text(c, "SELECT status FROM tool_calls"), QStringLiteral("proposed"));
        // And the writer still works.
        QCOMPARE(*(*writer)->write(AuditEvent::callApproved("r", "c", "auto", {}, "j")), 3);
        QVERIFY((*store)->verify()->intact);
    }

    void verifyFindsTampering_data() {
        QTest::addColumn<QString>("backend");
        QTest::addColumn<QString>("tamper");
        QTest::addColumn<qint64>("brokenAt");
        QTest::addColumn<QString>("problem");
        for (const QString& backend : {QStringLiteral("sqlite"), QStringLiteral("postgres")}) {
            const auto row = [&](const char* name, const QString& sql, qint64 at,
                                 const char* problem) {
                QTest::addRow("SQL-15/%s/%s", qPrintable(backend), name)
                    << backend << sql << at << QString::fromLatin1(problem);
            };
            row("edit-payload",
                "UPDATE audit_events SET payload_json = replace(payload_json, 'hello', 'HELLO') "
                "WHERE seq = 4",
                4, "changed");
            row("edit-time", "UPDATE audit_events SET at = at + 1 WHERE seq = 3", 3, "changed");
            row("edit-kind", "UPDATE audit_events SET kind = 'call.denied' WHERE seq = 5", 5,
                "changed");
            row("delete-row", "DELETE FROM audit_events WHERE seq = 5", 5, "missing");
            row("delete-first", "DELETE FROM audit_events WHERE seq = 1", 1, "missing");
            row("delete-last", "DELETE FROM audit_events WHERE seq = 14", 14, "truncated");
            row("empty-table", "DELETE FROM audit_events", 1, "truncated");
            // Swap the contents of rows 4 and 5 (their positions stay).
            row("swap-rows",
                "UPDATE audit_events SET seq = CASE seq WHEN 4 THEN -5 WHEN 5 THEN -4 END WHERE "
                "seq IN (4, 5); UPDATE audit_events SET seq = -seq WHERE seq < 0",
                4, "changed");
            // A row inserted at the front, copied from a real one.
            row("insert-before",
                "INSERT INTO audit_events SELECT 0, at, kind, run_id, request_id, payload_json, "
                "prev_hash, hash FROM audit_events WHERE seq = 1",
                0, "inserted");
            // Rows shifted to make room for a forged one: renumbering breaks every hash.
            row("renumber",
                "UPDATE audit_events SET seq = seq + 100 WHERE seq >= 8; UPDATE audit_events SET "
                "seq = seq - 99 WHERE seq >= 108",
                8, "missing");
            row("edit-head", "UPDATE chain_head SET last_hash = 'ff' || substr(last_hash, 3)", 15,
                "changed");
        }
    }
    void verifyFindsTampering() {
        QFETCH(QString, backend);
        QFETCH(QString, tamper);
        QFETCH(qint64, brokenAt);
        QFETCH(QString, problem);
        auto store = AuditStore::open(location(backend));
        QVERIFY(store);
        {
            auto writer = (*store)->startWriter();
            QVERIFY(writer);
            QCOMPARE(writeRun(**writer, "r1", 1000), 7);
            QCOMPARE(writeRun(**writer, "r2", 2000), 14);
        }
        QVERIFY((*store)->verify()->intact);
        const QString c = (*store)->connectionName();
        for (const QString& sql : tamper.split(QStringLiteral("; ")))
            QVERIFY(execSql(c, sql));
        auto report = (*store)->verify();
        QVERIFY(report);
        QVERIFY(!report->intact);
        QCOMPARE(report->brokenAtSeq, brokenAt);
        QCOMPARE(report->problem, problem);
        QVERIFY(!report->message.isEmpty());
        QCOMPARE(report->toStatus().error().code, QStringLiteral("store.chain_broken"));
    }

    // The projection rows the views read (tool_calls, runs) are compared with the chain's events:
    // a row edited, removed or added outside the program fails verify, naming the row.
    void verifyComparesProjections_data() {
        QTest::addColumn<QString>("backend");
        QTest::addColumn<QString>("tamper");
        QTest::addColumn<QString>("table");
        QTest::addColumn<QString>("runId");
        QTest::addColumn<QString>("callId");
        QTest::addColumn<QString>("problem");
        QTest::addColumn<QString>("column");
        QTest::addColumn<qint64>("seq");
        for (const QString& backend : {QStringLiteral("sqlite"), QStringLiteral("postgres")}) {
            const auto row = [&](const char* name, const char* sql, const char* table,
                                 const char* run, const char* call, const char* problem,
                                 const char* column, qint64 seq) {
                QTest::addRow("%s/%s", qPrintable(backend), name)
                    << backend << QString::fromLatin1(sql) << QString::fromLatin1(table)
                    << QString::fromLatin1(run) << QString::fromLatin1(call)
                    << QString::fromLatin1(problem) << QString::fromLatin1(column) << seq;
            };
            row("status-denied-to-executed",
                "UPDATE tool_calls SET status = 'executed' WHERE run_id = 'p1' AND request_id = "
                "'c2'",
                "tool_calls", "p1", "c2", "changed", "status", 6);
            row("approver-rule-to-person",
                "UPDATE tool_calls SET approver_kind = 'person' WHERE run_id = 'p1' AND "
                "request_id = 'c1'",
                "tool_calls", "p1", "c1", "changed", "approver_kind", 2);
            row("token-jti",
                "UPDATE tool_calls SET token_jti = 'jti-other' WHERE run_id = 'p1' AND request_id "
                "= 'c3'",
                "tool_calls", "p1", "c3", "changed", "token_jti", 9);
            row("arguments-proposed",
                "UPDATE tool_calls SET args_proposed_json = '{\"argv\":[\"ls\"]}' WHERE run_id = "
                "'p1' AND request_id = 'c2'",
                "tool_calls", "p1", "c2", "changed", "args_proposed_json", 6);
            row("arguments-edited",
                "UPDATE tool_calls SET args_edited_json = args_proposed_json WHERE run_id = 'p1' "
                "AND request_id = 'c3'",
                "tool_calls", "p1", "c3", "changed", "args_edited_json", 9);
            row("arguments-executed",
                "UPDATE tool_calls SET args_executed_json = '{}' WHERE run_id = 'p1' AND "
                "request_id = 'c3'",
                "tool_calls", "p1", "c3", "changed", "args_executed_json", 9);
            row("policy-decision",
                "UPDATE tool_calls SET policy_decision = 'allow' WHERE run_id = 'p1' AND "
                "request_id = 'c2'",
                "tool_calls", "p1", "c2", "changed", "policy_decision", 6);
            row("output",
                "UPDATE tool_calls SET output = 'beta' WHERE run_id = 'p1' AND request_id = 'c1'",
                "tool_calls", "p1", "c1", "changed", "output", 2);
            row("delete-call", "DELETE FROM tool_calls WHERE run_id = 'p1' AND request_id = 'c2'",
                "tool_calls", "p1", "c2", "missing", "", 6);
            row("insert-call",
                "INSERT INTO tool_calls (run_id, request_id, step, tool_name, scope, status, "
                "args_proposed_json, proposed_at, proposed_day, updated_at) VALUES ('p1', 'c9', 4, "
                "'read_file', 'read', 'executed', '{}', 111, 0, 111)",
                "tool_calls", "p1", "c9", "unrecorded", "", -1);
            row("stop-reason", "UPDATE runs SET stop_reason = 'user_cancelled' WHERE run_id = 'p1'",
                "runs", "p1", "", "changed", "stop_reason", 13);
            row("call-count", "UPDATE runs SET calls_denied = 0 WHERE run_id = 'p1'", "runs", "p1",
                "", "changed", "calls_denied", 13);
            // The open run: no stop reason yet, and its call is approved, not executed.
            row("open-run-stop-reason",
                "UPDATE runs SET stop_reason = 'completed' WHERE run_id = 'p2'", "runs", "p2", "",
                "changed", "stop_reason", 14);
            row("open-run-status", "UPDATE tool_calls SET status = 'executed' WHERE run_id = 'p2'",
                "tool_calls", "p2", "c1", "changed", "status", 15);
            row("insert-run",
                "INSERT INTO runs (run_id, started_at, started_day) VALUES ('forged', 1, 0)",
                "runs", "forged", "", "unrecorded", "", -1);
        }
    }
    void verifyComparesProjections() {
        QFETCH(QString, backend);
        QFETCH(QString, tamper);
        QFETCH(QString, table);
        QFETCH(QString, runId);
        QFETCH(QString, callId);
        QFETCH(QString, problem);
        QFETCH(QString, column);
        QFETCH(qint64, seq);
        auto store = AuditStore::open(location(backend));
        QVERIFY(store);
        {
            auto writer = (*store)->startWriter();
            QVERIFY(writer);
            QVERIFY(writeDecidedRuns(**writer));
        }
        const auto before = (*store)->verify();
        QVERIFY(before);
        QVERIFY2(before->intact, qPrintable(before->message));
        QCOMPARE(before->checkedRuns, 2);
        QCOMPARE(before->checkedCalls, 4);

        QVERIFY(execSql((*store)->connectionName(), tamper));
        auto report = (*store)->verify();
        QVERIFY(report);
        QVERIFY(!report->intact);
        QCOMPARE(report->problem, QStringLiteral("projection"));
        QCOMPARE(report->checkedEvents, 16); // the chain itself is sound
        QCOMPARE(report->brokenAtSeq, seq);
        QCOMPARE(report->projectionFindings.size(), 1);
        const ProjectionFinding& found = report->projectionFindings.first();
        QCOMPARE(found.table, table);
        QCOMPARE(found.runId, runId);
        QCOMPARE(found.requestId, callId);
        QCOMPARE(found.problem, problem);
        QCOMPARE(found.column, column);
        QCOMPARE(found.seq, seq);
        QCOMPARE(report->message, found.message);
        QVERIFY2(report->message.contains(runId) && report->message.contains(callId) &&
                     report->message.contains(QLatin1String("outside M1 Agent Control")),
                 qPrintable(report->message));
        QCOMPARE(report->toStatus().error().code, QStringLiteral("store.chain_broken"));
    }

    void verifyNamesStoredAndRecordedValues_data() { addBackends(); }
    void verifyNamesStoredAndRecordedValues() {
        QFETCH(QString, backend);
        auto store = AuditStore::open(location(backend));
        QVERIFY(store);
        {
            auto writer = (*store)->startWriter();
            QVERIFY(writer);
            QVERIFY(writeDecidedRuns(**writer));
        }
        QVERIFY(execSql((*store)->connectionName(),
                        "UPDATE tool_calls SET status = 'executed' WHERE request_id = 'c2'"));
        auto report = (*store)->verify();
        QVERIFY(report);
        const ProjectionFinding& found = report->projectionFindings.value(0);
        QCOMPARE(found.stored, QStringLiteral("executed"));
        QCOMPARE(found.expected, QStringLiteral("denied"));
        QCOMPARE(report->message,
                 QStringLiteral("tool_calls row c2 of run p1 says status 'executed', but its "
                                "events (from event 6) say 'denied': the table was changed "
                                "outside M1 Agent Control."));
    }

    // Twenty findings are listed, the rest counted.
    void verifyCapsTheFindings_data() { addBackends(); }
    void verifyCapsTheFindings() {
        QFETCH(QString, backend);
        auto store = AuditStore::open(location(backend));
        QVERIFY(store);
        {
            auto writer = (*store)->startWriter();
            QVERIFY(writer);
            QList<AuditEvent> events{AuditEvent::runStarted("big", goal("many"), 1)};
            for (int i = 0; i < 30; ++i) {
                const QString id = QStringLiteral("c%1").arg(i);
                events << AuditEvent::callProposed("big", id, 1, "read_file", "read", {}, 2)
                       << AuditEvent::callDenied("big", id, "rule", "r", "no", 3);
            }
            QVERIFY((*writer)->waitForAck((*writer)->submit(events), 30000));
        }
        QVERIFY((*store)->verify()->intact);
        QVERIFY(execSql((*store)->connectionName(), "UPDATE tool_calls SET status = 'executed'"));
        auto report = (*store)->verify();
        QVERIFY(report);
        QVERIFY(!report->intact);
        QCOMPARE(report->projectionFindings.size(), AuditProjectionCheck::kMaxListedFindings);
        QCOMPARE(report->moreProjectionFindings, 30 - AuditProjectionCheck::kMaxListedFindings);
        QVERIFY2(report->message.contains(QLatin1String("30")), qPrintable(report->message));
    }

    // Events of a run after its run.finished (the writer allows them): the run is compared from
    // all its events, once.
    void verifyComparesLateEvents_data() { addBackends(); }
    void verifyComparesLateEvents() {
        QFETCH(QString, backend);
        auto store = AuditStore::open(location(backend));
        QVERIFY(store);
        {
            auto writer = (*store)->startWriter();
            QVERIFY(writer);
            QCOMPARE(writeRun(**writer, "r1", 1000), 7);
            // Another run's events fill verify's first page (2 000 events), so r1 is compared
            // before its late events are read.
            QList<AuditEvent> filler{AuditEvent::runStarted("filler", goal("fill"), 1001)};
            for (int i = 0; i < 2000; ++i)
                filler << AuditEvent::apiCall("filler", api("m", 1, 1, 1, 1, 200), 1002);
            QCOMPARE(*(*writer)->waitForAck((*writer)->submit(filler), 60000), 2008);
            QVERIFY((*writer)->write(
                AuditEvent::callProposed("r1", "late", 3, "read_file", "read", {}, 1010)));
            QVERIFY((*writer)->write(
                AuditEvent::callApproved("r1", "late", "auto", {}, "jti-late", {}, 1011)));
        }
        auto report = (*store)->verify();
        QVERIFY(report);
        QVERIFY2(report->intact, qPrintable(report->message));
        QCOMPARE(report->checkedRuns, 2);
        QCOMPARE(report->checkedCalls, 3);
        QVERIFY(execSql((*store)->connectionName(),
                        "UPDATE tool_calls SET token_jti = NULL WHERE request_id = 'late'"));
        report = (*store)->verify();
        QVERIFY(report);
        QVERIFY(!report->intact);
        QCOMPARE(report->projectionFindings.size(), 1);
        QCOMPARE(report->projectionFindings.first().column, QStringLiteral("token_jti"));
        QCOMPARE(report->projectionFindings.first().seq, 2009);
    }

    // A seeded store (m1ctl dev seed): call rows without events, runs marked in the chain. It
    // verifies; its runs rows are still compared with their run.finished events.
    void seededStoreVerifies_data() { addBackends(); }
    void seededStoreVerifies() {
        QFETCH(QString, backend);
        auto store = AuditStore::open(location(backend));
        QVERIFY(store);
        AuditSeeder::Options options;
        options.runs = 40;
        options.callsPerRun = 4;
        options.nowMs = 1'700'000'000'000;
        QVERIFY(AuditSeeder::seed(**store, options));
        auto report = (*store)->verify();
        QVERIFY(report);
        QVERIFY2(report->intact, qPrintable(report->message));
        QCOMPARE(report->checkedRuns, 40);
        QCOMPARE(report->seededRuns, 40);
        QCOMPARE(report->checkedCalls, 0);
        QVERIFY(execSql((*store)->connectionName(),
                        "UPDATE runs SET stop_reason = 'forged' WHERE run_id = 'seed1-00000003'"));
        report = (*store)->verify();
        QVERIFY(report);
        QVERIFY(!report->intact);
        QCOMPARE(report->projectionFindings.value(0).runId, QStringLiteral("seed1-00000003"));
        QCOMPARE(report->projectionFindings.value(0).column, QStringLiteral("stop_reason"));
    }

    void pruneKeepsChainVerifiable_data() { addBackends(); }
    void pruneKeepsChainVerifiable() {
        QFETCH(QString, backend);
        auto store = AuditStore::open(location(backend));
        QVERIFY(store);
        const qint64 day = 86400000;
        const qint64 now = 100 * day;
        {
            auto writer = (*store)->startWriter();
            QVERIFY(writer);
            QCOMPARE(writeRun(**writer, "old1", now - 40 * day), 7);
            QVERIFY((*writer)->write(
                AuditEvent::apiCall("old1", api("m", 1, 1, 1, 5, 200), now - 40 * day)));
            QCOMPARE(writeRun(**writer, "old2", now - 35 * day), 15);
            QCOMPARE(writeRun(**writer, "new", now - 2 * day), 22);
        }
        const QString c = (*store)->connectionName();
        auto dry = (*store)->prune(30, true, now);
        QVERIFY2(dry, qPrintable(dry ? QString() : dry.error().message));
        QCOMPARE(dry->runs, 2);
        QCOMPARE(dry->toolCalls, 4);
        QCOMPARE(dry->apiCalls, 1);
        QCOMPARE(dry->events, 15);
        QCOMPARE(dry->oldestStart, now - 40 * day);
        QCOMPARE(dry->newestStart, now - 35 * day);
        QCOMPARE(scalar(c, "SELECT count(*) FROM runs"), 3);
        QCOMPARE(scalar(c, "SELECT count(*) FROM audit_events"), 22);

        auto done = (*store)->prune(30, false, now);
        QVERIFY(done);
        QCOMPARE(done->runs, 2);
        QCOMPARE(done->events, 15);
        QCOMPARE(scalar(c, "SELECT count(*) FROM runs"), 1);
        QCOMPARE(scalar(c, "SELECT count(*) FROM tool_calls"), 2);
        QCOMPARE(scalar(c, "SELECT count(*) FROM api_calls"), 0);
        QCOMPARE(scalar(c, "SELECT first_seq FROM chain_anchor"), 16);
        // 7 kept + the chain.pruned event.
        QCOMPARE(scalar(c, "SELECT count(*) FROM audit_events"), 8);
        QCOMPARE(text(c, "SELECT kind FROM audit_events WHERE seq = 23"),
                 QStringLiteral("chain.pruned"));
        auto report = (*store)->verify();
        QVERIFY(report);
        QVERIFY2(report->intact, qPrintable(report->message));
        QCOMPARE(report->firstSeq, 16);

        // Removing the first kept row after a prune is still found.
        QVERIFY(execSql(c, "DELETE FROM audit_events WHERE seq = 16"));
        QCOMPARE((*store)->verify()->brokenAtSeq, 16);
    }

    void ledger_data() { addBackends(); }
    void ledger() {
        QFETCH(QString, backend);
        const QString where = location(backend);
        auto store = AuditStore::open(where);
        QVERIFY(store);
        AuditStore& s = **store;
        QCOMPARE(*s.jtiState("a"), AuditStore::JtiState::Unknown);
        QVERIFY(s.consumeJti("a", 5000));
        QCOMPARE(*s.jtiState("a"), AuditStore::JtiState::Consumed);
        QCOMPARE(s.consumeJti("a", 5000).error().code, QStringLiteral("token.consumed"));
        QVERIFY(s.revokeJti("a", 5000));
        QCOMPARE(*s.jtiState("a"), AuditStore::JtiState::Consumed);
        QVERIFY(s.revokeJti("b", 5000));
        QVERIFY(s.revokeJti("b", 5000));
        QCOMPARE(s.consumeJti("b", 5000).error().code, QStringLiteral("token.revoked"));
        QCOMPARE(*s.purgeExpiredJtis(6000), 2);

        // SQL-16: two connections (threads) consume the same jti at once: exactly one wins.
        constexpr int kRounds = 20;
        QAtomicInteger<int> wins[kRounds];
        QAtomicInteger<int> errors;
        QAtomicInteger<int> ready;
        auto consumer = [&] {
            auto own = AuditStore::open(where);
            if (!own) {
                errors.fetchAndAddRelaxed(1);
                return;
            }
            ready.fetchAndAddRelaxed(1);
            while (ready.loadRelaxed() < 2)
                QThread::yieldCurrentThread();
            for (int i = 0; i < kRounds; ++i) {
                const Status st = (*own)->consumeJti(QStringLiteral("race-%1").arg(i), 1);
                if (st)
                    wins[i].fetchAndAddRelaxed(1);
                else if (st.error().code != QLatin1String("token.consumed"))
                    errors.fetchAndAddRelaxed(1);
            }
        };
        std::unique_ptr<QThread> a(QThread::create(consumer));
        std::unique_ptr<QThread> b(QThread::create(consumer));
        a->start();
        b->start();
        QVERIFY(a->wait(60000));
        QVERIFY(b->wait(60000));
        QCOMPARE(errors.loadRelaxed(), 0);
        for (int i = 0; i < kRounds; ++i)
            QCOMPARE(wins[i].loadRelaxed(), 1);
    }

    void textFilterAppliesToEveryText_data() { addBackends(); }
    void textFilterAppliesToEveryText() {
        QFETCH(QString, backend);
        StoreConfig options;
        options.textFilter = [](const QString& in) {
            QString out = in;
            return out.replace(QStringLiteral("sk-secret"), QStringLiteral("[REDACTED]"));
        };
        auto store = AuditStore::open(location(backend), options);
        QVERIFY(store);
        auto writer = (*store)->startWriter();
        QVERIFY(writer);
        AuditWriter& w = **writer;
        QVERIFY(w.write(AuditEvent::runStarted("r", goal("use sk-secret"))));
        QVERIFY(w.write(AuditEvent::callProposed(
            "r", "c", 1, "t", "read", {{"k", "sk-secret"}, {"n", QJsonArray{"sk-secret"}}})));
        QVERIFY(w.write(AuditEvent::callApproved("r", "c", "auto", {}, "j")));
        QVERIFY(w.write(AuditEvent::callFailed("r", "c", {}, "bad sk-secret", "out sk-secret", 1)));
        const QString c = (*store)->connectionName();
        QCOMPARE(scalar(c, "SELECT count(*) FROM audit_events WHERE payload_json LIKE "
                           "'%sk-secret%'"),
                 0);
        QCOMPARE(scalar(c, "SELECT count(*) FROM tool_calls WHERE args_proposed_json LIKE "
                           "'%sk-secret%' OR error LIKE '%sk-secret%' OR output LIKE "
                           "'%sk-secret%'"),
                 0);
        QCOMPARE(text(c, "SELECT goal FROM runs"), QStringLiteral("use [REDACTED]"));
    }

    void cleanupTestCase() { m_pg.reset(); }
};

QTEST_GUILESS_MAIN(TstStoreWriter)
#include "tst_store_writer.moc"
