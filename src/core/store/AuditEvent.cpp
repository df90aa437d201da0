#include "store/AuditEvent.h"

#include <QDateTime>

namespace m1 {

namespace {

AuditEvent make(AuditEvent::Kind kind, const QString& runId, const QString& requestId, qint64 at,
                QJsonObject data) {
    AuditEvent event;
    event.kind = kind;
    event.runId = runId;
    event.requestId = requestId;
    event.at = at;
    event.data = std::move(data);
    return event;
}

QJsonValue optionalMicros(const std::optional<qint64>& micros) {
    return micros ? QJsonValue(static_cast<double>(*micros)) : QJsonValue(QJsonValue::Null);
}

} // namespace

qint64 AuditEvent::now() {
    return QDateTime::currentMSecsSinceEpoch();
}

QString AuditEvent::kindName(Kind kind) {
    switch (kind) {
    case Kind::RunStarted:
        return QStringLiteral("run.started");
    case Kind::PlanUpdated:
        return QStringLiteral("run.plan");
    case Kind::RunFinished:
        return QStringLiteral("run.finished");
    case Kind::CallProposed:
        return QStringLiteral("call.proposed");
    case Kind::PolicyChecked:
        return QStringLiteral("call.policy");
    case Kind::CallApproved:
        return QStringLiteral("call.approved");
    case Kind::CallDenied:
        return QStringLiteral("call.denied");
    case Kind::CallExecuted:
        return QStringLiteral("call.executed");
    case Kind::CallFailed:
        return QStringLiteral("call.failed");
    case Kind::CallExpired:
        return QStringLiteral("call.expired");
    case Kind::CallCancelled:
        return QStringLiteral("call.cancelled");
    case Kind::ApiCall:
        return QStringLiteral("api.call");
    case Kind::AlertRaised:
        return QStringLiteral("alert.raised");
    case Kind::AlertResolved:
        return QStringLiteral("alert.resolved");
    }
    return QStringLiteral("unknown");
}

AuditEvent AuditEvent::runStarted(const QString& runId, const RunStart& start, qint64 at) {
    return make(Kind::RunStarted, runId, {}, at,
                {{"agent", start.agent},
                 {"goal", start.goal},
                 {"constraints", start.constraints},
                 {"model", start.model},
                 {"provider", start.provider},
                 {"workspace", start.workspace},
                 {"dry_run", start.dryRun}});
}

AuditEvent AuditEvent::planUpdated(const QString& runId, const QJsonValue& plan, qint64 at) {
    return make(Kind::PlanUpdated, runId, {}, at, {{"plan", plan}});
}

AuditEvent AuditEvent::runFinished(const QString& runId, const RunTotals& totals, qint64 at) {
    return make(Kind::RunFinished, runId, {}, at,
                {{"stop_reason", totals.stopReason},
                 {"proposed", totals.proposed},
                 {"approved", totals.approved},
                 {"denied", totals.denied},
                 {"executed", totals.executed},
                 {"failed", totals.failed},
                 {"steps", totals.steps},
                 {"input_tokens", static_cast<double>(totals.inputTokens)},
                 {"output_tokens", static_cast<double>(totals.outputTokens)},
                 {"cache_write_tokens", static_cast<double>(totals.cacheWriteTokens)},
                 {"cache_read_tokens", static_cast<double>(totals.cacheReadTokens)},
                 {"cost_micros", optionalMicros(totals.costMicros)},
                 {"cost_complete", totals.costComplete}});
}

AuditEvent AuditEvent::callProposed(const QString& runId, const QString& requestId, int step,
                                    const QString& toolName, const QString& scope,
                                    const QJsonObject& arguments, qint64 at) {
    return make(Kind::CallProposed, runId, requestId, at,
                {{"step", step}, {"tool", toolName}, {"scope", scope}, {"arguments", arguments}});
}

AuditEvent AuditEvent::policyChecked(const QString& runId, const QString& requestId,
                                     const PolicyDecision& decision, qint64 at) {
    return make(Kind::PolicyChecked, runId, requestId, at,
                {{"decision", decisionKindToString(decision.kind)},
                 {"reason", decision.reason},
                 {"code", decision.code},
                 {"source", decisionSourceToString(decision.source)},
                 {"rule", decision.ruleText},
                 {"rule_file", decision.ruleFile}});
}

AuditEvent AuditEvent::callApproved(const QString& runId, const QString& requestId,
                                    const QString& approverKind, const QString& approver,
                                    const QString& tokenJti,
                                    const std::optional<QJsonObject>& editedArguments, qint64 at) {
    QJsonObject data{{"approver_kind", approverKind}, {"approver", approver}, {"jti", tokenJti}};
    if (editedArguments)
        data.insert(QStringLiteral("edited_arguments"), *editedArguments);
    return make(Kind::CallApproved, runId, requestId, at, std::move(data));
}

AuditEvent AuditEvent::callDenied(const QString& runId, const QString& requestId,
                                  const QString& approverKind, const QString& approver,
                                  const QString& reason, qint64 at) {
    return make(Kind::CallDenied, runId, requestId, at,
                {{"approver_kind", approverKind}, {"approver", approver}, {"reason", reason}});
}

void AuditEvent::addDecisionEvidence(const DecisionEvidence& evidence) {
    if (kind != Kind::CallApproved && kind != Kind::CallDenied)
        return;
    if (!evidence.reason.isEmpty() && !data.contains(QLatin1String("reason")))
        data.insert(QStringLiteral("reason"), evidence.reason);
    if (evidence.decisionMs)
        data.insert(QStringLiteral("decision_ms"), static_cast<double>(*evidence.decisionMs));
    if (evidence.argsSeenWhole)
        data.insert(QStringLiteral("args_seen_whole"), *evidence.argsSeenWhole);
    if (evidence.inBatch)
        data.insert(QStringLiteral("batch"), *evidence.inBatch);
    if (!evidence.decidedBy.isEmpty())
        data.insert(QStringLiteral("decided_by"), evidence.decidedBy);
}

AuditEvent AuditEvent::callExecuted(const QString& runId, const QString& requestId,
                                    const QJsonObject& executedArguments, const QString& output,
                                    qint64 durationMs, qint64 at) {
    return make(Kind::CallExecuted, runId, requestId, at,
                {{"arguments", executedArguments},
                 {"output", output},
                 {"duration_ms", static_cast<double>(durationMs)}});
}

AuditEvent AuditEvent::callFailed(const QString& runId, const QString& requestId,
                                  const QJsonObject& executedArguments, const QString& error,
                                  const QString& output, qint64 durationMs, qint64 at) {
    return make(Kind::CallFailed, runId, requestId, at,
                {{"arguments", executedArguments},
                 {"error", error},
                 {"output", output},
                 {"duration_ms", static_cast<double>(durationMs)}});
}

AuditEvent AuditEvent::callExpired(const QString& runId, const QString& requestId,
                                   const QString& reason, qint64 at) {
    return make(Kind::CallExpired, runId, requestId, at, {{"reason", reason}});
}

AuditEvent AuditEvent::callCancelled(const QString& runId, const QString& requestId,
                                     const QString& reason, qint64 at) {
    return make(Kind::CallCancelled, runId, requestId, at, {{"reason", reason}});
}

AuditEvent AuditEvent::apiCall(const QString& runId, const ApiCallInfo& info, qint64 at) {
    return make(Kind::ApiCall, runId, {}, at,
                {{"model", info.model},
                 {"request_id", info.requestId},
                 {"attempt", info.attempt},
                 {"input_tokens", static_cast<double>(info.inputTokens)},
                 {"output_tokens", static_cast<double>(info.outputTokens)},
                 {"cache_write_tokens", static_cast<double>(info.cacheWriteTokens)},
                 {"cache_read_tokens", static_cast<double>(info.cacheReadTokens)},
                 {"cost_micros", optionalMicros(info.costMicros)},
                 {"latency_ms", static_cast<double>(info.latencyMs)},
                 {"http_status", info.httpStatus},
                 {"error_type", info.errorType}});
}

AuditEvent AuditEvent::alertRaised(const QString& alertId, const QString& category,
                                   const QString& level, const QString& message,
                                   const QString& runId, const QJsonObject& details, qint64 at) {
    // The alert's run goes into the payload, not the event's run_id: alerts are kept and pruned
    // on their own schedule, independent of the run's events.
    return make(Kind::AlertRaised, {}, alertId, at,
                {{"category", category},
                 {"level", level},
                 {"message", message},
                 {"run_id", runId},
                 {"details", details}});
}

AuditEvent AuditEvent::alertResolved(const QString& alertId, const QString& note, qint64 at) {
    return make(Kind::AlertResolved, {}, alertId, at, {{"note", note}});
}

} // namespace m1
