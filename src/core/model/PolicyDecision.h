#pragma once

#include <QJsonObject>
#include <QString>

namespace m1 {

// What decided a call, so the audit trail can later say why something was allowed.
enum class DecisionSource {
    Allowlist,        // tool unknown or disabled
    Schema,           // arguments do not match the tool's input schema
    Rule,             // a user rule (rule text and the file it came from in ruleText/ruleFile)
    Limit,            // a run limit (tool calls, steps, runtime)
    RateLimit,        // a per-tool rate limit
    ScopeRequirement, // no rule matched: the scope's approval requirement decided
    Protection,       // a built-in protection (argv not a program, protected path, ...)
    Analysis,         // the command could not be analysed with confidence
};

struct PolicyDecision {
    enum class Kind { Allow, Ask, Deny };

    Kind kind = Kind::Deny;
    QString reason; // a sentence a person can read
    QString code;   // stable code, e.g. "policy.rule_deny", "policy.limit.tool_calls"
    DecisionSource source = DecisionSource::ScopeRequirement;
    QString ruleText; // e.g. "run_command(git status*)" when source == Rule
    QString ruleFile; // the file the rule came from

    bool isAllow() const { return kind == Kind::Allow; }
    bool isAsk() const { return kind == Kind::Ask; }
    bool isDeny() const { return kind == Kind::Deny; }

    QJsonObject toJson() const;
};

QString decisionKindToString(PolicyDecision::Kind kind);
QString decisionSourceToString(DecisionSource source);

} // namespace m1
