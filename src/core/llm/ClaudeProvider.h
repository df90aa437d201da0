#pragma once

#include "llm/ApiErrorClassifier.h"
#include "llm/ModelProvider.h"
#include "llm/RetryPolicy.h"
#include "llm/SseParser.h"
#include "llm/StreamAssembler.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QPointer>
#include <QTimer>
#include <QUrl>

#include <memory>

class QNetworkAccessManager;
class QNetworkReply;

namespace m1 {

// Claude's Messages API over QNetworkAccessManager, always streaming (claude-api.md). The
// caller resolves the base URL (ANTHROPIC_BASE_URL / settings) and the key (SecretStore).
// Nothing is yielded before message_stop, so a cut or failed stream may be sent again in
// full within the retry budget; partial output is dropped, never merged.
class ClaudeProvider : public ModelProvider {
    Q_OBJECT
public:
    struct Options {
        QUrl baseUrl = QUrl(QStringLiteral("https://api.anthropic.com"));
        QString anthropicVersion = QStringLiteral("2023-06-01");
        int maxRetries = 2;
        int transferTimeoutMs = 120000; // no byte for this long: connect, first byte, stall
        qint64 turnDeadlineMs =
            30 * 60000; // the whole turn, waits included (a server that only pings)
        SseParser::Limits limits;
        qsizetype maxErrorBodyBytes = 64 * 1024; // of a non-stream body; the rest is not read
        double waitScale = 1.0; // tests shrink real waits; ApiAttempt keeps the chosen wait
        std::function<QDateTime()> clock;
        std::function<double()> uniform;
    };

    ClaudeProvider(QByteArray apiKey, Options options, QObject* parent = nullptr);
    ~ClaudeProvider() override;

    // "api.insecure_url" unless https, or http to a loopback host.
    static Status checkBaseUrl(const QUrl& url);

    void startTurn(const ModelRequest& request) override;
    void cancel() override;
    bool isBusy() const override { return m_busy; }

    const Options& options() const { return m_options; }

private:
    enum class Mode { Headers, Stream, Body };

    void sendAttempt();
    void onMetaData();
    void onReadyRead();
    void onFinished();
    void onDeadline();
    void consumeStream(QByteArrayView bytes);
    bool emitOutbox(quint64 serial);
    bool isCurrent(quint64 serial) const;
    void finishAttemptOk();
    void finishAttemptFailed(const ApiFailure& failure, const QString& message, bool neverRetry);
    void endTurnFailed(const Error& error);
    void dropReply();
    ApiAttempt baseAttempt() const;
    QString redact(QString text) const;

    QByteArray m_apiKey;
    Options m_options;
    RetryPolicy m_retry;
    QNetworkAccessManager* m_nam = nullptr;
    QPointer<QNetworkReply> m_reply;
    QTimer m_waitTimer;
    QTimer m_deadlineTimer;

    bool m_busy = false;
    QByteArray m_body;
    QString m_model;
    int m_attempt = 0;

    // Per attempt.
    Mode m_mode = Mode::Headers;
    int m_status = 0;
    QByteArray m_contentType;
    QString m_requestId;
    RetryPolicy::Headers m_headers;
    QByteArray m_errorBody;
    qint64 m_bytes = 0;
    bool m_attemptOpen = false;
    QElapsedTimer m_latency;
    QDateTime m_startedAt;
    std::unique_ptr<SseParser> m_parser;
    std::unique_ptr<StreamAssembler> m_assembler;
    quint64 m_serial = 0;    // of the current attempt: a receiver may end it or start another
    QByteArray m_readBuffer; // reused for every read of the stream

    // What the assembler reported while handling a batch of events, emitted between events
    // (never from inside the assembler, so a receiver that cancels or starts another turn
    // cannot pull the parser or assembler from under it). Consecutive deltas of one block
    // are joined: one textDelta per block and network read instead of one per event.
    struct Outgoing {
        enum class Kind { Text, Thinking, ToolStarted, ToolPreview } kind;
        int index = 0;
        QString text; // the delta, or the tool use id
        QString name;
        QJsonObject input;
    };
    QList<Outgoing> m_outbox;
    bool m_outboxHasTool = false;
};

} // namespace m1
