// The proposals of one assistant message against the fake Claude server: every proposal is
// recorded and checked by the policy before any is decided, the ones the policy asks about reach
// the gate together (batch position and size), answers arriving in any order are applied in the
// message's order (each with its own token), a stop while they wait cancels them all, an expiry
// expires them all, and the decision evidence (SBX-27) lands in the tool_calls row.
#include "llm/ClaudeProvider.h"
#include "run/RunController.h"

#include "FakeClaudeServer.h"
#include "RunHarness.h"
#include "ScriptedApprovalGate.h"
#include "SseScript.h"
#include "TestSupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTest>

using namespace m1;
using m1::test::FakeClaudeServer;
using m1::test::RunHarness;
using m1::test::ScriptedApprovalGate;
using m1::test::SseScript;

namespace {

using Use = SseScript::ToolUse;

QList<Use> threeWrites(const QString& prefix) {
    QList<Use> uses;
    for (int i = 1; i <= 3; ++i)
        uses.append({QStringLiteral("toolu_%1%2").arg(prefix).arg(i), QStringLiteral("write_file"),
                     QJsonObject{{"path", QStringLiteral("%1%2.txt").arg(prefix).arg(i)},
                                 {"content", QStringLiteral("%1\n").arg(i)}}});
    return uses;
}

} // namespace

class TestRunBatch : public QObject {
    Q_OBJECT

    std::unique_ptr<RunHarness> h;
    std::unique_ptr<FakeClaudeServer> server;
    std::unique_ptr<ClaudeProvider> provider;
    std::unique_ptr<ScriptedApprovalGate> gate;

    std::unique_ptr<RunController> makeRun(RunConfig config) {
        return std::make_unique<RunController>(h->services(provider.get(), gate.get()),
                                               std::move(config));
    }

    QStringList column(const QString& runId, const QString& expr) {
        return h->column(QStringLiteral("SELECT %1 FROM tool_calls WHERE run_id = '%2' ORDER BY id")
                             .arg(expr, runId));
    }

private slots:
    void init() {
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
        gate = std::make_unique<ScriptedApprovalGate>();
    }
    void cleanup() {
        provider.reset();
        server.reset();
        h.reset();
        gate.reset();
    }

