#pragma once

#include "model/Scope.h"

#include <QHash>
#include <QString>

namespace m1 {

// The non-rule inputs of the policy engine. Defaults follow the product's defaults.
struct PolicyConfig {
    // Whether a call of this scope needs a person's approval when no rule matched.
    bool readNeedsApproval = false;
    bool writeNeedsApproval = true;
    bool executeNeedsApproval = true;

    int maxToolCallsPerRun = 50;
    int maxStepsPerRun = 100;
    int maxRuntimeSeconds = 300;

    struct RateLimit {
        int maxCalls = 0; // 0: no limit
        int perSeconds = 60;
    };
    QHash<QString, RateLimit> rateLimits; // by tool name

    bool needsApproval(Scope scope) const;
};

} // namespace m1
