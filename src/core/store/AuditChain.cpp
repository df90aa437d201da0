#include "store/AuditChain.h"

#include "util/Sha256.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QVariant>

#include <limits>
#include <memory>

namespace m1 {

namespace {

constexpr int kVerifyPage = 2000;

void appendField(QByteArray& out, const QByteArray& field) {
    out.append(QByteArray::number(field.size()));
    out.append(':');
    out.append(field);
    out.append(';');
}

QVariant textOrNull(const QString& text) {
    return text.isEmpty() ? QVariant(QMetaType::fromType<QString>()) : QVariant(text);
}

} // namespace

Status AuditChain::VerifyReport::toStatus() const {
    if (intact)
        return {};
    return fail(QStringLiteral("store.chain_broken"), message);
}

QByteArray AuditChain::genesisHash() {
    return QByteArray(64, '0');
}

QByteArray AuditChain::contentBytes(qint64 seq, qint64 at, const QString& kind,
                                    const QString& runId, const QString& requestId,
                                    const QString& payload) {
    return contentBytesOf(seq, at, kind, runId, requestId, payload.toUtf8());
}

QByteArray AuditChain::contentBytesOf(qint64 seq, qint64 at, const QString& kind,
                                      const QString& runId, const QString& requestId,
                                      const QByteArray& payloadUtf8) {
    // Netstring-style fields: no separator inside a field can shift bytes between fields.
    QByteArray out;
    out.reserve(payloadUtf8.size() + 128);
    appendField(out, QByteArrayLiteral("m1.audit.v1"));
    appendField(out, QByteArray::number(seq));
    appendField(out, QByteArray::number(at));
    appendField(out, kind.toUtf8());
    appendField(out, runId.toUtf8());
    appendField(out, requestId.toUtf8());
    appendField(out, payloadUtf8);
    return out;
}

QByteArray AuditChain::computeHash(const QByteArray& prevHash, qint64 seq, qint64 at,
                                   const QString& kind, const QString& runId,
                                   const QString& requestId, const QString& payload) {
    return sha256Hex(prevHash, contentBytes(seq, at, kind, runId, requestId, payload));
}

AuditChain::AuditChain(QString connectionName, SqlDialect dialect)
    : m_connectionName(std::move(connectionName)), m_dialect(dialect) {}

Error AuditChain::sqlError(const QSqlQuery& query, const QString& what) const {
    return m_dialect.toError(query.lastError(), QStringLiteral("store.write"), what);
}

Result<AuditChain::Appended> AuditChain::append(qint64 at, const QString& kind,
                                                const QString& runId, const QString& requestId,
                                                const QString& payload) {
    const QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    if (!m_selectHead) {
        m_selectHead = std::make_unique<QSqlQuery>(db);
        m_insertEvent = std::make_unique<QSqlQuery>(db);
        m_updateHead = std::make_unique<QSqlQuery>(db);
        if (!m_selectHead->prepare(QStringLiteral("SELECT last_seq, last_hash FROM chain_head "
                                                  "WHERE id = 1") +
                                   m_dialect.lockChainHeadSuffix()) ||
            !m_insertEvent->prepare(QStringLiteral(
                "INSERT INTO audit_events (seq, at, kind, run_id, request_id, payload_json, "
                "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) ||
            !m_updateHead->prepare(QStringLiteral("UPDATE chain_head SET last_seq = ?, last_hash = "
                                                  "?, updated_at = ? WHERE id = 1"))) {
            const Error error = sqlError(*m_selectHead, tr("Preparing the audit chain"));
            m_selectHead.reset();
            return std::unexpected(error);
        }
    }
    if (!m_selectHead->exec())
        return std::unexpected(sqlError(*m_selectHead, tr("Locking the audit chain")));
    if (!m_selectHead->next())
        return fail(QStringLiteral("store.chain_broken"),
                    tr("The audit chain head is missing; the database was tampered with. Run "
                       "\"m1ctl audit verify\"."));
    const qint64 prevSeq = m_selectHead->value(0).toLongLong();
    const QByteArray prevHash = m_selectHead->value(1).toString().toLatin1();
    m_selectHead->finish();

    const qint64 seq = prevSeq + 1;
    const QByteArray hash = computeHash(prevHash, seq, at, kind, runId, requestId, payload);
    m_insertEvent->bindValue(0, seq);
    m_insertEvent->bindValue(1, at);
    m_insertEvent->bindValue(2, kind);
    m_insertEvent->bindValue(3, textOrNull(runId));
    m_insertEvent->bindValue(4, textOrNull(requestId));
    m_insertEvent->bindValue(5, payload);
    m_insertEvent->bindValue(6, QString::fromLatin1(prevHash));
    m_insertEvent->bindValue(7, QString::fromLatin1(hash));
    if (!m_insertEvent->exec())
        return std::unexpected(sqlError(*m_insertEvent, tr("Writing an audit event")));
    m_updateHead->bindValue(0, seq);
    m_updateHead->bindValue(1, QString::fromLatin1(hash));
    m_updateHead->bindValue(2, at);
    if (!m_updateHead->exec())
        return std::unexpected(sqlError(*m_updateHead, tr("Advancing the audit chain")));
    return Appended{seq, hash};
}

Result<AuditChain::VerifyReport> AuditChain::verify(const QString& connectionName,
                                                    const SqlDialect& dialect) {
    QSqlDatabase db = QSqlDatabase::database(connectionName, false);
    QSqlQuery query(db);
    query.setForwardOnly(true);
    const auto dbErrorOf = [&](const QSqlQuery& failed, const QString& what) {
        const Error error = dialect.toError(failed.lastError(), QStringLiteral("store.read"), what);
        QSqlQuery(db).exec(QStringLiteral("ROLLBACK"));
        return std::unexpected(error);
    };
    const auto dbError = [&](const QString& what) { return dbErrorOf(query, what); };
    // One snapshot for head, anchor and rows, so a concurrent writer cannot make a sound chain
    // look broken.
    if (!query.exec(dialect.isSqlite()
                        ? QStringLiteral("BEGIN")
                        : QStringLiteral("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")))
        return dbError(tr("Starting the chain verification"));

    VerifyReport report;
    const auto broken = [&](qint64 seq, const QString& problem, const QString& message) {
        report.intact = false;
        report.brokenAtSeq = seq;
        report.problem = problem;
        report.message = message;
        QSqlQuery(db).exec(QStringLiteral("ROLLBACK"));
        return report;
    };

    if (!query.exec(QStringLiteral("SELECT last_seq, last_hash FROM chain_head WHERE id = 1")))
        return dbError(tr("Reading the audit chain head"));
    if (!query.next())
        return broken(1, QStringLiteral("truncated"),
                      tr("The audit chain head row is missing: the chain cannot be verified and "
                         "the database was tampered with."));
    report.lastSeq = query.value(0).toLongLong();
    report.lastHash = query.value(1).toString();
    query.finish();

    qint64 expectedSeq = 1;
    QByteArray runningHash = genesisHash();
    if (!query.exec(QStringLiteral("SELECT first_seq, prev_hash FROM chain_anchor WHERE id = 1")))
        return dbError(tr("Reading the audit chain anchor"));
    if (query.next()) {
        expectedSeq = query.value(0).toLongLong();
        runningHash = query.value(1).toString().toLatin1();
    }
    query.finish();
    report.firstSeq = expectedSeq;

    // The projection rows are compared with what the events say in the same walk and snapshot.
    AuditProjectionCheck projection(connectionName, dialect, expectedSeq);

    QSqlQuery rows(db);
    rows.setForwardOnly(true);
    if (!rows.prepare(
            QStringLiteral(
                "SELECT seq, at, kind, run_id, request_id, payload_json, prev_hash, hash FROM "
                "audit_events WHERE seq >= ? ORDER BY seq LIMIT %1")
                .arg(kVerifyPage)))
        return dbError(tr("Preparing the chain verification"));
    qint64 cursor = std::numeric_limits<qint64>::min();
    for (;;) {
        rows.bindValue(0, cursor);
        if (!rows.exec())
            return dbErrorOf(rows, tr("Reading audit events"));
        int inPage = 0;
        while (rows.next()) {
            ++inPage;
            const qint64 seq = rows.value(0).toLongLong();
            cursor = seq + 1;
            if (seq < expectedSeq) {
                rows.finish();
                return broken(seq, QStringLiteral("inserted"),
                              tr("Audit event %1 lies before the start of the chain (%2): a row "
                                 "was inserted.")
                                  .arg(seq)
                                  .arg(expectedSeq));
            }
            if (seq > expectedSeq) {
                rows.finish();
                return broken(expectedSeq, QStringLiteral("missing"),
                              tr("Audit events %1 to %2 are missing: rows were removed.")
                                  .arg(expectedSeq)
                                  .arg(seq - 1));
            }
            const QByteArray prevHash = rows.value(6).toString().toLatin1();
            const QByteArray storedHash = rows.value(7).toString().toLatin1();
            // Each column read once; the payload's UTF-8 is hashed and then parsed by the
            // projection check.
            const qint64 at = rows.value(1).toLongLong();
            const QString kind = rows.value(2).toString();
            const QString runId = rows.value(3).toString();
            const QString requestId = rows.value(4).toString();
            const QByteArray payload = rows.value(5).toString().toUtf8();
            const QByteArray actual =
                sha256Hex(prevHash, contentBytesOf(seq, at, kind, runId, requestId, payload));
            if (prevHash != runningHash) {
                rows.finish();
                const bool selfConsistent = actual == storedHash;
                return broken(
                    seq, selfConsistent ? QStringLiteral("reordered") : QStringLiteral("changed"),
                    selfConsistent ? tr("Audit event %1 does not follow event %2: rows were "
                                        "removed, inserted or reordered here.")
                                         .arg(seq)
                                         .arg(seq - 1)
                                   : tr("Audit event %1 was changed (neither its content nor its "
                                        "link to event %2 match).")
                                         .arg(seq)
                                         .arg(seq - 1));
            }
            if (actual != storedHash) {
                rows.finish();
                return broken(seq, QStringLiteral("changed"),
                              tr("Audit event %1 was changed: its content does not match its "
                                 "hash.")
                                  .arg(seq));
            }
            runningHash = storedHash;
            ++expectedSeq;
            ++report.checkedEvents;
            projection.addEvent(seq, at, kind, runId, requestId, payload);
        }
        rows.finish();
        if (const Status compared = projection.flush(); !compared) {
            QSqlQuery(db).exec(QStringLiteral("ROLLBACK"));
            return std::unexpected(compared.error());
        }
        if (inPage < kVerifyPage)
            break;
    }
    if (expectedSeq - 1 != report.lastSeq || runningHash != report.lastHash.toLatin1()) {
        const bool shorter = expectedSeq - 1 < report.lastSeq;
        return broken(expectedSeq,
                      shorter ? QStringLiteral("truncated") : QStringLiteral("changed"),
                      shorter ? tr("The audit chain ends at event %1 but its head records event "
                                   "%2: rows were removed from the end (or the table was "
                                   "emptied).")
                                    .arg(expectedSeq - 1)
                                    .arg(report.lastSeq)
                              : tr("The audit chain does not end where its head says (event %1): "
                                   "the head or the last rows were changed.")
                                    .arg(report.lastSeq));
    }
    if (const Status compared = projection.finish(); !compared) {
        QSqlQuery(db).exec(QStringLiteral("ROLLBACK"));
        return std::unexpected(compared.error());
    }
    QSqlQuery(db).exec(QStringLiteral("ROLLBACK"));
    const AuditProjectionCheck::Report& checked = projection.report();
    report.checkedRuns = checked.checkedRuns;
    report.checkedCalls = checked.checkedCalls;
    report.seededRuns = checked.seededRuns;
    report.projectionFindings = checked.findings;
    report.moreProjectionFindings = checked.moreFindings;
    if (!checked.findings.isEmpty()) {
        const ProjectionFinding& first = checked.findings.first();
        const qint64 found = checked.findings.size() + checked.moreFindings;
        report.intact = false;
        report.brokenAtSeq = first.seq;
        report.problem = QStringLiteral("projection");
        report.message =
            found == 1
                ? first.message
                : tr("%1 (%n disagreement(s) in all.)", nullptr, int(found)).arg(first.message);
        return report;
    }
    report.intact = true;
    report.message =
        tr("The audit chain is intact: %1 events checked, %2 to %3; %4 runs and %5 "
           "tool calls agree with their events.")
            .arg(QString::number(report.checkedEvents), QString::number(report.firstSeq),
                 QString::number(report.lastSeq), QString::number(report.checkedRuns),
                 QString::number(report.checkedCalls));
    if (report.seededRuns > 0)
        report.message +=
            QLatin1Char(' ') +
            tr("%1 of the runs were seeded (m1ctl dev seed): their tool calls have no "
               "events and were not compared.")
                .arg(report.seededRuns);
    return report;
}

} // namespace m1
