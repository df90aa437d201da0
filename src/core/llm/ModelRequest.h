#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QString>

namespace m1 {

// What one model turn sends. Sampling parameters (temperature, top_p, top_k) do not exist
// here on purpose: newer models reject them.
struct ModelRequest {
    QString model;
    int maxTokens = 8192;
    QString systemPrompt;
    QJsonArray tools;     // ToolRegistry::modelDefinitions()
    QJsonArray messages;  // user/assistant alternation, starting and ending with user
    QJsonObject thinking; // empty = not sent; else e.g. {"type":"adaptive"}
    QJsonObject metadata; // only {"user_id": ...}

    QJsonObject toJson() const;
};

} // namespace m1
