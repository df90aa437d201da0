#include "run/RunController.h"

#include "config/MonitoringSettings.h"
#include "llm/ModelProvider.h"
#include "monitoring/AlertManager.h"
#include "monitoring/HealthMonitor.h"
#include "monitoring/LogCategories.h"
#include "monitoring/LogContext.h"
#include "monitoring/Telemetry.h"
#include "policy/PolicyEngine.h"
#include "run/CostEstimator.h"
#include "store/AuditWriter.h"
#include "tokens/TokenLedger.h"
#include "tokens/TokenService.h"
#include "util/CanonicalJson.h"

#include <QDateTime>
#include <QFutureWatcher>
#include <QJsonDocument>
#include <QPointer>
#include <QUuid>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <cmath>

namespace m1 {

namespace {

const QString kToolUse = QStringLiteral("tool_use");

qint64 jsonChars(const QJsonValue& value) {
    if (value.isString())
        return value.toString().size();
    if (value.isArray())
        return QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact).size();
    if (value.isObject())
        return QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact).size();
    return 8;
}

QString limitStopReason(const QString& code) {
    if (code == QLatin1String("policy.limit.tool_calls"))
        return QStringLiteral("max_tool_calls");
    if (code == QLatin1String("policy.limit.steps"))
        return QStringLiteral("max_steps");
    if (code == QLatin1String("policy.limit.runtime"))
        return QStringLiteral("max_runtime");
    return {};
}

// What a gate learnt about how its decision was made (SBX-27), for the audit row.
AuditEvent::DecisionEvidence evidenceOf(const ApprovalDecision& decision) {
    AuditEvent::DecisionEvidence e;
    e.reason = decision.reason;
    e.decisionMs = decision.decisionMs;
    e.argsSeenWhole = decision.argsSeenWhole;
    e.inBatch = decision.inBatch;
    e.decidedBy = decision.decidedBy;
    return e;
}

AuditEvent withEvidence(AuditEvent event, const AuditEvent::DecisionEvidence& evidence) {
    event.addDecisionEvidence(evidence);
    return event;
}

AuditEvent withEvidence(AuditEvent event, const ApprovalDecision& decision) {
    return withEvidence(std::move(event), evidenceOf(decision));
}

} // namespace

RunController::RunController(Services services, RunConfig config, QObject* parent)
    : QObject(parent), m_s(std::move(services)), m_config(std::move(config)) {
    if (m_config.runId.isEmpty())
        m_config.runId = QStringLiteral("run_%1").arg(QUuid::createUuid().toString(QUuid::Id128));
    m_report.runId = m_config.runId;
    m_report.agent = m_config.agent.name;
    m_report.model = m_config.model;
    m_report.provider = m_config.provider;
    m_report.dryRun = m_config.dryRun;
    m_report.billed = !m_s.provider || m_s.provider->isBilled();
    m_telemetry = m_s.telemetry ? m_s.telemetry : &Telemetry::global();
    BudgetGuard::Limits budgets = m_s.budgets;
    if (m_config.limits.budgetUsd > 0)
        budgets.runMicros = qint64(std::llround(m_config.limits.budgetUsd * 1e6));
    m_budget = std::make_unique<BudgetGuard>(budgets, m_s.alerts, m_config.runId);
    m_budget->setSpentBefore(m_s.spentToday, m_s.spentThisMonth);

    const QJsonArray all = m_s.registry->modelDefinitions();
    for (const QJsonValue& definition : all)
        if (m_config.agent.tools.isEmpty() ||
            m_config.agent.tools.contains(
                definition.toObject().value(QLatin1String("name")).toString()))
            m_toolDefinitions.append(definition);

    m_runtimeTimer.setSingleShot(true);
    connect(&m_runtimeTimer, &QTimer::timeout, this,
            [this] { requestStop(QStringLiteral("max_runtime")); });
    m_approvalTimer.setSingleShot(true);
    connect(&m_approvalTimer, &QTimer::timeout, this, &RunController::onApprovalTimeout);

    ModelProvider* p = m_s.provider;
    connect(p, &ModelProvider::attemptStarted, this, [this](int attempt) {
        if (m_phase != Phase::Streaming)
            return;
        m_turnText.clear();
        emit attemptStarted(attempt);
    });
    connect(p, &ModelProvider::textDelta, this, [this](int, const QString& text) {
        if (m_phase != Phase::Streaming)
            return;
        m_turnText += text;
        emit textDelta(text);
    });
    connect(p, &ModelProvider::thinkingDelta, this, [this](int, const QString& text) {
        if (m_phase == Phase::Streaming)
            emit thinkingDelta(text);
    });
    connect(p, &ModelProvider::toolUsePreview, this,
            [this](int, const QString& id, const QString& name, const QJsonObject& input) {
                if (m_phase == Phase::Streaming)
                    emit proposalPreview(id, name, input);
            });
    connect(p, &ModelProvider::attemptFinished, this, [this](const ApiAttempt& attempt) {
        if (m_phase == Phase::Streaming)
            onAttemptFinished(attempt);
    });
    connect(p, &ModelProvider::turnFinished, this, [this](const AssistantMessage& message) {
        if (m_phase == Phase::Streaming)
            onTurnFinished(message);
    });
    connect(p, &ModelProvider::turnFailed, this, [this](const Error& error) {
        if (m_phase == Phase::Streaming)
            onTurnFailed(error);
    });
    if (m_s.gate)
        // Queued: a gate that answers inside request() must not re-enter the controller.
        connect(m_s.gate, &ApprovalGate::decided, this, &RunController::onGateDecided,
                Qt::QueuedConnection);
}

RunController::~RunController() {
    ++m_generation;
    // The worker uses the services by reference: it must end before they can go.
    m_exec.waitForFinished();
    withdrawRequests();
    if (m_phase == Phase::Streaming && m_s.provider->isBusy())
        m_s.provider->cancel();
}

// --- audit plumbing -------------------------------------------------------------------------

void RunController::audit(const AuditEvent& event, std::function<void()> next,
                          std::function<void()> retry) {
    commit({event}, std::move(next), std::move(retry));
}

void RunController::defer(const AuditEvent& event, const std::function<void()>& next) {
    m_deferred.append(event);
    next();
}

