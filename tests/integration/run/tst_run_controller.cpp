// The run loop against the fake Claude server: end-to-end workflows, several tool_use blocks
// answered in one message, approvals, policy, dry run, error recovery (NET-12, NET-19), every
// stop reason, audit rows and durability (I2, SQL-04).
#include "llm/ClaudeProvider.h"
#include "run/RunController.h"
#include "tools/Tool.h"

#include "FakeClaudeServer.h"
#include "RunHarness.h"
#include "ScriptedApprovalGate.h"
#include "SseScript.h"
#include "TestSupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTest>
#include <QUuid>

#include <unistd.h>

using namespace m1;
using m1::test::FakeClaudeServer;
using m1::test::RunHarness;
using m1::test::ScriptedApprovalGate;
using m1::test::SseScript;

namespace {

using Use = SseScript::ToolUse;

QJsonObject requestBody(const FakeClaudeServer& server, int i) {
    return QJsonDocument::fromJson(server.requests().at(i).body).object();
}

QJsonArray lastUserContent(const FakeClaudeServer& server, int i) {
    const QJsonArray messages = requestBody(server, i).value(QLatin1String("messages")).toArray();
    return messages.last().toObject().value(QLatin1String("content")).toArray();
}

// A tool that looks into the audit store from inside, while it runs (I2).
class ProbeTool : public Tool {
public:
    explicit ProbeTool(QString dbPath) : m_db(std::move(dbPath)) {}
    ToolSpec spec() const override {
        return ToolSpec{QStringLiteral("probe_db"), QStringLiteral("Reads its own audit row."),
                        Scope::Read,
                        QJsonObject{{QStringLiteral("type"), QStringLiteral("object")}}, true};
    }
    Result<ToolResult> execute(const QJsonObject&, const Workspace&) const override {
        const QString name = QUuid::createUuid().toString();
        QString status;
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
            db.setDatabaseName(m_db);
            db.open();
            QSqlQuery q(db);
            q.exec(
                QStringLiteral("SELECT status FROM tool_calls WHERE request_id = 'toolu_probe'"));
            if (q.next())
                status = q.value(0).toString();
        }
        QSqlDatabase::removeDatabase(name);
        return ToolResult{false, QStringLiteral("status=%1").arg(status), {}};
    }

private:
    QString m_db;
};

} // namespace

class TestRunController : public QObject {
    Q_OBJECT

    std::unique_ptr<RunHarness> h;
    std::unique_ptr<FakeClaudeServer> server;
    std::unique_ptr<ClaudeProvider> provider;
    ScriptedApprovalGate* gate = nullptr;

    void setUpAll() {
        h = std::make_unique<RunHarness>();
        QString error;
        QVERIFY2(h->init(&error), qPrintable(error));
        server = std::make_unique<FakeClaudeServer>();
        QVERIFY(server->listen());
        ClaudeProvider::Options o;
        o.baseUrl = server->url();
        o.waitScale = 0.001;
        o.transferTimeoutMs = 5000;
        provider = std::make_unique<ClaudeProvider>(server->apiKey, o);
        delete gate;
        gate = new ScriptedApprovalGate;
        test::writeFile(h->workspaceDir + QStringLiteral("/README.md"), "# demo\nhello\n");
        test::writeFile(h->workspaceDir + QStringLiteral("/a.txt"), "alpha\n");
    }

    std::unique_ptr<RunController> makeRun(RunConfig config, bool withGate = true) {
        return std::make_unique<RunController>(
            h->services(provider.get(), withGate ? gate : nullptr), std::move(config));
    }

    QStringList alertCategories() {
        h->alerts->flush();
        return h->column(QStringLiteral("SELECT DISTINCT category FROM alerts ORDER BY category"));
    }

    quint64 counter(const QString& name, const QStringList& labels = {}) {
        return h->metrics.family(name).counter(labels).value();
    }

    // Like makeRun, but a person can answer: a full or read-only store pauses the run.
    std::unique_ptr<RunController> makePausingRun(RunConfig config) {
        RunController::Services services = h->services(provider.get(), gate);
        services.pauseOnAuditFailure = true;
        return std::make_unique<RunController>(services, std::move(config));
    }

    // The consumed (or revoked) token ids in the run's token ledger.
    QStringList ledgerJtis() {
        const QString name = QUuid::createUuid().toString();
        QStringList jtis;
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
            db.setDatabaseName(h->ledgerPath);
            if (db.open()) {
                QSqlQuery q(db);
                if (q.exec(QStringLiteral("SELECT jti FROM token_ledger ORDER BY jti")))
                    while (q.next())
                        jtis.append(q.value(0).toString());
            }
        }
        QSqlDatabase::removeDatabase(name);
        return jtis;
    }

    // SQL-04 set-up: the model proposes a small write that needs a person; the person approves
    // it with edited, much larger content at the moment the store stops growing (max_page_count
    // down to the pages in use), so the "approved" commit needs pages it cannot get. Call it
    // before makePausingRun (it rebuilds the policy), then startUntilPaused.
    void pauseAtApproval(const QString& callId, const QString& path, const QString& editedContent) {
        QVERIFY(h->setRules("{\"allow\":[],\"ask\":[\"write_file(*)\"],\"deny\":[]}"));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::toolTurn(
            {{callId, "write_file", QJsonObject{{"path", path}, {"content", "draft\n"}}}})));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("Written.")));
        gate->fallback = [this, editedContent](const PendingApproval& pending) {
            // Asked in the gate's callback: "proposed" and "policy checked" are committed.
            const auto limit = h->writer->setSqliteMaxPageCount(1);
            if (!limit)
                qWarning() << limit.error().message;
            ApprovalDecision decision = ScriptedApprovalGate::approve();
            QJsonObject edited = pending.call.arguments;
            edited.insert(QStringLiteral("content"), editedContent);
            decision.editedArguments = edited;
            return decision;
        };
    }

    void startUntilPaused(RunController& run) {
        run.start();
        QTRY_VERIFY_WITH_TIMEOUT(run.isPausedOnAudit() || run.isFinished(), 20000);
        QVERIFY2(run.isPausedOnAudit(), qPrintable(run.report().stopReason));
    }

    QStringList statuses(const QString& runId) {
        return h->column(QStringLiteral("SELECT status FROM tool_calls WHERE run_id = '%1' ORDER "
                                        "BY id")
                             .arg(runId));
    }

