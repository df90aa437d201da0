#pragma once

#include "llm/TokenUsage.h"
#include "monitoring/HistogramSnapshot.h"
#include "monitoring/MetricsRegistry.h"

#include <QString>

#include <optional>

namespace m1 {

// The metrics of this process, with one named method per thing the run loop reports. Every method
// is thread-safe and cheap (a few label look-ups and relaxed atomics, well under a microsecond),
// so it can sit on the run's hot path. Metric names (Prometheus): see docs/monitoring.md.
//
// Label values are free text (tool names come from the model's proposals); each family is capped
// (MetricsRegistry::maxSeriesPerFamily) so a misbehaving model cannot grow memory without bound.
class Telemetry {
public:
    explicit Telemetry(MetricsRegistry* registry = nullptr);
    ~Telemetry();
    Telemetry(const Telemetry&) = delete;
    Telemetry& operator=(const Telemetry&) = delete;

    // The process-wide instance the run loop, the GUI and the /metrics endpoint share.
    static Telemetry& global();

    MetricsRegistry& registry() { return *m_registry; }
    const MetricsRegistry& registry() const { return *m_registry; }

    void runStarted();
    // stopReason as the run records it (completed, max_steps, budget, cancelled, error, ...).
    void runFinished(const QString& stopReason);
    // scope read/write/execute; outcome executed/failed/denied/expired/cancelled.
    void recordToolExecution(const QString& tool, const QString& scope, const QString& outcome,
                             double seconds);
    // decision allow/ask/deny
    void recordPolicyDecision(const QString& decision);
    // approverKind person/rule/token/auto
    void recordApprovalRequested(const QString& approverKind);
    void recordApproval(const QString& approverKind, bool granted);
    // status: "ok", or the HTTP status / transport error kind ("429", "connection_refused")
    void recordApiCall(const QString& model, const QString& status, double latencySeconds);
    void recordTokens(const QString& model, const TokenUsage& usage);
    // Empty cost: the model has no known price (counted apart, never as zero).
    void recordCost(const QString& model, std::optional<qint64> costMicros);
    void recordAlert(const QString& category, const QString& level);

    qint64 activeRuns() const;
    HistogramSnapshot toolLatency() const;
    HistogramSnapshot apiLatency() const;
    // Failed tool executions / all tool executions in this process (0 when none).
    double toolFailureRatio(quint64* total = nullptr) const;

private:
    std::unique_ptr<MetricsRegistry> m_owned;
    MetricsRegistry* m_registry;
    MetricsRegistry::FamilyHandle m_runsStarted;
    MetricsRegistry::FamilyHandle m_runsFinished;
    MetricsRegistry::FamilyHandle m_activeRuns;
    MetricsRegistry::FamilyHandle m_toolExecutions;
    MetricsRegistry::FamilyHandle m_toolDuration;
    MetricsRegistry::FamilyHandle m_policyDecisions;
    MetricsRegistry::FamilyHandle m_approvalRequests;
    MetricsRegistry::FamilyHandle m_approvalGrants;
    MetricsRegistry::FamilyHandle m_approvalDenials;
    MetricsRegistry::FamilyHandle m_apiCalls;
    MetricsRegistry::FamilyHandle m_apiDuration;
    MetricsRegistry::FamilyHandle m_tokens;
    MetricsRegistry::FamilyHandle m_cost;
    MetricsRegistry::FamilyHandle m_unpricedCalls;
    MetricsRegistry::FamilyHandle m_alerts;
    MetricsRegistry::Gauge m_activeRunsGauge;
    MetricsRegistry::Counter m_runsStartedCounter;
};

} // namespace m1
