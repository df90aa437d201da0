#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QString>

namespace m1::test {

// Builds byte-exact Claude event streams (claude-api.md §4) for the fake server and tests.
class SseScript {
public:
    SseScript& event(const QByteArray& name, const QByteArray& json);
    SseScript& event(const QByteArray& name, const QJsonObject& json);
    SseScript& raw(const QByteArray& bytes);
    QByteArray bytes() const { return m_bytes; }

    SseScript& messageStart(const QString& id = QStringLiteral("msg_fake_0001"),
                            const QString& model = QStringLiteral("claude-sonnet-4-6"),
                            int inputTokens = 1250);
    SseScript& textBlock(int index, const QStringList& deltas);
    // partialJson fragments are sent as they are (the first "" delta included when given).
    SseScript& toolUseBlock(int index, const QString& id, const QString& name,
                            const QStringList& partialJson);
    SseScript& thinkingBlock(int index, const QStringList& deltas, const QString& signature);
    SseScript& messageDelta(const QString& stopReason, int outputTokens,
                            const QJsonObject& extraDelta = {});
    SseScript& messageStop();
    SseScript& ping();
    SseScript& error(const QString& type, const QString& message,
                     const QString& requestId = QStringLiteral("req_fake_stream"));

    // The example stream of claude-api.md §4, byte for byte.
    static QByteArray exampleToolUse();
    // A complete end_turn text turn.
    static QByteArray textTurn(const QString& text,
                               const QString& stopReason = QStringLiteral("end_turn"));

    // One proposed call of toolTurn().
    struct ToolUse {
        QString id;
        QString name;
        QJsonObject input;
    };
    // A complete turn: a text block, then one tool_use block per call (each input split across
    // input_json_delta events), stop reason `stop`.
    static QByteArray toolTurn(const QList<ToolUse>& uses,
                               const QString& text = QStringLiteral("Working."),
                               const QString& stop = QStringLiteral("tool_use"),
                               int inputTokens = 1250);

private:
    QByteArray m_bytes;
};

} // namespace m1::test
