#pragma once

#include "llm/ApiAttempt.h"
#include "llm/AssistantMessage.h"
#include "llm/ModelRequest.h"
#include "model/Alert.h"
#include "model/PolicyDecision.h"
#include "model/ToolCall.h"
#include "monitoring/BudgetGuard.h"
#include "run/ApprovalGate.h"
#include "run/RunConfig.h"
#include "run/RunReport.h"
#include "store/AuditEvent.h"
#include "tools/ToolExecutor.h"
#include "util/Error.h"

#include <QElapsedTimer>
#include <QFuture>
#include <QHash>
#include <QJsonArray>
#include <QObject>
#include <QTimer>

#include <functional>
#include <memory>
#include <optional>

namespace m1 {

class AlertManager;
class AuditWriter;
class CostEstimator;
class ModelProvider;
class MonitoringSettings;
class PolicyEngine;
class Telemetry;
class TokenLedger;
class TokenService;

// One agent run: goal → model turn → proposals → policy → approval → execution → tool results
// → next turn, until a stop reason (RunReport). Lives on one thread (the UI thread in the app)
// and never blocks it: model turns are asynchronous, audit acknowledgements are awaited through
// future watchers, tools run on a worker thread.
//
// Every transition is committed to the audit trail and acknowledged before the next step
// (I2): "approved" before the tool starts, "executed" before its result goes to the model.
// Events that gate nothing on their own ("proposed", "policy checked", the turn's API calls) go
// in one transaction with the next gating one, so a step costs two commits, not six. A refused
// write stops the run at once (stop reason audit_failed): fail closed. With
// Services::pauseOnAuditFailure, a full or read-only store pauses the run instead (nothing runs
// while paused): resume() retries the refused write and goes on, cancel() ends the run.
//
// All services must outlive the controller. The provider belongs to this run (its signals are
// taken as this run's); the gate may serve several runs (decisions carry the run id).
class RunController : public QObject {
    Q_OBJECT
public:
    struct Services {
        const ToolRegistry* registry = nullptr;
        const Workspace* workspace = nullptr;
        const PolicyEngine* policy = nullptr;
        const TokenService* tokens = nullptr;
        // Opens the token ledger; called on the worker thread for each execution (a database
        // connection belongs to the thread that opened it).
        std::function<Result<std::unique_ptr<TokenLedger>>()> openLedger;
        AuditWriter* audit = nullptr;
        ModelProvider* provider = nullptr;
        ApprovalGate* gate = nullptr; // nullptr: every "ask" becomes a denial
        const CostEstimator* costs = nullptr;
        Telemetry* telemetry = nullptr; // nullptr: Telemetry::global()
        AlertManager* alerts = nullptr; // nullptr: no alerts are raised
        // Thresholds for the health checks at run end (with alerts); nullptr: none.
        const MonitoringSettings* monitoring = nullptr;
        // The day and month budgets (settings) and what was spent before this run; the run's
        // own budget (RunConfig::limits.budgetUsd) is added by the controller.
        BudgetGuard::Limits budgets;
        qint64 spentToday = 0;
        qint64 spentThisMonth = 0;
        // The money gate's Ask: a person present answers (true: send the turn anyway). Empty:
        // nobody can answer, so Ask stops the run like Stop.
        std::function<void(const QString& reason, std::function<void(bool)> answer)> askBudget;
        // A person can answer (GUI, m1ctl on a terminal): when the audit store refuses a write
        // because it is full or read-only (AuditWriter::Failure), the run pauses (auditPaused)
        // instead of ending as audit_failed. false: it ends as audit_failed, as before.
        bool pauseOnAuditFailure = false;
    };

    RunController(Services services, RunConfig config, QObject* parent = nullptr);
    ~RunController() override;

    void start();
    // Stops the run as user_cancelled: aborts the model turn, withdraws an open approval; a
    // tool already running finishes (its result is recorded) and nothing runs after it. Paused
    // on the audit: one last write records the refused events, the open call as cancelled and
    // the end of the run (user_cancelled); if the store still refuses it, the run ends without
    // further writes (report: user_cancelled with the store's error code).
    void cancel();
    // Paused on the audit: retries the refused write (an approval token the run minted is
    // replaced by a fresh one first) and, once it is committed, goes on where the run stopped;
    // refused again, the run pauses again. Does nothing otherwise.
    void resume();

