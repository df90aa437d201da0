#include "FakeClaudeServer.h"

#include "SseScript.h"
#include "llm/ModelCatalog.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QPointer>
#include <QRandomGenerator>
#include <QSet>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <memory>

namespace m1::test {

namespace {

constexpr qsizetype kMaxRequestBytes = 40 * 1024 * 1024; // above the API's 32 MB on purpose
const QByteArray kRequestIdPlaceholder = QByteArrayLiteral("@@REQUEST_ID@@");

QByteArray reason(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 307:
        return "Temporary Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 402:
        return "Payment Required";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 529:
        return "Overloaded";
    default:
        return "Status";
    }
}

QString typeForStatus(int status) {
    switch (status) {
    case 400:
        return QStringLiteral("invalid_request_error");
    case 401:
        return QStringLiteral("authentication_error");
    case 402:
        return QStringLiteral("billing_error");
    case 403:
        return QStringLiteral("permission_error");
    case 404:
        return QStringLiteral("not_found_error");
    case 409:
        return QStringLiteral("conflict_error");
    case 413:
        return QStringLiteral("request_too_large");
    case 429:
        return QStringLiteral("rate_limit_error");
    case 504:
        return QStringLiteral("timeout_error");
    case 529:
        return QStringLiteral("overloaded_error");
    default:
        return QStringLiteral("api_error");
    }
}

FakeClaudeServer::Reply invalid(const QString& message, int status = 400) {
    return FakeClaudeServer::Reply::error(status, typeForStatus(status), message);
}

struct WritePlan {
    QPointer<QTcpSocket> socket;
    QList<QByteArray> pieces;
    int next = 0;
    int pauseMs = 0;
    bool close = true;
};

void step(const std::shared_ptr<WritePlan>& plan) {
    // Bounded: each step writes one piece or ends.
    if (!plan->socket)
        return;
    if (plan->next >= plan->pieces.size()) {
        if (plan->close)
            plan->socket->disconnectFromHost();
        return;
    }
    plan->socket->write(plan->pieces.at(plan->next++));
    plan->socket->flush();
    QTimer::singleShot(plan->pauseMs, plan->socket, [plan] { step(plan); });
}

} // namespace

FakeClaudeServer::Reply FakeClaudeServer::Reply::stream(const QByteArray& sse) {
    Reply r;
    r.body = sse;
    return r;
}

FakeClaudeServer::Reply FakeClaudeServer::Reply::json(int status, const QJsonObject& body) {
    Reply r;
    r.status = status;
    r.sse = false;
    r.body = QJsonDocument(body).toJson(QJsonDocument::Compact);
    r.header("content-type", "application/json");
    return r;
}

FakeClaudeServer::Reply FakeClaudeServer::Reply::error(int status, const QString& type,
                                                       const QString& message,
                                                       const QString& errorCode) {
    const QJsonValue details =
        errorCode.isEmpty() ? QJsonValue() : QJsonValue(QJsonObject{{"error_code", errorCode}});
    Reply r =
        json(status,
             QJsonObject{
                 {"type", "error"},
                 {"error", QJsonObject{{"type", type}, {"message", message}, {"details", details}}},
                 {"request_id", QString::fromLatin1(kRequestIdPlaceholder)}});
    return r;
}

FakeClaudeServer::Reply FakeClaudeServer::Reply::html(int status, const QByteArray& page) {
    Reply r;
    r.status = status;
    r.sse = false;
    r.body = page;
    r.header("content-type", "text/html");
    return r;
}

