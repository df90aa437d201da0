#pragma once

#include "store/SqlDialect.h"
#include "util/Error.h"

#include <QCoreApplication>
#include <QHash>
#include <QList>
#include <QSet>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QString>

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace m1 {

// Where a projection row (tool_calls, runs) says something its events in the chain do not.
struct ProjectionFinding {
    QString table; // "tool_calls" or "runs"
    QString runId;
    QString requestId; // the tool call (tool_calls only)
    QString problem;   // "changed" (a column), "missing" (no row), "unrecorded" (no events)
    QString column;    // for "changed"
    QString stored;    // the table's value ("changed"; the message shortens it)
    QString expected;  // what the events say ("changed"; empty for output, compared by digest)
    qint64 seq = -1;   // the first event of the call (or run); -1 when it has none
    QString message;   // a sentence for people
};

// Folds the events of the chain, in sequence order, into what the projection rows of each run and
// tool call must hold, and compares the rows with it: the AuditWriter writes both in one
// transaction from the same payload, so any difference was made outside the program.
//
// Memory: the events of a run are kept (folded per call) only until the run is compared, which is
// at the page after its run.finished event. Runs that are still open when too many calls are
// pending, or that get events after they were compared, are compared at the end from their own
// events (audit_events (run_id, seq) index) instead. Runs whose run.started event carries the seed
// mark (`m1ctl dev seed`) have tool call rows without events: only their runs row is compared.
//
// Use on the connection's thread, inside the verification's snapshot transaction, and call
// flush() and finish() only while no other query on the connection has unread rows.
class AuditProjectionCheck {
    Q_DECLARE_TR_FUNCTIONS(AuditProjectionCheck)

public:
    static constexpr int kMaxListedFindings = 20;
    static constexpr int kCallColumns = 30; // the tool_calls columns compared

    struct Report {
        qint64 checkedRuns = 0;
        qint64 checkedCalls = 0;
        qint64 seededRuns = 0; // runs whose tool call rows have no events (not compared)
        QList<ProjectionFinding> findings; // the first kMaxListedFindings
        qint64 moreFindings = 0;           // found beyond those
    };

    AuditProjectionCheck(const QString& connectionName, SqlDialect dialect, qint64 firstSeq);
    ~AuditProjectionCheck();
    AuditProjectionCheck(const AuditProjectionCheck&) = delete;
    AuditProjectionCheck& operator=(const AuditProjectionCheck&) = delete;

    // One event of the chain, already verified, in sequence order (its payload in UTF-8).
    void addEvent(qint64 seq, qint64 at, const QString& kind, const QString& runId,
                  const QString& requestId, const QByteArray& payload);
    // Compares the runs that finished so far.
    Status flush();
    // Compares the rest, then looks for rows that have no events at all.
    Status finish();

    const Report& report() const { return m_report; }

private:
    struct CallState {
        qint64 firstSeq = -1;
        bool proposed = false;                    // its call.proposed event is in the kept chain
        std::array<QString, kCallColumns> values; // NULL is stored as empty
    };
    struct RunState {
        qint64 firstSeq = -1;
        bool started = false; // its run.started event is in the kept chain
        bool seeded = false;
        bool finished = false;
        qint64 finishedSeq = -1;
        QString stopReason;
        // calls_proposed, _approved, _denied, _executed, _failed; unknown for a seeded run until
        // its run.finished, and for a run whose start was pruned.
        std::optional<std::array<qint64, 5>> counts;
        std::map<QString, CallState> calls;
    };

    // A runs row: stop_reason and the five counts (NULL is stored as empty).
    using RunRow = std::array<QString, 6>;
    struct CallRow {
        QString requestId;
        std::array<QString, kCallColumns> values; // NULL is stored as empty
    };
    using Batch = std::vector<std::pair<QString, RunState>>;

    void fold(RunState& run, qint64 seq, qint64 at, const QString& kind, const QString& requestId,
              const QByteArray& payload);
    // Reads the rows of the runs in a few queries (kBatchRuns runs each) and compares them.
    Status compare(const Batch& runs);
    void compare(const QString& runId, const RunState& run, const RunRow* row,
                 const QList<CallRow>& callRows);
    Status recheck(const QString& runId);
    Status findRowsWithoutEvents();
    void addFinding(ProjectionFinding finding);
    Status prepare(std::unique_ptr<QSqlQuery>& query, const QString& sql);
    Error sqlError(const QSqlQuery& query, const QString& what) const;

    QString m_connectionName;
    SqlDialect m_dialect;
    qint64 m_firstSeq;
    std::unordered_map<QString, RunState> m_open;
    qint64 m_pendingCalls = 0;
    QStringList m_ready;               // finished, to compare at the next flush()
    QHash<QString, qint64> m_compared; // compared (with its calls); a later event defers the run
    QHash<QString, qint64> m_findingsPerRun;
    QSet<QString> m_deferred; // compared again at finish() from its own events
    std::unique_ptr<QSqlQuery> m_runRow;
    std::unique_ptr<QSqlQuery> m_callRows;
    std::unique_ptr<QSqlQuery> m_runEvents;
    Report m_report;
};

} // namespace m1
