#pragma once

#include <QCoreApplication>

namespace m1 {

class AlertManager;
class MonitoringSettings;
class Telemetry;

// Turns this process's metrics into alerts against the thresholds in the settings: p95 tool or API
// latency above its threshold (performance, warning) and a tool failure ratio at or above
// errorRate over at least errorRateMinCalls calls (high_error_rate, critical). The GUI calls
// evaluate() on a timer and the run loop after each step; repeats are folded by the AlertManager.
class HealthMonitor {
    Q_DECLARE_TR_FUNCTIONS(HealthMonitor)

public:
    static constexpr quint64 kMinLatencySamples = 10;
    // Returns how many alerts were raised (not folded).
    static int evaluate(const Telemetry& telemetry, const MonitoringSettings& settings,
                        AlertManager& alerts);
};

} // namespace m1