FakeClaudeServer::Reply FakeClaudeServer::Reply::fromJson(const QJsonObject& o,
                                                          const QString& baseDir, QString* error) {
    Reply r;
    const int status = o.value("status").toInt(200);
    if (o.contains("error")) {
        const QJsonObject e = o.value("error").toObject();
        r = Reply::error(status, e.value("type").toString(typeForStatus(status)),
                         e.value("message").toString(QStringLiteral("Fake error")),
                         e.value("error_code").toString());
    } else if (o.contains("json")) {
        r = Reply::json(status, o.value("json").toObject());
    } else if (o.contains("html")) {
        r = Reply::html(status, o.value("html").toString().toUtf8());
    } else if (o.contains("sseFile")) {
        QFile f(baseDir + QLatin1Char('/') + o.value("sseFile").toString());
        if (!f.open(QIODevice::ReadOnly)) {
            *error = QStringLiteral("cannot read %1").arg(f.fileName());
            return r;
        }
        r = Reply::stream(f.readAll());
    } else if (o.value("sse").isString()) {
        const QString sse = o.value("sse").toString();
        if (sse == QLatin1String("example"))
            r = Reply::stream(SseScript::exampleToolUse());
        else
            r = Reply::stream(sse.toUtf8());
    } else if (o.contains("text")) {
        r = Reply::stream(SseScript::textTurn(o.value("text").toString()));
    } else {
        r = Reply::stream(SseScript::textTurn(QStringLiteral("Hello from the fake.")));
    }
    r.status = status;
    const QJsonObject headers = o.value("headers").toObject();
    for (auto it = headers.begin(); it != headers.end(); ++it)
        r.header(it.key().toLatin1(), it.value().toString().toLatin1());
    const QJsonArray chunk = o.value("chunk").toArray();
    if (chunk.size() == 2)
        r.chunks(chunk.at(0).toInt(), chunk.at(1).toInt(), quint32(o.value("seed").toInt(1)));
    r.chunked = o.value("chunked").toBool();
    r.pauseMs = o.value("pauseMs").toInt();
    r.cutAfter = o.value("cutAfter").toInteger(-1);
    if (o.contains("cutBefore")) // a marker string: cut just before its first occurrence
        r.cutAfter = r.body.indexOf(o.value("cutBefore").toString().toUtf8());
    r.stallAfter = o.value("stallAfter").toInteger(-1);
    if (o.contains("stallBefore"))
        r.stallAfter = r.body.indexOf(o.value("stallBefore").toString().toUtf8());
    r.resetBeforeHeaders = o.value("resetBeforeHeaders").toBool();
    return r;
}

FakeClaudeServer::FakeClaudeServer(QObject* parent)
    : QObject(parent), m_server(new QTcpServer(this)) {
    connect(m_server, &QTcpServer::newConnection, this, &FakeClaudeServer::onNewConnection);
    m_clock.start();
}

FakeClaudeServer::~FakeClaudeServer() {
    m_server->close();
}

bool FakeClaudeServer::listen(quint16 port) {
    return m_server->listen(QHostAddress::LocalHost, port);
}

quint16 FakeClaudeServer::port() const {
    return m_server->serverPort();
}

QUrl FakeClaudeServer::url() const {
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port()));
}

bool FakeClaudeServer::loadScenario(const QJsonObject& scenario, const QString& baseDir,
                                    QString* error) {
    if (scenario.contains("apiKey"))
        apiKey = scenario.value("apiKey").toString().toUtf8();
    strict = scenario.value("strict").toBool(true);
    validate = scenario.value("validate").toBool(true);
    m_repeatLast = scenario.value("repeatLast").toBool(false);
    for (const QJsonValue& m : scenario.value("extraModels").toArray())
        extraModels.insert(m.toString());
    for (const QJsonValue& v : scenario.value("replies").toArray()) {
        QString e;
        Reply r = Reply::fromJson(v.toObject(), baseDir, &e);
        if (!e.isEmpty()) {
            *error = e;
            return false;
        }
        enqueue(r);
    }
    return true;
}

QByteArray FakeClaudeServer::nextRequestId() {
    return QByteArray("req_fake_") + QByteArray::number(++m_requestCounter).rightJustified(6, '0');
}

void FakeClaudeServer::onNewConnection() {
    while (QTcpSocket* socket = m_server->nextPendingConnection()) {
        socket->setParent(this);
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            m_buffers.remove(socket);
            socket->deleteLater();
        });
    }
}

void FakeClaudeServer::onReadyRead(QTcpSocket* socket) {
    QByteArray& buffer = m_buffers[socket];
    buffer += socket->readAll();
    if (buffer.size() > kMaxRequestBytes) {
        socket->abort();
        return;
    }
    const qsizetype headerEnd = buffer.indexOf("\r\n\r\n");
    if (headerEnd < 0)
        return;
    Request request;
    const QList<QByteArray> lines = buffer.left(headerEnd).split('\n');
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    request.method = requestLine.value(0);
    request.target = requestLine.value(1);
    request.path = request.target.left(
        request.target.indexOf('?') < 0 ? request.target.size() : request.target.indexOf('?'));
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines[i].indexOf(':');
        if (colon > 0)
            request.headers.insert(lines[i].left(colon).trimmed().toLower(),
                                   lines[i].mid(colon + 1).trimmed());
    }
    const qsizetype length = request.headers.value("content-length", "0").toLongLong();
    if (buffer.size() < headerEnd + 4 + length)
        return;
    request.body = buffer.mid(headerEnd + 4, length);
    buffer.clear();
    request.time = QDateTime::currentDateTimeUtc();
    request.elapsedMs = m_clock.elapsed();
    handle(socket, std::move(request));
}

