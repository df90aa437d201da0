#pragma once

#include "util/Error.h"

#include <QCoreApplication>

namespace m1 {

class AuditWriter;

// Fills an audit store with plausible past runs (fixed pseudo-random sequence, fixed dates), for
// the screenshots and the benchmarks: runs over `days` days ending at endMs, with API calls of
// two models, tool calls of every scope with approvals, denials and failures, and a few errors.
class DemoDataSeeder {
    Q_DECLARE_TR_FUNCTIONS(DemoDataSeeder)
public:
    struct Options {
        int runs = 60;
        int days = 30;
        qint64 endMs = 0; // 0: now
        quint32 seed = 7;
        bool detailed = true; // tool calls and API calls, not only the run rows
    };
    // Waits for the writer's acknowledgement of the last event; not for the UI thread of a live
    // application (the screenshot mode and benchmarks run it before showing anything).
    static Status seed(AuditWriter& writer, const Options& options);
};

} // namespace m1