private slots:
    void init() { setUpAll(); }
    void cleanup() {
        provider.reset();
        server.reset();
        h.reset();
        delete gate;
        gate = nullptr;
    }

    void endToEndMultiTurn() {
        server->enqueue(FakeClaudeServer::Reply::stream(
            SseScript::toolTurn({{"toolu_e1", "read_file", QJsonObject{{"path", "README.md"}}}})));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::toolTurn(
            {{"toolu_e2", "read_file", QJsonObject{{"path", "a.txt"}}},
             {"toolu_e3", "list_directory", QJsonObject{{"path", "."}}},
             {"toolu_e4", "update_plan",
              QJsonObject{
                  {"steps", QJsonArray{QJsonObject{{"title", "Read"}, {"status", "done"}}}}}}})));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("All read.")));
        auto run = makeRun(h->config("Read the project"));
        QSignalSpy plans(run.get(), &RunController::planUpdated);
        QVERIFY(h->runToEnd(*run));
        const RunReport& r = run->report();
        QCOMPARE(r.stopReason, QStringLiteral("completed"));
        QCOMPARE(r.proposed, 4);
        QCOMPARE(r.executed, 4);
        QCOMPARE(r.steps, 3);
        QCOMPARE(server->requests().size(), 3);
        QCOMPARE(plans.size(), 1);
        QCOMPARE(r.plan.size(), 1);

        // The assistant turn goes back exactly as received.
        const QJsonArray second = requestBody(*server, 1).value("messages").toArray();
        QCOMPARE(second.size(), 3);
        QCOMPARE(second.at(1).toObject().value("role").toString(), QStringLiteral("assistant"));
        QCOMPARE(second.at(1).toObject().value("content").toArray().at(1).toObject().value("id"),
                 QJsonValue("toolu_e1"));

        // Three tool_use blocks: one user message, three results, in order, results only.
        const QJsonArray results = lastUserContent(*server, 2);
        QCOMPARE(results.size(), 3);
        QCOMPARE(results.at(0).toObject().value("tool_use_id").toString(),
                 QStringLiteral("toolu_e2"));
        QCOMPARE(results.at(1).toObject().value("tool_use_id").toString(),
                 QStringLiteral("toolu_e3"));
        QCOMPARE(results.at(2).toObject().value("tool_use_id").toString(),
                 QStringLiteral("toolu_e4"));
        for (const QJsonValue& v : results) {
            QCOMPARE(v.toObject().value("type").toString(), QStringLiteral("tool_result"));
            QVERIFY(!v.toObject().value("is_error").toBool());
        }
        QVERIFY(results.at(0).toObject().value("content").toString().contains("alpha"));

        QCOMPARE(statuses(r.runId), QStringList({"executed", "executed", "executed", "executed"}));
        QCOMPARE(
            h->column(
                QStringLiteral("SELECT stop_reason FROM runs WHERE run_id = '%1'").arg(r.runId)),
            QStringList{"completed"});
        QCOMPARE(
            h->scalar(
                QStringLiteral("SELECT count(*) FROM api_calls WHERE run_id = '%1'").arg(r.runId)),
            3);
        QVERIFY(!h->column(
                      QStringLiteral("SELECT plan_json FROM runs WHERE run_id = '%1'").arg(r.runId))
                     .value(0)
                     .isEmpty());
        QCOMPARE(h->scalar(QStringLiteral("SELECT count(*) FROM tool_calls WHERE run_id = '%1' "
                                          "AND approver_kind = 'rule' AND token_jti <> ''")
                               .arg(r.runId)),
                 4);
        QCOMPARE(h->store->verify()->intact, true);
    }

    void approvalFlow() {
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::toolTurn(
            {{"toolu_w1", "write_file", QJsonObject{{"path", "new.txt"}, {"content", "hi\n"}}},
             {"toolu_c1", "run_command",
              QJsonObject{{"argv", QJsonArray{"touch", "marker-denied"}}}},
             {"toolu_c2", "run_command",
              QJsonObject{{"argv", QJsonArray{"touch", "marker-denied-2"}}}}})));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("OK.")));
        gate->script = {ScriptedApprovalGate::approve(),
                        ScriptedApprovalGate::deny(QStringLiteral("use the Makefile instead")),
                        ScriptedApprovalGate::deny()};
        auto run = makeRun(h->config("Write and run"));
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().stopReason, QStringLiteral("completed"));
        QCOMPARE(gate->asked.size(), 3);
        QCOMPARE(gate->asked.at(0).scope, Scope::Write);
        QVERIFY(QFile::exists(h->workspaceDir + "/new.txt"));
        QVERIFY(!QFile::exists(h->workspaceDir + "/marker-denied"));
        QVERIFY(!QFile::exists(h->workspaceDir + "/marker-denied-2"));
        const QJsonArray results = lastUserContent(*server, 1);
        QCOMPARE(results.size(), 3);
        QVERIFY(!results.at(0).toObject().value("is_error").toBool());
        QVERIFY(results.at(1).toObject().value("is_error").toBool());
        QVERIFY(results.at(1).toObject().value("content").toString().contains(
            "use the Makefile instead"));
        QVERIFY(results.at(2).toObject().value("is_error").toBool());
        QVERIFY(!results.at(2).toObject().value("content").toString().contains("Makefile"));
        QCOMPARE(statuses(run->runId()), QStringList({"executed", "denied", "denied"}));
        QCOMPARE(h->column(QStringLiteral("SELECT approver_kind FROM tool_calls WHERE "
                                          "request_id = 'toolu_w1'")),
                 QStringList{"person"});
    }

    // The policy meets the call again just before it runs: a symlink re-pointed at a denied file
    // after the person approved must not be read.
    void policyGuardAtExecution() {
        h->policyConfig.readNeedsApproval = true;
        QVERIFY(h->setRules("{\"allow\":[],\"ask\":[],\"deny\":[\"read_file(.env)\"]}"));
        test::writeFile(h->workspaceDir + QStringLiteral("/.env"), "GUARDED_SECRET=1\n");
        const QByteArray link = (h->workspaceDir + QStringLiteral("/link.md")).toLocal8Bit();
        QVERIFY(::symlink("a.txt", link.constData()) == 0);
        server->enqueue(FakeClaudeServer::Reply::stream(
            SseScript::toolTurn({{"toolu_g1", "read_file", QJsonObject{{"path", "link.md"}}}})));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("OK.")));
        gate->fallback = [link](const PendingApproval&) {
            ::unlink(link.constData());
            if (::symlink(".env", link.constData()) != 0)
                qWarning("symlink failed");
            return ScriptedApprovalGate::approve();
        };
        auto run = makeRun(h->config("Read the link"));
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(gate->asked.size(), 1);
        QCOMPARE(run->report().executed, 0);
        QCOMPARE(statuses(run->runId()), QStringList{"failed"});
        const QJsonObject result = lastUserContent(*server, 1).at(0).toObject();
        QVERIFY(result.value("is_error").toBool());
        QVERIFY(result.value("content").toString().contains("policy.denied"));
        QVERIFY(!result.value("content").toString().contains("GUARDED_SECRET"));
    }

    void policyDenyRule() {
        QVERIFY(h->setRules("{\"allow\":[],\"ask\":[],\"deny\":[\"run_command(touch *)\"]}"));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::toolTurn(
            {{"toolu_d1", "run_command", QJsonObject{{"argv", QJsonArray{"touch", "m"}}}}})));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("OK.")));
        auto run = makeRun(h->config("Touch"));
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().denied, 1);
        QCOMPARE(gate->asked.size(), 0);
        QVERIFY(!QFile::exists(h->workspaceDir + "/m"));
        const QJsonObject result = lastUserContent(*server, 1).at(0).toObject();
        QVERIFY(result.value("is_error").toBool());
        QVERIFY(result.value("content").toString().contains("policy"));
        QCOMPARE(statuses(run->runId()), QStringList{"denied"});
        QCOMPARE(h->column("SELECT policy_decision FROM tool_calls WHERE request_id='toolu_d1'"),
                 QStringList{"deny"});
    }

    void dryRun() {
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::toolTurn(
            {{"toolu_y1", "write_file", QJsonObject{{"path", "dry.txt"}, {"content", "x"}}}})));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("OK.")));
        gate->script = {ScriptedApprovalGate::approve()};
        RunConfig c = h->config("Dry");
        c.dryRun = true;
        auto run = makeRun(c);
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().stopReason, QStringLiteral("completed"));
        QVERIFY(!QFile::exists(h->workspaceDir + "/dry.txt"));
        QCOMPARE(run->report().dryRunSkipped, 1);
        QVERIFY(lastUserContent(*server, 1)
                    .at(0)
                    .toObject()
                    .value("content")
                    .toString()
                    .contains("dry run"));
        QCOMPARE(statuses(run->runId()), QStringList{"cancelled"});
        QCOMPARE(
            h->scalar(
                QStringLiteral("SELECT dry_run FROM runs WHERE run_id='%1'").arg(run->runId())),
            1);
    }

    void retryAfter429ThenSuccess() {
        server->enqueue(FakeClaudeServer::Reply::error(429, "rate_limit_error", "slow down")
                            .header("retry-after", "1"));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("Done.")));
        auto run = makeRun(h->config("Hi"));
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().stopReason, QStringLiteral("completed"));
        QCOMPARE(run->report().apiCalls, 2);
        QCOMPARE(h->scalar(QStringLiteral("SELECT count(*) FROM api_calls WHERE run_id='%1'")
                               .arg(run->runId())),
                 2);
    }

    void overloaded529GivesApiError() {
        server->enqueue(FakeClaudeServer::Reply::error(529, "overloaded_error", "Overloaded"));
        server->setRepeatLast(true);
        auto run = makeRun(h->config("Hi"));
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().stopReason, QStringLiteral("api_error"));
        QCOMPARE(run->report().errorCode, QStringLiteral("api.overloaded"));
        QCOMPARE(run->report().apiCalls, 3);
    }

    void errorEventMidStreamThenSuccess() {
        SseScript broken;
        broken.messageStart().textBlock(0, {"partial"}).error("overloaded_error", "Overloaded");
        server->enqueue(FakeClaudeServer::Reply::stream(broken.bytes()));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("Recovered.")));
        auto run = makeRun(h->config("Hi"));
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().stopReason, QStringLiteral("completed"));
        QCOMPARE(run->report().finalText, QStringLiteral("Recovered."));
    }

    void cutStreamYieldsNoProposal() {
        // NET-12: a tool_use start and two input fragments, then the connection closes.
        SseScript cut;
        cut.messageStart();
        cut.event("content_block_start",
                  QByteArray("{\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
                             "{\"type\":\"tool_use\",\"id\":\"toolu_cut\",\"name\":"
                             "\"run_command\",\"input\":{}}}"));
        cut.event("content_block_delta",
                  QByteArray("{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
                             "\"input_json_delta\",\"partial_json\":\"\"}}"));
        cut.event("content_block_delta",
                  QByteArray("{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
                             "\"input_json_delta\",\"partial_json\":\"{\\\"argv\\\": [\\\"to\"}}"));
        FakeClaudeServer::Reply reply = FakeClaudeServer::Reply::stream(cut.bytes());
        reply.cutAfter = cut.bytes().size();
        server->enqueue(reply);
        server->setRepeatLast(true);
        gate->fallback = [](const PendingApproval&) { return ScriptedApprovalGate::approve(); };
        auto run = makeRun(h->config("Hi"));
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().stopReason, QStringLiteral("api_error"));
        QCOMPARE(run->report().proposed, 0);
        QCOMPARE(gate->asked.size(), 0);
        QCOMPARE(h->scalar(QStringLiteral("SELECT count(*) FROM tool_calls WHERE run_id='%1'")
                               .arg(run->runId())),
                 0);
        QVERIFY(h->scalar(QStringLiteral("SELECT count(*) FROM api_calls WHERE run_id='%1' AND "
                                         "error_type IS NOT NULL AND error_type <> ''")
                              .arg(run->runId())) >= 1);
    }

    void maxSteps() {
        for (int i = 1; i <= 3; ++i)
            server->enqueue(FakeClaudeServer::Reply::stream(
                SseScript::toolTurn({{QStringLiteral("toolu_s%1").arg(i), "read_file",
                                      QJsonObject{{"path", "a.txt"}}}})));
        RunConfig c = h->config("Loop");
        c.limits.maxSteps = 2;
        auto run = makeRun(c);
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().stopReason, QStringLiteral("max_steps"));
        QCOMPARE(server->requests().size(), 2);
    }

    void maxToolCalls() {
        server->enqueue(FakeClaudeServer::Reply::stream(
            SseScript::toolTurn({{"toolu_t1", "read_file", QJsonObject{{"path", "a.txt"}}},
                                 {"toolu_t2", "read_file", QJsonObject{{"path", "a.txt"}}},
                                 {"toolu_t3", "read_file", QJsonObject{{"path", "a.txt"}}}})));
        RunConfig c = h->config("Many");
        c.limits.maxToolCalls = 2;
        auto run = makeRun(c);
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().stopReason, QStringLiteral("max_tool_calls"));
        QCOMPARE(statuses(run->runId()), QStringList({"executed", "executed", "denied"}));
        QCOMPARE(server->requests().size(), 1);
    }

    void maxRuntimeWhileWaitingForApproval() {
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::toolTurn(
            {{"toolu_r1", "run_command", QJsonObject{{"argv", QJsonArray{"touch", "late"}}}}})));
        gate->silent = true;
        RunConfig c = h->config("Slow");
        c.limits.maxRuntimeSeconds = 1;
        auto run = makeRun(c);
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().stopReason, QStringLiteral("max_runtime"));
        QCOMPARE(statuses(run->runId()), QStringList{"cancelled"});
        QCOMPARE(gate->cancelled, QStringList{"toolu_r1"});
        QVERIFY(!QFile::exists(h->workspaceDir + "/late"));
    }

    void approvalExpires() {
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::toolTurn(
            {{"toolu_x1", "run_command", QJsonObject{{"argv", QJsonArray{"touch", "never"}}}}})));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("OK.")));
        gate->silent = true;
        RunConfig c = h->config("Expire");
        c.approvalTimeoutMs = 200;
        auto run = makeRun(c);
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().expired, 1);
        QCOMPARE(statuses(run->runId()), QStringList{"expired"});
        QVERIFY(lastUserContent(*server, 1)
                    .at(0)
                    .toObject()
                    .value("content")
                    .toString()
                    .contains("expired"));
        QCOMPARE(alertCategories(), QStringList{"token_expired"});
        QCOMPARE(counter("m1_tool_executions_total", {"run_command", "execute", "expired"}), 1u);
    }

    // Every step of a run reaches the metrics and the alerts given to the controller.
    void telemetryAndAlerts() {
        QVERIFY(h->setRules("{\"allow\":[],\"ask\":[],\"deny\":[\"run_command(touch *)\"]}"));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::toolTurn(
            {{"toolu_t1", "read_file", QJsonObject{{"path", "a.txt"}}},
             {"toolu_t2", "run_command", QJsonObject{{"argv", QJsonArray{"touch", "m"}}}},
             {"toolu_t3", "write_file", QJsonObject{{"path", "w.txt"}, {"content", "w"}}},
             {"toolu_t4", "read_file", QJsonObject{{"path", "missing.txt"}}}})));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("Done.")));
        gate->script = {ScriptedApprovalGate::deny()};
        auto run = makeRun(h->config("Measure"));
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().stopReason, QStringLiteral("completed"));

        QCOMPARE(counter("m1_runs_started_total"), 1u);
        QCOMPARE(counter("m1_runs_finished_total", {"completed"}), 1u);
        QCOMPARE(h->telemetry.activeRuns(), 0);
        QCOMPARE(counter("m1_policy_decisions_total", {"allow"}), 2u);
        QCOMPARE(counter("m1_policy_decisions_total", {"deny"}), 1u);
        QCOMPARE(counter("m1_policy_decisions_total", {"ask"}), 1u);
        QCOMPARE(counter("m1_tool_executions_total", {"read_file", "read", "executed"}), 1u);
        QCOMPARE(counter("m1_tool_executions_total", {"read_file", "read", "failed"}), 1u);
        QCOMPARE(counter("m1_tool_executions_total", {"run_command", "execute", "denied"}), 1u);
        QCOMPARE(counter("m1_tool_executions_total", {"write_file", "write", "denied"}), 1u);
        QCOMPARE(counter("m1_approval_requests_total", {"person"}), 1u);
        QCOMPARE(counter("m1_approval_denials_total", {"person"}), 1u);
        QCOMPARE(counter("m1_approval_grants_total", {"rule"}), 2u);
        QCOMPARE(counter("m1_api_calls_total", {"claude-sonnet-4-6", "ok"}), 2u);
        QVERIFY(counter("m1_tokens_total", {"claude-sonnet-4-6", "input"}) > 0);
        QVERIFY(counter("m1_cost_microdollars_total", {"claude-sonnet-4-6"}) > 0);
        QVERIFY(h->telemetry.toolLatency().count() >= 2);

        QCOMPARE(alertCategories(),
                 QStringList({"approval_denied", "execution_error", "policy_violation"}));
        // The stored cost is the cost tracker's exact figure, also used for the budget.
        const auto stored =
            h->scalar(QStringLiteral("SELECT sum(cost_micros) FROM api_calls WHERE run_id = '%1'")
                          .arg(run->runId()));
        QCOMPARE(stored, run->report().costMicros.value_or(-1));
        QCOMPARE(quint64(stored), counter("m1_cost_microdollars_total", {"claude-sonnet-4-6"}));
    }

    // A model without a price: its cost is unknown (never 0), and an alert says so.
    void unknownModelCostIsUnknown() {
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("Hi.")));
        h->tracker.setTable(PricingTable());
        auto run = makeRun(h->config("Unpriced"));
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().stopReason, QStringLiteral("completed"));
        QVERIFY(!run->report().costMicros.has_value());
        QVERIFY(!run->report().costComplete);
        QCOMPARE(h->scalar(QStringLiteral("SELECT count(*) FROM api_calls WHERE run_id = '%1' AND "
                                          "cost_micros IS NULL")
                               .arg(run->runId())),
                 1);
        QVERIFY(alertCategories().contains("cost_threshold"));
    }

    // The money gate: a turn that may cost more than the budget is never sent.
    void budgetExceeded() {
        server->enqueue(FakeClaudeServer::Reply::stream(
            SseScript::toolTurn({{"toolu_b1", "read_file", QJsonObject{{"path", "a.txt"}}}})));
        RunConfig c = h->config("Costly");
        c.limits.budgetUsd = 0.001; // max_tokens of output alone is 8192 at $15/M
        auto run = makeRun(c);
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().stopReason, QStringLiteral("budget_exceeded"));
        QCOMPARE(run->report().errorCode, QStringLiteral("budget.exceeded"));
        QCOMPARE(server->requests().size(), 0);
        QCOMPARE(run->report().proposed, 0);
    }

    void budgetAskPerson_data() {
        QTest::addColumn<bool>("goOn");
        QTest::newRow("approved") << true;
        QTest::newRow("declined") << false;
    }
    void budgetAskPerson() {
        QFETCH(bool, goOn);
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("Done.")));
        RunConfig c = h->config("Ask about money");
        c.limits.budgetUsd = 0.01; // less than max_tokens may cost, more than the turn costs
        RunController::Services s = h->services(provider.get(), gate);
        s.budgets.onExceed = BudgetGuard::OnExceed::Ask;
        QStringList asked;
        s.askBudget = [&asked, goOn](const QString& reason, std::function<void(bool)> answer) {
            asked << reason;
            answer(goOn);
        };
        RunController run(s, c);
        QVERIFY(h->runToEnd(run));
        QCOMPARE(asked.size(), 1);
        QCOMPARE(run.report().stopReason,
                 goOn ? QStringLiteral("completed") : QStringLiteral("budget_exceeded"));
        QCOMPARE(server->requests().size(), goOn ? 1 : 0);
    }

    // The day's budget is already used up: Ask without a person stops before sending.
    void dayBudgetUsedUp() {
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("Done.")));
        RunController::Services s = h->services(provider.get(), gate);
        s.budgets.dayMicros = 1000000;
        s.budgets.onExceed = BudgetGuard::OnExceed::Ask;
        s.spentToday = 1000000;
        s.spentThisMonth = 1000000;
        RunController run(s, h->config("Over the day"));
        QVERIFY(h->runToEnd(run));
        QCOMPARE(run.report().stopReason, QStringLiteral("budget_exceeded"));
        QCOMPARE(server->requests().size(), 0);
        QVERIFY(alertCategories().contains("cost_threshold"));
    }

    void userCancelledMidStream() {
        // NET-19: Stop pressed while the stream is arriving.
        FakeClaudeServer::Reply slow = FakeClaudeServer::Reply::stream(SseScript::toolTurn(
            {{"toolu_n1", "run_command", QJsonObject{{"argv", QJsonArray{"touch", "n"}}}}},
            QStringLiteral("Thinking about it at some length before proposing.")));
        slow.chunks(20, 30, 7);
        slow.pauseMs = 40;
        server->enqueue(slow);
        gate->fallback = [](const PendingApproval&) { return ScriptedApprovalGate::approve(); };
        auto run = makeRun(h->config("Cancel me"));
        connect(run.get(), &RunController::textDelta, run.get(), [&] { run->cancel(); });
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().stopReason, QStringLiteral("user_cancelled"));
        QCOMPARE(run->report().proposed, 0);
        QVERIFY(!QFile::exists(h->workspaceDir + "/n"));
        QCOMPARE(h->scalar(QStringLiteral("SELECT count(*) FROM api_calls WHERE run_id='%1'")
                               .arg(run->runId())),
                 1);
        QCOMPARE(
            h->column(
                QStringLiteral("SELECT stop_reason FROM runs WHERE run_id='%1'").arg(run->runId())),
            QStringList{"user_cancelled"});
    }

    void stopReasons_data() {
        QTest::addColumn<QString>("wire");
        QTest::addColumn<QString>("expected");
        QTest::newRow("refusal") << "refusal"
                                 << "provider_refused";
        QTest::newRow("max_tokens") << "max_tokens"
                                    << "max_tokens";
        QTest::newRow("context") << "model_context_window_exceeded"
                                 << "context_exhausted";
        QTest::newRow("unknown") << "something_new"
                                 << "api_error";
        QTest::newRow("stop_sequence") << "stop_sequence"
                                       << "completed";
    }
    void stopReasons() {
        QFETCH(QString, wire);
        QFETCH(QString, expected);
        SseScript s;
        s.messageStart().textBlock(0, {"No."});
        QJsonObject extra;
        if (wire == QLatin1String("refusal"))
            extra.insert("stop_details", QJsonObject{{"type", "refusal"},
                                                     {"category", "cyber"},
                                                     {"explanation", "Not this."}});
        s.messageDelta(wire, 3, extra).messageStop();
        server->enqueue(FakeClaudeServer::Reply::stream(s.bytes()));
        auto run = makeRun(h->config("Stop"));
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().stopReason, expected);
        QCOMPARE(run->report().proposed, 0);
        if (wire == QLatin1String("refusal"))
            QCOMPARE(run->report().stopDetails.value("explanation").toString(),
                     QStringLiteral("Not this."));
    }

    void maxTokensWithTruncatedToolUseRunsNothing() {
        SseScript s;
        s.messageStart().toolUseBlock(0, "toolu_trunc", "run_command",
                                      {"", "{\"argv\":[\"touch\",\"t\"]}"});
        s.messageDelta("max_tokens", 8192).messageStop();
        server->enqueue(FakeClaudeServer::Reply::stream(s.bytes()));
        auto run = makeRun(h->config("Long"));
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().stopReason, QStringLiteral("max_tokens"));
        QCOMPARE(run->report().proposed, 0);
        QVERIFY(!QFile::exists(h->workspaceDir + "/t"));
    }

    void pauseTurnResendsUnchanged() {
        server->validate = false; // the resend ends with the assistant turn (claude-api.md §3)
        server->enqueue(
            FakeClaudeServer::Reply::stream(SseScript::textTurn("Pausing.", "pause_turn")));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("Done.")));
        auto run = makeRun(h->config("Pause"));
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().stopReason, QStringLiteral("completed"));
        const QJsonArray messages = requestBody(*server, 1).value("messages").toArray();
        QCOMPARE(messages.last().toObject().value("role").toString(), QStringLiteral("assistant"));
        QCOMPARE(
            messages.last().toObject().value("content").toArray().at(0).toObject().value("text"),
            QJsonValue("Pausing."));
    }

    void largeOutputIsCapped() {
        test::writeFile(h->workspaceDir + "/big.txt", QByteArray(5000, 'x'));
        server->enqueue(FakeClaudeServer::Reply::stream(
            SseScript::toolTurn({{"toolu_big", "read_file", QJsonObject{{"path", "big.txt"}}}})));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("OK.")));
        RunConfig c = h->config("Big");
        c.maxToolResultChars = 200;
        auto run = makeRun(c);
        QVERIFY(h->runToEnd(*run));
        const QString content =
            lastUserContent(*server, 1).at(0).toObject().value("content").toString();
        QVERIFY(content.size() < 400);
        QVERIFY(content.contains("[output cut"));
    }

    void oldToolOutputsTrimmedFirst() {
        test::writeFile(h->workspaceDir + "/big.txt", QByteArray(8000, 'y'));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::toolTurn(
            {{"toolu_k1", "read_file", QJsonObject{{"path", "big.txt"}}}}, "a", "tool_use", 100)));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::toolTurn(
            {{"toolu_k2", "read_file", QJsonObject{{"path", "a.txt"}}}}, "b", "tool_use", 2100)));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("OK.")));
        RunConfig c = h->config("Context");
        c.contextWindow = 4000;
        c.contextShare = 0.5;
        auto run = makeRun(c);
        QSignalSpy trims(run.get(), &RunController::contextTrimmed);
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().stopReason, QStringLiteral("completed"));
        QVERIFY(trims.size() >= 1);
        const QJsonArray messages = requestBody(*server, 2).value("messages").toArray();
        const QString first = messages.at(2)
                                  .toObject()
                                  .value("content")
                                  .toArray()
                                  .at(0)
                                  .toObject()
                                  .value("content")
                                  .toString();
        QVERIFY2(first.contains("removed"), qPrintable(first.left(80)));
        // The newest result is intact.
        QVERIFY(messages.last()
                    .toObject()
                    .value("content")
                    .toArray()
                    .at(0)
                    .toObject()
                    .value("content")
                    .toString()
                    .contains("alpha"));
    }

    void approvedIsDurableBeforeTheToolRuns() {
        // I2: the tool itself reads its row while it runs.
        QVERIFY(h->registry.add(std::make_unique<ProbeTool>(h->dbPath)));
        QVERIFY(h->setRules("{\"allow\":[],\"ask\":[],\"deny\":[]}"));
        server->enqueue(FakeClaudeServer::Reply::stream(
            SseScript::toolTurn({{"toolu_probe", "probe_db", {}}})));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("OK.")));
        auto run = makeRun(h->config("Probe"));
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(lastUserContent(*server, 1).at(0).toObject().value("content").toString(),
                 QStringLiteral("status=approved"));
    }

    void auditStoreFullFailsClosed() {
        // SQL-04: the store cannot grow; the proposal cannot be recorded, so nothing runs.
        QVERIFY(h->setRules("{\"allow\":[\"write_file(*)\"],\"ask\":[],\"deny\":[]}"));
        const QString big(60000, QLatin1Char('z'));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::toolTurn(
            {{"toolu_full", "write_file", QJsonObject{{"path", "full.txt"}, {"content", big}}}})));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("OK.")));
        const qint64 pages = h->scalar("PRAGMA page_count");
        QVERIFY(pages > 0);
        QVERIFY(h->writer->setSqliteMaxPageCount(pages + 2));
        auto run = makeRun(h->config("Full"));
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().stopReason, QStringLiteral("audit_failed"));
        QCOMPARE(run->report().errorCode, QStringLiteral("store.full"));
        QVERIFY(!QFile::exists(h->workspaceDir + "/full.txt"));
        QCOMPARE(server->requests().size(), 1);
    }

    // SQL-04 with a person present: the "approved" commit fails, so the tool never starts; the
    // run pauses (not audit_failed) and nothing happens until someone answers. With room again
    // it resumes: the approval is written (with a fresh token), the tool runs, the run ends.
    void auditStoreFullPausesThenResumes() {
        const QString big(200000, QLatin1Char('p'));
        pauseAtApproval(QStringLiteral("toolu_pause"), QStringLiteral("paused.txt"), big);
        auto run = makePausingRun(h->config("Pause"));
        QSignalSpy paused(run.get(), &RunController::auditPaused);
        QSignalSpy resumed(run.get(), &RunController::auditResumed);
        startUntilPaused(*run);
        QCOMPARE(paused.size(), 1);
        QCOMPARE(paused.at(0).at(0).toString(), QStringLiteral("store.full"));
        QCOMPARE(run->auditPauseError().code, QStringLiteral("store.full"));
        QCOMPARE(AuditWriter::failureOf(run->auditPauseError()), AuditWriter::Failure::StorageFull);
        QVERIFY(run->isRunning());
        QVERIFY(!run->isFinished());
        // Fail closed: the proposal is on record, the approval is not, nothing ran or was spent.
        QCOMPARE(statuses(run->runId()), QStringList{QStringLiteral("proposed")});
        QVERIFY(!QFile::exists(h->workspaceDir + "/paused.txt"));
        QVERIFY(ledgerJtis().isEmpty());
        // And it stays so while paused.
        QTest::qWait(300);
        QVERIFY(run->isPausedOnAudit());
        QVERIFY(!QFile::exists(h->workspaceDir + "/paused.txt"));
        QCOMPARE(server->requests().size(), 1);

        // Still full: Retry pauses again, still nothing runs.
        run->resume();
        QCOMPARE(resumed.size(), 1);
        QTRY_COMPARE_WITH_TIMEOUT(paused.size(), 2, 20000);
        QVERIFY(run->isPausedOnAudit());
        QVERIFY(!QFile::exists(h->workspaceDir + "/paused.txt"));

        QVERIFY(h->writer->setSqliteMaxPageCount(1'000'000));
        run->resume();
        QVERIFY(!run->isPausedOnAudit());
        QTRY_VERIFY_WITH_TIMEOUT(run->isFinished(), 20000);
        QCOMPARE(run->report().stopReason, QStringLiteral("completed"));
        QVERIFY(run->report().errorCode.isEmpty());
        QCOMPARE(run->report().approved, 1);
        QCOMPARE(run->report().executed, 1);
        QCOMPARE(statuses(run->runId()), QStringList{QStringLiteral("executed")});
        QFile file(h->workspaceDir + "/paused.txt");
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), big.toUtf8());
        QCOMPARE(server->requests().size(), 2);
        // One approval on record, and it names the token that was spent.
        QCOMPARE(h->scalar(QStringLiteral("SELECT count(*) FROM audit_events WHERE run_id = '%1' "
                                          "AND kind = 'call.approved'")
                               .arg(run->runId())),
                 1);
        const QStringList jti =
            h->column(QStringLiteral("SELECT token_jti FROM tool_calls WHERE run_id = '%1'")
                          .arg(run->runId()));
        QCOMPARE(ledgerJtis(), jti);
        QCOMPARE(h->column(QStringLiteral("SELECT stop_reason FROM runs WHERE run_id = '%1'")
                               .arg(run->runId())),
                 QStringList{QStringLiteral("completed")});
        // m1ctl audit verify: the chain is whole.
        const auto report = h->store->verify();
        QVERIFY(report);
        QVERIFY2(report->intact, qPrintable(report->message));
    }

    // SQL-04, cancelled instead: with room again, one write records what was refused, the call
    // as cancelled and the end of the run as user_cancelled. The tool never ran.
    void auditStoreFullPausesThenCancels() {
        pauseAtApproval(QStringLiteral("toolu_cancel"), QStringLiteral("cancelled.txt"),
                        QString(200000, QLatin1Char('c')));
        auto run = makePausingRun(h->config("Pause then cancel"));
        startUntilPaused(*run);
        QVERIFY(h->writer->setSqliteMaxPageCount(1'000'000));
        QSignalSpy executed(run.get(), &RunController::proposalExecuted);
        run->cancel();
        QTRY_VERIFY_WITH_TIMEOUT(run->isFinished(), 20000);
        QCOMPARE(run->report().stopReason, QStringLiteral("user_cancelled"));
        QVERIFY2(run->report().errorCode.isEmpty(), qPrintable(run->report().errorCode));
        QCOMPARE(run->report().cancelled, 1);
        QCOMPARE(executed.size(), 1);
        QCOMPARE(executed.at(0).at(1).toString(), QStringLiteral("cancelled"));
        QVERIFY(!QFile::exists(h->workspaceDir + "/cancelled.txt"));
        QVERIFY(ledgerJtis().isEmpty());
        QCOMPARE(server->requests().size(), 1);
        QCOMPARE(statuses(run->runId()), QStringList{QStringLiteral("cancelled")});
        QCOMPARE(h->column(QStringLiteral("SELECT stop_reason FROM runs WHERE run_id = '%1'")
                               .arg(run->runId())),
                 QStringList{QStringLiteral("user_cancelled")});
        const auto report = h->store->verify();
        QVERIFY(report);
        QVERIFY2(report->intact, qPrintable(report->message));
    }

    // SQL-04 with a message of two calls asked together: the first one's approval is refused,
    // the second one's answer waits; Cancel records both as cancelled and neither runs.
    void auditStoreFullCancelsEveryCallOfTheMessage() {
        QVERIFY(h->setRules("{\"allow\":[],\"ask\":[\"write_file(*)\"],\"deny\":[]}"));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::toolTurn(
            {{"toolu_m1", "write_file", QJsonObject{{"path", "m1.txt"}, {"content", "one\n"}}},
             {"toolu_m2", "write_file", QJsonObject{{"path", "m2.txt"}, {"content", "two\n"}}}})));
        const QString big(200000, QLatin1Char('m'));
        gate->fallback = [this, big](const PendingApproval& pending) {
            ApprovalDecision decision = ScriptedApprovalGate::approve();
            if (pending.call.id == QLatin1String("toolu_m1")) {
                (void)h->writer->setSqliteMaxPageCount(1);
                QJsonObject edited = pending.call.arguments;
                edited.insert(QStringLiteral("content"), big);
                decision.editedArguments = edited;
            }
            return decision;
        };
        auto run = makePausingRun(h->config("Two calls"));
        startUntilPaused(*run);
        QCOMPARE(gate->asked.size(), 2);
        QCOMPARE(statuses(run->runId()),
                 (QStringList{QStringLiteral("proposed"), QStringLiteral("proposed")}));
        QVERIFY(h->writer->setSqliteMaxPageCount(1'000'000));
        run->cancel();
        QTRY_VERIFY_WITH_TIMEOUT(run->isFinished(), 20000);
        QCOMPARE(run->report().stopReason, QStringLiteral("user_cancelled"));
        QCOMPARE(run->report().cancelled, 2);
        QCOMPARE(statuses(run->runId()),
                 (QStringList{QStringLiteral("cancelled"), QStringLiteral("cancelled")}));
        QVERIFY(!QFile::exists(h->workspaceDir + "/m1.txt"));
        QVERIFY(!QFile::exists(h->workspaceDir + "/m2.txt"));
        QVERIFY(ledgerJtis().isEmpty());
        const auto report = h->store->verify();
        QVERIFY(report && report->intact);
    }

    // SQL-04, cancelled while the store is still full: the one last write is refused too, and
    // the run ends without further writes (the run row stays open; nothing ran).
    void auditStoreStillFullCancelEndsWithoutWrites() {
        pauseAtApproval(QStringLiteral("toolu_full2"), QStringLiteral("full2.txt"),
                        QString(200000, QLatin1Char('f')));
        auto run = makePausingRun(h->config("Cancel while full"));
        startUntilPaused(*run);
        const qint64 events = h->scalar(QStringLiteral("SELECT count(*) FROM audit_events"));
        run->cancel();
        QTRY_VERIFY_WITH_TIMEOUT(run->isFinished(), 20000);
        QCOMPARE(run->report().stopReason, QStringLiteral("user_cancelled"));
        QCOMPARE(run->report().errorCode, QStringLiteral("store.full"));
        QVERIFY(!QFile::exists(h->workspaceDir + "/full2.txt"));
        QCOMPARE(h->scalar(QStringLiteral("SELECT count(*) FROM audit_events")), events);
        QCOMPARE(h->scalar(QStringLiteral("SELECT count(*) FROM runs WHERE run_id = '%1' AND "
                                          "completed_at IS NULL")
                               .arg(run->runId())),
                 1);
        QVERIFY(h->writer->setSqliteMaxPageCount(1'000'000));
        const auto report = h->store->verify();
        QVERIFY(report);
        QVERIFY2(report->intact, qPrintable(report->message));
    }

    // A step costs two acknowledged commits: "proposed", "policy checked" and the turn's API
    // call go with "approved" (before the tool starts), the result alone (before the model sees
    // it). The chain holds every event in the order it happened.
    void stepCommitsAreBatched() {
        QVERIFY(h->setRules("{\"allow\":[\"read_file(*)\"],\"ask\":[],\"deny\":[]}"));
        server->enqueue(FakeClaudeServer::Reply::stream(
            SseScript::toolTurn({{"toolu_b1", "read_file", QJsonObject{{"path", "a.txt"}}}})));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("Read.")));
        auto run = makeRun(h->config("Batch"));
        // Emitted on the writer thread.
        QAtomicInt commits;
        const auto counting = connect(
            h->writer.get(), &AuditWriter::acknowledged, h->writer.get(),
            [&commits](quint64, qint64) { commits.fetchAndAddOrdered(1); }, Qt::DirectConnection);
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().stopReason, QStringLiteral("completed"));
        // run.started | api.call, call.proposed, call.policy, call.approved | call.executed |
        // api.call, run.finished (the last signal may follow the acknowledgement a moment later)
        QTRY_COMPARE_WITH_TIMEOUT(commits.loadAcquire(), 4, 5000);
        QTest::qWait(50);
        QCOMPARE(commits.loadAcquire(), 4);
        disconnect(counting);
        QCOMPARE(h->column(QStringLiteral("SELECT kind FROM audit_events WHERE run_id = '%1' "
                                          "ORDER BY seq")
                               .arg(run->runId())),
                 (QStringList{"run.started", "api.call", "call.proposed", "call.policy",
                              "call.approved", "call.executed", "api.call", "run.finished"}));
        const auto report = h->store->verify();
        QVERIFY(report && report->intact);
    }
};

QTEST_MAIN(TestRunController)
#include "tst_run_controller.moc"
