#pragma once

#include "run/ApprovalDecision.h"
#include "run/PendingApproval.h"

#include <QObject>

namespace m1 {

// Where a proposal the policy marked "ask" gets its decision: the GUI dialog, the terminal
// prompt, pre-authorised tokens, auto-approve modes, a scripted gate in tests.
//
// Contract: request() returns at once (it must never block the event loop); the gate later
// emits decided() exactly once for that call id, on the thread it lives on, unless the run
// cancels the request first with cancel() (then it must not emit for that id). Several requests
// may be outstanding at a time (several runs sharing a gate); ids are unique per run. The gate
// only decides: it never runs anything and never mints tokens. A decision may carry a
// pre-authorised token; the run loop still verifies it (ToolExecutor) before anything runs.
class ApprovalGate : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;

    virtual void request(const m1::PendingApproval& pending) = 0;
    // The run no longer waits (timeout, cancel, run stopped): drop the prompt, emit nothing.
    virtual void cancel(const QString& runId, const QString& callId) = 0;

signals:
    void decided(const QString& runId, const QString& callId, const m1::ApprovalDecision& decision);
};

} // namespace m1
