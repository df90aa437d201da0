#pragma once

#include "model/PolicyDecision.h"
#include "model/ToolCall.h"
#include "policy/PolicyConfig.h"
#include "policy/PolicyRules.h"
#include "policy/RunState.h"
#include "tools/ToolRegistry.h"
#include "tools/Workspace.h"

namespace m1 {

// Decides allow / ask / deny for one proposed call. Order: allowlist and schema (deny), run limits
// and rate limits (deny), built-in protections, then the user rules (deny wins over ask, ask over
// allow), then the scope requirement. Every decision names what decided it.
// Holds references: the registry and workspace must outlive the engine.
class PolicyEngine {
public:
    PolicyEngine(const ToolRegistry& registry, const Workspace& workspace, PolicyConfig config,
                 PolicyRules rules);

    PolicyDecision evaluate(const ToolCall& call, const RunState& runState) const;

    const PolicyConfig& config() const { return m_config; }
    const PolicyRules& rules() const { return m_rules; }

private:
    const ToolRegistry& m_registry;
    const Workspace& m_workspace;
    PolicyConfig m_config;
    PolicyRules m_rules;
};

} // namespace m1