void RunController::deferAll(QList<AuditEvent> events, const std::function<void()>& next) {
    m_deferred.append(std::move(events));
    next();
}

void RunController::commit(QList<AuditEvent> events, std::function<void()> next,
                           std::function<void()> retry) {
    const QList<AuditEvent> deferred = std::move(m_deferred);
    m_deferred.clear();
    if (!retry)
        retry = [this, events, next] { commit(events, next); };
    const AuditWriter::Ticket ticket = m_s.audit->submit(deferred + events);
    auto* watcher = new QFutureWatcher<AuditAck>(this);
    const quint64 generation = m_generation;
    const Phase previous = m_phase == Phase::Finishing ? Phase::Finishing : Phase::Auditing;
    m_phase = previous;
    connect(
        watcher, &QFutureWatcherBase::finished, this,
        [this, watcher, generation, deferred, events = std::move(events), next = std::move(next),
         retry = std::move(retry)] {
            watcher->deleteLater();
            if (generation != m_generation)
                return;
            const AuditAck ack = watcher->result();
            if (!ack) {
                // Fail closed: nothing after an unrecorded transition may happen.
                if (mayPause(ack.error())) {
                    pauseOnAudit(AuditPause{Phase::Auditing, deferred, events, retry, ack.error()});
                    return;
                }
                finish(QStringLiteral("audit_failed"), ack.error());
                return;
            }
            next();
        });
    watcher->setFuture(ticket.ack);
}

bool RunController::mayPause(const Error& error) const {
    if (!m_s.pauseOnAuditFailure || m_cancelling)
        return false;
    const AuditWriter::Failure failure = AuditWriter::failureOf(error);
    return failure == AuditWriter::Failure::StorageFull ||
           failure == AuditWriter::Failure::ReadOnly;
}

void RunController::pauseOnAudit(AuditPause pause) {
    m_pause = std::move(pause);
    m_phase = Phase::PausedOnAudit;
    {
        const LogContext context(m_config.runId);
        qCWarning(lcRun) << "run paused: the audit store refused a write:" << m_pause.error.code
                         << m_pause.error.message;
    }
    emit auditPaused(m_pause.error.code, m_pause.error.message);
}

void RunController::resume() {
    if (m_phase != Phase::PausedOnAudit)
        return;
    AuditPause pause = std::move(m_pause);
    m_pause = AuditPause{};
    m_phase = pause.from;
    // Nothing was deferred while paused: the refused write took everything.
    m_deferred = pause.deferred + m_deferred;
    {
        const LogContext context(m_config.runId);
        qCInfo(lcRun) << "run resumed: retrying the refused audit write";
    }
    emit auditResumed();
    pause.retry();
}

void RunController::cancelPaused() {
    AuditPause pause = std::move(m_pause);
    m_pause = AuditPause{};
    m_phase = pause.from;
    // One last write; refused again, the run ends without further writes.
    m_cancelling = true;
    QList<AuditEvent> events = pause.deferred + pause.events;
    if (pause.from == Phase::Finishing) {
        // The run had ended on its own: its end is what there is to record.
        writeFinal(std::move(events));
        return;
    }
    if (m_pendingStop.isEmpty())
        m_pendingStop = QStringLiteral("user_cancelled");
    m_approvalTimer.stop();
    withdrawRequests();
    // A call the refused write settles (its result, a denial...) is settled by this write too.
    for (Proposal& p : m_proposals) {
        const bool settledInWrite =
            std::any_of(events.cbegin(), events.cend(), [&p](const AuditEvent& e) {
                using Kind = AuditEvent::Kind;
                return e.requestId == p.call.id &&
                       (e.kind == Kind::CallDenied || e.kind == Kind::CallExpired ||
                        e.kind == Kind::CallCancelled || e.kind == Kind::CallExecuted ||
                        e.kind == Kind::CallFailed);
            });
        if (settledInWrite)
            p.settled = true;
    }
    events.append(cancelOpenCalls(
        tr("The run stopped (%1) while the audit store refused writes; this call did not run.")
            .arg(m_pendingStop)));
    m_deferred = std::move(events);
    finish(m_pendingStop, m_pendingError);
}

// --- the loop -------------------------------------------------------------------------------

void RunController::start() {
    if (m_phase != Phase::Idle)
        return;
    m_clock.start();
    m_runtimeTimer.start(qMax(1, m_config.limits.maxRuntimeSeconds) * 1000);
    m_messages.append(
        QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                    {QStringLiteral("content"),
                     QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                            {QStringLiteral("text"), m_config.goal}}}}});
    m_charsSince = m_config.goal.size() + m_config.agent.systemPrompt.size() +
                   QJsonDocument(m_toolDefinitions).toJson(QJsonDocument::Compact).size();
    AuditEvent::RunStart start;
    start.agent = m_config.agent.name;
    start.goal = m_config.goal;
    start.constraints = m_config.constraints();
    start.model = m_config.model;
    start.provider = m_config.provider;
    start.workspace =
        m_config.workspaceLabel.isEmpty() ? m_s.workspace->root() : m_config.workspaceLabel;
    start.dryRun = m_config.dryRun;
    m_telemetry->runStarted();
    {
        const LogContext context(m_config.runId);
        qCInfo(lcRun) << "run started:" << m_config.agent.name << m_config.model
                      << m_config.provider;
    }
    emit started(m_config.runId);
    audit(AuditEvent::runStarted(m_config.runId, start), [this] { beginTurn(); });
}

void RunController::cancel() {
    if (m_phase == Phase::PausedOnAudit) {
        cancelPaused();
        return;
    }
    requestStop(QStringLiteral("user_cancelled"));
}

void RunController::requestStop(const QString& reason) {
    if (!isRunning() || m_phase == Phase::Finishing)
        return;
    if (m_pendingStop.isEmpty())
        m_pendingStop = reason;
    switch (m_phase) {
    case Phase::Streaming:
        // The provider ends the turn with api.cancelled (possibly right here); onTurnFailed
        // then finishes with the pending reason. Buffered output yields no proposal.
        m_s.provider->cancel();
        break;
    case Phase::AwaitingApproval:
        stopIfRequested();
        break;
    case Phase::AwaitingBudget:
        // The person's late answer finds the run finished and is ignored.
        stopIfRequested();
        break;
    default:
        // Auditing, executing or paused on the audit: the next step sees the pending stop. The
        // prompts of this message's later proposals go now: nothing of them will run.
        m_approvalTimer.stop();
        withdrawRequests();
        break;
    }
}

