#pragma once

#include "model/PolicyDecision.h"
#include "model/Scope.h"
#include "model/ToolCall.h"

#include <QMetaType>

namespace m1 {

// One proposal the policy wants a decision on ("ask"), as an ApprovalGate receives it.
struct PendingApproval {
    ToolCall call; // id = the model's tool_use id, runId set
    Scope scope = Scope::Execute;
    PolicyDecision decision; // why the policy asks
    int step = 0;
    QString workspaceRoot; // for showing diffs against the current file content
    // The proposals one assistant message needs a decision on are requested together, in the
    // message's order: this is the position among them (0-based) and their number. A gate may
    // show them as one batch; each still gets its own decision.
    int batchIndex = 0;
    int batchSize = 1;
};

} // namespace m1

Q_DECLARE_METATYPE(m1::PendingApproval)
