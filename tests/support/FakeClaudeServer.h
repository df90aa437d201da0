#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QSet>
#include <QString>
#include <QUrl>

class QTcpServer;
class QTcpSocket;

namespace m1::test {

// A scripted stand-in for Claude's Messages API on loopback (claude-api.md §7): hand-written
// HTTP/1.1 so tests control every byte, pause, cut and stall. Replies are taken from a queue;
// requests that fail validation get the real API's error and do not consume a reply.
class FakeClaudeServer : public QObject {
    Q_OBJECT
public:
    struct Reply {
        int status = 200;
        QList<QPair<QByteArray, QByteArray>> headers;
        QByteArray body; // the SSE stream when `sse`, else the body as is
        bool sse = true;
        bool chunked = false; // Transfer-Encoding: chunked instead of Connection: close
        int minWrite = 0;     // 0 = the body in one write; else random sizes in [min, max]
        int maxWrite = 0;
        quint32 seed = 1;
        int pauseMs = 0;           // between writes
        qsizetype cutAfter = -1;   // close abruptly after this many body bytes
        qsizetype stallAfter = -1; // stop sending after this many body bytes, keep it open
        bool resetBeforeHeaders = false;
        bool noRequestId = false;

        static Reply stream(const QByteArray& sse);
        static Reply json(int status, const QJsonObject& body);
        // An API error body with the request id filled in when sent.
        static Reply error(int status, const QString& type, const QString& message,
                           const QString& errorCode = {});
        static Reply html(int status, const QByteArray& page);
        Reply& header(const QByteArray& name, const QByteArray& value) {
            headers.append({name, value});
            return *this;
        }
        Reply& chunks(int min, int max, quint32 s) {
            minWrite = min;
            maxWrite = max;
            seed = s;
            return *this;
        }
        // Scenario-file form, see tests/support/scenarios/README.md.
        static Reply fromJson(const QJsonObject& o, const QString& baseDir, QString* error);
    };

    struct Request {
        QByteArray method;
        QByteArray target; // path and query as sent
        QByteArray path;
        QHash<QByteArray, QByteArray> headers; // lower-case names
        QByteArray body;
        QDateTime time;
        qint64 elapsedMs = 0; // since the server started: waits between attempts
    };

    explicit FakeClaudeServer(QObject* parent = nullptr);
    ~FakeClaudeServer() override;

    bool listen(quint16 port = 0);
    QUrl url() const;
    quint16 port() const;

    void enqueue(const Reply& reply) { m_queue.append(reply); }
    void setRepeatLast(bool repeat) { m_repeatLast = repeat; }
    // Loads {"apiKey":..., "strict":..., "repeatLast":..., "replies":[...]}.
    bool loadScenario(const QJsonObject& scenario, const QString& baseDir, QString* error);

    const QList<Request>& requests() const { return m_requests; }
    int pendingReplies() const { return int(m_queue.size()); }

    QByteArray apiKey = QByteArrayLiteral("sk-ant-api03-fake-test-key-DO-NOT-LEAK-0123456789AA");
    bool strict = true;        // strict user/assistant alternation (the project's invariant)
    bool validate = true;      // request validation (§7 items 7–13)
    QSet<QString> extraModels; // accepted besides the built-in catalogue

signals:
    void requestReceived();

private:
    struct Connection;
    void onNewConnection();
    void onReadyRead(QTcpSocket* socket);
    void handle(QTcpSocket* socket, Request request);
    // The 4xx reply for an invalid request, or a reply with status 0 when the request is fine.
    Reply validateMessages(const Request& request) const;
    void send(QTcpSocket* socket, Reply reply, const QByteArray& requestId);
    QByteArray nextRequestId();

    QTcpServer* m_server = nullptr;
    QList<Reply> m_queue;
    bool m_repeatLast = false;
    QList<Request> m_requests;
    QHash<QTcpSocket*, QByteArray> m_buffers;
    QElapsedTimer m_clock;
    int m_requestCounter = 0;
};

} // namespace m1::test