void FakeClaudeServer::handle(QTcpSocket* socket, Request request) {
    m_requests.append(request);
    emit requestReceived();
    const QByteArray requestId = nextRequestId();

    if (request.path == "/v1/messages/count_tokens" && request.method == "POST") {
        send(socket, Reply::json(200, QJsonObject{{"input_tokens", int(request.body.size() / 4)}}),
             requestId);
        return;
    }
    if (request.path == "/v1/models" && request.method == "GET") {
        QJsonArray data;
        if (const auto catalog = ModelCatalog::builtin())
            for (const ModelInfo& m : catalog->models())
                data.append(
                    QJsonObject{{"type", "model"}, {"id", m.id}, {"display_name", m.displayName}});
        send(socket, Reply::json(200, QJsonObject{{"data", data}, {"has_more", false}}), requestId);
        return;
    }
    if (request.path != "/v1/messages" || request.method != "POST") {
        send(socket, invalid(QStringLiteral("Not found"), 404), requestId);
        return;
    }
    if (validate) {
        Reply refusal = validateMessages(request);
        if (refusal.status != 0) {
            send(socket, refusal, requestId);
            return;
        }
    }
    if (m_queue.isEmpty()) {
        send(socket, invalid(QStringLiteral("fake: no scripted reply left"), 500), requestId);
        return;
    }
    const Reply reply =
        (m_repeatLast && m_queue.size() == 1) ? m_queue.first() : m_queue.takeFirst();
    send(socket, reply, requestId);
}

FakeClaudeServer::Reply FakeClaudeServer::validateMessages(const Request& request) const {
    const auto& h = request.headers;
    if (h.value("x-api-key") != apiKey)
        return invalid(QStringLiteral("invalid x-api-key"), 401);
    if (!h.contains("anthropic-version"))
        return invalid(QStringLiteral("anthropic-version: header is required"));
    const QByteArray version = h.value("anthropic-version");
    if (version != "2023-06-01" && version != "2026-10-21")
        return invalid(QStringLiteral("anthropic-version: invalid value \"%1\"")
                           .arg(QString::fromLatin1(version.left(40))));
    if (!h.value("content-type").startsWith("application/json"))
        return invalid(QStringLiteral("content-type: must be application/json"));
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(request.body, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject())
        return invalid(QStringLiteral("There was an error parsing the body of your request: %1")
                           .arg(parseError.errorString()));
    const QJsonObject body = doc.object();
    if (!body.value("model").isString())
        return invalid(QStringLiteral("model: Field required"));
    if (!body.value("max_tokens").isDouble() || body.value("max_tokens").toDouble() < 0)
        return invalid(QStringLiteral("max_tokens: Field required"));
    if (!body.value("messages").isArray())
        return invalid(QStringLiteral("messages: Field required"));
    const QString model = body.value("model").toString();
    const auto catalog = ModelCatalog::builtin();
    if (!extraModels.contains(model) && (!catalog || !catalog->find(model)))
        return invalid(QStringLiteral("model: %1").arg(model), 404);
    for (const char* key : {"temperature", "top_p", "top_k"})
        if (body.contains(QLatin1String(key)))
            return invalid(QStringLiteral("%1: this project never sends sampling parameters")
                               .arg(QLatin1String(key)));
    if (body.value("stream") != QJsonValue(true))
        return invalid(QStringLiteral("fake: only streaming requests are scripted"));

    QSet<QString> toolNames;
    for (const QJsonValue& t : body.value("tools").toArray()) {
        const QString name = t.toObject().value("name").toString();
        if (toolNames.contains(name))
            return invalid(QStringLiteral("tools: Tool names must be unique."));
        toolNames.insert(name);
        if (t.toObject().value("input_schema").toObject().value("type").toString() !=
            QLatin1String("object"))
            return invalid(
                QStringLiteral("tools.%1.input_schema.type: Input should be 'object'").arg(name));
    }

    const QJsonArray messages = body.value("messages").toArray();
    if (messages.isEmpty())
        return invalid(QStringLiteral("messages: at least one message is required"));
    QStringList pendingToolUse; // ids of the previous assistant turn
    for (qsizetype i = 0; i < messages.size(); ++i) {
        const QJsonObject m = messages.at(i).toObject();
        const QString role = m.value("role").toString();
        if (role != QLatin1String("user") && role != QLatin1String("assistant"))
            return invalid(
                QStringLiteral("messages.%1.role: Input should be 'user' or 'assistant'").arg(i));
        if (i == 0 && role != QLatin1String("user"))
            return invalid(QStringLiteral("messages: first message must use the \"user\" role"));
        if (strict && i > 0 && messages.at(i - 1).toObject().value("role").toString() == role)
            return invalid(QStringLiteral("messages: roles must alternate between \"user\" and "
                                          "\"assistant\" (strict mode), message %1")
                               .arg(i));
        const QJsonArray content = m.value("content").toArray();
        if (role == QLatin1String("user")) {
            QSet<QString> answered;
            bool textSeen = false;
            for (const QJsonValue& b : content) {
                const QJsonObject block = b.toObject();
                if (block.value("type").toString() == QLatin1String("tool_result")) {
                    const QString id = block.value("tool_use_id").toString();
                    if (textSeen)
                        return invalid(QStringLiteral("messages.%1: `tool_result` blocks must come "
                                                      "first in the user message")
                                           .arg(i));
                    if (!pendingToolUse.contains(id) || answered.contains(id))
                        return invalid(QStringLiteral("messages.%1.content: unexpected "
                                                      "`tool_use_id` found in `tool_result` "
                                                      "blocks: %2. Each `tool_result` block must "
                                                      "have a corresponding `tool_use` block in "
                                                      "the previous message.")
                                           .arg(i)
                                           .arg(id));
                    answered.insert(id);
                } else {
                    textSeen = true;
                }
            }
            QStringList missing;
            for (const QString& id : pendingToolUse)
                if (!answered.contains(id))
                    missing << id;
            if (!missing.isEmpty())
                return invalid(QStringLiteral("messages.%1: `tool_use` ids were found without "
                                              "`tool_result` blocks immediately after: %2. Each "
                                              "`tool_use` block must have a corresponding "
                                              "`tool_result` block in the next message.")
                                   .arg(i - 1)
                                   .arg(missing.join(QStringLiteral(", "))));
            pendingToolUse.clear();
        } else {
            pendingToolUse.clear();
            for (const QJsonValue& b : content) {
                const QJsonObject block = b.toObject();
                if (block.value("type").toString() == QLatin1String("tool_use"))
                    pendingToolUse << block.value("id").toString();
                if (block.value("type").toString() == QLatin1String("thinking") &&
                    block.value("signature").toString().isEmpty())
                    return invalid(QStringLiteral("messages.%1.content: thinking block without "
                                                  "its signature")
                                       .arg(i));
            }
        }
    }
    if (messages.last().toObject().value("role").toString() != QLatin1String("user"))
        return invalid(QStringLiteral("This model does not support assistant message prefill. "
                                      "The conversation must end with a user message."));
    Reply ok;
    ok.status = 0;
    return ok;
}

