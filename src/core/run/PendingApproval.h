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
};

} // namespace m1

Q_DECLARE_METATYPE(m1::PendingApproval)
