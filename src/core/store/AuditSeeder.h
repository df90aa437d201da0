#pragma once

#include "util/Error.h"

#include <QCoreApplication>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>

namespace m1 {

class AuditStore;

// Synthetic history for benchmarks, screenshots and manual testing (`m1ctl dev seed`): runs of
// several agents and models, every call status and stop reason, API calls with costs from a
// fixed price table, spread over the 90 days before now. Deterministic for a given seed and
// clock.
//
// Fast because it writes rows directly, in large transactions with prepared statements, instead
// of one event per transition through the AuditWriter. The hash chain stays valid: every seeded
// run gets its run.started event (its payload marked "seeded": true) and, when finished, its
// run.finished event with the run's totals, appended to the chain with the same hashing as the
// writer; the seeded tool and API call rows are projection rows without events of their own.
// So `audit verify` passes on a seeded store, and the chain says which runs were seeded.
class AuditSeeder {
    Q_DECLARE_TR_FUNCTIONS(AuditSeeder)

public:
    struct Options {
        qint64 runs = 1000;
        int callsPerRun = 10;
        quint32 seed = 1;
        qint64 nowMs = -1;  // the end of the span; -1 = now
        int spanDays = 90;  // the runs are spread evenly over these days before now
        QStringList models; // empty: a built-in list
        qint64 runsPerCommit = 5000;
        std::function<void(qint64 runsDone)> progress; // after each commit
    };

    struct Report {
        qint64 runs = 0;
        qint64 toolCalls = 0;
        qint64 apiCalls = 0;
        qint64 events = 0;
    };

    // Writes on the store's connection (its thread). Errors: "seed.options", store codes.
    static Result<Report> seed(const AuditStore& store, const Options& options);

    // The fixed price table (USD per million tokens = micro-dollars per token), by model family
    // (opus, sonnet, haiku, fable); empty for models it does not price (their calls are stored
    // with an unknown cost). Cache writes cost 1.25x input, cache reads 0.1x input.
    static std::optional<qint64> costMicros(const QString& model, qint64 inputTokens,
                                            qint64 outputTokens, qint64 cacheWriteTokens,
                                            qint64 cacheReadTokens);
};

} // namespace m1
