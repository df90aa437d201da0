#pragma once

#include "llm/ApiErrorClassifier.h"
#include "llm/AssistantMessage.h"
#include "llm/SseParser.h"
#include "util/Error.h"

#include <QCoreApplication>
#include <QJsonObject>
#include <QString>

#include <functional>
#include <map>
#include <optional>

namespace m1 {

// Turns the events of one streamed response into one assistant message (claude-api.md §4).
// A message exists only after message_stop; the first error is final and everything after it
// is ignored. The callbacks are previews for a live view: proposals come from message() only.
class StreamAssembler {
    Q_DECLARE_TR_FUNCTIONS(StreamAssembler)
public:
    struct Callbacks {
        std::function<void(int index, const QString& text)> textDelta;
        std::function<void(int index, const QString& text)> thinkingDelta;
        std::function<void(int index, const QString& id, const QString& name)> toolUseStarted;
        std::function<void(int index, const QString& id, const QString& name,
                           const QJsonObject& input)>
            toolUseComplete;
    };

    void setCallbacks(Callbacks callbacks) { m_callbacks = std::move(callbacks); }

    // Error codes: the classified `error` event (api.overloaded, ...), api.invalid_tool_input,
    // api.unexpected_response for a malformed event (naming its type and position).
    Status handle(const SseEvent& event);

    bool isComplete() const { return m_complete; }
    bool hasFailed() const { return m_failed.has_value(); }
    std::optional<Error> failure() const { return m_failed; }
    // Set when the failure came from an `error` event.
    std::optional<ApiFailure> streamError() const { return m_streamError; }
    // True when the stream's first event was the error (retryable by the project's rule).
    bool errorWasFirstEvent() const { return m_errorWasFirst; }
    bool sawMessageStart() const { return m_started; }
    int eventCount() const { return m_eventCount; }
    const TokenUsage& usage() const { return m_message.usage; }
    // Valid once isComplete().
    const AssistantMessage& message() const { return m_message; }

private:
    enum class BlockKind { Other, Text, Thinking, ToolUse };
    struct Block {
        QString type;
        BlockKind kind = BlockKind::Other;
        QJsonObject object;
        QByteArray text; // text / thinking / partial_json, UTF-8, appended in place
        bool stopped = false;
    };

    bool appendFastDelta(const QByteArray& data);
    Status malformed(const QByteArray& type, const QString& why);
    Status failWith(Error error);
    Status onBlockStart(const QByteArray& type, const QJsonObject& root);
    Status onBlockDelta(const QByteArray& type, qint64 index, const QByteArray& deltaType,
                        const QByteArray& value, const QJsonObject& delta);
    Status onBlockStop(const QByteArray& type, qint64 index);
    Status onMessageStop(const QByteArray& type);

    Callbacks m_callbacks;
    AssistantMessage m_message;
    std::map<qint64, Block> m_blocks;
    bool m_started = false;
    bool m_deltaSeen = false;
    bool m_complete = false;
    bool m_errorWasFirst = false;
    int m_eventCount = 0;
    std::optional<Error> m_failed;
    std::optional<ApiFailure> m_streamError;
};

} // namespace m1
