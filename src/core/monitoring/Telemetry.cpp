#include "monitoring/Telemetry.h"

namespace m1 {

Telemetry::Telemetry(MetricsRegistry* registry)
    : m_owned(registry ? nullptr : std::make_unique<MetricsRegistry>()),
      m_registry(registry ? registry : m_owned.get()) {
    MetricsRegistry& r = *m_registry;
    m_runsStarted = r.counterFamily(QStringLiteral("m1_runs_started_total"),
                                    QStringLiteral("Runs started by this process."));
    m_runsFinished =
        r.counterFamily(QStringLiteral("m1_runs_finished_total"),
                        QStringLiteral("Runs finished by this process, by stop reason."),
                        {QStringLiteral("stop_reason")});
    m_activeRuns = r.gaugeFamily(QStringLiteral("m1_active_runs"),
                                 QStringLiteral("Runs in progress in this process."));
    const QStringList toolLabels{QStringLiteral("tool"), QStringLiteral("scope"),
                                 QStringLiteral("outcome")};
    m_toolExecutions =
        r.counterFamily(QStringLiteral("m1_tool_executions_total"),
                        QStringLiteral("Tool calls by tool, scope and outcome."), toolLabels);
    m_toolDuration =
        r.histogramFamily(QStringLiteral("m1_tool_execution_duration_seconds"),
                          QStringLiteral("Tool execution time in seconds."), toolLabels);
    m_policyDecisions = r.counterFamily(QStringLiteral("m1_policy_decisions_total"),
                                        QStringLiteral("Policy decisions by decision."),
                                        {QStringLiteral("decision")});
    const QStringList approverLabel{QStringLiteral("approver_kind")};
    m_approvalRequests =
        r.counterFamily(QStringLiteral("m1_approval_requests_total"),
                        QStringLiteral("Approvals requested, by approver kind."), approverLabel);
    m_approvalGrants =
        r.counterFamily(QStringLiteral("m1_approval_grants_total"),
                        QStringLiteral("Approvals granted, by approver kind."), approverLabel);
    m_approvalDenials =
        r.counterFamily(QStringLiteral("m1_approval_denials_total"),
                        QStringLiteral("Approvals denied, by approver kind."), approverLabel);
    m_apiCalls = r.counterFamily(QStringLiteral("m1_api_calls_total"),
                                 QStringLiteral("Model API attempts by model and status."),
                                 {QStringLiteral("model"), QStringLiteral("status")});
    m_apiDuration = r.histogramFamily(QStringLiteral("m1_api_call_duration_seconds"),
                                      QStringLiteral("Model API attempt latency in seconds."),
                                      {QStringLiteral("model")});
    m_tokens = r.counterFamily(
        QStringLiteral("m1_tokens_total"),
        QStringLiteral("Tokens by model and kind (input, output, cache_write, cache_read)."),
        {QStringLiteral("model"), QStringLiteral("kind")});
    m_cost = r.counterFamily(QStringLiteral("m1_cost_microdollars_total"),
                             QStringLiteral("Cost of priced API calls in micro-dollars (USD)."),
                             {QStringLiteral("model")});
    m_unpricedCalls = r.counterFamily(QStringLiteral("m1_api_calls_unpriced_total"),
                                      QStringLiteral("API calls whose model has no known price."),
                                      {QStringLiteral("model")});
    m_alerts = r.counterFamily(QStringLiteral("m1_alerts_raised_total"),
                               QStringLiteral("Alerts raised by category and level."),
                               {QStringLiteral("category"), QStringLiteral("level")});
    m_activeRunsGauge = m_activeRuns.gauge();
    m_runsStartedCounter = m_runsStarted.counter();
}

Telemetry::~Telemetry() = default;

Telemetry& Telemetry::global() {
    static Telemetry instance;
    return instance;
}

void Telemetry::runStarted() {
    m_runsStartedCounter.inc();
    m_activeRunsGauge.add(1);
}

void Telemetry::runFinished(const QString& stopReason) {
    m_runsFinished.counter({stopReason}).inc();
    m_activeRunsGauge.add(-1);
}

void Telemetry::recordToolExecution(const QString& tool, const QString& scope,
                                    const QString& outcome, double seconds) {
    const QStringList labels{tool, scope, outcome};
    m_toolExecutions.counter(labels).inc();
    m_toolDuration.histogram(labels).observe(seconds);
}

void Telemetry::recordPolicyDecision(const QString& decision) {
    m_policyDecisions.counter({decision}).inc();
}

void Telemetry::recordApprovalRequested(const QString& approverKind) {
    m_approvalRequests.counter({approverKind}).inc();
}

void Telemetry::recordApproval(const QString& approverKind, bool granted) {
    (granted ? m_approvalGrants : m_approvalDenials).counter({approverKind}).inc();
}

void Telemetry::recordApiCall(const QString& model, const QString& status, double latencySeconds) {
    m_apiCalls.counter({model, status}).inc();
    m_apiDuration.histogram({model}).observe(latencySeconds);
}

void Telemetry::recordTokens(const QString& model, const TokenUsage& usage) {
    if (!usage.known)
        return;
    auto add = [&](const QString& kind, qint64 n) {
        if (n > 0)
            m_tokens.counter({model, kind}).inc(quint64(n));
    };
    add(QStringLiteral("input"), usage.inputTokens);
    add(QStringLiteral("output"), usage.outputTokens);
    add(QStringLiteral("cache_write"), usage.cacheCreationInputTokens);
    add(QStringLiteral("cache_read"), usage.cacheReadInputTokens);
}

void Telemetry::recordCost(const QString& model, std::optional<qint64> costMicros) {
    if (!costMicros) {
        m_unpricedCalls.counter({model}).inc();
        return;
    }
    if (*costMicros > 0)
        m_cost.counter({model}).inc(quint64(*costMicros));
}

void Telemetry::recordAlert(const QString& category, const QString& level) {
    m_alerts.counter({category, level}).inc();
}

qint64 Telemetry::activeRuns() const {
    return qint64(m_activeRunsGauge.value());
}

HistogramSnapshot Telemetry::toolLatency() const {
    return m_toolDuration.mergedSnapshot();
}

HistogramSnapshot Telemetry::apiLatency() const {
    return m_apiDuration.mergedSnapshot();
}

double Telemetry::toolFailureRatio(quint64* total) const {
    quint64 all = 0;
    quint64 failed = 0;
    m_registry->forEachFamily([&](const MetricsRegistry::Family& family) {
        if (family.name != QLatin1String("m1_tool_executions_total"))
            return;
        for (const auto& s : family.series) {
            const quint64 n = s->counter.load(std::memory_order_relaxed);
            all += n;
            if (s->labelValues.value(2) == QLatin1String("failed"))
                failed += n;
        }
    });
    if (total)
        *total = all;
    return all ? double(failed) / double(all) : 0.0;
}

} // namespace m1