    void answersInAnyOrderRunInTheMessagesOrder() {
        const QList<Use> uses = threeWrites(QStringLiteral("o"));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::toolTurn(uses)));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("OK.")));
        gate->silent = true;
        auto run = makeRun(h->config("Three writes"));
        QSignalSpy executed(run.get(), &RunController::proposalExecuted);
        QSignalSpy tokens(run.get(), &RunController::proposalTokenIssued);
        run->start();
        // All three reach the gate before any decision, each knowing its place in the batch.
        QTRY_COMPARE_WITH_TIMEOUT(gate->asked.size(), 3, 20000);
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(gate->asked.at(i).call.id, uses.at(i).id);
            QCOMPARE(gate->asked.at(i).batchIndex, i);
            QCOMPARE(gate->asked.at(i).batchSize, 3);
        }
        // Recorded and checked, none decided yet.
        QCOMPARE(column(run->runId(), "status"), QStringList({"proposed", "proposed", "proposed"}));
        QCOMPARE(column(run->runId(), "policy_decision"), QStringList({"ask", "ask", "ask"}));

        // The answers come last first; nothing runs until the first is answered.
        ApprovalDecision approve = ScriptedApprovalGate::approve();
        approve.decisionMs = 1234;
        approve.argsSeenWhole = true;
        approve.inBatch = true;
        approve.decidedBy = QStringLiteral("tester");
        emit gate->decided(run->runId(), uses.at(2).id, approve);
        emit gate->decided(run->runId(), uses.at(1).id, approve);
        QTest::qWait(200);
        QCOMPARE(executed.size(), 0);
        QVERIFY(!QFile::exists(h->workspaceDir + "/o3.txt"));
        emit gate->decided(run->runId(), uses.at(0).id, approve);
        QTRY_VERIFY_WITH_TIMEOUT(run->isFinished(), 20000);
        QCOMPARE(run->report().stopReason, QStringLiteral("completed"));
        QCOMPARE(run->report().executed, 3);
        QCOMPARE(executed.size(), 3);
        for (int i = 0; i < 3; ++i)
            QCOMPARE(executed.at(i).at(0).toString(), uses.at(i).id);
        QCOMPARE(tokens.size(), 3);
        QCOMPARE(column(run->runId(), "status"), QStringList({"executed", "executed", "executed"}));
        QCOMPARE(column(run->runId(), "count(DISTINCT token_jti)"), QStringList{"3"});
        QCOMPARE(column(run->runId(), "decision_ms"), QStringList({"1234", "1234", "1234"}));
        QCOMPARE(column(run->runId(), "args_seen_whole"), QStringList({"1", "1", "1"}));
        QCOMPARE(column(run->runId(), "decided_in_batch"), QStringList({"1", "1", "1"}));
        QCOMPARE(column(run->runId(), "decided_by"), QStringList({"tester", "tester", "tester"}));
        QCOMPARE(h->scalar(QStringLiteral("SELECT count(*) FROM tool_calls WHERE run_id = '%1' "
                                          "AND executed_at IS NOT NULL")
                               .arg(run->runId())),
                 3);
        // The executions in the message's order.
        QCOMPARE(h->column(QStringLiteral("SELECT request_id FROM tool_calls WHERE run_id = '%1' "
                                          "ORDER BY executed_at, id")
                               .arg(run->runId())),
                 QStringList({uses.at(0).id, uses.at(1).id, uses.at(2).id}));
        QVERIFY(h->store->verify()->intact);
    }

    void denialEvidenceAndPolicyAllowedCallsKeepNone() {
        // One read (allowed by the policy: no prompt, no evidence) between two writes.
        QList<Use> uses = threeWrites(QStringLiteral("d"));
        test::writeFile(h->workspaceDir + QStringLiteral("/r.txt"), "r\n");
        uses[1] = {QStringLiteral("toolu_read"), QStringLiteral("read_file"),
                   QJsonObject{{"path", "r.txt"}}};
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::toolTurn(uses)));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("OK.")));
        ApprovalDecision deny = ScriptedApprovalGate::deny(QStringLiteral("not that one"));
        deny.decisionMs = 42;
        deny.argsSeenWhole = false;
        deny.inBatch = false;
        deny.decidedBy = QStringLiteral("tester");
        gate->script = {ScriptedApprovalGate::approve(), deny};
        auto run = makeRun(h->config("Mixed"));
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(gate->asked.size(), 2);
        QCOMPARE(gate->asked.at(1).batchIndex, 1);
        QCOMPARE(gate->asked.at(1).batchSize, 2);
        QCOMPARE(column(run->runId(), "status"), QStringList({"executed", "executed", "denied"}));
        QCOMPARE(column(run->runId(), "coalesce(decision_ms, -1)"),
                 QStringList({"-1", "-1", "42"}));
        QCOMPARE(column(run->runId(), "coalesce(args_seen_whole, -1)"),
                 QStringList({"-1", "-1", "0"}));
        QCOMPARE(column(run->runId(), "coalesce(decided_by, '')"), QStringList({"", "", "tester"}));
        QCOMPARE(column(run->runId(), "approver_kind"), QStringList({"person", "rule", "person"}));
    }

    void stopWhileTheBatchWaitsCancelsEveryCall() {
        const QList<Use> uses = threeWrites(QStringLiteral("s"));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::toolTurn(uses)));
        gate->silent = true;
        auto run = makeRun(h->config("Stop"));
        run->start();
        QTRY_COMPARE_WITH_TIMEOUT(gate->asked.size(), 3, 20000);
        run->cancel();
        QTRY_VERIFY_WITH_TIMEOUT(run->isFinished(), 20000);
        QCOMPARE(run->report().stopReason, QStringLiteral("user_cancelled"));
        QCOMPARE(run->report().cancelled, 3);
        QCOMPARE(gate->cancelled, QStringList({uses.at(0).id, uses.at(1).id, uses.at(2).id}));
        QCOMPARE(column(run->runId(), "status"),
                 QStringList({"cancelled", "cancelled", "cancelled"}));
    }

    void oneApprovedThenStopCancelsTheRest() {
        // The first call is approved and runs; the stop comes while the others wait.
        const QList<Use> uses = threeWrites(QStringLiteral("p"));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::toolTurn(uses)));
        gate->silent = true;
        auto run = makeRun(h->config("Partial"));
        QSignalSpy executed(run.get(), &RunController::proposalExecuted);
        run->start();
        QTRY_COMPARE_WITH_TIMEOUT(gate->asked.size(), 3, 20000);
        emit gate->decided(run->runId(), uses.at(0).id, ScriptedApprovalGate::approve());
        QTRY_COMPARE_WITH_TIMEOUT(executed.size(), 1, 20000);
        run->cancel();
        QTRY_VERIFY_WITH_TIMEOUT(run->isFinished(), 20000);
        QCOMPARE(column(run->runId(), "status"),
                 QStringList({"executed", "cancelled", "cancelled"}));
        QCOMPARE(gate->cancelled, QStringList({uses.at(1).id, uses.at(2).id}));
    }

    void theBatchExpiresTogether() {
        const QList<Use> uses = threeWrites(QStringLiteral("x")).mid(0, 2);
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::toolTurn(uses)));
        server->enqueue(FakeClaudeServer::Reply::stream(SseScript::textTurn("OK.")));
        gate->silent = true;
        RunConfig c = h->config("Expire");
        c.approvalTimeoutMs = 200;
        auto run = makeRun(c);
        QVERIFY(h->runToEnd(*run));
        QCOMPARE(run->report().expired, 2);
        QCOMPARE(column(run->runId(), "status"), QStringList({"expired", "expired"}));
        QCOMPARE(gate->cancelled, QStringList({uses.at(0).id, uses.at(1).id}));
    }
};

QTEST_MAIN(TestRunBatch)
#include "tst_run_batch.moc"