bool RunController::stopIfRequested() {
    if (m_pendingStop.isEmpty())
        return false;
    m_approvalTimer.stop();
    withdrawRequests();
    QList<AuditEvent> cancelled =
        cancelOpenCalls(tr("The run stopped (%1) before this call ran.").arg(m_pendingStop));
    if (cancelled.isEmpty()) {
        finish(m_pendingStop, m_pendingError);
        return true;
    }
    // All of them in one transaction.
    commit(std::move(cancelled), [this] { finish(m_pendingStop, m_pendingError); });
    return true;
}

QList<AuditEvent> RunController::cancelOpenCalls(const QString& reason) {
    // Every recorded proposal of the message that has not run (or been refused) is cancelled,
    // in the message's order: none is left "proposed" or "approved" in the store.
    QList<AuditEvent> cancelled;
    for (Proposal& p : m_proposals) {
        if (!p.proposedRecorded || p.settled)
            continue;
        p.settled = true;
        ++m_report.cancelled;
        recordOutcome(p, QStringLiteral("cancelled"));
        spendToken(p, false);
        emit proposalExecuted(p.call.id, QStringLiteral("cancelled"), QString());
        cancelled.append(AuditEvent::callCancelled(m_config.runId, p.call.id, reason));
    }
    return cancelled;
}

bool RunController::budgetExceeded() const {
    const auto limit = m_budget->limits().runMicros;
    return limit && m_budget->runSpent() >= *limit;
}

void RunController::beginTurn() {
    if (stopIfRequested())
        return;
    if (budgetExceeded()) {
        finish(QStringLiteral("budget_exceeded"));
        return;
    }
    if (m_steps >= m_config.limits.maxSteps) {
        finish(QStringLiteral("max_steps"));
        return;
    }
    trimContext();
    // Nothing to check for a provider that bills nothing (the replay): no budget applies.
    if (!m_report.billed) {
        sendTurn();
        return;
    }
    // The money gate: the most this turn can cost is checked before anything is sent.
    const qint64 promptTokens = m_contextTokens + m_charsSince / 4;
    const std::optional<qint64> estimate =
        m_s.costs ? m_s.costs->turnEstimateMicros(m_config.model, promptTokens, m_config.maxTokens)
                  : std::nullopt;
    const BudgetGuard::Verdict verdict = m_budget->checkBeforeTurn(estimate);
    if (verdict.decision == BudgetGuard::Decision::Allow) {
        sendTurn();
        return;
    }
    const Error error{QStringLiteral("budget.exceeded"), verdict.reason};
    if (verdict.decision == BudgetGuard::Decision::Stop || !m_s.askBudget) {
        finish(QStringLiteral("budget_exceeded"), error);
        return;
    }
    m_phase = Phase::AwaitingBudget;
    const quint64 generation = m_generation;
    QPointer<RunController> self(this);
    m_s.askBudget(verdict.reason, [self, generation, error](bool goOn) {
        if (!self || generation != self->m_generation || self->m_phase != Phase::AwaitingBudget)
            return;
        if (self->stopIfRequested())
            return;
        if (goOn)
            self->sendTurn();
        else
            self->finish(QStringLiteral("budget_exceeded"), error);
    });
}

void RunController::sendTurn() {
    ++m_steps;
    m_report.steps = m_steps;
    m_proposals.clear();
    m_current = 0;
    m_limitStop.clear();
    m_turnText.clear();
    const ModelRequest request = buildRequest();
    m_phase = Phase::Streaming;
    emit turnStarted(m_steps);
    m_s.provider->startTurn(request);
}

void RunController::raiseAlert(Alert::Category category, Alert::Level level, const QString& message,
                               const QJsonObject& details) {
    if (m_s.alerts)
        m_s.alerts->raise(category, level, message, m_config.runId, details);
}

void RunController::recordOutcome(const QString& outcome, double seconds) {
    recordOutcome(current(), outcome, seconds);
}

void RunController::recordOutcome(const Proposal& p, const QString& outcome, double seconds) {
    m_telemetry->recordToolExecution(p.call.toolName, p.scope, outcome, seconds);
}

ModelRequest RunController::buildRequest() {
    ModelRequest request;
    request.model = m_config.model;
    request.maxTokens = m_config.maxTokens;
    request.systemPrompt = m_config.agent.systemPrompt;
    request.tools = m_toolDefinitions;
    request.messages = m_messages;
    return request;
}

void RunController::trimContext() {
    const qint64 limit = qint64(double(m_config.contextWindow) * m_config.contextShare);
    qint64 estimate = m_contextTokens + m_charsSince / 4;
    if (limit <= 0 || estimate <= limit)
        return;
    const QString marker = tr("[older tool output removed to keep the conversation within the "
                              "context window]");
    int replaced = 0;
    // Oldest tool outputs first; the newest results message is what the model needs next.
    for (qsizetype i = 0; i + 1 < m_messages.size() && estimate > limit; ++i) {
        QJsonObject message = m_messages.at(i).toObject();
        if (message.value(QLatin1String("role")).toString() != QLatin1String("user"))
            continue;
        QJsonArray content = message.value(QLatin1String("content")).toArray();
        bool changed = false;
        for (qsizetype b = 0; b < content.size() && estimate > limit; ++b) {
            QJsonObject block = content.at(b).toObject();
            if (block.value(QLatin1String("type")).toString() != QLatin1String("tool_result"))
                continue;
            const qint64 chars = jsonChars(block.value(QLatin1String("content")));
            if (chars <= marker.size())
                continue;
            block.insert(QStringLiteral("content"), marker);
            content[b] = block;
            estimate -= (chars - marker.size()) / 4;
            m_charsSince -= chars - marker.size();
            changed = true;
            ++replaced;
        }
        if (changed) {
            message.insert(QStringLiteral("content"), content);
            m_messages[i] = message;
        }
    }
    if (replaced > 0) {
        m_report.contextTrims += replaced;
        emit contextTrimmed(replaced);
    }
}

