#pragma once

#include "model/PolicyDecision.h"
#include "model/ToolCall.h"
#include "policy/PolicyConfig.h"
#include "policy/PolicyRules.h"
#include "policy/RuleIndex.h"
#include "policy/RunState.h"
#include "tools/ToolRegistry.h"
#include "tools/Workspace.h"

#include <QCoreApplication>

#include <memory>

namespace m1 {

// Decides allow / ask / deny for one proposed call. Order: allowlist and schema (deny), run limits
// and rate limits (deny), built-in protections, then the user rules (deny wins over ask, ask over
// allow), then the scope requirement. Every decision names what decided it.
// Holds references: the registry and workspace must outlive the engine. Rules are compiled once in
// the constructor; evaluate() is const and may be called from several threads at once.
// Semantics in detail: docs/policy.md.
class PolicyEngine {
    Q_DECLARE_TR_FUNCTIONS(PolicyEngine)

public:
    PolicyEngine(const ToolRegistry& registry, const Workspace& workspace, PolicyConfig config,
                 PolicyRules rules);

    PolicyDecision evaluate(const ToolCall& call, const RunState& runState) const;

    const PolicyConfig& config() const { return m_config; }
    const PolicyRules& rules() const { return m_rules; }

    // Paths that writes may never change without a person's approval (SBX-10), as path globs.
    static const QStringList& protectedWritePatterns();

private:
    PolicyDecision evaluatePathTool(const ToolCall& call, const ToolSpec& spec) const;
    PolicyDecision evaluateCommand(const ToolCall& call, const ToolSpec& spec) const;
    PolicyDecision evaluateOtherTool(const ToolCall& call, const ToolSpec& spec) const;
    PolicyDecision scopeDecision(const ToolSpec& spec, const QString& prefix = {}) const;
    QString protectedPattern(QStringView relativePath) const;
    // What a location outside the workspace is, when commands may not change it unasked.
    QString protectedOutside(const QString& absolute) const;

    struct ProtectedOutside {
        QString path; // absolute, clean
        bool folder;  // also everything below it
        QString what; // for the warning
    };

    const ToolRegistry& m_registry;
    const Workspace& m_workspace;
    PolicyConfig m_config;
    PolicyRules m_rules;
    std::shared_ptr<const RuleIndex> m_index;
    std::shared_ptr<const std::vector<GlobMatcher>> m_protected;
    std::shared_ptr<const std::vector<ProtectedOutside>> m_protectedOutside;
    QString m_home;
};

} // namespace m1
