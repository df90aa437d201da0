// The metrics registry: counters, gauges, histograms with labels, and the percentile estimator
// against known distributions.
#include "monitoring/HistogramLayout.h"
#include "monitoring/MetricsRegistry.h"
#include "monitoring/Telemetry.h"

#include <QtTest>

#include <algorithm>
#include <random>
#include <thread>
#include <vector>

using m1::HistogramLayout;
using m1::MetricsRegistry;

class TestMetrics : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void counterWithLabels() {
        MetricsRegistry r;
        auto family = r.counterFamily(QStringLiteral("m1_things_total"), QStringLiteral("Things."),
                                      {QStringLiteral("kind")});
        QVERIFY(family.isValid());
        family.counter({QStringLiteral("a")}).inc();
        family.counter({QStringLiteral("a")}).inc(4);
        family.counter({QStringLiteral("b")}).inc();
        QCOMPARE(family.counter({QStringLiteral("a")}).value(), quint64(5));
        QCOMPARE(family.counter({QStringLiteral("b")}).value(), quint64(1));
        // Wrong label count: an invalid handle that records nothing.
        QVERIFY(!family.counter({}).isValid());
        QVERIFY(!family.gauge({QStringLiteral("a")}).isValid());
        // Same name, other labels: refused.
        QVERIFY(!r.counterFamily(QStringLiteral("m1_things_total"), QStringLiteral("x")).isValid());
        QVERIFY(r.counterFamily(QStringLiteral("m1_things_total"), QStringLiteral("x"),
                                {QStringLiteral("kind")})
                    .isValid());
        QVERIFY(!r.counterFamily(QStringLiteral("bad name"), QStringLiteral("x")).isValid());
        QVERIFY(!r.counterFamily(QStringLiteral("m1_x_total"), QStringLiteral("x"),
                                 {QStringLiteral("le")})
                     .isValid());
    }

    void gauge() {
        MetricsRegistry r;
        auto g = r.gaugeFamily(QStringLiteral("m1_level"), QStringLiteral("Level.")).gauge();
        g.set(2.5);
        g.add(-1);
        QCOMPARE(g.value(), 1.5);
    }

    void histogramCountsAndSum() {
        MetricsRegistry r;
        auto h =
            r.histogramFamily(QStringLiteral("m1_seconds"), QStringLiteral("Time.")).histogram();
        for (double v : {0.001, 0.25, 0.25, 3.0, -1.0})
            h.observe(v);
        h.observe(std::numeric_limits<double>::quiet_NaN()); // ignored
        const auto s = h.snapshot();
        QCOMPARE(s.count(), quint64(5));
        QCOMPARE(s.sum(), 0.001 + 0.25 + 0.25 + 3.0 - 1.0);
        QCOMPARE(s.min(), -1.0);
        QCOMPARE(s.max(), 3.0);
        // Upper-inclusive like Prometheus' le: 0.25 counts in the bucket ending at 0.25.
        const HistogramLayout& layout = HistogramLayout::latencySeconds();
        const int b = layout.bucketWithUpperBound(0.25);
        QVERIFY(b > 0);
        QCOMPARE(s.cumulativeCount(b), quint64(4));
        QCOMPARE(s.cumulativeCount(b - 1), quint64(2));
    }

    void bucketBoundariesAreExactDecimals_data() {
        QTest::addColumn<double>("bound");
        for (double v : {1e-6, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                         60.0, 120.0, 300.0, 9900.0, 10000.0})
            QTest::newRow(qPrintable(QString::number(v))) << v;
    }
    void bucketBoundariesAreExactDecimals() {
        QFETCH(double, bound);
        const HistogramLayout& layout = HistogramLayout::latencySeconds();
        const int b = layout.bucketWithUpperBound(bound);
        QVERIFY(b >= 0);
        QCOMPARE(layout.bucketFor(bound), b);
        QCOMPARE(layout.bucketFor(std::nextafter(bound, 1e9)), b + 1);
    }

    void everyValueLandsInItsBucket() {
        const HistogramLayout& layout = HistogramLayout::latencySeconds();
        std::mt19937_64 rng(7);
        std::uniform_real_distribution<double> exponent(-7, 5);
        for (int i = 0; i < 200000; ++i) {
            const double v = std::pow(10.0, exponent(rng));
            const int b = layout.bucketFor(v);
            if (b > 0)
                QVERIFY(v > layout.lowerBound(b));
            if (b < layout.bucketCount() - 1)
                QVERIFY(v <= layout.upperBound(b));
        }
    }

    // The estimator's bound (HistogramSnapshot): the estimate lies in the bucket of the true
    // sample quantile, so |estimate - exact| <= that bucket's width, i.e. <= 1/m relative for a
    // bucket starting at m × 10^k. Checked against the exact quantile of the same sample, and
    // against the distribution's quantile within that bound plus 1.5% sampling error
    // (n = 200 000, fixed seed).
    void percentiles_data() {
        QTest::addColumn<QString>("distribution");
        QTest::addColumn<double>("q");
        QTest::addColumn<double>("theoretical");
        QTest::newRow("uniform-p50") << QStringLiteral("uniform") << 0.5 << 0.5;
        QTest::newRow("uniform-p95") << QStringLiteral("uniform") << 0.95 << 0.95;
        QTest::newRow("uniform-p99") << QStringLiteral("uniform") << 0.99 << 0.99;
        QTest::newRow("exponential-p50") << QStringLiteral("exponential") << 0.5 << std::log(2.0);
        QTest::newRow("exponential-p95")
            << QStringLiteral("exponential") << 0.95 << -std::log(0.05);
        QTest::newRow("exponential-p99")
            << QStringLiteral("exponential") << 0.99 << -std::log(0.01);
        // Milliseconds: tool latencies of 2 to 40 ms.
        QTest::newRow("uniform-ms-p95") << QStringLiteral("uniform-ms") << 0.95 << 0.0381;
    }
    void percentiles() {
        QFETCH(QString, distribution);
        QFETCH(double, q);
        QFETCH(double, theoretical);
        MetricsRegistry r;
        auto h = r.histogramFamily(QStringLiteral("m1_x_seconds"), QStringLiteral("x")).histogram();
        std::mt19937_64 rng(20261125);
        std::uniform_real_distribution<double> uniform(0.0, 1.0);
        std::uniform_real_distribution<double> uniformMs(0.002, 0.040);
        std::exponential_distribution<double> exponential(1.0);
        std::vector<double> values;
        const int n = 200000;
        values.reserve(n);
        for (int i = 0; i < n; ++i) {
            const double v = distribution == QLatin1String("uniform")       ? uniform(rng)
                             : distribution == QLatin1String("exponential") ? exponential(rng)
                                                                            : uniformMs(rng);
            values.push_back(v);
            h.observe(v);
        }
        std::sort(values.begin(), values.end());
        const double exact = values[size_t(std::ceil(q * n)) - 1];
        const auto estimate = h.snapshot().quantile(q);
        QVERIFY(estimate.has_value());
        const HistogramLayout& layout = HistogramLayout::latencySeconds();
        const int b = layout.bucketFor(exact);
        const double width = layout.upperBound(b) - layout.lowerBound(b);
        QVERIFY2(std::abs(*estimate - exact) <= width + 1e-12,
                 qPrintable(QStringLiteral("estimate %1 exact %2 bucket width %3")
                                .arg(*estimate)
                                .arg(exact)
                                .arg(width)));
        QVERIFY(width / layout.lowerBound(b) <= 0.1 + 1e-9);
        QVERIFY2(std::abs(*estimate - theoretical) <= width + 0.015 * theoretical,
                 qPrintable(
                     QStringLiteral("estimate %1 theoretical %2").arg(*estimate).arg(theoretical)));
    }

    void emptyHistogramHasNoPercentile() {
        MetricsRegistry r;
        auto h = r.histogramFamily(QStringLiteral("m1_y_seconds"), QStringLiteral("y")).histogram();
        QVERIFY(!h.snapshot().quantile(0.5).has_value());
        h.observe(0.2);
        QCOMPARE(*h.snapshot().quantile(0.99), 0.2);
    }

    void concurrentRecording() {
        MetricsRegistry r;
        auto family = r.counterFamily(QStringLiteral("m1_c_total"), QStringLiteral("c"),
                                      {QStringLiteral("t")});
        auto hist = r.histogramFamily(QStringLiteral("m1_h_seconds"), QStringLiteral("h"),
                                      {QStringLiteral("t")});
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&, t] {
                for (int i = 0; i < 50000; ++i) {
                    const QString label = QString::number(i % 8);
                    family.counter({label}).inc();
                    hist.histogram({label}).observe(0.001 * (t + 1));
                }
            });
        for (auto& th : threads)
            th.join();
        quint64 total = 0;
        for (int i = 0; i < 8; ++i)
            total += family.counter({QString::number(i)}).value();
        QCOMPARE(total, quint64(200000));
        QCOMPARE(hist.mergedSnapshot().count(), quint64(200000));
    }

    void seriesCapFoldsIntoOverflow() {
        MetricsRegistry r(3);
        auto family = r.counterFamily(QStringLiteral("m1_tool_total"), QStringLiteral("t"),
                                      {QStringLiteral("tool")});
        for (int i = 0; i < 10; ++i)
            family.counter({QStringLiteral("tool%1").arg(i)}).inc();
        QCOMPARE(family.counter({QStringLiteral("tool0")}).value(), quint64(1));
        // tool3 .. tool9 share the overflow series (labels "_overflow").
        QCOMPARE(family.counter({QStringLiteral("tool9")}).value(), quint64(7));
        QCOMPARE(family.counter({QStringLiteral("_overflow")}).value(), quint64(7));
    }

    void telemetryFacade() {
        m1::Telemetry t;
        t.runStarted();
        t.runStarted();
        t.runFinished(QStringLiteral("completed"));
        QCOMPARE(t.activeRuns(), qint64(1));
        t.recordToolExecution(QStringLiteral("read_file"), QStringLiteral("read"),
                              QStringLiteral("executed"), 0.01);
        t.recordToolExecution(QStringLiteral("run_command"), QStringLiteral("execute"),
                              QStringLiteral("failed"), 0.5);
        quint64 total = 0;
        QCOMPARE(t.toolFailureRatio(&total), 0.5);
        QCOMPARE(total, quint64(2));
        QCOMPARE(t.toolLatency().count(), quint64(2));
        m1::TokenUsage usage;
        usage.known = true;
        usage.inputTokens = 100;
        usage.outputTokens = 20;
        usage.cacheReadInputTokens = 5;
        t.recordTokens(QStringLiteral("claude-sonnet-4-6"), usage);
        t.recordApiCall(QStringLiteral("claude-sonnet-4-6"), QStringLiteral("ok"), 1.2);
        t.recordPolicyDecision(QStringLiteral("ask"));
        t.recordApprovalRequested(QStringLiteral("person"));
        t.recordApproval(QStringLiteral("person"), false);
        t.recordCost(QStringLiteral("gpt-x"), std::nullopt);
        auto tokens = t.registry().family(QStringLiteral("m1_tokens_total"));
        QCOMPARE(
            tokens.counter({QStringLiteral("claude-sonnet-4-6"), QStringLiteral("input")}).value(),
            quint64(100));
        QCOMPARE(tokens.counter({QStringLiteral("claude-sonnet-4-6"), QStringLiteral("cache_read")})
                     .value(),
                 quint64(5));
        QCOMPARE(t.registry()
                     .family(QStringLiteral("m1_approval_denials_total"))
                     .counter({QStringLiteral("person")})
                     .value(),
                 quint64(1));
        QCOMPARE(t.registry()
                     .family(QStringLiteral("m1_api_calls_unpriced_total"))
                     .counter({QStringLiteral("gpt-x")})
                     .value(),
                 quint64(1));
    }
};

QTEST_GUILESS_MAIN(TestMetrics)
#include "tst_metrics.moc"
