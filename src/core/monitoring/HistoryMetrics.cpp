#include "monitoring/HistoryMetrics.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <functional>

namespace m1 {

Status HistoryMetrics::collect(MetricsRegistry& into) const {
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    // sql's first columns are the label values in order, the following ones the values of the
    // families listed (one family per value column).
    auto run = [&](const QString& sql, int labelCount,
                   const QList<std::function<void(const QStringList&, const QSqlQuery&)>>& sinks)
        -> Status {
        QSqlQuery q(db);
        q.setForwardOnly(true);
        if (!q.exec(sql))
            return fail(
                QStringLiteral("metrics.query"),
                tr("Cannot read metrics from the audit store: %1").arg(q.lastError().text()));
        while (q.next()) {
            QStringList labels;
            for (int i = 0; i < labelCount; ++i)
                labels.append(q.value(i).toString());
            for (const auto& sink : sinks)
                sink(labels, q);
        }
        return {};
    };
    auto gauge = [&](const QString& name, const QString& help, const QStringList& labelNames,
                     int column) {
        const MetricsRegistry::FamilyHandle family = into.gaugeFamily(name, help, labelNames);
        return [family, column](const QStringList& labels, const QSqlQuery& q) {
            family.gauge(labels).set(q.value(column).toDouble());
        };
    };

    if (auto s = run(QStringLiteral("SELECT COALESCE(stop_reason, 'running'), COUNT(*) FROM runs "
                                    "GROUP BY 1"),
                     1,
                     {gauge(QStringLiteral("m1_history_runs"),
                            QStringLiteral("Runs in the audit trail by stop reason."),
                            {QStringLiteral("stop_reason")}, 1)});
        !s)
        return s;
    if (auto s = run(QStringLiteral("SELECT tool_name, status, COUNT(*) FROM tool_calls "
                                    "GROUP BY tool_name, status"),
                     2,
                     {gauge(QStringLiteral("m1_history_tool_calls"),
                            QStringLiteral("Tool calls in the audit trail by tool and status."),
                            {QStringLiteral("tool"), QStringLiteral("status")}, 2)});
        !s)
        return s;
    if (auto s = run(QStringLiteral("SELECT model, COALESCE(error_type, 'ok'), COUNT(*) FROM "
                                    "api_calls GROUP BY 1, 2"),
                     2,
                     {gauge(QStringLiteral("m1_history_api_calls"),
                            QStringLiteral("API attempts in the audit trail by model and status."),
                            {QStringLiteral("model"), QStringLiteral("status")}, 2)});
        !s)
        return s;
    {
        const MetricsRegistry::FamilyHandle tokens =
            into.gaugeFamily(QStringLiteral("m1_history_tokens"),
                             QStringLiteral("Tokens in the audit trail by model and kind."),
                             {QStringLiteral("model"), QStringLiteral("kind")});
        auto tokenSink = [tokens](const QStringList& labels, const QSqlQuery& q) {
            const char* kinds[] = {"input", "output", "cache_write", "cache_read"};
            for (int i = 0; i < 4; ++i)
                tokens.gauge({labels.value(0), QLatin1String(kinds[i])})
                    .set(q.value(1 + i).toDouble());
        };
        if (auto s =
                run(QStringLiteral(
                        "SELECT model, COALESCE(SUM(input_tokens), 0), "
                        "COALESCE(SUM(output_tokens), 0), COALESCE(SUM(cache_write_tokens), 0), "
                        "COALESCE(SUM(cache_read_tokens), 0), COALESCE(SUM(cost_micros), 0), "
                        "SUM(CASE WHEN cost_micros IS NULL THEN 1 ELSE 0 END) FROM api_calls "
                        "GROUP BY model"),
                    1,
                    {tokenSink,
                     gauge(QStringLiteral("m1_history_cost_microdollars"),
                           QStringLiteral("Cost of priced API calls in the audit trail, "
                                          "micro-dollars (USD)."),
                           {QStringLiteral("model")}, 5),
                     gauge(QStringLiteral("m1_history_api_calls_unpriced"),
                           QStringLiteral("API calls in the audit trail with unknown cost."),
                           {QStringLiteral("model")}, 6)});
            !s)
            return s;
    }
    return run(QStringLiteral("SELECT category, level, COUNT(*) FROM alerts WHERE resolved_at IS "
                              "NULL GROUP BY category, level"),
               2,
               {gauge(QStringLiteral("m1_history_alerts_open"),
                      QStringLiteral("Open alerts by category and level."),
                      {QStringLiteral("category"), QStringLiteral("level")}, 2)});
}

} // namespace m1
