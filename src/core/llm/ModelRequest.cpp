#include "ModelRequest.h"

namespace m1 {

QJsonObject ModelRequest::toJson() const {
    QJsonObject body{{QStringLiteral("model"), model},
                     {QStringLiteral("max_tokens"), maxTokens},
                     {QStringLiteral("stream"), true},
                     {QStringLiteral("messages"), messages}};
    if (!systemPrompt.isEmpty())
        body.insert(QStringLiteral("system"),
                    QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                           {QStringLiteral("text"), systemPrompt}}});
    if (!tools.isEmpty()) {
        body.insert(QStringLiteral("tools"), tools);
        // Forced tool use is refused with thinking on; auto always works.
        body.insert(QStringLiteral("tool_choice"),
                    QJsonObject{{QStringLiteral("type"), QStringLiteral("auto")}});
    }
    if (!thinking.isEmpty())
        body.insert(QStringLiteral("thinking"), thinking);
    if (!metadata.isEmpty())
        body.insert(QStringLiteral("metadata"), metadata);
    return body;
}

} // namespace m1
