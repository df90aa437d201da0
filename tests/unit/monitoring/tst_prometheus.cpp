// The Prometheus text exposition: format details, promtool's linter (with hostile label values),
// and the history metrics read from a real SQLite audit store.
#include "TestSupport.h"

#include "monitoring/HistoryMetrics.h"
#include "monitoring/MetricsExporter.h"
#include "monitoring/MetricsRegistry.h"
#include "monitoring/Telemetry.h"
#include "store/AuditStore.h"

#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using m1::MetricsExporter;
using m1::MetricsRegistry;

namespace {

QString promtool() {
    return QStandardPaths::findExecutable(QStringLiteral("promtool"));
}

QString tricky() {
    // A quote, a backslash, a newline and a forged sample line.
    return QStringLiteral("say \"hi\" \\ then\nm1_fake_total 99");
}

} // namespace

class TestPrometheus : public QObject {
    Q_OBJECT

    void checkWithPromtool(const QByteArray& text) {
        if (promtool().isEmpty())
            QSKIP("promtool not installed (Debian package prometheus, in M1_TEST_PACKAGES)");
        const auto r = m1::test::runProgram(
            promtool(), {QStringLiteral("check"), QStringLiteral("metrics")}, {}, text);
        QVERIFY2(r.exitCode == 0, (r.out + r.err + "\n---\n" + text).constData());
    }

private Q_SLOTS:
    void formatDetails() {
        MetricsRegistry r;
        r.counterFamily(
             QStringLiteral("m1_tool_executions_total"), QStringLiteral("Calls."),
             {QStringLiteral("tool"), QStringLiteral("scope"), QStringLiteral("outcome")})
            .counter({tricky(), QStringLiteral("read"), QStringLiteral("executed")})
            .inc(3);
        r.gaugeFamily(QStringLiteral("m1_active_runs"), QStringLiteral("Runs.")).gauge().set(2);
        auto h = r.histogramFamily(QStringLiteral("m1_tool_execution_duration_seconds"),
                                   QStringLiteral("Time."), {QStringLiteral("tool")})
                     .histogram({QStringLiteral("read_file")});
        h.observe(0.004);
        h.observe(0.25);
        h.observe(1000);
        const QByteArray text = MetricsExporter::prometheusText(r);
        QVERIFY(text.contains("# HELP m1_tool_executions_total Calls.\n"
                              "# TYPE m1_tool_executions_total counter\n"));
        QVERIFY(text.contains(
            "m1_tool_executions_total{tool=\"say \\\"hi\\\" \\\\ then\\nm1_fake_total "
            "99\",scope=\"read\",outcome=\"executed\"} 3\n"));
        QVERIFY(!text.contains("\nm1_fake_total 99"));
        QVERIFY(text.contains("# TYPE m1_active_runs gauge\nm1_active_runs 2\n"));
        QVERIFY(text.contains("# TYPE m1_tool_execution_duration_seconds histogram\n"));
        QVERIFY(text.contains(
            "m1_tool_execution_duration_seconds_bucket{tool=\"read_file\",le=\"0.005\"} 1\n"));
        QVERIFY(text.contains(
            "m1_tool_execution_duration_seconds_bucket{tool=\"read_file\",le=\"0.25\"} 2\n"));
        QVERIFY(text.contains(
            "m1_tool_execution_duration_seconds_bucket{tool=\"read_file\",le=\"300\"} 2\n"));
        QVERIFY(text.contains(
            "m1_tool_execution_duration_seconds_bucket{tool=\"read_file\",le=\"+Inf\"} 3\n"));
        QVERIFY(
            text.contains("m1_tool_execution_duration_seconds_sum{tool=\"read_file\"} 1000.25"));
        QVERIFY(text.contains("m1_tool_execution_duration_seconds_count{tool=\"read_file\"} 3\n"));
        // Every line is a comment or a sample; no empty line, ends with a newline.
        QVERIFY(text.endsWith('\n'));
        QVERIFY(!text.contains("\n\n"));
    }

    void bucketsAreCumulativeAndEndWithInf() {
        MetricsRegistry r;
        auto h = r.histogramFamily(QStringLiteral("m1_h_seconds"), QStringLiteral("h")).histogram();
        for (int i = 1; i <= 1000; ++i)
            h.observe(i * 0.001);
        const QList<QByteArray> lines = MetricsExporter::prometheusText(r).split('\n');
        quint64 previous = 0;
        int buckets = 0;
        QByteArray last;
        for (const QByteArray& line : lines) {
            if (!line.startsWith("m1_h_seconds_bucket"))
                continue;
            const quint64 value = line.mid(line.lastIndexOf(' ') + 1).toULongLong();
            QVERIFY(value >= previous);
            previous = value;
            ++buckets;
            last = line;
        }
        QCOMPARE(buckets, 16);
        QCOMPARE(last, QByteArray("m1_h_seconds_bucket{le=\"+Inf\"} 1000"));
    }

