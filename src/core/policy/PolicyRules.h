#pragma once

#include "util/Error.h"

#include <QList>
#include <QString>

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
// half-loaded rule set.
class PolicyRules {
public:
    static Result<PolicyRules> parse(const QByteArray& json, const QString& fileName);
    static Result<PolicyRules> loadFile(const QString& path);

    const QList<PolicyRule>& rules() const { return m_rules; }
    void append(const PolicyRules& other);
    // Serialises back to the JSON form (used by the GUI's "Always allow" and by round-trip tests).
    QByteArray toJson() const;

private:
    QList<PolicyRule> m_rules;
};

} // namespace m1
