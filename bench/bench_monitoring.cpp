#include "Bench.h"

#include "monitoring/MetricsExporter.h"
#include "monitoring/MetricsRegistry.h"
#include "monitoring/Telemetry.h"

#include <QElapsedTimer>

using namespace m1::bench;

namespace {

QList<Result> runMonitoringBenchmarks() {
    QList<Result> results;

    // What the run loop pays per tool call: label look-ups by name (tool, scope, outcome), one
    // counter increment and one histogram observation.
    m1::Telemetry telemetry;
    const QString tools[] = {QStringLiteral("read_file"), QStringLiteral("write_file"),
                             QStringLiteral("run_command"), QStringLiteral("search_files")};
    const QString scope = QStringLiteral("read");
    const QString outcome = QStringLiteral("executed");
    Result record =
        measureNs(QStringLiteral("metrics_record_tool_execution"), 200, 2000, [&](int n) {
            for (int i = 0; i < n; ++i)
                telemetry.recordToolExecution(tools[i & 3], scope, outcome, 0.0005 * (i & 63));
        });
    record.target = QStringLiteral("< 1000 ns");
    results.append(record);

    // 10 000 series: 9 000 counters (3 labels) and 1 000 histograms (2 labels, 15 exposed
    // buckets each, so about 27 000 sample lines).
    m1::MetricsRegistry registry;
    auto counters = registry.counterFamily(
        QStringLiteral("m1_bench_calls_total"), QStringLiteral("Bench counters."),
        {QStringLiteral("tool"), QStringLiteral("scope"), QStringLiteral("outcome")});
    for (int i = 0; i < 9000; ++i)
        counters
            .counter({QStringLiteral("tool_%1").arg(i / 9), QStringLiteral("scope_%1").arg(i % 3),
                      QStringLiteral("outcome_%1").arg((i / 3) % 3)})
            .inc(quint64(i));
    auto histograms = registry.histogramFamily(QStringLiteral("m1_bench_seconds"),
                                               QStringLiteral("Bench histograms."),
                                               {QStringLiteral("tool"), QStringLiteral("model")});
    for (int i = 0; i < 1000; ++i) {
        auto h = histograms.histogram(
            {QStringLiteral("tool_%1").arg(i / 10), QStringLiteral("model_%1").arg(i % 10)});
        for (int k = 0; k < 20; ++k)
            h.observe(0.001 * (k + 1) * (i % 7 + 1));
    }
    qint64 bytes = 0;
    Result scrape = measureEachNs(QStringLiteral("prometheus_scrape_10k_series"), 30, [&] {
        const QByteArray text = m1::MetricsExporter::prometheusText(registry);
        bytes = text.size();
        doNotOptimize(text);
    });
    scrape.unit = QStringLiteral("ms");
    scrape.p50 /= 1e6;
    scrape.p99 /= 1e6;
    scrape.target = QStringLiteral("< 20 ms");
    scrape.extra.insert(QStringLiteral("bytes"), bytes);
    results.append(scrape);
    return results;
}

} // namespace

M1_BENCHMARK("monitoring", runMonitoringBenchmarks);
