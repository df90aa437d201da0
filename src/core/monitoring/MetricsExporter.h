#pragma once

#include "monitoring/MetricsRegistry.h"

#include <QByteArray>
#include <QList>

namespace m1 {

// The Prometheus text exposition (format 0.0.4) of one or more registries: HELP and TYPE for each
// family, histograms as cumulative _bucket{le=...} lines ending in +Inf, then _sum and _count.
// Label values are escaped when a series is created (backslash, double quote, line feed).
class MetricsExporter {
public:
    static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

    // `process`: this process's live metrics (Telemetry). `history`: metrics derived from the
    // audit store (HistoryMetrics::collect); families of both must have distinct names.
    static QByteArray prometheusText(const MetricsRegistry& process,
                                     const MetricsRegistry* history = nullptr);
    static QByteArray prometheusText(const QList<const MetricsRegistry*>& registries);

    // A sample value as Prometheus writes it: shortest round-trip decimal, +Inf, -Inf, NaN.
    static void appendValue(QByteArray& out, double value);
};

} // namespace m1
