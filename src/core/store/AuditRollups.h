#pragma once

#include "store/SqlDialect.h"
#include "util/Error.h"

#include <QCoreApplication>
#include <QList>
#include <QSqlDatabase>
#include <QString>
#include <QStringList>
#include <QVariant>

#include <functional>
#include <optional>

class QSqlQuery;

namespace m1 {

// Pre-aggregated dashboard figures (schema version 3), kept exact: every rollup row is the sum of
// the projection rows it covers, written in the same transaction as those rows (writer, seeder),
// recomputed after a prune and backfilled by migration 3. Dashboards read whole days (or hours)
// from the rollups and the partial units at the ends of a range from the rows themselves.
//
// Each rollup is defined by a source query over a projection table, so one definition gives the
// backfill, the seeder's per-batch sums, the writer's per-row deltas and the partial-unit reads.
//
// Durations are also kept as histograms with log-linear buckets (exact below 32 ms, then 16
// buckets per power of two). The histograms only locate the bucket holding a percentile's rank;
// the value itself is then read from an index on the duration, so percentiles stay exact.
class AuditRollups {
    Q_DECLARE_TR_FUNCTIONS(AuditRollups)
public:
    enum Id {
        ToolDay,      // (day, tool): calls, executed, failed, denied
        ToolDuration, // (day, tool, bucket): executed and failed calls
        ApprovalDay,  // (day, approver kind): approved, denied
        DecideTime,   // (day, approver kind, bucket): decided calls
        ToolHour,     // (hour): tool runs, tool failures
        ApiHour,      // (hour): API calls, API errors
        ApiDay,       // (day, model): runs, calls, tokens, cost, unpriced calls
        RunDuration,  // (day, bucket): finished runs
        Count
    };
    struct Def {
        QString table;
        qint64 unitMs = 0;      // 86400000 (day) or 3600000 (hour)
        QStringList keyColumns; // the unit column first
        QStringList valueColumns;
        QString sourceTable;
        QString timeColumn;   // of the source rows: places them in a unit
        QStringList keyExprs; // over the source rows, in keyColumns' order
        QStringList valueExprs;
        QString sourceFilter; // rows that count at all
    };
    static const Def& def(Id id);

    // Bucket of a duration: exact below 32, then 16 per power of two (relative width <= 1/16).
    static int bucket(qint64 value);
    // [low, high) of a bucket; bucket 0 also holds every negative value.
    static qint64 bucketLow(int bucket);
    static qint64 bucketHigh(int bucket);
    static QString bucketSql(const QString& valueExpr);

    // Migration 3: the tables, the indexes that serve the percentile probes, the backfill.
    static QStringList migrationStatements(const SqlDialect& dialect);

    // The source query: unit key, other keys, values; grouped. filter is ANDed to the source
    // filter; negate gives the values negated (for removing a row's old contribution).
    static QString sourceSql(const Def& d, const QString& filter, bool negate = false);
    // INSERT ... SELECT (sourceSql) ... ON CONFLICT DO UPDATE SET v = v + excluded.v.
    static QString accumulateSql(const Def& d, const QString& filter, bool negate = false);

    // Adds the rows matched by a filter on the source table to every rollup over that table
    // (a batch of seeded runs: "run_id BETWEEN ? AND ?" with its binds).
    static Status accumulate(const QSqlDatabase& db, const SqlDialect& dialect,
                             const QString& sourceTable, const QString& filter,
                             const QVariantList& binds);
    // Recomputes every rollup for the units before endMs (a whole day): after a prune.
    static Status rebuildBefore(const QSqlDatabase& db, const SqlDialect& dialect, qint64 endMs);

    struct Row {
        QVariantList keys; // the unit first when kept
        QList<qint64> values;
    };
    // The rollup summed over [fromMs, toMs): whole units from the rollup table, partial units from
    // the source rows. keepUnit keeps the unit as the first key (else rows are summed over it).
    static Result<QList<Row>> read(const QSqlDatabase& db, const SqlDialect& dialect, Id id,
                                   std::optional<qint64> fromMs, std::optional<qint64> toMs,
                                   bool keepUnit);
};

} // namespace m1
