#pragma once

#include "policy/CommandMatcher.h"
#include "policy/GlobMatcher.h"
#include "policy/PolicyRules.h"

#include <QHash>
#include <QStringList>

#include <unordered_map>
#include <vector>

namespace m1 {

// The user rules compiled once for fast lookup: per list and tool, path globs bucketed by their
// first path segment, command patterns bucketed by program basename. Lookups return the earliest
// matching rule (by position in the rule set) or nullptr.
class RuleIndex {
public:
    using List = PolicyRule::List;

    RuleIndex() = default;
    explicit RuleIndex(const QList<PolicyRule>& rules);

    // A rule without a pattern ("run_command") for the tool.
    const PolicyRule* bare(List list, const QString& tool) const;
    // A path rule of any of `tools` matching the workspace-relative path. Deny and ask rules
    // ignore case; allow rules do not.
    const PolicyRule* path(List list, const QStringList& tools, QStringView relativePath) const;
    // A path rule of any of `tools` that could match something strictly below `dir`.
    const PolicyRule* pathBelow(List list, const QStringList& tools, QStringView dir) const;
    // The same as path() and pathBelow() with every path tool (PolicyRules::isPathTool) as
    // `tools`, from one bucket that holds the rules of all of them.
    const PolicyRule* pathAnyTool(List list, QStringView relativePath) const;
    const PolicyRule* pathBelowAnyTool(List list, QStringView dir) const;
    bool hasPathRules(List list) const;
    // A command rule matching loosely (deny and ask lists).
    const PolicyRule* commandLoosely(List list, const CommandMatcher::Shape& shape) const;
    // A command rule matching strictly (allow list).
    const PolicyRule* commandStrictly(List list, const QString& program, const QStringList& argv,
                                      bool scriptAnalysed = false) const;

    static QString normalisePathPattern(const QString& pattern);

    // The rules, in order; every rule returned by a lookup is one of these.
    const QList<PolicyRule>& rules() const { return m_rules; }

private:
    struct PathRule {
        int rule;
        GlobMatcher glob;
    };
    // Looked up with a QStringView, without building a QString for every lookup.
    struct ViewHash {
        using is_transparent = void;
        size_t operator()(QStringView text) const noexcept { return qHash(text); }
    };
    struct ViewEqual {
        using is_transparent = void;
        bool operator()(QStringView a, QStringView b) const noexcept { return a == b; }
    };
    struct PathBucket {
        std::unordered_map<QString, std::vector<PathRule>, ViewHash, ViewEqual> byFirstSegment;
        std::vector<PathRule> wildcard; // first segment has wildcards
        std::vector<PathRule> all;
    };
    struct CommandRule {
        int rule;
        CommandMatcher matcher;
    };
    // For the strict match: a rule whose second word is plain text (no wildcard) can only
    // match an argv whose second element is exactly that text.
    struct StrictBucket {
        QHash<QString, std::vector<CommandRule>> bySecondWord;
        std::vector<CommandRule> anySecondWord;
    };
    struct ListIndex {
        QHash<QString, int> bare;
        // Per path tool; at most the five path tools, so a scan beats hashing the name.
        std::vector<std::pair<QString, PathBucket>> paths;
        PathBucket anyPathTool; // the rules of all the buckets above, in rule order
        const PathBucket* pathBucket(const QString& tool) const;
        QHash<QString, std::vector<CommandRule>> commandsByProgram;
        QHash<QString, StrictBucket> strictByProgram;
        std::vector<CommandRule> commandsWildcard;
    };

    const PolicyRule* path(List list, const QStringList& tools, QStringView relativePath,
                           bool folded) const;
    const PolicyRule* pathBelowFolded(List list, const QStringList& tools, QStringView dir) const;
    // The earliest rule of `bucket` matching the path (or, with `below`, that could match
    // something below it), or -1; `best` is the earliest found so far in other buckets.
    static int firstMatch(const PathBucket& bucket, QStringView relativePath, int best);
    static int firstBelow(const PathBucket& bucket, QStringView dir, int best);
    const PolicyRule* ruleAt(int index) const { return index < 0 ? nullptr : &m_rules[index]; }
    const ListIndex& lists(List list) const { return m_lists[static_cast<int>(list)]; }

    QList<PolicyRule> m_rules;
    ListIndex m_lists[3];
};

} // namespace m1