void RunController::onAttemptFinished(const ApiAttempt& attempt) {
    ++m_report.apiCalls;
    AuditEvent::ApiCallInfo info;
    info.model = attempt.model.isEmpty() ? m_config.model : attempt.model;
    info.requestId = attempt.requestId;
    info.attempt = attempt.attempt;
    info.inputTokens = attempt.usage.inputTokens;
    info.outputTokens = attempt.usage.outputTokens;
    info.cacheWriteTokens = attempt.usage.cacheCreationInputTokens;
    info.cacheReadTokens = attempt.usage.cacheReadInputTokens;
    info.latencyMs = attempt.latencyMs;
    info.httpStatus = attempt.httpStatus;
    info.errorType = attempt.succeeded()
                         ? QString()
                         : (attempt.errorType.isEmpty() ? attempt.error.code : attempt.errorType);
    if (attempt.usage.known) {
        m_report.inputTokens += attempt.usage.inputTokens;
        m_report.outputTokens += attempt.usage.outputTokens;
        m_report.cacheWriteTokens += attempt.usage.cacheCreationInputTokens;
        m_report.cacheReadTokens += attempt.usage.cacheReadInputTokens;
        // A replayed call costs nothing: 0 exactly, whatever the model's price.
        const auto cost =
            !m_report.billed
                ? std::optional<qint64>(0)
                : (m_s.costs ? m_s.costs->costMicros(info.model, attempt.usage, m_config.runId)
                             : std::optional<qint64>());
        info.costMicros = cost;
        if (cost)
            m_report.costMicros = m_report.costMicros.value_or(0) + *cost;
        else
            m_report.costComplete = false;
        m_budget->recordSpend(cost);
        m_telemetry->recordTokens(info.model, attempt.usage);
        m_telemetry->recordCost(info.model, cost);
    } else if (attempt.succeeded()) {
        m_report.costComplete = false;
    }
    m_telemetry->recordApiCall(
        info.model,
        attempt.succeeded()
            ? QStringLiteral("ok")
            : (attempt.httpStatus > 0
                   ? QString::number(attempt.httpStatus)
                   : (info.errorType.isEmpty() ? QStringLiteral("error") : info.errorType)),
        attempt.latencyMs / 1000.0);
    // Recorded with the turn's next write (onTurnFinished/Failed defer them).
    m_apiEvents.append(AuditEvent::apiCall(m_config.runId, info));
    emit apiAttempt(attempt);
}

void RunController::onTurnFailed(const Error& error) {
    m_phase = Phase::Auditing;
    QList<AuditEvent> events = std::move(m_apiEvents);
    m_apiEvents.clear();
    // Recorded with the end of the run.
    deferAll(std::move(events), [this, error] {
        if (!m_pendingStop.isEmpty()) {
            finish(m_pendingStop, m_pendingError);
            return;
        }
        finish(QStringLiteral("api_error"), error);
    });
}

void RunController::onTurnFinished(const AssistantMessage& message) {
    m_phase = Phase::Auditing;
    // Exactly as received: the content array is never rebuilt (thinking signatures intact).
    m_messages.append(message.toRequestMessage());
    if (message.usage.known) {
        m_contextTokens = message.usage.inputTokens + message.usage.cacheCreationInputTokens +
                          message.usage.cacheReadInputTokens + message.usage.outputTokens;
        m_charsSince = 0;
    } else {
        m_charsSince += jsonChars(message.content);
    }
    if (!m_turnText.isEmpty())
        m_report.finalText = m_turnText;
    QList<AuditEvent> events = std::move(m_apiEvents);
    m_apiEvents.clear();
    // The turn's API calls gate nothing: they go with the next write (the first proposal's,
    // or the end of the run), ahead of it in the chain.
    deferAll(std::move(events), [this, message] {
        if (stopIfRequested())
            return;
        if (budgetExceeded()) {
            finish(QStringLiteral("budget_exceeded"));
            return;
        }
        const QString reason = message.stopReason;
        if (reason == kToolUse) {
            for (const QJsonValue& value : message.content) {
                const QJsonObject block = value.toObject();
                if (block.value(QLatin1String("type")).toString() != kToolUse)
                    continue;
                Proposal p;
                p.call.id = block.value(QLatin1String("id")).toString();
                p.call.runId = m_config.runId;
                p.call.toolName = block.value(QLatin1String("name")).toString();
                p.call.arguments = block.value(QLatin1String("input")).toObject();
                m_proposals.append(p);
            }
            if (m_proposals.isEmpty()) {
                finish(QStringLiteral("api_error"),
                       Error{QStringLiteral("run.no_tool_use"),
                             tr("The model stopped for tool use but proposed no tool call.")});
                return;
            }
            m_current = 0;
            evaluateNext();
        } else if (reason == QLatin1String("end_turn") ||
                   reason == QLatin1String("stop_sequence")) {
            finish(QStringLiteral("completed"));
        } else if (reason == QLatin1String("pause_turn")) {
            if (++m_pauseTurns > m_config.maxPauseTurns) {
                finish(QStringLiteral("api_error"),
                       Error{QStringLiteral("run.pause_limit"),
                             tr("The model paused its turn more than %1 times.")
                                 .arg(m_config.maxPauseTurns)});
                return;
            }
            // The paused assistant content is already appended unchanged: resend as is, once
            // this turn's API calls are recorded (a turn costs money).
            commit({}, [this] { beginTurn(); });
        } else if (reason == QLatin1String("max_tokens")) {
            finish(QStringLiteral("max_tokens"),
                   Error{QStringLiteral("run.max_tokens"),
                         tr("The model's answer was cut at max_tokens (%1); a truncated tool "
                            "call is never run. Retry with a larger max_tokens.")
                             .arg(m_config.maxTokens)});
        } else if (reason == QLatin1String("refusal")) {
            m_report.stopDetails = message.stopDetails;
            finish(QStringLiteral("provider_refused"),
                   Error{QStringLiteral("run.refused"),
                         tr("The model declined to continue: %1")
                             .arg(message.stopDetails.value(QLatin1String("explanation"))
                                      .toString(tr("no explanation given")))});
        } else if (reason == QLatin1String("model_context_window_exceeded")) {
            finish(QStringLiteral("context_exhausted"),
                   Error{QStringLiteral("run.context_exhausted"),
                         tr("The conversation no longer fits the model's context window.")});
        } else {
            finish(QStringLiteral("api_error"),
                   Error{QStringLiteral("api.unknown_stop_reason"),
                         tr("The model stopped for a reason this version does not know: "
                            "\"%1\". Nothing was proposed.")
                             .arg(reason)});
        }
    });
}

