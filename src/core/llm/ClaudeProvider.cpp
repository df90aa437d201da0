#include "ClaudeProvider.h"

#include "Version.h"

#include <QHostAddress>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QMetaMethod>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>

Q_LOGGING_CATEGORY(lcClaude, "m1.llm.claude")

namespace m1 {

namespace {

bool isLoopbackHost(const QString& host) {
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
        return true;
    const QHostAddress address(host);
    return !address.isNull() && address.isLoopback();
}

QString transportKind(QNetworkReply::NetworkError e) {
    switch (e) {
    case QNetworkReply::ConnectionRefusedError:
        return QStringLiteral("connection_refused");
    case QNetworkReply::HostNotFoundError:
        return QStringLiteral("host_not_found");
    case QNetworkReply::RemoteHostClosedError:
        return QStringLiteral("connection_closed");
    case QNetworkReply::TimeoutError:
    case QNetworkReply::OperationCanceledError:
        return QStringLiteral("timeout");
    case QNetworkReply::SslHandshakeFailedError:
        return QStringLiteral("tls");
    default:
        return QStringLiteral("network");
    }
}

} // namespace

ClaudeProvider::ClaudeProvider(QByteArray apiKey, Options options, QObject* parent)
    : ModelProvider(parent), m_apiKey(std::move(apiKey)), m_options(std::move(options)),
      m_retry(
          RetryPolicy::Options{m_options.maxRetries, 60000, m_options.clock, m_options.uniform}),
      m_nam(new QNetworkAccessManager(this)) {
    if (!m_options.clock)
        m_options.clock = [] { return QDateTime::currentDateTimeUtc(); };
    m_waitTimer.setSingleShot(true);
    m_deadlineTimer.setSingleShot(true);
    connect(&m_waitTimer, &QTimer::timeout, this, &ClaudeProvider::sendAttempt);
    connect(&m_deadlineTimer, &QTimer::timeout, this, &ClaudeProvider::onDeadline);
}

ClaudeProvider::~ClaudeProvider() {
    dropReply();
}

Status ClaudeProvider::checkBaseUrl(const QUrl& url) {
    const QString scheme = url.scheme().toLower();
    if (url.isValid() && !url.host().isEmpty()) {
        if (scheme == QLatin1String("https"))
            return {};
        if (scheme == QLatin1String("http") && isLoopbackHost(url.host()))
            return {};
    }
    return fail(QStringLiteral("api.insecure_url"),
                QCoreApplication::translate(
                    "ClaudeProvider",
                    "Refusing the API address \"%1\": only https is allowed (plain http only to "
                    "this computer).")
                    .arg(url.toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery)));
}

QString ClaudeProvider::redact(QString text) const {
    // Belt and braces: nothing this class builds contains the key, but a server's message
    // could echo it back.
    if (m_apiKey.size() >= 4)
        text.replace(QString::fromUtf8(m_apiKey), QStringLiteral("[redacted]"));
    return text;
}

void ClaudeProvider::startTurn(const ModelRequest& request) {
    if (m_busy) {
        qCWarning(lcClaude) << "startTurn while a turn is running; ignored";
        return;
    }
    m_busy = true;
    m_attempt = 0;
    m_model = request.model;
    if (Status s = checkBaseUrl(m_options.baseUrl); !s) {
        const Error error = s.error();
        // Keep the contract asynchronous: the caller connects after startTurn returns.
        QTimer::singleShot(0, this, [this, error] { endTurnFailed(error); });
        return;
    }
    m_body = QJsonDocument(request.toJson()).toJson(QJsonDocument::Compact);
    m_deadlineTimer.start(int(qBound(qint64(1), m_options.turnDeadlineMs, qint64(INT_MAX))));
    sendAttempt();
}

