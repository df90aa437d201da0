#include "store/AuditRollups.h"

#include <QHash>
#include <QSqlError>
#include <QSqlQuery>

#include <algorithm>
#include <array>
#include <limits>

namespace m1 {

namespace {

constexpr qint64 kMsPerHour = 3600000;
constexpr qint64 kMsPerDay = 86400000;
// Values below kExact get a bucket each; above, each power of two is cut into kSub buckets.
constexpr qint64 kExact = 32;
constexpr int kSub = 16;
constexpr int kExactBits = 5; // log2(kExact)
constexpr int kSubBits = 4;   // log2(kSub)

qint64 floorDiv(qint64 a, qint64 b) {
    qint64 q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        --q;
    return q;
}

qint64 ceilDiv(qint64 a, qint64 b) {
    return -floorDiv(-a, b);
}

const QString kCount = QStringLiteral("count(*)");
// The day from the time column rather than the stored *_day column (equal by construction): the
// partial-day reads then stay inside the covering (time, ...) indexes of migration 2.
const QString kProposedDay = QStringLiteral("proposed_at / 86400000");

QString countWhen(const QString& condition) {
    return QStringLiteral("sum(CASE WHEN %1 THEN 1 ELSE 0 END)").arg(condition);
}

std::array<AuditRollups::Def, AuditRollups::Count> makeDefs() {
    const QString b = QStringLiteral("bucket");
    std::array<AuditRollups::Def, AuditRollups::Count> d;
    d[AuditRollups::ToolDay] = {QStringLiteral("rollup_tool_day"),
                                kMsPerDay,
                                {QStringLiteral("day"), QStringLiteral("tool_name")},
                                {QStringLiteral("calls"), QStringLiteral("executed"),
                                 QStringLiteral("failed"), QStringLiteral("denied")},
                                QStringLiteral("tool_calls"),
                                QStringLiteral("proposed_at"),
                                {kProposedDay, QStringLiteral("tool_name")},
                                {kCount, countWhen(QStringLiteral("status = 'executed'")),
                                 countWhen(QStringLiteral("status = 'failed'")),
                                 countWhen(QStringLiteral("status = 'denied'"))},
                                QStringLiteral("1 = 1")};
    d[AuditRollups::ToolDuration] = {
        QStringLiteral("rollup_tool_duration"),
        kMsPerDay,
        {QStringLiteral("day"), QStringLiteral("tool_name"), b},
        {QStringLiteral("calls")},
        QStringLiteral("tool_calls"),
        QStringLiteral("proposed_at"),
        {kProposedDay, QStringLiteral("tool_name"),
         AuditRollups::bucketSql(QStringLiteral("exec_duration_ms"))},
        {kCount},
        QStringLiteral("status IN ('executed', 'failed') AND exec_duration_ms IS NOT NULL")};
    d[AuditRollups::ApprovalDay] = {QStringLiteral("rollup_approval_day"),
                                    kMsPerDay,
                                    {QStringLiteral("day"), QStringLiteral("approver_kind")},
                                    {QStringLiteral("approved"), QStringLiteral("denied")},
                                    QStringLiteral("tool_calls"),
                                    QStringLiteral("proposed_at"),
                                    {kProposedDay, QStringLiteral("approver_kind")},
                                    {countWhen(QStringLiteral("status <> 'denied'")),
                                     countWhen(QStringLiteral("status = 'denied'"))},
                                    QStringLiteral("approver_kind IS NOT NULL")};
    d[AuditRollups::DecideTime] = {
        QStringLiteral("rollup_decide_time"),
        kMsPerDay,
        {QStringLiteral("day"), QStringLiteral("approver_kind"), b},
        {QStringLiteral("decisions")},
        QStringLiteral("tool_calls"),
        QStringLiteral("proposed_at"),
        {kProposedDay, QStringLiteral("approver_kind"),
         AuditRollups::bucketSql(QStringLiteral("decided_at - proposed_at"))},
        {kCount},
        QStringLiteral("approver_kind IS NOT NULL AND decided_at IS NOT NULL")};
    d[AuditRollups::ToolHour] = {QStringLiteral("rollup_tool_hour"),
                                 kMsPerHour,
                                 {QStringLiteral("hour_num")},
                                 {QStringLiteral("runs"), QStringLiteral("failures")},
                                 QStringLiteral("tool_calls"),
                                 QStringLiteral("proposed_at"),
                                 {QStringLiteral("proposed_at / 3600000")},
                                 {kCount, countWhen(QStringLiteral("status = 'failed'"))},
                                 QStringLiteral("status IN ('executed', 'failed')")};
    d[AuditRollups::ApiHour] = {QStringLiteral("rollup_api_hour"),
                                kMsPerHour,
                                {QStringLiteral("hour_num")},
                                {QStringLiteral("calls"), QStringLiteral("errors")},
                                QStringLiteral("api_calls"),
                                QStringLiteral("at"),
                                {QStringLiteral("at / 3600000")},
                                {kCount, countWhen(QStringLiteral("error_type IS NOT NULL"))},
                                QStringLiteral("1 = 1")};
    d[AuditRollups::ApiDay] = {
        QStringLiteral("rollup_api_day"),
        kMsPerDay,
        {QStringLiteral("day"), QStringLiteral("model")},
        {QStringLiteral("runs"), QStringLiteral("api_calls"), QStringLiteral("input_tokens"),
         QStringLiteral("output_tokens"), QStringLiteral("cache_write_tokens"),
         QStringLiteral("cache_read_tokens"), QStringLiteral("cost_micros"),
         QStringLiteral("unpriced_calls")},
        QStringLiteral("api_calls"),
        QStringLiteral("at"),
        {QStringLiteral("day"), QStringLiteral("model")},
        {QStringLiteral("count(DISTINCT run_id)"), kCount, QStringLiteral("sum(input_tokens)"),
         QStringLiteral("sum(output_tokens)"), QStringLiteral("sum(cache_write_tokens)"),
         QStringLiteral("sum(cache_read_tokens)"), QStringLiteral("coalesce(sum(cost_micros), 0)"),
         countWhen(QStringLiteral("cost_micros IS NULL"))},
        QStringLiteral("1 = 1")};
    d[AuditRollups::RunDuration] = {QStringLiteral("rollup_run_duration"),
                                    kMsPerDay,
                                    {QStringLiteral("day"), b},
                                    {QStringLiteral("runs")},
                                    QStringLiteral("runs"),
                                    QStringLiteral("started_at"),
                                    {QStringLiteral("started_at / 86400000"),
                                     AuditRollups::bucketSql(QStringLiteral("duration_ms"))},
                                    {kCount},
                                    QStringLiteral("duration_ms IS NOT NULL")};
    return d;
}

Status sqlFailure(const SqlDialect& dialect, const QSqlQuery& query, const QString& what) {
    return std::unexpected(dialect.toError(query.lastError(), QStringLiteral("store.write"), what));
}

} // namespace

const AuditRollups::Def& AuditRollups::def(Id id) {
    static const auto defs = makeDefs();
    return defs[id];
}

int AuditRollups::bucket(qint64 value) {
    if (value < kExact)
        return static_cast<int>(std::max<qint64>(value, 0));
    int e = 63 - __builtin_clzll(static_cast<quint64>(value));
    return static_cast<int>(kExact + (e - kExactBits) * kSub + ((value >> (e - kSubBits)) - kSub));
}

qint64 AuditRollups::bucketLow(int b) {
    if (b < kExact)
        return b;
    const int e = (b - kExact) / kSub + kExactBits;
    const int sub = (b - kExact) % kSub;
    return (qint64(1) << e) + (qint64(sub) << (e - kSubBits));
}

qint64 AuditRollups::bucketHigh(int b) {
    if (b + 1 >= kExact + (62 - kExactBits + 1) * kSub)
        return std::numeric_limits<qint64>::max();
    return bucketLow(b + 1);
}

QString AuditRollups::bucketSql(const QString& valueExpr) {
    // The same function as bucket() in integer arithmetic that both dialects share: one WHEN per
    // power of two, so no log2 (SQLite has it only with the math extension).
    const QString v = QStringLiteral("(%1)").arg(valueExpr);
    QString sql = QStringLiteral("CASE WHEN %1 < 0 THEN 0 WHEN %1 < %2 THEN %1").arg(v).arg(kExact);
    for (int e = kExactBits; e <= 62; ++e) {
        const qint64 low = qint64(1) << e;
        const QString when = e < 62 ? QStringLiteral(" WHEN %1 < %2 THEN").arg(v).arg(low << 1)
                                    : QStringLiteral(" ELSE");
        sql += QStringLiteral("%1 %2 + (%3 - %4) / %5")
                   .arg(when)
                   .arg(kExact + (e - kExactBits) * kSub)
                   .arg(v)
                   .arg(low)
                   .arg(qint64(1) << (e - kSubBits));
    }
    return sql + QStringLiteral(" END");
}

QString AuditRollups::sourceSql(const Def& d, const QString& filter, bool negate) {
    QStringList columns = d.keyExprs;
    for (const QString& value : d.valueExprs)
        columns.append(negate ? QStringLiteral("-(%1)").arg(value) : value);
    QStringList groups;
    for (int i = 1; i <= d.keyExprs.size(); ++i)
        groups.append(QString::number(i));
    return QStringLiteral("SELECT %1 FROM %2 WHERE %3 AND %4 GROUP BY %5")
        .arg(columns.join(QStringLiteral(", ")), d.sourceTable, d.sourceFilter, filter,
             groups.join(QStringLiteral(", ")));
}

QString AuditRollups::accumulateSql(const Def& d, const QString& filter, bool negate) {
    QStringList sets;
    for (const QString& v : d.valueColumns)
        sets.append(QStringLiteral("%1 = %2.%1 + excluded.%1").arg(v, d.table));
    return QStringLiteral("INSERT INTO %1 (%2, %3) %4 ON CONFLICT (%2) DO UPDATE SET %5")
        .arg(d.table, d.keyColumns.join(QStringLiteral(", ")),
             d.valueColumns.join(QStringLiteral(", ")), sourceSql(d, filter, negate),
             sets.join(QStringLiteral(", ")));
}

QStringList AuditRollups::migrationStatements(const SqlDialect& dialect) {
    QStringList result;
    for (int i = 0; i < Count; ++i) {
        const Def& d = def(static_cast<Id>(i));
        QStringList columns;
        for (int k = 0; k < d.keyColumns.size(); ++k) {
            const QString& name = d.keyColumns.at(k);
            const QString type = k == 0                            ? QStringLiteral("BIGINT")
                                 : name == QLatin1String("bucket") ? QStringLiteral("INTEGER")
                                                                   : QStringLiteral("TEXT");
            columns.append(QStringLiteral("%1 %2 NOT NULL").arg(name, type));
        }
        for (const QString& v : d.valueColumns)
            columns.append(QStringLiteral("%1 BIGINT NOT NULL DEFAULT 0").arg(v));
        // The key is the table's order on SQLite (no rowid): a range of days is one contiguous
        // read.
        result.append(QStringLiteral("CREATE TABLE %1 (%2, PRIMARY KEY (%3))%4")
                          .arg(d.table, columns.join(QStringLiteral(", ")),
                               d.keyColumns.join(QStringLiteral(", ")),
                               dialect.isSqlite() ? QStringLiteral(" WITHOUT ROWID") : QString()));
    }
    // The percentile probes: within one group, a duration range in index order.
    result.append(QStringLiteral("CREATE INDEX tool_calls_tool_duration ON tool_calls (tool_name, "
                                 "exec_duration_ms, proposed_at, status)"));
    result.append(QStringLiteral("CREATE INDEX tool_calls_kind_decide ON tool_calls "
                                 "(approver_kind, (decided_at - proposed_at), proposed_at, "
                                 "decided_at)"));
    result.append(QStringLiteral("CREATE INDEX runs_duration ON runs (duration_ms, started_at)"));
    // The agent summary reads only index entries (runs rows carry goals and plans); the agent
    // first, so SQLite skip-scans the few agents' time ranges already grouped, without a sort.
    result.append(QStringLiteral(
        "CREATE INDEX runs_agent_summary ON runs (agent, started_at, stop_reason, calls_proposed, "
        "calls_executed, calls_failed, calls_denied, input_tokens, output_tokens, cost_micros)"));
    for (int i = 0; i < Count; ++i)
        result.append(accumulateSql(def(static_cast<Id>(i)), QStringLiteral("1 = 1")));
    return result;
}

Status AuditRollups::accumulate(const QSqlDatabase& db, const SqlDialect& dialect,
                                const QString& sourceTable, const QString& filter,
                                const QVariantList& binds) {
    for (int i = 0; i < Count; ++i) {
        const Def& d = def(static_cast<Id>(i));
        if (d.sourceTable != sourceTable)
            continue;
        QSqlQuery query(db);
        if (!query.prepare(accumulateSql(d, filter)))
            return sqlFailure(dialect, query, tr("Preparing the sums of %1").arg(d.table));
        for (int b = 0; b < binds.size(); ++b)
            query.bindValue(b, binds.at(b));
        if (!query.exec())
            return sqlFailure(dialect, query, tr("Adding to %1").arg(d.table));
    }
    return {};
}

Status AuditRollups::rebuildBefore(const QSqlDatabase& db, const SqlDialect& dialect,
                                   qint64 endMs) {
    for (int i = 0; i < Count; ++i) {
        const Def& d = def(static_cast<Id>(i));
        QSqlQuery query(db);
        if (!query.exec(QStringLiteral("DELETE FROM %1 WHERE %2 < %3")
                            .arg(d.table, d.keyColumns.first())
                            .arg(floorDiv(endMs, d.unitMs))))
            return sqlFailure(dialect, query, tr("Clearing %1").arg(d.table));
        if (!query.exec(accumulateSql(d, QStringLiteral("%1 < %2").arg(d.timeColumn).arg(endMs))))
            return sqlFailure(dialect, query, tr("Recomputing %1").arg(d.table));
    }
    return {};
}

Result<QList<AuditRollups::Row>> AuditRollups::read(const QSqlDatabase& db,
                                                    const SqlDialect& dialect, Id id,
                                                    std::optional<qint64> fromMs,
                                                    std::optional<qint64> toMs, bool keepUnit) {
    const Def& d = def(id);
    const qint64 u = d.unitMs;
    // Whole units [a, b) from the rollup, the partial ones at the ends from the source rows.
    // (Plain integers with flags: GCC 12 misreads optionals here as maybe-uninitialized.)
    const bool hasA = fromMs.has_value();
    const bool hasB = toMs.has_value();
    const qint64 from = fromMs.value_or(0);
    const qint64 to = toMs.value_or(0);
    const qint64 a = hasA ? ceilDiv(from, u) : 0;
    const qint64 b = hasB ? floorDiv(to, u) : 0;
    QList<std::pair<qint64, qint64>> partial;
    bool whole = true;
    if (hasA && hasB && a > b) {
        whole = false;
        if (from < to)
            partial.append({from, to});
    } else {
        if (hasA && from < a * u)
            partial.append({from, a * u});
        if (hasB && b * u < to)
            partial.append({b * u, to});
    }

    QList<Row> rows;
    QHash<QString, qsizetype> index;
    const int keys = static_cast<int>(d.keyColumns.size());
    const int values = static_cast<int>(d.valueColumns.size());
    const auto collect = [&](QSqlQuery& query) {
        while (query.next()) {
            Row row;
            QStringList parts;
            for (int k = keepUnit ? 0 : 1; k < keys; ++k) {
                row.keys.append(query.value(k));
                parts.append(query.value(k).toString());
            }
            for (int v = 0; v < values; ++v)
                row.values.append(query.value(keys + v).toLongLong());
            const QString key = parts.join(QChar(0x1f));
            const auto it = index.constFind(key);
            if (it == index.constEnd()) {
                index.insert(key, rows.size());
                rows.append(std::move(row));
            } else {
                Row& sum = rows[*it];
                for (int v = 0; v < values; ++v)
                    sum.values[v] += row.values.at(v);
            }
        }
        query.finish();
    };
    const auto readError = [&](const QSqlQuery& query) -> Result<QList<Row>> {
        return std::unexpected(dialect.toError(query.lastError(), QStringLiteral("store.read"),
                                               tr("Reading %1").arg(d.table)));
    };

    if (whole) {
        QString sql = QStringLiteral("SELECT %1, %2 FROM %3 WHERE 1 = 1")
                          .arg(d.keyColumns.join(QStringLiteral(", ")),
                               d.valueColumns.join(QStringLiteral(", ")), d.table);
        QVariantList binds;
        if (hasA) {
            sql += QStringLiteral(" AND %1 >= ?").arg(d.keyColumns.first());
            binds.append(a);
        }
        if (hasB) {
            sql += QStringLiteral(" AND %1 < ?").arg(d.keyColumns.first());
            binds.append(b);
        }
        QSqlQuery query(db);
        query.setForwardOnly(true);
        if (!query.prepare(sql))
            return readError(query);
        for (int i = 0; i < binds.size(); ++i)
            query.bindValue(i, binds.at(i));
        if (!query.exec())
            return readError(query);
        collect(query);
    }
    for (const auto& [start, end] : partial) {
        QSqlQuery query(db);
        query.setForwardOnly(true);
        if (!query.prepare(sourceSql(d, QStringLiteral("%1 >= ? AND %1 < ?").arg(d.timeColumn))))
            return readError(query);
        query.bindValue(0, start);
        query.bindValue(1, end);
        if (!query.exec())
            return readError(query);
        collect(query);
    }
    return rows;
}

} // namespace m1
