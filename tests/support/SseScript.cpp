#include "SseScript.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace m1::test {

SseScript& SseScript::event(const QByteArray& name, const QByteArray& json) {
    m_bytes += "event: " + name + "\ndata: " + json + "\n\n";
    return *this;
}

SseScript& SseScript::event(const QByteArray& name, const QJsonObject& json) {
    return event(name, QJsonDocument(json).toJson(QJsonDocument::Compact));
}

SseScript& SseScript::raw(const QByteArray& bytes) {
    m_bytes += bytes;
    return *this;
}

SseScript& SseScript::messageStart(const QString& id, const QString& model, int inputTokens) {
    const QJsonObject usage{{"input_tokens", inputTokens},
                            {"cache_creation_input_tokens", 0},
                            {"cache_read_input_tokens", 0},
                            {"output_tokens", 1}};
    const QJsonObject message{{"id", id},
                              {"type", "message"},
                              {"role", "assistant"},
                              {"model", model},
                              {"content", QJsonArray()},
                              {"stop_reason", QJsonValue()},
                              {"stop_sequence", QJsonValue()},
                              {"usage", usage}};
    return event("message_start", QJsonObject{{"type", "message_start"}, {"message", message}});
}

SseScript& SseScript::textBlock(int index, const QStringList& deltas) {
    event("content_block_start",
          QJsonObject{{"type", "content_block_start"},
                      {"index", index},
                      {"content_block", QJsonObject{{"type", "text"}, {"text", ""}}}});
    for (const QString& d : deltas)
        event("content_block_delta",
              QJsonObject{{"type", "content_block_delta"},
                          {"index", index},
                          {"delta", QJsonObject{{"type", "text_delta"}, {"text", d}}}});
    return event("content_block_stop",
                 QJsonObject{{"type", "content_block_stop"}, {"index", index}});
}

SseScript& SseScript::toolUseBlock(int index, const QString& id, const QString& name,
                                   const QStringList& partialJson) {
    event("content_block_start",
          QJsonObject{{"type", "content_block_start"},
                      {"index", index},
                      {"content_block", QJsonObject{{"type", "tool_use"},
                                                    {"id", id},
                                                    {"name", name},
                                                    {"input", QJsonObject()}}}});
    for (const QString& d : partialJson)
        event("content_block_delta", QJsonObject{{"type", "content_block_delta"},
                                                 {"index", index},
                                                 {"delta", QJsonObject{{"type", "input_json_delta"},
                                                                       {"partial_json", d}}}});
    return event("content_block_stop",
                 QJsonObject{{"type", "content_block_stop"}, {"index", index}});
}

SseScript& SseScript::thinkingBlock(int index, const QStringList& deltas,
                                    const QString& signature) {
    event("content_block_start",
          QJsonObject{{"type", "content_block_start"},
                      {"index", index},
                      {"content_block",
                       QJsonObject{{"type", "thinking"}, {"thinking", ""}, {"signature", ""}}}});
    for (const QString& d : deltas)
        event("content_block_delta",
              QJsonObject{{"type", "content_block_delta"},
                          {"index", index},
                          {"delta", QJsonObject{{"type", "thinking_delta"}, {"thinking", d}}}});
    event("content_block_delta", QJsonObject{{"type", "content_block_delta"},
                                             {"index", index},
                                             {"delta", QJsonObject{{"type", "signature_delta"},
                                                                   {"signature", signature}}}});
    return event("content_block_stop",
                 QJsonObject{{"type", "content_block_stop"}, {"index", index}});
}

SseScript& SseScript::messageDelta(const QString& stopReason, int outputTokens,
                                   const QJsonObject& extraDelta) {
    QJsonObject delta{{"stop_reason", stopReason}, {"stop_sequence", QJsonValue()}};
    for (auto it = extraDelta.begin(); it != extraDelta.end(); ++it)
        delta.insert(it.key(), it.value());
    return event("message_delta",
                 QJsonObject{{"type", "message_delta"},
                             {"delta", delta},
                             {"usage", QJsonObject{{"output_tokens", outputTokens}}}});
}

SseScript& SseScript::messageStop() {
    return event("message_stop", QByteArrayLiteral("{\"type\":\"message_stop\"}"));
}

SseScript& SseScript::ping() {
    return event("ping", QByteArrayLiteral("{\"type\": \"ping\"}"));
}

SseScript& SseScript::error(const QString& type, const QString& message, const QString& requestId) {
    return event("error", QJsonObject{{"type", "error"},
                                      {"error", QJsonObject{{"type", type},
                                                            {"message", message},
                                                            {"details", QJsonValue()}}},
                                      {"request_id", requestId}});
}

QByteArray SseScript::exampleToolUse() {
    return QByteArrayLiteral(
        "event: message_start\n"
        "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_fake_0001\",\"type\":"
        "\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-6\",\"content\":[],"
        "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":1250,"
        "\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":1}}}\n"
        "\n"
        "event: content_block_start\n"
        "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\","
        "\"text\":\"\"}}\n"
        "\n"
        "event: ping\n"
        "data: {\"type\": \"ping\"}\n"
        "\n"
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
        "\"text\":\"Running the tests.\"}}\n"
        "\n"
        "event: content_block_stop\n"
        "data: {\"type\":\"content_block_stop\",\"index\":0}\n"
        "\n"
        "event: content_block_start\n"
        "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":"
        "\"tool_use\",\"id\":\"toolu_fake_02\",\"name\":\"run_command\",\"input\":{}}}\n"
        "\n"
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":"
        "\"input_json_delta\",\"partial_json\":\"\"}}\n"
        "\n"
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":"
        "\"input_json_delta\",\"partial_json\":\"{\\\"argv\\\": [\\\"ct\"}}\n"
        "\n"
        "event: content_block_delta\n"
        "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":"
        "\"input_json_delta\",\"partial_json\":\"est\\\", \\\"-L\\\", \\\"unit\\\"]}\"}}\n"
        "\n"
        "event: content_block_stop\n"
        "data: {\"type\":\"content_block_stop\",\"index\":1     }\n"
        "\n"
        "event: message_delta\n"
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\","
        "\"stop_sequence\":null},\"usage\":{\"output_tokens\":41}}\n"
        "\n"
        "event: message_stop\n"
        "data: {\"type\":\"message_stop\"}\n"
        "\n");
}

QByteArray SseScript::textTurn(const QString& text, const QString& stopReason) {
    return SseScript()
        .messageStart()
        .textBlock(0, {text})
        .messageDelta(stopReason, 12)
        .messageStop()
        .bytes();
}

QByteArray SseScript::toolTurn(const QList<ToolUse>& uses, const QString& text, const QString& stop,
                               int inputTokens) {
    SseScript s;
    s.messageStart(QStringLiteral("msg_%1").arg(uses.isEmpty() ? QStringLiteral("x") : uses[0].id),
                   QStringLiteral("claude-sonnet-4-6"), inputTokens);
    s.textBlock(0, {text});
    int index = 1;
    for (const ToolUse& u : uses) {
        const QString json =
            QString::fromUtf8(QJsonDocument(u.input).toJson(QJsonDocument::Compact));
        s.toolUseBlock(index++, u.id, u.name, {QString(), json.left(5), json.mid(5)});
    }
    s.messageDelta(stop, 40);
    s.messageStop();
    return s.bytes();
}

} // namespace m1::test