    void telemetryPassesPromtool() {
        m1::Telemetry t;
        t.runStarted();
        t.runFinished(QStringLiteral("completed"));
        t.recordToolExecution(tricky(), QStringLiteral("execute"), QStringLiteral("failed"), 0.2);
        t.recordToolExecution(QStringLiteral("back\\slash"), QStringLiteral("read"),
                              QStringLiteral("executed"), 0.002);
        t.recordPolicyDecision(QStringLiteral("deny"));
        t.recordApprovalRequested(QStringLiteral("person"));
        t.recordApproval(QStringLiteral("person"), true);
        t.recordApiCall(QStringLiteral("claude-sonnet-4-6"), QStringLiteral("429"), 0.8);
        m1::TokenUsage usage;
        usage.known = true;
        usage.inputTokens = 10;
        usage.outputTokens = 5;
        usage.cacheCreationInputTokens = 7;
        t.recordTokens(QStringLiteral("claude-sonnet-4-6"), usage);
        t.recordCost(QStringLiteral("claude-sonnet-4-6"), 1234);
        t.recordAlert(QStringLiteral("cost_threshold"), QStringLiteral("warning"));
        checkWithPromtool(MetricsExporter::prometheusText(t.registry()));
    }

    void historyFromTheStore() {
        QTemporaryDir dir;
        auto store = m1::AuditStore::open(dir.filePath(QStringLiteral("audit.sqlite")));
        QVERIFY2(store, store ? "" : qPrintable(store.error().message));
        {
            auto writer = (*store)->startWriter();
            QVERIFY(writer);
            m1::AuditWriter& w = **writer;
            m1::AuditEvent::RunStart start;
            start.agent = QStringLiteral("coder");
            start.goal = QStringLiteral("fix");
            start.model = QStringLiteral("claude-sonnet-4-6");
            QVERIFY(w.write(m1::AuditEvent::runStarted(QStringLiteral("r1"), start)));
            QVERIFY(w.write(m1::AuditEvent::runStarted(QStringLiteral("r2"), start)));
            QVERIFY(w.write(m1::AuditEvent::callProposed(QStringLiteral("r1"), QStringLiteral("c1"),
                                                         1, tricky(), QStringLiteral("read"), {})));
            m1::AuditEvent::ApiCallInfo api;
            api.model = QStringLiteral("claude-sonnet-4-6");
            api.inputTokens = 1000;
            api.outputTokens = 100;
            api.cacheReadTokens = 50;
            api.costMicros = 4515;
            api.httpStatus = 200;
            QVERIFY(w.write(m1::AuditEvent::apiCall(QStringLiteral("r1"), api)));
            api.model = QStringLiteral("claude-fable-5-2");
            api.costMicros.reset();
            QVERIFY(w.write(m1::AuditEvent::apiCall(QStringLiteral("r1"), api)));
            api.httpStatus = 529;
            api.errorType = QStringLiteral("overloaded_error");
            QVERIFY(w.write(m1::AuditEvent::apiCall(QStringLiteral("r2"), api)));
            m1::AuditEvent::RunTotals totals;
            totals.stopReason = QStringLiteral("end_turn");
            QVERIFY(w.write(m1::AuditEvent::runFinished(QStringLiteral("r1"), totals)));
            QVERIFY(w.write(m1::AuditEvent::alertRaised(
                QStringLiteral("a1"), QStringLiteral("cost_threshold"), QStringLiteral("warning"),
                QStringLiteral("80%"), {}, {})));
        }
        MetricsRegistry history;
        QVERIFY(m1::HistoryMetrics((*store)->connectionName()).collect(history));
        m1::Telemetry live;
        live.runStarted();
        const QByteArray text = MetricsExporter::prometheusText(live.registry(), &history);
        QVERIFY(text.contains("m1_history_runs{stop_reason=\"end_turn\"} 1\n"));
        QVERIFY(text.contains("m1_history_runs{stop_reason=\"running\"} 1\n"));
        QVERIFY(text.contains(
            "m1_history_api_calls{model=\"claude-fable-5-2\",status=\"overloaded_error\"} 1\n"));
        QVERIFY(
            text.contains("m1_history_api_calls{model=\"claude-sonnet-4-6\",status=\"ok\"} 1\n"));
        QVERIFY(text.contains(
            "m1_history_tokens{model=\"claude-sonnet-4-6\",kind=\"cache_read\"} 50\n"));
        QVERIFY(text.contains("m1_history_cost_microdollars{model=\"claude-sonnet-4-6\"} 4515\n"));
        QVERIFY(text.contains("m1_history_api_calls_unpriced{model=\"claude-fable-5-2\"} 2\n"));
        QVERIFY(text.contains(
            "m1_history_alerts_open{category=\"cost_threshold\",level=\"warning\"} 1\n"));
        QVERIFY(text.contains("status=\"proposed\"} 1\n"));
        QVERIFY(text.contains("m1_runs_started_total 1\n"));
        checkWithPromtool(text);
    }
};

QTEST_GUILESS_MAIN(TestPrometheus)
#include "tst_prometheus.moc"