    bool isRunning() const { return m_phase != Phase::Idle && m_phase != Phase::Finished; }
    bool isFinished() const { return m_phase == Phase::Finished; }
    bool isPausedOnAudit() const { return m_phase == Phase::PausedOnAudit; }
    // Why the run is paused (code store.full or store.readonly, and the store's message); empty
    // when it is not.
    Error auditPauseError() const { return m_pause.error; }
    QString runId() const { return m_config.runId; }
    const RunConfig& config() const { return m_config; }
    const RunReport& report() const { return m_report; }
    // The conversation as sent in the last request (tests, replay export).
    const QJsonArray& messages() const { return m_messages; }

signals:
    void started(const QString& runId);
    void turnStarted(int step);
    // A new HTTP attempt of the current turn: text shown so far for this turn is void.
    void attemptStarted(int attempt);
    void textDelta(const QString& text);
    void thinkingDelta(const QString& text);
    void proposalPreview(const QString& callId, const QString& toolName, const QJsonObject& input);
    void proposalAdded(const QString& callId, const QString& toolName, const QString& scope,
                       const QJsonObject& arguments);
    // status: approved, denied, expired. approverKind: person, rule, token, auto.
    void proposalDecided(const QString& callId, const QString& status, const QString& approverKind,
                         const QString& reason);
    // An approval token was issued for the call: fingerprint = the first 12 hex digits of its
    // argsSha256 (the arguments it binds), expiresAtMs = its exp. Then proposalTokenSpent once
    // the tool consumed it (used) or when it never will be (dry run, run stopped, refused).
    void proposalTokenIssued(const QString& callId, const QString& fingerprint, qint64 expiresAtMs);
    void proposalTokenSpent(const QString& callId, bool used);
    void proposalExecuting(const QString& callId);
    // status: executed, failed, dry_run, cancelled. output: what goes back to the model.
    void proposalExecuted(const QString& callId, const QString& status, const QString& output);
    void apiAttempt(const m1::ApiAttempt& attempt);
    void planUpdated(const QJsonArray& steps);
    void contextTrimmed(int resultsReplaced);
    // The audit store refused a write (code store.full or store.readonly): the run waits for
    // resume() or cancel(). Nothing runs meanwhile.
    void auditPaused(const QString& code, const QString& message);
    // resume() was called: the refused write is being retried.
    void auditResumed();
    void finished(const m1::RunReport& report);

private:
    enum class Phase {
        Idle,
        Auditing,
        Streaming,
        AwaitingApproval,
        AwaitingBudget,
        Executing,
        PausedOnAudit,
        Finishing,
        Finished
    };

    struct Proposal {
        ToolCall call;
        QString scope;
        Scope scopeValue = Scope::Execute;
        bool known = false;
        bool proposedRecorded = false;
        bool settled = false; // denied, expired, executed, failed, cancelled
        QString result;
        bool isError = false;
        bool edited = false; // the person changed the arguments before approving
        int callsBefore = 0; // the run's tool calls before this one (for the policy's limits)
        std::optional<PolicyDecision> policy;   // evaluated before any proposal is decided
        bool asked = false;                     // a request went to the gate
        std::optional<ApprovalDecision> answer; // the gate's answer (or the expiry)
        bool tokenIssued = false;
        bool tokenSpent = false;
    };

    struct ExecResult {
        ToolExecutor::Outcome outcome;
        qint64 durationMs = 0;
    };

    // A write the store refused while the run may pause: what was refused and how to try again.
    struct AuditPause {
        Phase from = Phase::Auditing; // Auditing, or Finishing for the run's last write
        QList<AuditEvent> deferred;   // the deferred events that went with it
        QList<AuditEvent> events;     // the write's own events
        std::function<void()> retry;
        Error error;
    };

