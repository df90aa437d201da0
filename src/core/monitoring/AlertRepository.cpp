#include "monitoring/AlertRepository.h"

#include <QJsonDocument>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

namespace m1 {

namespace {

constexpr const char* kColumns = "alert_id, raised_at, category, level, message, run_id, "
                                 "details_json, resolved_at, resolution_note";

Alert alertFrom(const QSqlQuery& q) {
    Alert a;
    a.id = q.value(0).toString();
    a.raisedAt = q.value(1).toLongLong();
    // Rows written by a newer program may carry a category this one does not know: shown as an
    // execution error rather than dropped.
    a.category =
        Alert::categoryFromName(q.value(2).toString()).value_or(Alert::Category::ExecutionError);
    a.level = Alert::levelFromName(q.value(3).toString()).value_or(Alert::Level::Warning);
    a.message = q.value(4).toString();
    a.runId = q.value(5).toString();
    a.details = QJsonDocument::fromJson(q.value(6).toString().toUtf8()).object();
    if (!q.value(7).isNull())
        a.resolvedAt = q.value(7).toLongLong();
    a.resolutionNote = q.value(8).toString();
    return a;
}

} // namespace

bool AlertRepository::matches(const Alert& alert, const AlertFilter& filter) const {
    if (filter.openOnly && !alert.isOpen())
        return false;
    if (filter.category && alert.category != *filter.category)
        return false;
    if (filter.level && alert.level != *filter.level)
        return false;
    if (!filter.runId.isEmpty() && alert.runId != filter.runId)
        return false;
    return true;
}

Result<QList<Alert>> AlertRepository::list(const AlertFilter& filter) const {
    QString sql = QStringLiteral("SELECT %1 FROM alerts WHERE 1 = 1").arg(QLatin1String(kColumns));
    QVariantList binds;
    if (filter.openOnly)
        sql += QStringLiteral(" AND resolved_at IS NULL");
    if (filter.category) {
        sql += QStringLiteral(" AND category = ?");
        binds << Alert::categoryName(*filter.category);
    }
    if (filter.level) {
        sql += QStringLiteral(" AND level = ?");
        binds << Alert::levelName(*filter.level);
    }
    if (!filter.runId.isEmpty()) {
        sql += QStringLiteral(" AND run_id = ?");
        binds << filter.runId;
    }
    sql += QStringLiteral(" ORDER BY raised_at DESC, alert_id LIMIT %1").arg(qMax(1, filter.limit));
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    q.setForwardOnly(true);
    if (!q.prepare(sql))
        return fail(QStringLiteral("alert.query"),
                    tr("Cannot read the alerts: %1").arg(q.lastError().text()));
    for (qsizetype i = 0; i < binds.size(); ++i)
        q.bindValue(int(i), binds.at(i));
    if (!q.exec())
        return fail(QStringLiteral("alert.query"),
                    tr("Cannot read the alerts: %1").arg(q.lastError().text()));
    QList<Alert> alerts;
    while (q.next())
        alerts.append(alertFrom(q));
    return alerts;
}

Result<std::optional<Alert>> AlertRepository::find(const QString& alertId) const {
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    if (!q.prepare(QStringLiteral("SELECT %1 FROM alerts WHERE alert_id = ?")
                       .arg(QLatin1String(kColumns))))
        return fail(QStringLiteral("alert.query"),
                    tr("Cannot read the alerts: %1").arg(q.lastError().text()));
    q.bindValue(0, alertId);
    if (!q.exec())
        return fail(QStringLiteral("alert.query"),
                    tr("Cannot read the alerts: %1").arg(q.lastError().text()));
    if (!q.next())
        return std::optional<Alert>();
    return std::optional<Alert>(alertFrom(q));
}

Result<QHash<Alert::Category, AlertCategoryStats>> AlertRepository::statistics() const {
    QSqlQuery q(QSqlDatabase::database(m_connection, false));
    if (!q.exec(QStringLiteral("SELECT category, level, COUNT(*), "
                               "SUM(CASE WHEN resolved_at IS NULL THEN 1 ELSE 0 END) FROM alerts "
                               "GROUP BY category, level")))
        return fail(QStringLiteral("alert.query"),
                    tr("Cannot read the alerts: %1").arg(q.lastError().text()));
    QHash<Alert::Category, AlertCategoryStats> stats;
    while (q.next()) {
        const auto category = Alert::categoryFromName(q.value(0).toString());
        if (!category)
            continue;
        AlertCategoryStats& s = stats[*category];
        const qint64 n = q.value(2).toLongLong();
        s.total += n;
        s.open += q.value(3).toLongLong();
        switch (Alert::levelFromName(q.value(1).toString()).value_or(Alert::Level::Warning)) {
        case Alert::Level::Critical:
            s.critical += n;
            break;
        case Alert::Level::Warning:
            s.warning += n;
            break;
        case Alert::Level::Info:
            s.info += n;
            break;
        }
    }
    return stats;
}

} // namespace m1