void ClaudeProvider::sendAttempt() {
    ++m_attempt;
    m_mode = Mode::Headers;
    m_status = 0;
    m_contentType.clear();
    m_requestId.clear();
    m_headers.clear();
    m_errorBody.clear();
    m_bytes = 0;
    ++m_serial;
    m_outbox.clear();
    m_outboxHasTool = false;
    m_parser = std::make_unique<SseParser>(m_options.limits);
    m_assembler = std::make_unique<StreamAssembler>();
    StreamAssembler::Callbacks cb;
    const auto queueDelta = [this](Outgoing::Kind kind, int i, const QString& t) {
        if (!m_outbox.isEmpty() && m_outbox.last().kind == kind && m_outbox.last().index == i)
            m_outbox.last().text += t;
        else
            m_outbox.append(Outgoing{kind, i, t, {}, {}});
    };
    // Deltas are converted to QString for receivers only: a headless run has none.
    if (isSignalConnected(QMetaMethod::fromSignal(&ModelProvider::textDelta)))
        cb.textDelta = [queueDelta](int i, const QString& t) {
            queueDelta(Outgoing::Kind::Text, i, t);
        };
    if (isSignalConnected(QMetaMethod::fromSignal(&ModelProvider::thinkingDelta)))
        cb.thinkingDelta = [queueDelta](int i, const QString& t) {
            queueDelta(Outgoing::Kind::Thinking, i, t);
        };
    cb.toolUseStarted = [this](int i, const QString& id, const QString& name) {
        m_outbox.append(Outgoing{Outgoing::Kind::ToolStarted, i, id, name, {}});
        m_outboxHasTool = true;
    };
    cb.toolUseComplete = [this](int i, const QString& id, const QString& name,
                                const QJsonObject& input) {
        m_outbox.append(Outgoing{Outgoing::Kind::ToolPreview, i, id, name, input});
        m_outboxHasTool = true;
    };
    m_assembler->setCallbacks(std::move(cb));

    QUrl url = m_options.baseUrl;
    QString path = url.path();
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    url.setPath(path + QStringLiteral("/v1/messages"));
    url.setQuery(QString());
    QNetworkRequest req(url);
    req.setRawHeader("x-api-key", m_apiKey);
    req.setRawHeader("anthropic-version", m_options.anthropicVersion.toLatin1());
    req.setRawHeader("content-type", "application/json");
    req.setRawHeader("accept", "application/json");
    req.setRawHeader("user-agent", QByteArray("m1-agent-control/") + kVersion);
    // Qt follows redirects by default with the same headers, key included: never.
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                     QNetworkRequest::ManualRedirectPolicy);
    req.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    req.setTransferTimeout(m_options.transferTimeoutMs);

    m_attemptOpen = true;
    m_startedAt = m_options.clock();
    m_latency.start();
    emit attemptStarted(m_attempt);
    m_reply = m_nam->post(req, m_body);
    connect(m_reply, &QNetworkReply::metaDataChanged, this, &ClaudeProvider::onMetaData);
    connect(m_reply, &QNetworkReply::readyRead, this, &ClaudeProvider::onReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &ClaudeProvider::onFinished);
}

void ClaudeProvider::onMetaData() {
    if (!m_reply || m_mode != Mode::Headers)
        return;
    const QVariant status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    if (!status.isValid())
        return;
    m_status = status.toInt();
    for (const auto& [name, value] : m_reply->rawHeaderPairs())
        m_headers.insert(name.toLower(), value);
    m_contentType = m_headers.value("content-type").trimmed();
    m_requestId = QString::fromLatin1(m_headers.value("request-id").left(200));
    if (m_status >= 300 && m_status < 400) {
        ApiFailure f;
        f.code = QStringLiteral("api.redirect");
        f.httpStatus = m_status;
        f.requestId = m_requestId;
        finishAttemptFailed(f,
                            tr("The API endpoint answered with a redirect (HTTP %1); it is not "
                               "followed so the API key is never sent elsewhere. Check the API "
                               "address.")
                                .arg(m_status),
                            true);
        return;
    }
    const bool stream = m_status == 200 && m_contentType.toLower().startsWith("text/event-stream");
    m_mode = stream ? Mode::Stream : Mode::Body;
}

void ClaudeProvider::onReadyRead() {
    if (!m_reply)
        return;
    if (m_mode == Mode::Headers)
        onMetaData();
    if (!m_reply)
        return;
    if (m_mode == Mode::Stream) {
        // Everything available, through one reused buffer: readAll() would allocate (and
        // fault in) a new array of a few hundred KiB for every batch.
        if (m_readBuffer.isEmpty())
            m_readBuffer.resize(256 * 1024);
        const quint64 serial = m_serial;
        while (isCurrent(serial)) {
            const qint64 n = m_reply->read(m_readBuffer.data(), m_readBuffer.size());
            if (n <= 0)
                break;
            m_bytes += n;
            consumeStream(QByteArrayView(m_readBuffer.constData(), n));
        }
    } else if (m_mode == Mode::Body) {
        const qsizetype room = m_options.maxErrorBodyBytes - m_errorBody.size();
        const QByteArray bytes = m_reply->read(qMax<qsizetype>(room, 0));
        m_bytes += bytes.size();
        m_errorBody += bytes;
        if (m_errorBody.size() >= m_options.maxErrorBodyBytes) {
            // Enough to classify; the rest (an edge HTML page, a huge body) is not read.
            onFinished();
        }
    }
}

