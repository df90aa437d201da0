#pragma once

#include <QString>

namespace m1 {

// The run id and request id the JSON log attaches to every line written on this thread while a
// LogContext lives. Scoped and nestable: the previous context comes back on destruction. The run
// loop opens one per run step; work handed to another thread opens its own there.
class LogContext {
public:
    LogContext(const QString& runId, const QString& requestId = {});
    ~LogContext();
    LogContext(const LogContext&) = delete;
    LogContext& operator=(const LogContext&) = delete;

    static QString currentRunId();
    static QString currentRequestId();

private:
    QString m_previousRunId;
    QString m_previousRequestId;
};

} // namespace m1
