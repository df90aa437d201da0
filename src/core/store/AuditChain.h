#pragma once

#include "store/AuditProjectionCheck.h"
#include "store/SqlDialect.h"
#include "util/Error.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QCoreApplication>
#include <QSqlQuery>
#include <QString>

#include <memory>

namespace m1 {

// The hash chain over audit_events: hash = SHA-256(prev_hash || content), content being the
// length-prefixed fields of the row (see contentBytes), so that changing, removing, inserting or
// reordering a row breaks the chain at that row. chain_head holds the end of the chain, which
// also catches rows removed from the end or an emptied table.
//
// An AuditChain keeps prepared statements for one connection; use it on that connection's thread
// and destroy it before the connection.
class AuditChain {
    Q_DECLARE_TR_FUNCTIONS(AuditChain)

public:
    struct Appended {
        qint64 seq = 0;
        QByteArray hash;
    };

    struct VerifyReport {
        bool intact = false;
        qint64 checkedEvents = 0;
        qint64 firstSeq = 0;     // where the kept chain starts (1, or the prune anchor)
        qint64 lastSeq = 0;      // chain_head.last_seq
        QString lastHash;        // chain_head.last_hash: record it elsewhere to detect rollback
        qint64 brokenAtSeq = -1; // the first position where the chain breaks
        // "changed", "missing", "inserted", "reordered", "truncated"; "projection" when the chain
        // is sound but tool_calls or runs rows disagree with it (brokenAtSeq: the first
        // finding's first event, -1 for a row without events)
        QString problem;
        QString message; // a sentence for people

        // The projection check (only when the chain itself is sound): runs and tool calls
        // compared with their events, and what disagreed.
        qint64 checkedRuns = 0;
        qint64 checkedCalls = 0;
        qint64 seededRuns = 0; // their tool call rows have no events: runs row compared only
        QList<ProjectionFinding> projectionFindings; // the first 20
        qint64 moreProjectionFindings = 0;           // found beyond those

        // "store.chain_broken" with the message when not intact.
        Status toStatus() const;
    };

    static QByteArray genesisHash();
    static QByteArray contentBytes(qint64 seq, qint64 at, const QString& kind, const QString& runId,
                                   const QString& requestId, const QString& payload);
    static QByteArray computeHash(const QByteArray& prevHash, qint64 seq, qint64 at,
                                  const QString& kind, const QString& runId,
                                  const QString& requestId, const QString& payload);

    AuditChain(QString connectionName, SqlDialect dialect);

    // Appends one event. Call inside a write transaction (SqlDialect::beginWrite()); locks the
    // chain head first, which serialises writers on PostgreSQL.
    Result<Appended> append(qint64 at, const QString& kind, const QString& runId,
                            const QString& requestId, const QString& payload);

    // Walks the whole chain in a consistent snapshot. An Error only for database failures; a
    // broken chain is a report with intact == false.
    static Result<VerifyReport> verify(const QString& connectionName, const SqlDialect& dialect);

private:
    // contentBytes with the payload already in UTF-8.
    static QByteArray contentBytesOf(qint64 seq, qint64 at, const QString& kind,
                                     const QString& runId, const QString& requestId,
                                     const QByteArray& payloadUtf8);
    Error sqlError(const QSqlQuery& query, const QString& what) const;

    QString m_connectionName;
    SqlDialect m_dialect;
    std::unique_ptr<QSqlQuery> m_selectHead;
    std::unique_ptr<QSqlQuery> m_insertEvent;
    std::unique_ptr<QSqlQuery> m_updateHead;
};

} // namespace m1
