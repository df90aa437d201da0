#include "monitoring/LogContext.h"

namespace m1 {

namespace {

thread_local QString t_runId;
thread_local QString t_requestId;

} // namespace

LogContext::LogContext(const QString& runId, const QString& requestId)
    : m_previousRunId(t_runId), m_previousRequestId(t_requestId) {
    t_runId = runId;
    t_requestId = requestId;
}

LogContext::~LogContext() {
    t_runId = m_previousRunId;
    t_requestId = m_previousRequestId;
}

QString LogContext::currentRunId() {
    return t_runId;
}

QString LogContext::currentRequestId() {
    return t_requestId;
}

} // namespace m1
