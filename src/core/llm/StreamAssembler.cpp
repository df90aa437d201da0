#include "StreamAssembler.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>

#include <cstring>

#include "util/Utf8.h"

Q_LOGGING_CATEGORY(lcAssembler, "m1.llm.stream")

namespace m1 {

namespace {

enum class FastKind { None, Text, Json, Thinking };

int hexValue(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool readHex4(const char*& p, const char* end, uint& value) {
    if (end - p < 4)
        return false;
    value = 0;
    for (int i = 0; i < 4; ++i) {
        const int h = hexValue(p[i]);
        if (h < 0)
            return false;
        value = (value << 4) | uint(h);
    }
    p += 4;
    return true;
}

// Decodes the JSON string starting after its opening quote; p ends after the closing quote.
// Anything unusual (control characters, lone surrogates) returns false so the caller can fall
// back to the full JSON parser, which then reports the error properly.
bool decodeJsonString(const char*& p, const char* end, QByteArray& out) {
    const char* runStart = p;
    while (p < end) {
        const char c = *p;
        if (c == '"') {
            out.append(runStart, p - runStart);
            ++p;
            return true;
        }
        if (static_cast<unsigned char>(c) < 0x20)
            return false;
        if (c != '\\') {
            ++p;
            continue;
        }
        out.append(runStart, p - runStart);
        ++p;
        if (p >= end)
            return false;
        const char e = *p++;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            out.append(e);
            break;
        case 'b':
            out.append('\b');
            break;
        case 'f':
            out.append('\f');
            break;
        case 'n':
            out.append('\n');
            break;
        case 'r':
            out.append('\r');
            break;
        case 't':
            out.append('\t');
            break;
        case 'u': {
            uint cp;
            if (!readHex4(p, end, cp))
                return false;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint low;
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
                    return false;
                p += 2;
                if (!readHex4(p, end, low) || low < 0xDC00 || low > 0xDFFF)
                    return false;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return false;
            }
            appendUtf8(out, static_cast<char32_t>(cp));
            break;
        }
        default:
            return false;
        }
        runStart = p;
    }
    return false;
}

bool consume(const char*& p, const char* end, const char* literal, size_t len) {
    if (size_t(end - p) < len || std::memcmp(p, literal, len) != 0)
        return false;
    p += len;
    return true;
}

#define M1_LIT(s) s, sizeof(s) - 1

// The hot path: a delta in exactly the compact shape the API sends. Anything else goes
// through QJsonDocument; both paths give the same result.
FastKind fastDelta(const QByteArray& data, qint64& index, QByteArray& value) {
    const char* p = data.constData();
    const char* end = p + data.size();
    if (!consume(p, end, M1_LIT("{\"type\":\"content_block_delta\",\"index\":")))
        return FastKind::None;
    if (p >= end || *p < '0' || *p > '9')
        return FastKind::None;
    index = 0;
    int digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits < 9) {
        index = index * 10 + (*p - '0');
        ++p;
        ++digits;
    }
    FastKind kind;
    if (consume(p, end, M1_LIT(",\"delta\":{\"type\":\"text_delta\",\"text\":\"")))
        kind = FastKind::Text;
    else if (consume(p, end,
                     M1_LIT(",\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"")))
        kind = FastKind::Json;
    else if (consume(p, end, M1_LIT(",\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"")))
        kind = FastKind::Thinking;
    else
        return FastKind::None;
    if (!decodeJsonString(p, end, value))
        return FastKind::None;
    while (p < end && *p == ' ')
        ++p;
    if (!consume(p, end, M1_LIT("}")))
        return FastKind::None;
    while (p < end && *p == ' ')
        ++p;
    if (!consume(p, end, M1_LIT("}")))
        return FastKind::None;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
        ++p;
    return p == end ? kind : FastKind::None;
}

bool isIndex(const QJsonValue& v) {
    if (!v.isDouble())
        return false;
    const double d = v.toDouble();
    return d >= 0 && d <= 1e9 && d == double(qint64(d));
}

} // namespace

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

    QByteArray type = event.type;
    if (type == "content_block_delta" || type == "message") {
        qint64 index = 0;
        QByteArray value;
        const FastKind kind = fastDelta(event.data, index, value);
        if (kind != FastKind::None) {
            static const QByteArray kTypes[] = {QByteArray(), "text_delta", "input_json_delta",
                                                "thinking_delta"};
            return onBlockDelta("content_block_delta", index, kTypes[int(kind)], value, {});
        }
    }

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
        b.text = b.object.value(QLatin1String("text")).toString().toUtf8();
    } else if (b.type == QLatin1String("thinking")) {
        b.text = b.object.value(QLatin1String("thinking")).toString().toUtf8();
    } else if (b.type == QLatin1String("tool_use")) {
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
        if (!b.text.trimmed().isEmpty()) {
            QJsonParseError parseError;
            const QJsonDocument doc = QJsonDocument::fromJson(b.text, &parseError);
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
