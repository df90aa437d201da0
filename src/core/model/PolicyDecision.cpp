#include "model/PolicyDecision.h"

namespace m1 {

QString decisionKindToString(PolicyDecision::Kind kind) {
    switch (kind) {
    case PolicyDecision::Kind::Allow:
        return QStringLiteral("allow");
    case PolicyDecision::Kind::Ask:
        return QStringLiteral("ask");
    case PolicyDecision::Kind::Deny:
        return QStringLiteral("deny");
    }
    return QStringLiteral("deny");
}

QString decisionSourceToString(DecisionSource source) {
    switch (source) {
    case DecisionSource::Allowlist:
        return QStringLiteral("allowlist");
    case DecisionSource::Schema:
        return QStringLiteral("schema");
    case DecisionSource::Rule:
        return QStringLiteral("rule");
    case DecisionSource::Limit:
        return QStringLiteral("limit");
    case DecisionSource::RateLimit:
        return QStringLiteral("rate_limit");
    case DecisionSource::ScopeRequirement:
        return QStringLiteral("scope_requirement");
    case DecisionSource::Protection:
        return QStringLiteral("protection");
    case DecisionSource::Analysis:
        return QStringLiteral("analysis");
    }
    return QStringLiteral("unknown");
}

QJsonObject PolicyDecision::toJson() const {
    QJsonObject o{{QStringLiteral("decision"), decisionKindToString(kind)},
                  {QStringLiteral("reason"), reason},
                  {QStringLiteral("code"), code},
                  {QStringLiteral("source"), decisionSourceToString(source)}};
    if (!ruleText.isEmpty())
        o.insert(QStringLiteral("rule"), ruleText);
    if (!ruleFile.isEmpty())
        o.insert(QStringLiteral("ruleFile"), ruleFile);
    return o;
}

} // namespace m1
