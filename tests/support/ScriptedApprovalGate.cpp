#include "ScriptedApprovalGate.h"

#include <QTimer>

namespace m1::test {

void ScriptedApprovalGate::request(const PendingApproval& pending) {
    asked.append(pending);
    if (silent)
        return;
    ApprovalDecision decision;
    if (!script.isEmpty())
        decision = script.takeFirst();
    else if (fallback)
        decision = fallback(pending);
    else
        decision = deny();
    const QString runId = pending.call.runId;
    const QString callId = pending.call.id;
    QTimer::singleShot(0, this, [this, runId, callId, decision] {
        if (!cancelled.contains(callId))
            emit decided(runId, callId, decision);
    });
}

void ScriptedApprovalGate::cancel(const QString&, const QString& callId) {
    cancelled.append(callId);
}

} // namespace m1::test