void RunController::evaluateNext() {
    if (stopIfRequested())
        return;
    if (m_current >= m_proposals.size()) {
        m_current = 0;
        const bool asks = m_s.gate && std::any_of(m_proposals.cbegin(), m_proposals.cend(),
                                                  [](const Proposal& p) {
                                                      return p.policy && p.policy->isAsk();
                                                  });
        if (!asks) {
            // The proposals and their policy checks go with the first decision's write.
            requestApprovals();
            processNext();
            return;
        }
        // A person will be asked: what they are asked about is on record first.
        commit({}, [this] {
            if (stopIfRequested())
                return;
            requestApprovals();
            processNext();
        });
        return;
    }
    Proposal& p = current();
    ++m_toolCalls;
    ++m_report.proposed;
    p.callsBefore = m_toolCalls - 1;
    const auto spec = m_s.registry->spec(p.call.toolName);
    p.known = spec.has_value();
    p.scopeValue = spec ? spec->scope : Scope::Execute;
    p.scope = spec ? scopeToString(spec->scope) : QStringLiteral("unknown");
    emit proposalAdded(p.call.id, p.call.toolName, p.scope, p.call.arguments);
    // "proposed" and "policy checked" gate nothing on their own: they are committed in one
    // transaction with what follows (the approval or denial), or before a person is asked.
    defer(AuditEvent::callProposed(m_config.runId, p.call.id, m_steps, p.call.toolName, p.scope,
                                   p.call.arguments),
          [this] {
              Proposal& p = current();
              p.proposedRecorded = true;
              if (stopIfRequested())
                  return;
              RunState state;
              state.runId = m_config.runId;
              state.toolCallsSoFar = p.callsBefore;
              state.stepsSoFar = m_steps;
              state.elapsedSeconds = m_clock.elapsed() / 1000;
              state.nowSeconds = QDateTime::currentSecsSinceEpoch();
              state.callTimesByTool = m_callTimes;
              PolicyDecision decision = m_s.policy->evaluate(p.call, state);
              // The run's own limits and the agent's tool list narrow what the policy allows.
              if (!decision.isDeny() && p.callsBefore + 1 > m_config.limits.maxToolCalls) {
                  decision = PolicyDecision{};
                  decision.kind = PolicyDecision::Kind::Deny;
                  decision.code = QStringLiteral("policy.limit.tool_calls");
                  decision.source = DecisionSource::Limit;
                  decision.reason = tr("The run reached its limit of %1 tool calls.")
                                        .arg(m_config.limits.maxToolCalls);
              } else if (!decision.isDeny() && !m_config.agent.tools.isEmpty() &&
                         !m_config.agent.tools.contains(p.call.toolName)) {
                  decision = PolicyDecision{};
                  decision.kind = PolicyDecision::Kind::Deny;
                  decision.code = QStringLiteral("policy.agent_tool");
                  decision.source = DecisionSource::Allowlist;
                  decision.reason = tr("The agent \"%1\" may not use %2.")
                                        .arg(m_config.agent.name, p.call.toolName);
              }
              m_callTimes[p.call.toolName].append(state.nowSeconds);
              p.policy = decision;
              defer(AuditEvent::policyChecked(m_config.runId, p.call.id, decision), [this] {
                  ++m_current;
                  evaluateNext();
              });
          });
}

void RunController::requestApprovals() {
    if (!m_s.gate)
        return;
    QList<qsizetype> asks;
    for (qsizetype i = 0; i < m_proposals.size(); ++i)
        if (m_proposals.at(i).policy && m_proposals.at(i).policy->isAsk())
            asks.append(i);
    // All of the message's asks at once, in its order: a person can decide them one by one or
    // together. They are still applied (token, audit, execution) one at a time in order.
    for (qsizetype k = 0; k < asks.size(); ++k) {
        Proposal& p = m_proposals[asks.at(k)];
        PendingApproval pending;
        pending.call = p.call;
        pending.scope = p.scopeValue;
        pending.decision = *p.policy;
        pending.step = m_steps;
        pending.workspaceRoot = m_s.workspace->root();
        pending.batchIndex = int(k);
        pending.batchSize = int(asks.size());
        p.asked = true;
        m_telemetry->recordApprovalRequested(QStringLiteral("person"));
        m_s.gate->request(pending);
    }
    if (!asks.isEmpty() && m_config.approvalTimeoutMs > 0)
        m_approvalTimer.start(m_config.approvalTimeoutMs);
}

bool RunController::hasOpenRequests() const {
    for (const Proposal& p : m_proposals)
        if (p.asked && !p.answer && !p.settled)
            return true;
    return false;
}

void RunController::withdrawRequests() {
    if (!m_s.gate)
        return;
    for (Proposal& p : m_proposals)
        if (p.asked && !p.answer && !p.settled) {
            p.asked = false;
            m_s.gate->cancel(m_config.runId, p.call.id);
        }
}

void RunController::processNext() {
    if (stopIfRequested())
        return;
    if (m_current >= m_proposals.size()) {
        sendResults();
        return;
    }
    decide(*current().policy);
}

