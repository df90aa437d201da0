#include "tokens/TokenClaims.h"

namespace m1 {

QJsonObject TokenClaims::toJson() const {
    return QJsonObject{
        {QStringLiteral("toolName"), toolName},
        {QStringLiteral("scope"), scopeToString(scope)},
        {QStringLiteral("iat"), iat},
        {QStringLiteral("exp"), exp},
        {QStringLiteral("jti"), jti},
        {QStringLiteral("iss"), QStringLiteral("m1-agent-control")},
        {QStringLiteral("sub"), QStringLiteral("approval")},
        {QStringLiteral("runId"), runId},
        {QStringLiteral("argsSha256"), argsSha256},
    };
}

} // namespace m1
