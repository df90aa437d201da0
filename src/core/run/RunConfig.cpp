#include "run/RunConfig.h"

#include <QJsonObject>

namespace m1 {

QJsonObject RunConfig::constraints() const {
    return QJsonObject{{QStringLiteral("max_steps"), limits.maxSteps},
                       {QStringLiteral("max_tool_calls"), limits.maxToolCalls},
                       {QStringLiteral("max_runtime_seconds"), limits.maxRuntimeSeconds},
                       {QStringLiteral("budget_usd"), limits.budgetUsd},
                       {QStringLiteral("max_tokens"), maxTokens},
                       {QStringLiteral("context_share"), contextShare},
                       {QStringLiteral("max_tool_result_chars"), maxToolResultChars}};
}

} // namespace m1