void RunController::decide(const PolicyDecision& decision) {
    if (stopIfRequested())
        return;
    const QString limit = limitStopReason(decision.code);
    if (!limit.isEmpty() && m_limitStop.isEmpty())
        m_limitStop = limit;
    m_telemetry->recordPolicyDecision(decision.isDeny()    ? QStringLiteral("deny")
                                      : decision.isAllow() ? QStringLiteral("allow")
                                                           : QStringLiteral("ask"));
    if (decision.isDeny()) {
        raiseAlert(Alert::Category::PolicyViolation, Alert::Level::Warning,
                   tr("The policy denied %1 (%2): %3")
                       .arg(current().call.toolName, decision.code, decision.reason),
                   QJsonObject{{QStringLiteral("callId"), current().call.id},
                               {QStringLiteral("code"), decision.code}});
        deny(QStringLiteral("rule"), QStringLiteral("policy"), decision.reason,
             tr("Denied by policy (%1): %2").arg(decision.code, decision.reason));
        return;
    }
    if (decision.isAllow()) {
        approve(ApprovalDecision::approve(QStringLiteral("rule"), QStringLiteral("policy"),
                                          decision.reason));
        return;
    }
    if (!m_s.gate) {
        const QString reason =
            tr("A person's approval is needed (%1), but no one can approve in this session.")
                .arg(decision.reason);
        deny(QStringLiteral("none"), QStringLiteral("no approver"), reason,
             tr("Denied: %1").arg(reason));
        return;
    }
    const Proposal& p = current();
    if (p.answer) {
        // Decided while an earlier proposal of the message was still running.
        applyAnswer(*p.answer);
        return;
    }
    if (!p.asked) {
        // Withdrawn (cannot happen without a stop, which was handled above): never run it.
        expire(tr("The request was withdrawn."));
        return;
    }
    m_phase = Phase::AwaitingApproval;
}

void RunController::onGateDecided(const QString& runId, const QString& callId,
                                  const ApprovalDecision& decision) {
    if (runId != m_config.runId || !isRunning() || m_phase == Phase::Finishing)
        return;
    qsizetype index = -1;
    for (qsizetype i = 0; i < m_proposals.size(); ++i)
        if (m_proposals.at(i).call.id == callId)
            index = i;
    if (index < 0)
        return;
    Proposal& p = m_proposals[index];
    if (!p.asked || p.answer || p.settled)
        return;
    p.answer = decision;
    if (!hasOpenRequests())
        m_approvalTimer.stop();
    // Later proposals keep their answer until the earlier ones are done: the message's order.
    if (m_phase == Phase::AwaitingApproval && index == m_current)
        applyAnswer(decision);
}

void RunController::applyAnswer(const ApprovalDecision& decision) {
    switch (decision.kind) {
    case ApprovalDecision::Kind::Approve:
        if (decision.editedArguments && *decision.editedArguments != current().call.arguments)
            approveEdited(decision);
        else
            approve(decision);
        return;
    case ApprovalDecision::Kind::Expired:
        expire(decision.reason);
        return;
    case ApprovalDecision::Kind::Deny: {
        QString text = decision.approverKind == QLatin1String("person")
                           ? tr("Denied by the person reviewing this call.")
                           : tr("Denied: %1").arg(decision.reason);
        if (!decision.feedback.isEmpty())
            text += QLatin1Char('\n') + tr("Feedback from the reviewer: %1").arg(decision.feedback);
        QString reason = decision.reason;
        if (!decision.feedback.isEmpty())
            reason += (reason.isEmpty() ? QString() : QStringLiteral(" — ")) + decision.feedback;
        if (decision.approverKind == QLatin1String("person"))
            raiseAlert(Alert::Category::ApprovalDenied, Alert::Level::Info,
                       tr("%1 denied %2.")
                           .arg(decision.approver.isEmpty() ? tr("A person") : decision.approver,
                                current().call.toolName),
                       QJsonObject{{QStringLiteral("callId"), current().call.id}});
        deny(decision.approverKind, decision.approver, reason, text, evidenceOf(decision));
        return;
    }
    }
}

void RunController::approveEdited(const ApprovalDecision& decision) {
    Proposal& p = current();
    ToolCall edited = p.call;
    edited.arguments = *decision.editedArguments;
    // The edited call is a new proposal as far as the policy is concerned: a person's edit must
    // not be a way around a deny rule or the schema.
    RunState state;
    state.runId = m_config.runId;
    state.toolCallsSoFar = p.callsBefore;
    state.stepsSoFar = m_steps;
    state.elapsedSeconds = m_clock.elapsed() / 1000;
    state.nowSeconds = QDateTime::currentSecsSinceEpoch();
    const PolicyDecision again = m_s.policy->evaluate(edited, state);
    if (again.isDeny()) {
        deny(QStringLiteral("rule"), QStringLiteral("policy"),
             tr("The edited arguments were refused: %1").arg(again.reason),
             tr("Denied by policy (%1) after the reviewer edited the arguments: %2")
                 .arg(again.code, again.reason));
        return;
    }
    p.call.arguments = edited.arguments;
    p.edited = true;
    approve(decision);
}

void RunController::onApprovalTimeout() {
    if (!isRunning() || m_phase == Phase::Finishing)
        return;
    ApprovalDecision expired;
    expired.kind = ApprovalDecision::Kind::Expired;
    expired.approverKind.clear();
    expired.reason = tr("No decision within %1 s.").arg(m_config.approvalTimeoutMs / 1000.0);
    // Every request of the message still open expires; each is recorded so in its turn.
    for (Proposal& p : m_proposals)
        if (p.asked && !p.answer && !p.settled) {
            m_s.gate->cancel(m_config.runId, p.call.id);
            p.answer = expired;
        }
    if (m_phase == Phase::AwaitingApproval && current().answer)
        applyAnswer(*current().answer);
}

void RunController::approve(const ApprovalDecision& decision) {
    Proposal& p = current();
    QString token = decision.token;
    if (token.isEmpty()) {
        const auto minted =
            m_s.tokens->mint(p.call.toolName, p.scopeValue, p.call.arguments, m_config.runId);
        if (!minted) {
            deny(QStringLiteral("rule"), QStringLiteral("token service"), minted.error().toString(),
                 tr("Not run: no approval token could be issued (%1).").arg(minted.error().code));
            return;
        }
        token = *minted;
    }
    ++m_report.approved;
    m_telemetry->recordApproval(decision.approverKind, true);
    commitApproval(decision, token);
}

