#pragma once

#include "llm/TokenUsage.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QMetaType>
#include <QString>

namespace m1 {

// One finished assistant turn (only ever built after message_stop). `content` holds each
// block exactly as assembled so it can be sent back unchanged (thinking signatures intact).
struct AssistantMessage {
    QString id;
    QString model;
    QString requestId;
    QJsonArray content;
    QString stopReason;
    QJsonValue stopSequence; // null or the string matched
    QJsonObject stopDetails; // empty or e.g. {"type":"refusal",...}
    TokenUsage usage;

    // The message as it goes back in `messages`: {"role":"assistant","content":[...]}.
    QJsonObject toRequestMessage() const {
        return QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
                           {QStringLiteral("content"), content}};
    }
};

} // namespace m1

Q_DECLARE_METATYPE(m1::AssistantMessage)
