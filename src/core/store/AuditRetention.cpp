#include "store/AuditRetention.h"

#include "store/AuditRollups.h"

#include "store/AuditChain.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

namespace m1 {

namespace {

// Runs that go: completed before the cutoff (:c) and without any event at or after the first
// kept event (:s).
const QString kPrunedRuns = QStringLiteral(
    "SELECT r.run_id FROM runs r WHERE r.completed_at IS NOT NULL AND r.completed_at < %1 AND "
    "NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.run_id = r.run_id AND e.seq >= %2)");

} // namespace

Result<AuditRetention::Report> AuditRetention::prune(const QString& connectionName,
                                                     const SqlDialect& dialect, int olderThanDays,
                                                     bool dryRun, qint64 nowMs) {
    if (olderThanDays < 0)
        return fail(QStringLiteral("store.prune"),
                    tr("The retention period must be zero or more days."));
    QSqlDatabase db = QSqlDatabase::database(connectionName, false);
    QSqlQuery query(db);
    Report report;
    report.dryRun = dryRun;
    report.cutoff = nowMs - static_cast<qint64>(olderThanDays) * 86400000;
    const QString cutoff = QString::number(report.cutoff);

    const auto failed = [&](const QString& what) -> Result<Report> {
        const Error error = dialect.toError(query.lastError(), QStringLiteral("store.prune"), what);
        QSqlQuery(db).exec(QStringLiteral("ROLLBACK"));
        return std::unexpected(error);
    };
    const auto scalar = [&](const QString& sql, qint64& out) {
        if (!query.exec(sql) || !query.next())
            return false;
        out = query.value(0).toLongLong();
        query.finish();
        return true;
    };

    // A write transaction even for a dry run: the answer then matches what a real prune would do.
    if (!query.exec(dialect.beginWrite()))
        return failed(tr("Starting the prune"));
    qint64 lastSeq = 0;
    if (!scalar(QStringLiteral("SELECT last_seq FROM chain_head WHERE id = 1") +
                    dialect.lockChainHeadSuffix(),
                lastSeq))
        return failed(tr("Locking the audit chain"));

    // The first event that stays: one of a run that is not going, or an event without a run that
    // is newer than the cutoff.
    qint64 firstKept = 0;
    if (!scalar(QStringLiteral(
                    "SELECT coalesce(min(e.seq), %1) FROM audit_events e WHERE NOT ("
                    "(e.run_id IS NULL AND e.at < %2) OR (e.run_id IS NOT NULL AND EXISTS "
                    "(SELECT 1 FROM runs r WHERE r.run_id = e.run_id AND r.completed_at IS NOT "
                    "NULL AND r.completed_at < %2)))")
                    .arg(lastSeq + 1)
                    .arg(cutoff),
                firstKept))
        return failed(tr("Finding the first kept audit event"));
    report.firstKeptSeq = firstKept;
    const QString pruned = kPrunedRuns.arg(cutoff).arg(firstKept);

    if (!scalar(QStringLiteral("SELECT count(*) FROM (%1) p").arg(pruned), report.runs) ||
        !scalar(QStringLiteral("SELECT count(*) FROM tool_calls WHERE run_id IN (%1)").arg(pruned),
                report.toolCalls) ||
        !scalar(QStringLiteral("SELECT count(*) FROM api_calls WHERE run_id IN (%1)").arg(pruned),
                report.apiCalls) ||
        !scalar(QStringLiteral("SELECT count(*) FROM audit_events WHERE seq < %1").arg(firstKept),
                report.events) ||
        !scalar(QStringLiteral("SELECT count(*) FROM alerts WHERE raised_at < %1 AND resolved_at "
                               "IS NOT NULL")
                    .arg(cutoff),
                report.alerts) ||
        !scalar(QStringLiteral("SELECT count(*) FROM runs WHERE completed_at IS NOT NULL AND "
                               "completed_at < %1")
                        .arg(cutoff) +
                    QString(),
                report.deferredRuns) ||
        !scalar(QStringLiteral("SELECT coalesce(min(started_at), 0) FROM runs WHERE run_id IN (%1)")
                    .arg(pruned),
                report.oldestStart) ||
        !scalar(QStringLiteral("SELECT coalesce(max(started_at), 0) FROM runs WHERE run_id IN (%1)")
                    .arg(pruned),
                report.newestStart))
        return failed(tr("Counting what the prune removes"));
    report.deferredRuns -= report.runs;

    const bool nothing = report.runs == 0 && report.events == 0 && report.alerts == 0;
    if (dryRun || nothing) {
        QSqlQuery(db).exec(QStringLiteral("ROLLBACK"));
        return report;
    }

    QString prevHash;
    if (report.events > 0) {
        if (!query.exec(QStringLiteral("SELECT hash FROM audit_events WHERE seq = %1")
                            .arg(firstKept - 1)) ||
            !query.next())
            return failed(tr("Reading the last pruned audit event"));
        prevHash = query.value(0).toString();
        query.finish();
    }
    const QStringList deletes{
        QStringLiteral("DELETE FROM tool_calls WHERE run_id IN (%1)").arg(pruned),
        QStringLiteral("DELETE FROM api_calls WHERE run_id IN (%1)").arg(pruned),
        QStringLiteral("DELETE FROM runs WHERE run_id IN (%1)").arg(pruned),
        QStringLiteral("DELETE FROM alerts WHERE raised_at < %1 AND resolved_at IS NOT NULL")
            .arg(cutoff),
        QStringLiteral("DELETE FROM audit_events WHERE seq < %1").arg(firstKept),
    };
    for (const QString& sql : deletes) {
        if (!query.exec(sql))
            return failed(tr("Removing old audit rows"));
    }
    // Every removed row lies before the cutoff (runs completed before it), so recomputing the
    // rollups of the days up to the cutoff's day keeps them exact; later days are untouched.
    {
        const qint64 day = 86400000;
        const qint64 cutoffDay =
            report.cutoff >= 0 ? report.cutoff / day : -((-report.cutoff + day - 1) / day);
        if (const Status rebuilt = AuditRollups::rebuildBefore(
                QSqlDatabase::database(connectionName, false), dialect, (cutoffDay + 1) * day);
            !rebuilt) {
            QSqlQuery(QSqlDatabase::database(connectionName, false))
                .exec(QStringLiteral("ROLLBACK"));
            return std::unexpected(rebuilt.error());
        }
    }
    if (report.events > 0) {
        query.prepare(QStringLiteral(
            "INSERT INTO chain_anchor (id, first_seq, prev_hash, pruned_at, pruned_events) VALUES "
            "(1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET first_seq = excluded.first_seq, "
            "prev_hash = excluded.prev_hash, pruned_at = excluded.pruned_at, pruned_events = "
            "chain_anchor.pruned_events + excluded.pruned_events"));
        query.addBindValue(firstKept);
        query.addBindValue(prevHash);
        query.addBindValue(nowMs);
        query.addBindValue(report.events);
        if (!query.exec())
            return failed(tr("Recording the chain anchor"));
    }
    // The prune is itself part of the record: removing history leaves a trace in the chain.
    const QJsonObject payload{{"cutoff", static_cast<double>(report.cutoff)},
                              {"runs", static_cast<double>(report.runs)},
                              {"tool_calls", static_cast<double>(report.toolCalls)},
                              {"api_calls", static_cast<double>(report.apiCalls)},
                              {"events", static_cast<double>(report.events)},
                              {"alerts", static_cast<double>(report.alerts)},
                              {"first_kept_seq", static_cast<double>(firstKept)},
                              {"anchor_prev_hash", prevHash}};
    AuditChain chain(connectionName, dialect);
    auto appended =
        chain.append(nowMs, QStringLiteral("chain.pruned"), {}, {},
                     QString::fromUtf8(QJsonDocument(payload).toJson(QJsonDocument::Compact)));
    if (!appended) {
        QSqlQuery(db).exec(QStringLiteral("ROLLBACK"));
        return std::unexpected(appended.error());
    }
    if (!query.exec(QStringLiteral("COMMIT")))
        return failed(tr("Committing the prune"));
    return report;
}

} // namespace m1
