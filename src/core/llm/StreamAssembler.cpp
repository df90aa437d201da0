#include "StreamAssembler.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>

#include <algorithm>
#include <cstring>

#include "util/JsonReader.h"

Q_LOGGING_CATEGORY(lcAssembler, "m1.llm.stream")

namespace m1 {

namespace {

bool consume(const char*& p, const char* end, const char* literal, size_t len) {
    if (size_t(end - p) < len || std::memcmp(p, literal, len) != 0)
        return false;
    p += len;
    return true;
}

#define M1_LIT(s) s, sizeof(s) - 1

bool isIndex(const QJsonValue& v) {
    if (!v.isDouble())
        return false;
    const double d = v.toDouble();
    return d >= 0 && d <= 1e9 && d == double(qint64(d));
}

} // namespace

// The hot path: a delta in exactly the compact shape the API sends, for a started block of the
// matching kind, decoded straight onto the end of the block's text. Anything else (another
// shape, an unusual escape, a delta the general path rejects) returns false and goes through
// QJsonDocument and onBlockDelta, which give the same result or the error.
bool StreamAssembler::appendFastDelta(const QByteArray& data) {
    const char* p = data.constData();
    const char* end = p + data.size();
    if (!m_started || !consume(p, end, M1_LIT("{\"type\":\"content_block_delta\",\"index\":")))
        return false;
    if (p >= end || *p < '0' || *p > '9')
        return false;
    qint64 index = 0;
    int digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits < 9) {
        index = index * 10 + (*p - '0');
        ++p;
        ++digits;
    }
    BlockKind kind;
    if (consume(p, end, M1_LIT(",\"delta\":{\"type\":\"text_delta\",\"text\":\"")))
        kind = BlockKind::Text;
    else if (consume(p, end,
                     M1_LIT(",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"")))
        kind = BlockKind::ToolUse;
    else if (consume(p, end, M1_LIT(",\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"")))
        kind = BlockKind::Thinking;
    else
        return false;
    const auto it = m_blocks.find(index);
    if (it == m_blocks.end() || it->second.stopped || it->second.kind != kind)
        return false;
    Block& b = it->second;
    const qsizetype before = b.text.size();
    if (!JsonReader::appendString(p, end, b.text))
        return false;
    while (p < end && *p == ' ')
        ++p;
    bool ok = consume(p, end, M1_LIT("}"));
    while (ok && p < end && *p == ' ')
        ++p;
    ok = ok && consume(p, end, M1_LIT("}"));
    while (ok && p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
        ++p;
    if (!ok || p != end) {
        b.text.truncate(before);
        return false;
    }
    m_deltaSeen = true;
    const auto* callback = kind == BlockKind::Text       ? &m_callbacks.textDelta
                           : kind == BlockKind::Thinking ? &m_callbacks.thinkingDelta
                                                         : nullptr;
    if (callback && *callback)
        (*callback)(int(index),
                    QString::fromUtf8(b.text.constData() + before, b.text.size() - before));
    return true;
}

Status StreamAssembler::failWith(Error error) {
    m_failed = error;
    return std::unexpected(std::move(error));
}

Status StreamAssembler::malformed(const QByteArray& type, const QString& why) {
    return failWith(Error{QStringLiteral("api.unexpected_response"),
                          tr("Malformed \"%1\" event (event %2 of the stream): %3")
                              .arg(QString::fromUtf8(type.left(64)))
                              .arg(m_eventCount)
                              .arg(why)});
}

Status StreamAssembler::handle(const SseEvent& event) {
    if (m_failed)
        return std::unexpected(*m_failed);
    if (m_complete)
        return {}; // nothing after message_stop changes a finished message
    ++m_eventCount;

    if ((event.type == QByteArrayView("content_block_delta") ||
         event.type == QByteArrayView("message")) &&
        appendFastDelta(event.data))
        return {};

    QByteArray type = event.type;

    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(event.data, &parseError);
    if (type == "ping")
        return {};
    if (parseError.error != QJsonParseError::NoError || !doc.isObject())
        return malformed(type, tr("the data is not a JSON object"));
    const QJsonObject root = doc.object();
    if (type == "message")
        type = root.value(QLatin1String("type")).toString().toUtf8();

    if (type == "error") {
        ApiFailure f = ApiErrorClassifier::fromErrorObject(0, root);
        if (f.errorType.isEmpty())
            f.code = QStringLiteral("api.server");
        m_errorWasFirst = m_eventCount == 1;
        m_streamError = f;
        return failWith(Error{f.code, ApiErrorClassifier::describe(f)});
    }
    if (type == "ping")
        return {};
    if (type == "message_start") {
        if (m_started)
            return malformed(type, tr("a second message_start"));
        const QJsonObject message = root.value(QLatin1String("message")).toObject();
        if (!message.value(QLatin1String("id")).isString())
            return malformed(type, tr("no message id"));
        m_started = true;
        m_message.id = message.value(QLatin1String("id")).toString();
        m_message.model = message.value(QLatin1String("model")).toString();
        if (message.value(QLatin1String("usage")).isObject())
            m_message.usage.merge(message.value(QLatin1String("usage")).toObject());
        return {};
    }
    if (!m_started) {
        if (type == "content_block_start" || type == "content_block_delta" ||
            type == "content_block_stop" || type == "message_delta" || type == "message_stop")
            return malformed(type, tr("it came before message_start"));
        qCInfo(lcAssembler) << "skipping unknown event" << type.left(64);
        return {};
    }
    if (type == "content_block_start")
        return onBlockStart(type, root);
    if (type == "content_block_delta") {
        const QJsonValue index = root.value(QLatin1String("index"));
        const QJsonValue delta = root.value(QLatin1String("delta"));
        if (!isIndex(index))
            return malformed(type, tr("no valid index"));
        if (!delta.isObject())
            return malformed(type, tr("no delta object"));
        const QJsonObject d = delta.toObject();
        const QByteArray deltaType = d.value(QLatin1String("type")).toString().toUtf8();
        const char* key = deltaType == "text_delta"         ? "text"
                          : deltaType == "input_json_delta" ? "partial_json"
                          : deltaType == "thinking_delta"   ? "thinking"
                          : deltaType == "signature_delta"  ? "signature"
                                                            : nullptr;
        QByteArray value;
        if (key) {
            const QJsonValue v = d.value(QLatin1String(key));
            if (!v.isString())
                return malformed(type,
                                 tr("%1 without a string \"%2\"")
                                     .arg(QString::fromUtf8(deltaType), QString::fromLatin1(key)));
            value = v.toString().toUtf8();
        }
        return onBlockDelta(type, index.toInteger(), deltaType, value, d);
    }
    if (type == "content_block_stop") {
        const QJsonValue index = root.value(QLatin1String("index"));
        if (!isIndex(index))
            return malformed(type, tr("no valid index"));
        return onBlockStop(type, index.toInteger());
    }
    if (type == "message_delta") {
        const QJsonValue delta = root.value(QLatin1String("delta"));
        if (!delta.isObject())
            return malformed(type, tr("no delta object"));
        const QJsonObject d = delta.toObject();
        const QJsonValue stop = d.value(QLatin1String("stop_reason"));
        if (stop.isString())
            m_message.stopReason = stop.toString();
        else if (!stop.isNull() && !stop.isUndefined())
            return malformed(type, tr("stop_reason is not a string"));
        if (d.contains(QLatin1String("stop_sequence")))
            m_message.stopSequence = d.value(QLatin1String("stop_sequence"));
        if (d.value(QLatin1String("stop_details")).isObject())
            m_message.stopDetails = d.value(QLatin1String("stop_details")).toObject();
        const QJsonValue usage = root.value(QLatin1String("usage"));
        if (usage.isObject()) {
            m_message.usage.merge(usage.toObject());
            m_message.usage.final = true;
        }
        return {};
    }
    if (type == "message_stop")
        return onMessageStop(type);
    qCInfo(lcAssembler) << "skipping unknown event" << type.left(64);
    return {};
}

Status StreamAssembler::onBlockStart(const QByteArray& type, const QJsonObject& root) {
    const QJsonValue index = root.value(QLatin1String("index"));
    const QJsonValue block = root.value(QLatin1String("content_block"));
    if (!isIndex(index))
        return malformed(type, tr("no valid index"));
    if (!block.isObject())
        return malformed(type, tr("no content_block object"));
    const qint64 i = index.toInteger();
    if (m_blocks.count(i))
        return malformed(type, tr("block %1 started twice").arg(i));
    Block b;
    b.object = block.toObject();
    b.type = b.object.value(QLatin1String("type")).toString();
    if (b.type == QLatin1String("text")) {
        b.kind = BlockKind::Text;
        b.text = b.object.value(QLatin1String("text")).toString().toUtf8();
    } else if (b.type == QLatin1String("thinking")) {
        b.kind = BlockKind::Thinking;
        b.text = b.object.value(QLatin1String("thinking")).toString().toUtf8();
    } else if (b.type == QLatin1String("tool_use")) {
        b.kind = BlockKind::ToolUse;
        if (!b.object.value(QLatin1String("id")).isString() ||
            !b.object.value(QLatin1String("name")).isString())
            return malformed(type, tr("tool_use block %1 without id or name").arg(i));
    } else if (b.type != QLatin1String("redacted_thinking")) {
        // Unknown block types (server tools, newer kinds) are kept verbatim for the echo.
        qCInfo(lcAssembler) << "unknown content block type" << b.type.left(64);
    }
    auto& stored = m_blocks[i] = std::move(b);
    if (stored.type == QLatin1String("tool_use") && m_callbacks.toolUseStarted)
        m_callbacks.toolUseStarted(int(i), stored.object.value(QLatin1String("id")).toString(),
                                   stored.object.value(QLatin1String("name")).toString());
    return {};
}

Status StreamAssembler::onBlockDelta(const QByteArray& type, qint64 index,
                                     const QByteArray& deltaType, const QByteArray& value,
                                     const QJsonObject& delta) {
    if (!m_started)
        return malformed(type, tr("it came before message_start"));
    const auto it = m_blocks.find(index);
    if (it == m_blocks.end())
        return malformed(type, tr("delta for block %1, which was never started").arg(index));
    Block& b = it->second;
    if (b.stopped)
        return malformed(type, tr("delta for block %1 after its stop").arg(index));
    m_deltaSeen = true;
    auto mismatch = [&] {
        return malformed(type, tr("%1 for a %2 block").arg(QString::fromUtf8(deltaType), b.type));
    };
    if (deltaType == "text_delta") {
        if (b.type != QLatin1String("text"))
            return mismatch();
        b.text.append(value);
        if (m_callbacks.textDelta)
            m_callbacks.textDelta(int(index), QString::fromUtf8(value));
    } else if (deltaType == "input_json_delta") {
        if (b.type != QLatin1String("tool_use"))
            return mismatch();
        b.text.append(value);
    } else if (deltaType == "thinking_delta") {
        if (b.type != QLatin1String("thinking"))
            return mismatch();
        b.text.append(value);
        if (m_callbacks.thinkingDelta)
            m_callbacks.thinkingDelta(int(index), QString::fromUtf8(value));
    } else if (deltaType == "signature_delta") {
        if (b.type != QLatin1String("thinking"))
            return mismatch();
        b.object.insert(QStringLiteral("signature"), QString::fromUtf8(value));
    } else if (deltaType == "citations_delta") {
        QJsonArray citations = b.object.value(QLatin1String("citations")).toArray();
        citations.append(delta.value(QLatin1String("citation")));
        b.object.insert(QStringLiteral("citations"), citations);
    } else {
        qCInfo(lcAssembler) << "skipping unknown delta type" << deltaType.left(64);
    }
    return {};
}

Status StreamAssembler::onBlockStop(const QByteArray& type, qint64 index) {
    const auto it = m_blocks.find(index);
    if (it == m_blocks.end())
        return malformed(type, tr("stop for block %1, which was never started").arg(index));
    Block& b = it->second;
    if (b.stopped)
        return malformed(type, tr("block %1 stopped twice").arg(index));
    b.stopped = true;
    if (b.type == QLatin1String("text")) {
        b.object.insert(QStringLiteral("text"), QString::fromUtf8(b.text));
    } else if (b.type == QLatin1String("thinking")) {
        b.object.insert(QStringLiteral("thinking"), QString::fromUtf8(b.text));
    } else if (b.type == QLatin1String("tool_use")) {
        QJsonObject input;
        const auto blank = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
        if (!std::all_of(b.text.cbegin(), b.text.cend(), blank)) { // trimmed() may copy
            QJsonParseError parseError;
            // Qt's parser decodes an escaped string a character at a time; the input of a
            // tool that writes a file is one long escaped string (JsonReader: same result).
            const QJsonDocument doc = JsonReader::parse(b.text, &parseError);
            if (parseError.error != QJsonParseError::NoError || !doc.isObject())
                return failWith(
                    Error{QStringLiteral("api.invalid_tool_input"),
                          tr("The model produced invalid tool input (tool \"%1\", block %2): %3")
                              .arg(b.object.value(QLatin1String("name")).toString().left(64))
                              .arg(index)
                              .arg(parseError.error != QJsonParseError::NoError
                                       ? parseError.errorString()
                                       : tr("not a JSON object"))});
            input = doc.object();
        }
        b.object.insert(QStringLiteral("input"), input);
        if (m_callbacks.toolUseComplete)
            m_callbacks.toolUseComplete(int(index), b.object.value(QLatin1String("id")).toString(),
                                        b.object.value(QLatin1String("name")).toString(), input);
    }
    b.text = QByteArray();
    return {};
}

Status StreamAssembler::onMessageStop(const QByteArray& type) {
    QJsonArray content;
    for (auto& [index, block] : m_blocks) {
        if (!block.stopped)
            return malformed(type, tr("block %1 was never stopped").arg(index));
        content.append(block.object);
    }
    m_message.content = content;
    m_complete = true;
    return {};
}

} // namespace m1