bool ClaudeProvider::isCurrent(quint64 serial) const {
    return m_serial == serial && m_attemptOpen && m_reply;
}

bool ClaudeProvider::emitOutbox(quint64 serial) {
    const QList<Outgoing> out = std::exchange(m_outbox, {});
    m_outboxHasTool = false;
    for (const Outgoing& o : out) {
        switch (o.kind) {
        case Outgoing::Kind::Text:
            emit textDelta(o.index, o.text);
            break;
        case Outgoing::Kind::Thinking:
            emit thinkingDelta(o.index, o.text);
            break;
        case Outgoing::Kind::ToolStarted:
            emit toolUseStarted(o.index, o.text, o.name);
            break;
        case Outgoing::Kind::ToolPreview:
            emit toolUsePreview(o.index, o.text, o.name, o.input);
            break;
        }
        if (!isCurrent(serial))
            return false; // cancelled, or replaced by another turn: the rest is void
    }
    return true;
}

void ClaudeProvider::consumeStream(QByteArrayView bytes) {
    const quint64 serial = m_serial;
    QList<SseEvent> events;
    // The events are handled before m_readBuffer is read into again: no copy of their data.
    const Status fed = m_parser->feedBorrowing(bytes, events);
    for (const SseEvent& e : events) {
        const Status handled = m_assembler->handle(e);
        // Tool signals go out in order with the text before them; text alone waits for the
        // end of the batch.
        if (m_outboxHasTool && !emitOutbox(serial))
            return;
        if (!handled || m_assembler->isComplete())
            break;
    }
    if (!emitOutbox(serial))
        return;
    if (m_assembler->isComplete() && !m_assembler->hasFailed()) {
        finishAttemptOk();
        return;
    }
    if (m_assembler->hasFailed()) {
        const Error e = *m_assembler->failure();
        ApiFailure f;
        if (const auto streamError = m_assembler->streamError()) {
            f = *streamError;
            if (f.requestId.isEmpty())
                f.requestId = m_requestId;
            // The API's own retryable types may be tried again: nothing was yielded yet.
        } else {
            f.code = e.code;
            f.requestId = m_requestId;
            f.retryable = false;
        }
        f.httpStatus = m_status;
        finishAttemptFailed(f, e.message, false);
        return;
    }
    if (!fed) {
        ApiFailure f;
        f.code = fed.error().code;
        f.httpStatus = m_status;
        f.requestId = m_requestId;
        finishAttemptFailed(f, fed.error().message, true);
    }
}

void ClaudeProvider::onFinished() {
    if (!m_reply || !m_attemptOpen)
        return;
    if (m_mode == Mode::Headers)
        onMetaData();
    if (!m_attemptOpen)
        return;
    if (m_mode == Mode::Stream && m_reply->bytesAvailable() > 0) {
        onReadyRead();
        if (!m_attemptOpen)
            return;
    }
    const QNetworkReply::NetworkError netError = m_reply->error();
    ApiFailure f;
    f.httpStatus = m_status;
    f.requestId = m_requestId;
    if (m_mode == Mode::Headers || m_status == 0) {
        f.errorType = transportKind(netError);
        const bool timeout = f.errorType == QLatin1String("timeout");
        f.code = timeout ? QStringLiteral("api.timeout") : QStringLiteral("api.network");
        f.retryable = f.errorType != QLatin1String("tls");
        const QString message =
            timeout
                ? tr("The API did not answer within %1 s.")
                      .arg(m_options.transferTimeoutMs / 1000.0)
                : tr("Could not reach the API (%1): %2").arg(f.errorType, m_reply->errorString());
        finishAttemptFailed(f, message, false);
        return;
    }
    if (m_mode == Mode::Stream) {
        const Status finished = m_parser->finish();
        Q_UNUSED(finished);
        const bool timedOut = netError == QNetworkReply::OperationCanceledError ||
                              netError == QNetworkReply::TimeoutError;
        f.errorType = timedOut ? QStringLiteral("timeout") : transportKind(netError);
        f.code = timedOut ? QStringLiteral("api.timeout") : QStringLiteral("api.stream_incomplete");
        f.retryable = true;
        const QString message =
            timedOut ? tr("The response stream stalled for %1 s and was abandoned; nothing from it "
                          "was used.")
                           .arg(m_options.transferTimeoutMs / 1000.0)
                     : tr("The response stream ended before the message was complete; nothing "
                          "from it was used.");
        finishAttemptFailed(f, message, false);
        return;
    }
    // Mode::Body: an error status, or a 200 that is not an event stream.
    if (m_status == 200) {
        f.code = QStringLiteral("api.unexpected_response");
        f.errorType = QString::fromLatin1(m_contentType.left(100));
        f.retryable = false;
    } else {
        f = ApiErrorClassifier::fromHttp(m_status, m_errorBody, m_contentType);
        if (f.requestId.isEmpty())
            f.requestId = m_requestId;
    }
    const bool spend = f.code == QLatin1String("api.spend_limit");
    finishAttemptFailed(f, ApiErrorClassifier::describe(f), spend);
}

