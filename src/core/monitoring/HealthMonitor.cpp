#include "monitoring/HealthMonitor.h"

#include "config/MonitoringSettings.h"
#include "monitoring/AlertManager.h"
#include "monitoring/Telemetry.h"

#include <QJsonObject>

namespace m1 {

int HealthMonitor::evaluate(const Telemetry& telemetry, const MonitoringSettings& settings,
                            AlertManager& alerts) {
    int raised = 0;
    auto latency = [&](const HistogramSnapshot& snapshot, double threshold, const QString& what,
                       const QString& key) {
        if (snapshot.count() < kMinLatencySamples)
            return;
        const auto p95 = snapshot.quantile(0.95);
        if (!p95 || *p95 <= threshold)
            return;
        const auto r =
            alerts.raise(Alert::Category::Performance, Alert::Level::Warning,
                         tr("The 95th percentile of %1 is %2 s, above the threshold of %3 s.")
                             .arg(what)
                             .arg(*p95, 0, 'f', 3)
                             .arg(threshold),
                         {},
                         QJsonObject{{QStringLiteral("p95_seconds"), *p95},
                                     {QStringLiteral("threshold_seconds"), threshold},
                                     {QStringLiteral("samples"), qint64(snapshot.count())}},
                         key);
        if (!r.suppressed)
            ++raised;
    };
    latency(telemetry.toolLatency(), settings.toolLatencyP95Seconds, tr("tool execution time"),
            QStringLiteral("p95:tool"));
    latency(telemetry.apiLatency(), settings.apiLatencyP95Seconds, tr("API latency"),
            QStringLiteral("p95:api"));

    quint64 total = 0;
    const double ratio = telemetry.toolFailureRatio(&total);
    if (total >= quint64(settings.errorRateMinCalls) && ratio >= settings.errorRate) {
        const auto r = alerts.raise(
            Alert::Category::HighErrorRate, Alert::Level::Critical,
            tr("%1% of %2 tool calls failed (threshold %3%).")
                .arg(qRound(ratio * 100))
                .arg(total)
                .arg(qRound(settings.errorRate * 100)),
            {},
            QJsonObject{{QStringLiteral("ratio"), ratio}, {QStringLiteral("calls"), qint64(total)}},
            QStringLiteral("error-rate:tools"));
        if (!r.suppressed)
            ++raised;
    }
    return raised;
}

} // namespace m1
