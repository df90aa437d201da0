#include "ReplayTranscript.h"

namespace m1::test::replay {

QJsonObject toolUse(const QString& id, const QString& name, const QJsonObject& input) {
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("tool_use")},
                       {QStringLiteral("id"), id},
                       {QStringLiteral("name"), name},
                       {QStringLiteral("input"), input}};
}

QJsonObject text(const QString& text) {
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                       {QStringLiteral("text"), text}};
}

QJsonObject turn(const QJsonArray& content, const QString& stopReason) {
    return QJsonObject{
        {QStringLiteral("content"), content},
        {QStringLiteral("stop_reason"), stopReason},
        {QStringLiteral("usage"), QJsonObject{{QStringLiteral("input_tokens"), 1000},
                                              {QStringLiteral("output_tokens"), 50}}}};
}

} // namespace m1::test::replay
