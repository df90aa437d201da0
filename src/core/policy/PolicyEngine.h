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
    QString ruleWhere(const PolicyRule& rule) const;
    bool sameWhereTemplate(const PolicyRule& rule) const;
    PolicyDecision denyByRule(const PolicyRule& rule, const QString& what) const;
    PolicyDecision askByRule(const PolicyRule& rule, const QString& what) const;
    PolicyDecision allowByRule(const PolicyRule& rule) const;
    // The position of a rule of m_index in the texts below, or -1.
    qsizetype textIndex(const PolicyRule& rule) const;

    // Reason texts of each rule (by position in m_index), formatted once with the wording the
    // translation had then.
    struct RuleTexts {
        QString withFile;      // the template of a rule's place
        QString inApplication; // the same for a rule set in the application
        QString allowedBy;     // the template of an allow decision
        std::vector<QString> where;
        std::vector<QString> allowed;
        static RuleTexts build(const QList<PolicyRule>& rules);
    };
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
    std::shared_ptr<const RuleTexts> m_ruleTexts;
    std::shared_ptr<const std::vector<GlobMatcher>> m_protected;
    QString m_protectedStarts; // the first character of each protected pattern, or empty
    std::shared_ptr<const std::vector<ProtectedOutside>> m_protectedOutside;
    QString m_home;
};

} // namespace m1