    // commit({event}, next, retry).
    void audit(const AuditEvent& event, std::function<void()> next,
               std::function<void()> retry = {});
    // One acknowledged write of the deferred events followed by these; next() once committed.
    // Refused: a pause (see pauseOnAuditFailure; retry() runs on resume, by default the same
    // write again) or the end of the run as audit_failed.
    void commit(QList<AuditEvent> events, std::function<void()> next,
                std::function<void()> retry = {});
    // Events that gate nothing on their own: recorded with the next acknowledged write, ahead
    // of its own events; next() is called at once.
    void defer(const AuditEvent& event, const std::function<void()>& next);
    void deferAll(QList<AuditEvent> events, const std::function<void()>& next);
    bool mayPause(const Error& error) const;
    void pauseOnAudit(AuditPause pause);
    void cancelPaused();
    // Marks every recorded, unsettled proposal of the message cancelled; their events.
    QList<AuditEvent> cancelOpenCalls(const QString& reason);
    // The run's last write (deferred events + run.finished), then finished().
    void writeFinal(QList<AuditEvent> events);
    void beginTurn();
    void sendTurn();
    void raiseAlert(Alert::Category category, Alert::Level level, const QString& message,
                    const QJsonObject& details = {});
    void recordOutcome(const QString& outcome, double seconds = 0);
    void recordOutcome(const Proposal& p, const QString& outcome, double seconds = 0);
    ModelRequest buildRequest();
    void trimContext();
    void onAttemptFinished(const ApiAttempt& attempt);
    void onTurnFinished(const AssistantMessage& message);
    void onTurnFailed(const Error& error);
    // A message's proposals: first each is recorded and checked by the policy (evaluateNext), then
    // the ones the policy asks about go to the gate together (requestApprovals), then they are
    // decided and run one by one in the message's order (processNext).
    void evaluateNext();
    void requestApprovals();
    void processNext();
    void decide(const PolicyDecision& decision);
    void onGateDecided(const QString& runId, const QString& callId,
                       const ApprovalDecision& decision);
    void applyAnswer(const ApprovalDecision& decision);
    void onApprovalTimeout();
    bool hasOpenRequests() const;
    // Withdraws every request still open at the gate (the run will not wait for them).
    void withdrawRequests();
    void spendToken(Proposal& p, bool used);
    // An approval with edited arguments: schema and policy again, then approve or deny.
    void approveEdited(const ApprovalDecision& decision);
    void approve(const ApprovalDecision& decision);
    void commitApproval(const ApprovalDecision& decision, const QString& token);
    void deny(const QString& approverKind, const QString& approver, const QString& reason,
              const QString& modelText, const AuditEvent::DecisionEvidence& evidence = {});
    void expire(const QString& reason);
    void execute(const QString& token);
    void onExecuted(const ExecResult& result);
    void settle(const QString& result, bool isError);
    void sendResults();
    // True when a stop was requested: records the current proposal as cancelled if needed and
    // finishes the run.
    bool stopIfRequested();
    void requestStop(const QString& reason);
    void finish(const QString& stopReason, const Error& error = {});
    bool budgetExceeded() const;
    QString capOutput(const QString& output) const;
    Proposal& current() { return m_proposals[m_current]; }

    Services m_s;
    Telemetry* m_telemetry = nullptr;
    std::unique_ptr<BudgetGuard> m_budget;
    RunConfig m_config;
    RunReport m_report;
    Phase m_phase = Phase::Idle;
    QString m_pendingStop;
    QString m_limitStop; // a limit reached while deciding this turn's proposals
    Error m_pendingError;
    QJsonArray m_messages;
    QJsonArray m_toolDefinitions;
    QElapsedTimer m_clock;
    QTimer m_runtimeTimer;
    QTimer m_approvalTimer;
    int m_steps = 0;
    int m_toolCalls = 0;
    int m_pauseTurns = 0;
    QHash<QString, QList<qint64>> m_callTimes;
    QList<Proposal> m_proposals;
    qsizetype m_current = 0;
    QList<AuditEvent> m_apiEvents;
    QString m_turnText;
    qint64 m_contextTokens = 0; // from the last usage: what the model saw plus what it wrote
    qint64 m_charsSince = 0;    // added to the conversation since that usage
    QFuture<ExecResult> m_exec;
    quint64 m_generation = 0;
    QList<AuditEvent> m_deferred;
    AuditPause m_pause;
    bool m_cancelling = false; // cancelled while paused: the last write does not pause again
};

} // namespace m1