void RunController::commitApproval(const ApprovalDecision& decision, const QString& token) {
    Proposal& p = current();
    const auto jti = m_s.tokens->jtiOf(token);
    const QString kind = decision.approverKind;
    const QString reason = decision.reason;
    // After a pause on the audit: the refused "approved" was never committed and its token
    // never consumed nor shown to anyone; a token this run minted is replaced by a fresh one
    // (new jti, full lifetime), so the approval on record is the one that runs. A
    // pre-authorised token is kept (if it expired meanwhile, the executor refuses it).
    auto retry = [this, decision, token] {
        QString fresh = token;
        if (decision.token.isEmpty()) {
            const Proposal& p = current();
            if (const auto minted = m_s.tokens->mint(p.call.toolName, p.scopeValue,
                                                     p.call.arguments, m_config.runId))
                fresh = *minted;
        }
        commitApproval(decision, fresh);
    };
    audit(
        withEvidence(AuditEvent::callApproved(m_config.runId, p.call.id, kind, decision.approver,
                                              jti ? *jti : QString(),
                                              p.edited ? decision.editedArguments : std::nullopt),
                     decision),
        [this, token, kind, reason] {
            Proposal& p = current();
            emit proposalDecided(p.call.id, QStringLiteral("approved"), kind, reason);
            // What the token binds and how long it lives, for the person to compare and watch.
            if (const auto claims = m_s.tokens->verify(token, {})) {
                p.tokenIssued = true;
                emit proposalTokenIssued(p.call.id, claims->argsSha256.left(12),
                                         claims->exp * 1000);
            }
            if (stopIfRequested())
                return;
            if (m_config.dryRun) {
                spendToken(p, false);
                ++m_report.dryRunSkipped;
                recordOutcome(QStringLiteral("dry_run"));
                const QString text =
                    tr("[dry run] %1 was approved but not executed: this run is a dry run, so "
                       "no tool runs. Nothing changed.")
                        .arg(p.call.toolName);
                audit(AuditEvent::callCancelled(m_config.runId, p.call.id,
                                                tr("dry run: approved, not executed")),
                      [this, text] {
                          emit proposalExecuted(current().call.id, QStringLiteral("dry_run"), text);
                          settle(text, false);
                      });
                return;
            }
            execute(token);
        },
        std::move(retry));
}

void RunController::deny(const QString& approverKind, const QString& approver,
                         const QString& reason, const QString& modelText,
                         const AuditEvent::DecisionEvidence& evidence) {
    ++m_report.denied;
    m_telemetry->recordApproval(approverKind, false);
    recordOutcome(QStringLiteral("denied"));
    audit(withEvidence(AuditEvent::callDenied(m_config.runId, current().call.id, approverKind,
                                              approver, reason),
                       evidence),
          [this, approverKind, reason, modelText] {
              emit proposalDecided(current().call.id, QStringLiteral("denied"), approverKind,
                                   reason);
              settle(modelText, true);
          });
}

void RunController::expire(const QString& reason) {
    ++m_report.expired;
    recordOutcome(QStringLiteral("expired"));
    raiseAlert(Alert::Category::TokenExpired, Alert::Level::Warning,
               tr("The approval request for %1 expired: %2").arg(current().call.toolName, reason),
               QJsonObject{{QStringLiteral("callId"), current().call.id}});
    audit(AuditEvent::callExpired(m_config.runId, current().call.id, reason), [this, reason] {
        emit proposalDecided(current().call.id, QStringLiteral("expired"), QString(), reason);
        settle(tr("Not run: the approval request expired (%1).").arg(reason), true);
    });
}

void RunController::execute(const QString& token) {
    m_phase = Phase::Executing;
    const Proposal& p = current();
    emit proposalExecuting(p.call.id);
    const ToolRegistry* registry = m_s.registry;
    const Workspace* workspace = m_s.workspace;
    const TokenService* tokens = m_s.tokens;
    const PolicyEngine* policy = m_s.policy;
    const auto openLedger = m_s.openLedger;
    const ToolCall call = p.call;
    m_exec = QtConcurrent::run([registry, workspace, tokens, policy, openLedger, call, token] {
        ExecResult result;
        QElapsedTimer clock;
        clock.start();
        auto ledger = openLedger ? openLedger()
                                 : Result<std::unique_ptr<TokenLedger>>(std::unexpected(
                                       Error{QStringLiteral("ledger.open"), QString()}));
        if (!ledger) {
            result.outcome.result = std::unexpected(ledger.error());
            return result;
        }
        ToolExecutor executor(*registry, *workspace, *tokens, **ledger);
        // A pre-authorised token or a path re-pointed after approval must not beat a deny rule.
        executor.setPolicyGuard(policy);
        result.outcome = executor.execute(call, token);
        result.durationMs = clock.elapsed();
        return result;
    });
    auto* watcher = new QFutureWatcher<ExecResult>(this);
    const quint64 generation = m_generation;
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        if (generation == m_generation)
            onExecuted(watcher->result());
    });
    watcher->setFuture(m_exec);
}

void RunController::spendToken(Proposal& p, bool used) {
    if (!p.tokenIssued || p.tokenSpent)
        return;
    p.tokenSpent = true;
    emit proposalTokenSpent(p.call.id, used);
}

