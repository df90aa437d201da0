#pragma once

#include "store/SqlDialect.h"
#include "util/Error.h"

#include <QCoreApplication>
#include <QString>

namespace m1 {

// Removes old runs while keeping the chain verifiable. Only a prefix of the chain can go: events
// are removed up to (not including) the first event that must stay, that is the first event of a
// run that is kept (still running, or completed after the cutoff) or of an alert newer than the
// cutoff. The first kept event is recorded in chain_anchor with its prev_hash, and the prune
// itself is appended to the chain as a "chain.pruned" event. A run completed before the cutoff
// whose events interleave with a kept run waits for a later prune ("deferred").
class AuditRetention {
    Q_DECLARE_TR_FUNCTIONS(AuditRetention)

public:
    struct Report {
        bool dryRun = true;
        qint64 cutoff = 0; // ms since the epoch: runs completed before it go
        qint64 runs = 0;
        qint64 toolCalls = 0;
        qint64 apiCalls = 0;
        qint64 events = 0;
        qint64 alerts = 0;
        qint64 deferredRuns = 0;
        qint64 oldestStart = 0; // started_at range of the runs that go (0 when none)
        qint64 newestStart = 0;
        qint64 firstKeptSeq = 0;
    };

    // olderThanDays >= 0; nowMs is the reference time (tests pass a fixed one).
    static Result<Report> prune(const QString& connectionName, const SqlDialect& dialect,
                                int olderThanDays, bool dryRun, qint64 nowMs);
};

} // namespace m1
