#pragma once

#include "util/Error.h"

#include <QList>
#include <QString>
#include <QStringList>

namespace m1 {

// One user rule: `Tool` or `Tool(pattern)`, from one of the lists allow / ask / deny.
struct PolicyRule {
    enum class List { Allow, Ask, Deny };
    List list = List::Ask;
    QString text;    // as written, e.g. "run_command(git status*)"
    QString tool;    // "run_command"
    QString pattern; // "git status*"; empty when the rule has no parentheses
    bool hasPattern = false;
    QString file; // where it came from ("" for rules built in code)
    int line = 0; // 1-based line in that file
};

// Rules load from JSON ({"allow":[...],"ask":[...],"deny":[...]}). A malformed file is refused as
// a whole ("policy.rules_invalid"), the message naming the file, line and reason; there is never a
// half-loaded rule set. Syntax and semantics: docs/policy.md.
class PolicyRules {
public:
    // The tools rules may name by default: the built-in tools.
    static QStringList builtinToolNames();
    // Tools whose pattern is a workspace-relative path glob, and the one whose pattern is a
    // command; any other tool takes no pattern.
    static bool isPathTool(const QString& tool);
    static bool isCommandTool(const QString& tool);

    // Refuses rules naming a tool outside knownTools (a typo must never silently disable a deny
    // rule). The two-argument forms accept the built-in tools.
    static Result<PolicyRules> parse(const QByteArray& json, const QString& fileName);
    static Result<PolicyRules> parse(const QByteArray& json, const QString& fileName,
                                     const QStringList& knownTools);
    static Result<PolicyRules> loadFile(const QString& path);
    static Result<PolicyRules> loadFile(const QString& path, const QStringList& knownTools);

    // Checks one rule string (as in a file) and fills tool/pattern/hasPattern; the error message
    // gives the reason without file and line.
    static Result<PolicyRule> parseRule(const QString& text, PolicyRule::List list,
                                        const QStringList& knownTools);

    const QList<PolicyRule>& rules() const { return m_rules; }
    void append(const PolicyRules& other);
    // Adds one rule built in code (e.g. the GUI's "Always allow"); the same checks as a file.
    Status add(PolicyRule::List list, const QString& text, const QString& file = {},
               const QStringList& knownTools = builtinToolNames());
    // Serialises back to the JSON form (used by the GUI's "Always allow" and by round-trip tests).
    QByteArray toJson() const;

private:
    QList<PolicyRule> m_rules;
};

} // namespace m1