void RunController::onExecuted(const ExecResult& result) {
    Proposal& p = current();
    const auto& outcome = result.outcome;
    spendToken(p, outcome.tokenConsumed);
    const LogContext context(m_config.runId, p.call.id);
    if (!outcome.result) {
        const Error& e = outcome.result.error();
        ++m_report.failed;
        recordOutcome(QStringLiteral("failed"), result.durationMs / 1000.0);
        qCWarning(lcRun) << "tool call not run or failed:" << p.call.toolName << e.code
                         << e.message;
        const bool expired = e.code == QLatin1String("token.expired");
        raiseAlert(
            expired ? Alert::Category::TokenExpired : Alert::Category::ExecutionError,
            Alert::Level::Warning,
            expired ? tr("%1 was refused: its approval token had expired.").arg(p.call.toolName)
                    : tr("%1 failed (%2): %3").arg(p.call.toolName, e.code, e.message),
            QJsonObject{{QStringLiteral("callId"), p.call.id}, {QStringLiteral("code"), e.code}});
        const QString text = outcome.tokenConsumed
                                 ? tr("%1 failed (%2): %3").arg(p.call.toolName, e.code, e.message)
                                 : tr("Not run (%1): %2").arg(e.code, e.message);
        audit(AuditEvent::callFailed(m_config.runId, p.call.id, p.call.arguments,
                                     QStringLiteral("%1: %2").arg(e.code, e.message), QString(),
                                     result.durationMs),
              [this, text] {
                  emit proposalExecuted(current().call.id, QStringLiteral("failed"), text);
                  settle(text, true);
              });
        return;
    }
    const ToolResult& tool = *outcome.result;
    const QString forModel = capOutput(tool.output);
    const bool isPlan = p.call.toolName == QLatin1String("update_plan") && !tool.isError;
    const QJsonArray plan = p.call.arguments.value(QLatin1String("steps")).toArray();
    auto done = [this, forModel, isError = tool.isError] {
        emit proposalExecuted(current().call.id,
                              isError ? QStringLiteral("failed") : QStringLiteral("executed"),
                              forModel);
        settle(forModel, isError);
    };
    AuditEvent event = tool.isError
                           ? AuditEvent::callFailed(m_config.runId, p.call.id, p.call.arguments,
                                                    tr("the tool reported failure"), tool.output,
                                                    result.durationMs)
                           : AuditEvent::callExecuted(m_config.runId, p.call.id, p.call.arguments,
                                                      tool.output, result.durationMs);
    qCDebug(lcRun) << "tool result:" << p.call.toolName << (tool.isError ? "error" : "ok")
                   << forModel.left(2000);
    recordOutcome(tool.isError ? QStringLiteral("failed") : QStringLiteral("executed"),
                  result.durationMs / 1000.0);
    if (tool.isError) {
        ++m_report.failed;
        raiseAlert(Alert::Category::ExecutionError, Alert::Level::Warning,
                   tr("%1 reported a failure.").arg(p.call.toolName),
                   QJsonObject{{QStringLiteral("callId"), p.call.id}});
    } else {
        ++m_report.executed;
    }
    if (!isPlan) {
        audit(event, done);
        return;
    }
    // The plan goes in the same transaction as the result of the call that set it.
    m_report.plan = plan;
    commit({event, AuditEvent::planUpdated(m_config.runId, plan)}, [this, plan, done] {
        emit planUpdated(plan);
        done();
    });
}

QString RunController::capOutput(const QString& output) const {
    const int cap = m_config.maxToolResultChars;
    if (cap <= 0 || output.size() <= cap)
        return output;
    qsizetype cut = cap;
    if (output.at(cut - 1).isHighSurrogate())
        --cut;
    return output.left(cut) +
           tr("\n[output cut: showing the first %1 of %2 characters]").arg(cut).arg(output.size());
}

void RunController::settle(const QString& result, bool isError) {
    Proposal& p = current();
    p.settled = true;
    // The conversation still holds the proposed arguments: the model must learn what ran.
    p.result = p.edited
                   ? tr("The reviewer changed the arguments before approving; this ran "
                        "with: %1\n%2")
                         .arg(QString::fromUtf8(CanonicalJson::serialize(p.call.arguments)), result)
                   : result;
    p.isError = isError;
    ++m_current;
    processNext();
}

void RunController::sendResults() {
    QJsonArray content;
    for (const Proposal& p : std::as_const(m_proposals)) {
        QJsonObject block{{QStringLiteral("type"), QStringLiteral("tool_result")},
                          {QStringLiteral("tool_use_id"), p.call.id},
                          {QStringLiteral("content"), p.result}};
        if (p.isError)
            block.insert(QStringLiteral("is_error"), true);
        content.append(block);
        m_charsSince += p.result.size() + 64;
    }
    m_messages.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                  {QStringLiteral("content"), content}});
    if (!m_limitStop.isEmpty()) {
        finish(m_limitStop);
        return;
    }
    beginTurn();
}

void RunController::finish(const QString& stopReason, const Error& error) {
    if (m_phase == Phase::Finishing || m_phase == Phase::Finished)
        return;
    m_phase = Phase::Finishing;
    m_runtimeTimer.stop();
    m_approvalTimer.stop();
    m_report.stopReason = stopReason;
    m_report.errorCode = error.code;
    m_report.errorMessage = error.message;
    m_report.durationMs = m_clock.isValid() ? m_clock.elapsed() : 0;
    if (m_clock.isValid()) {
        m_telemetry->runFinished(stopReason);
        const LogContext context(m_config.runId);
        qCInfo(lcRun) << "run finished:" << stopReason << error.code;
        if (m_s.alerts && m_s.monitoring)
            HealthMonitor::evaluate(*m_telemetry, *m_s.monitoring, *m_s.alerts);
    }

    AuditEvent::RunTotals totals;
    totals.stopReason = stopReason;
    totals.proposed = m_report.proposed;
    totals.approved = m_report.approved;
    totals.denied = m_report.denied;
    totals.executed = m_report.executed;
    totals.failed = m_report.failed;
    totals.steps = m_report.steps;
    totals.inputTokens = m_report.inputTokens;
    totals.outputTokens = m_report.outputTokens;
    totals.cacheWriteTokens = m_report.cacheWriteTokens;
    totals.cacheReadTokens = m_report.cacheReadTokens;
    totals.costMicros = m_report.costMicros;
    totals.costComplete = m_report.costComplete;

    QList<AuditEvent> events = std::move(m_deferred);
    m_deferred.clear();
    events.append(AuditEvent::runFinished(m_config.runId, totals));
    writeFinal(std::move(events));
}

void RunController::writeFinal(QList<AuditEvent> events) {
    const AuditWriter::Ticket ticket = m_s.audit->submit(events);
    auto* watcher = new QFutureWatcher<AuditAck>(this);
    connect(watcher, &QFutureWatcherBase::finished, this,
            [this, watcher, events = std::move(events)] {
                watcher->deleteLater();
                const AuditAck ack = watcher->result();
                // A run that ends because the audit failed does not wait for it again.
                if (!ack && m_report.stopReason != QLatin1String("audit_failed") &&
                    mayPause(ack.error())) {
                    pauseOnAudit(AuditPause{Phase::Finishing,
                                            {},
                                            events,
                                            [this, events] { writeFinal(events); },
                                            ack.error()});
                    return;
                }
                if (!ack && m_report.errorCode.isEmpty()) {
                    m_report.errorCode = ack.error().code;
                    m_report.errorMessage = ack.error().message;
                }
                m_phase = Phase::Finished;
                emit finished(m_report);
            });
    watcher->setFuture(ticket.ack);
}

} // namespace m1
