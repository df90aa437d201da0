#include "monitoring/CostReport.h"

#include "monitoring/CostTracker.h"

#include <QDateTime>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTimeZone>
#include <QVariant>

namespace m1 {

qint64 CostReport::startOfDayMs(const QDate& day) {
    return QDateTime(day, QTime(0, 0), QTimeZone::utc()).toMSecsSinceEpoch();
}

Result<QList<CostReport::Row>> CostReport::grouped(const QString& keyExpression,
                                                   const QString& from, const QString& timeColumn,
                                                   qint64 fromMs, qint64 toMs, const QString& order,
                                                   int limit) const {
    const QString sql =
        QStringLiteral(
            "SELECT %1, COUNT(*), SUM(CASE WHEN a.cost_micros IS NULL THEN 1 ELSE 0 END), "
            "COALESCE(SUM(a.input_tokens), 0), COALESCE(SUM(a.output_tokens), 0), "
            "COALESCE(SUM(a.cache_write_tokens), 0), COALESCE(SUM(a.cache_read_tokens), 0), "
            "COALESCE(SUM(a.cost_micros), 0) FROM %2 WHERE %3 >= ? AND %3 < ? "
            "GROUP BY 1 ORDER BY %4 LIMIT %5")
            .arg(keyExpression, from, timeColumn, order)
            .arg(limit);
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.setForwardOnly(true);
    if (!q.prepare(sql))
        return fail(QStringLiteral("cost.query"),
                    tr("Cannot read the costs: %1").arg(q.lastError().text()));
    q.bindValue(0, fromMs);
    q.bindValue(1, toMs);
    if (!q.exec())
        return fail(QStringLiteral("cost.query"),
                    tr("Cannot read the costs: %1").arg(q.lastError().text()));
    QList<Row> rows;
    while (q.next()) {
        Row r;
        r.key = q.value(0).toString();
        r.calls = q.value(1).toLongLong();
        r.unpricedCalls = q.value(2).toLongLong();
        r.inputTokens = q.value(3).toLongLong();
        r.outputTokens = q.value(4).toLongLong();
        r.cacheWriteTokens = q.value(5).toLongLong();
        r.cacheReadTokens = q.value(6).toLongLong();
        r.costMicros = q.value(7).toLongLong();
        rows.append(r);
    }
    return rows;
}

Result<QList<CostReport::Row>> CostReport::byModel(qint64 fromMs, qint64 toMs) const {
    return grouped(QStringLiteral("a.model"), QStringLiteral("api_calls a"), QStringLiteral("a.at"),
                   fromMs, toMs, QStringLiteral("1"), 100000);
}

Result<QList<CostReport::Row>> CostReport::byDay(qint64 fromMs, qint64 toMs) const {
    auto rows = grouped(QStringLiteral("a.day"), QStringLiteral("api_calls a"),
                        QStringLiteral("a.at"), fromMs, toMs, QStringLiteral("1"), 100000);
    if (!rows)
        return rows;
    for (Row& r : *rows)
        r.key = QDate(1970, 1, 1).addDays(r.key.toLongLong()).toString(Qt::ISODate);
    return rows;
}

Result<QList<CostReport::Row>> CostReport::byAgent(qint64 fromMs, qint64 toMs) const {
    return grouped(QStringLiteral("r.agent"),
                   QStringLiteral("api_calls a JOIN runs r ON r.run_id = a.run_id"),
                   QStringLiteral("a.at"), fromMs, toMs, QStringLiteral("1"), 100000);
}

Result<QList<CostReport::Row>> CostReport::byRun(qint64 fromMs, qint64 toMs, int limit) const {
    return grouped(QStringLiteral("r.run_id"),
                   QStringLiteral("api_calls a JOIN runs r ON r.run_id = a.run_id"),
                   QStringLiteral("r.started_at"), fromMs, toMs, QStringLiteral("8 DESC, 1"),
                   qMax(1, limit));
}

Result<qint64> CostReport::spentMicros(qint64 fromMs, qint64 toMs) const {
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    if (!q.prepare(QStringLiteral(
            "SELECT COALESCE(SUM(a.cost_micros), 0) FROM api_calls a WHERE a.at >= ? AND a.at < ? "
            "AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = a.run_id AND r.provider = "
            "'replay')")))
        return fail(QStringLiteral("cost.query"),
                    tr("Cannot read the costs: %1").arg(q.lastError().text()));
    q.bindValue(0, fromMs);
    q.bindValue(1, toMs);
    if (!q.exec() || !q.next())
        return fail(QStringLiteral("cost.query"),
                    tr("Cannot read the costs: %1").arg(q.lastError().text()));
    return q.value(0).toLongLong();
}

Result<CostReport::Projection> CostReport::monthlyProjection(const QDate& today) const {
    const QDate first(today.year(), today.month(), 1);
    auto rows =
        grouped(QStringLiteral("'month'"), QStringLiteral("api_calls a"), QStringLiteral("a.at"),
                startOfDayMs(first), startOfDayMs(first.addMonths(1)), QStringLiteral("1"), 1);
    if (!rows)
        return std::unexpected(rows.error());
    Projection p;
    if (!rows->isEmpty()) {
        p.spentMicros = rows->first().costMicros;
        p.unpricedCalls = rows->first().unpricedCalls;
    }
    p.projectedMicros = CostTracker::monthlyProjection(p.spentMicros, today);
    return p;
}

} // namespace m1
