#pragma once

#include "monitoring/MetricsRegistry.h"
#include "util/Error.h"

#include <QCoreApplication>
#include <QString>

namespace m1 {

// Metrics that describe the whole audit trail, not only this process: counted from the store's
// tables at scrape time and published as gauges (they can go down when old runs are pruned),
// named m1_history_*. Combine with the live metrics:
//   MetricsRegistry history;
//   HistoryMetrics(store.connectionName()).collect(history);
//   MetricsExporter::prometheusText(Telemetry::global().registry(), &history);
// Reads on the given store connection (its thread). Errors: "metrics.query".
class HistoryMetrics {
    Q_DECLARE_TR_FUNCTIONS(HistoryMetrics)

public:
    explicit HistoryMetrics(QString connectionName) : m_connection(std::move(connectionName)) {}

    // Fills `into` (normally a fresh registry) with:
    //   m1_history_runs{stop_reason}            runs by stop reason ("running" while unfinished)
    //   m1_history_tool_calls{tool,status}      tool calls by tool and status
    //   m1_history_api_calls{model,status}      API attempts by model, "ok" or the error type
    //   m1_history_tokens{model,kind}           tokens by model and kind
    //   m1_history_cost_microdollars{model}     cost of priced calls
    //   m1_history_api_calls_unpriced{model}    calls whose cost is unknown
    //   m1_history_alerts_open{category,level}  open alerts
    Status collect(MetricsRegistry& into) const;

private:
    QString m_connection;
};

} // namespace m1