void FakeClaudeServer::send(QTcpSocket* socket, Reply reply, const QByteArray& requestId) {
    if (reply.resetBeforeHeaders) {
        socket->abort();
        return;
    }
    reply.body.replace(kRequestIdPlaceholder, requestId);
    QByteArray head =
        "HTTP/1.1 " + QByteArray::number(reply.status) + ' ' + reason(reply.status) + "\r\n";
    if (!reply.noRequestId)
        head += "request-id: " + requestId + "\r\n";
    bool hasContentType = false;
    for (const auto& [name, value] : reply.headers) {
        hasContentType = hasContentType || name.toLower() == "content-type";
        head += name + ": " + value + "\r\n";
    }
    if (!hasContentType)
        head += reply.sse ? "content-type: text/event-stream; charset=utf-8\r\n"
                          : "content-type: application/json\r\n";
    if (reply.chunked)
        head += "transfer-encoding: chunked\r\n";
    else if (!reply.sse)
        head += "content-length: " + QByteArray::number(reply.body.size()) + "\r\n";
    head += "connection: close\r\n\r\n";

    QByteArray body = reply.body;
    bool complete = true;
    bool close = true;
    if (reply.cutAfter >= 0 && reply.cutAfter < body.size()) {
        body.truncate(reply.cutAfter);
        complete = false;
    }
    if (reply.stallAfter >= 0 && reply.stallAfter < body.size()) {
        body.truncate(reply.stallAfter);
        complete = false;
        close = false;
    }
    QList<QByteArray> pieces;
    if (reply.maxWrite > 0) {
        QRandomGenerator rng(reply.seed);
        const int lo = qMax(1, reply.minWrite);
        const int hi = qMax(lo, reply.maxWrite);
        for (qsizetype at = 0; at < body.size();) {
            const qsizetype n =
                qMin<qsizetype>(lo + int(rng.bounded(hi - lo + 1)), body.size() - at);
            pieces.append(body.mid(at, n));
            at += n;
        }
    } else if (!body.isEmpty()) {
        pieces.append(body);
    }
    if (reply.chunked) {
        for (QByteArray& p : pieces)
            p = QByteArray::number(p.size(), 16) + "\r\n" + p + "\r\n";
        if (complete)
            pieces.append("0\r\n\r\n");
    }
    auto plan = std::make_shared<WritePlan>();
    plan->socket = socket;
    plan->pieces = std::move(pieces);
    plan->pieces.prepend(head);
    plan->pauseMs = reply.pauseMs;
    plan->close = close;
    if (reply.maxWrite == 0 && reply.pauseMs == 0) {
        for (const QByteArray& p : plan->pieces)
            socket->write(p);
        if (close)
            socket->disconnectFromHost();
        return;
    }
    step(plan);
}

} // namespace m1::test