ApiAttempt ClaudeProvider::baseAttempt() const {
    ApiAttempt a;
    a.attempt = m_attempt;
    a.model = m_model;
    a.requestId = m_requestId;
    a.httpStatus = m_status;
    a.latencyMs = m_latency.isValid() ? m_latency.elapsed() : 0;
    a.bytesReceived = m_bytes;
    a.startedAt = m_startedAt;
    if (m_assembler)
        a.usage = m_assembler->usage();
    return a;
}

void ClaudeProvider::finishAttemptOk() {
    ApiAttempt a = baseAttempt();
    AssistantMessage message = m_assembler->message();
    message.requestId = m_requestId;
    m_attemptOpen = false;
    dropReply();
    m_deadlineTimer.stop();
    m_busy = false;
    emit attemptFinished(a);
    emit turnFinished(message);
}

void ClaudeProvider::finishAttemptFailed(const ApiFailure& failure, const QString& message,
                                         bool neverRetry) {
    ApiAttempt a = baseAttempt();
    if (!failure.requestId.isEmpty())
        a.requestId = failure.requestId;
    a.errorType = failure.errorType;
    a.errorCode = failure.errorCode;
    a.error = Error{failure.code, redact(message)};
    m_attemptOpen = false;
    dropReply();

    const RetryPolicy::Decision d =
        m_retry.decide(failure.retryable, neverRetry, m_headers, m_attempt - 1);
    if (d.kind == RetryPolicy::Decision::Kind::Retry) {
        a.retryWaitMs = d.waitMs;
        emit attemptFinished(a);
        m_waitTimer.start(
            int(qBound(0.0, double(d.waitMs) * m_options.waitScale, double(INT_MAX))));
        return;
    }
    Error final = a.error;
    if (d.kind == RetryPolicy::Decision::Kind::ServerWaitTooLong) {
        a.resumeAt = d.resumeAt;
        final.code = QStringLiteral("api.rate_limited");
        final.message = tr("Claude is rate limited and asks for a wait of %1 s; try again at %2.")
                            .arg(qRound64(d.waitMs / 1000.0))
                            .arg(d.resumeAt.toLocalTime().toString(QStringLiteral("HH:mm:ss")));
        if (!a.requestId.isEmpty())
            final.message += QLatin1Char(' ') + tr("[request-id: %1]").arg(a.requestId);
        a.error = final;
    } else if (m_attempt > 1) {
        final.message += QLatin1Char(' ') + tr("(gave up after %n attempt(s))", nullptr, m_attempt);
    }
    emit attemptFinished(a);
    endTurnFailed(final);
}

void ClaudeProvider::endTurnFailed(const Error& error) {
    m_waitTimer.stop();
    m_deadlineTimer.stop();
    m_busy = false;
    emit turnFailed(Error{error.code, redact(error.message)});
}

void ClaudeProvider::dropReply() {
    if (!m_reply)
        return;
    QNetworkReply* reply = m_reply;
    m_reply = nullptr;
    reply->disconnect(this);
    reply->abort();
    reply->deleteLater();
}

void ClaudeProvider::cancel() {
    if (!m_busy)
        return;
    const Error error{QStringLiteral("api.cancelled"), tr("The model turn was cancelled.")};
    if (m_attemptOpen) {
        ApiAttempt a = baseAttempt();
        a.error = error;
        a.errorType = QStringLiteral("cancelled");
        m_attemptOpen = false;
        dropReply();
        emit attemptFinished(a);
    }
    endTurnFailed(error);
}

void ClaudeProvider::onDeadline() {
    if (!m_busy)
        return;
    const Error error{QStringLiteral("api.timeout"),
                      tr("No complete answer from the API within %1 s; the turn was abandoned.")
                          .arg(m_options.turnDeadlineMs / 1000.0)};
    if (m_attemptOpen) {
        ApiAttempt a = baseAttempt();
        a.error = error;
        a.errorType = QStringLiteral("deadline");
        m_attemptOpen = false;
        dropReply();
        emit attemptFinished(a);
    }
    endTurnFailed(error);
}

} // namespace m1
