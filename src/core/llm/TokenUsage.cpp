#include "TokenUsage.h"

namespace m1 {

namespace {

void overwrite(const QJsonObject& o, const char* key, qint64& target) {
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isDouble() && v.toDouble() >= 0)
        target = v.toInteger(qint64(v.toDouble()));
}

} // namespace

void TokenUsage::merge(const QJsonObject& usage) {
    known = true;
    overwrite(usage, "input_tokens", inputTokens);
    overwrite(usage, "output_tokens", outputTokens);
    overwrite(usage, "cache_creation_input_tokens", cacheCreationInputTokens);
    overwrite(usage, "cache_read_input_tokens", cacheReadInputTokens);
    const QJsonObject split = usage.value(QLatin1String("cache_creation")).toObject();
    overwrite(split, "ephemeral_5m_input_tokens", cacheCreation5mInputTokens);
    overwrite(split, "ephemeral_1h_input_tokens", cacheCreation1hInputTokens);
    for (auto it = usage.begin(); it != usage.end(); ++it)
        if (!it.value().isNull())
            raw.insert(it.key(), it.value());
}

QJsonObject TokenUsage::toJson() const {
    if (!known)
        return {};
    return QJsonObject{
        {QStringLiteral("input_tokens"), inputTokens},
        {QStringLiteral("output_tokens"), outputTokens},
        {QStringLiteral("cache_creation_input_tokens"), cacheCreationInputTokens},
        {QStringLiteral("cache_read_input_tokens"), cacheReadInputTokens},
        {QStringLiteral("cache_creation"),
         QJsonObject{{QStringLiteral("ephemeral_5m_input_tokens"), cacheCreation5mInputTokens},
                     {QStringLiteral("ephemeral_1h_input_tokens"), cacheCreation1hInputTokens}}}};
}

} // namespace m1
