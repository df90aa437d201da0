// Benchmarks of the Claude stream path: sse_parse_50mb, proposal_signal_latency,
// sse_loopback_50mb with its baseline sse_loopback_raw_read (see docs/benchmarks.md for the
// conventions).
#include "Bench.h"

#include "llm/ClaudeProvider.h"
#include "llm/SseParser.h"
#include "llm/StreamAssembler.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSemaphore>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <memory>

#include <poll.h>
#include <sys/socket.h>

using m1::AssistantMessage;
using m1::ClaudeProvider;
using m1::Error;
using m1::ModelProvider;
using m1::ModelRequest;
using m1::SseEvent;
using m1::SseParser;
using m1::StreamAssembler;
using namespace m1::bench;

namespace {

constexpr qsizetype kStreamBytes = 50 * 1000 * 1000;

QByteArray event(const QByteArray& name, const QByteArray& json) {
    return "event: " + name + "\ndata: " + json + "\n\n";
}

// A realistic turn: half small text deltas, half input_json_delta fragments of one large tool
// input (as a model writing a file would produce).
QByteArray fiftyMegabyteStream() {
    QByteArray s;
    s.reserve(kStreamBytes + 4096);
    s += event(
        "message_start",
        R"({"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1250,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}})");
    s += event(
        "content_block_start",
        R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})");
    static const char* words[] = {"The ",  "policy ", "test ",  "fails ",    "because ",
                                  "the ",  "rule ",   "order ", "changed; ", "I ",
                                  "will ", "read ",   "the ",   "file ",     "first.\\n"};
    int w = 0;
    while (s.size() < kStreamBytes / 2) {
        QByteArray text;
        for (int k = 0; k < 6; ++k)
            text += words[w++ % 15];
        s += event(
            "content_block_delta",
            R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":")" +
                text + "\"}}");
        if (w % 3000 == 0)
            s += event("ping", R"({"type": "ping"})");
    }
    s += event("content_block_stop", R"({"type":"content_block_stop","index":0})");
    s += event(
        "content_block_start",
        R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_bench","name":"write_file","input":{}}})");
    auto jsonDelta = [&](const QByteArray& escaped) {
        s += event(
            "content_block_delta",
            R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":")" +
                escaped + "\"}}");
    };
    jsonDelta("");
    jsonDelta(R"({\"path\": \"src/generated/table.cpp\", \"content\": \")");
    while (s.size() < kStreamBytes - 1000)
        jsonDelta(R"(    {\\\"id\\\", 42, \\\"value\\\"},\\n// row of the table )");
    jsonDelta(R"(\"})");
    s += event("content_block_stop", R"({"type":"content_block_stop","index":1})");
    s += event(
        "message_delta",
        R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":9000000}})");
    s += event("message_stop", R"({"type":"message_stop"})");
    return s;
}

const QByteArray& stream() {
    static const QByteArray s = fiftyMegabyteStream();
    return s;
}

Result throughput(const QString& name, const QList<double>& mbps, const QString& target) {
    QList<double> sorted = mbps;
    std::sort(sorted.begin(), sorted.end());
    Result r;
    r.name = name;
    r.unit = QStringLiteral("MB/s");
    r.n = sorted.size();
    r.p50 = sorted.at(sorted.size() / 2);
    r.p99 = sorted.first(); // the slowest run
    r.target = target;
    r.extra.insert(QStringLiteral("bytes"), double(stream().size()));
    return r;
}

QList<Result> sseParse() {
    const QByteArray& s = stream();
    QList<double> mbps;
    qsizetype events = 0;
    for (int rep = 0; rep < 7; ++rep) {
        SseParser parser;
        QList<SseEvent> out;
        QElapsedTimer t;
        t.start();
        events = 0;
        for (qsizetype at = 0; at < s.size(); at += 65536) {
            (void)parser.feed(QByteArrayView(s).sliced(at, qMin<qsizetype>(65536, s.size() - at)),
                              out);
            events += out.size();
            out.clear();
        }
        (void)parser.finish();
        const double seconds = double(t.nsecsElapsed()) / 1e9;
        mbps.append(double(s.size()) / 1e6 / seconds);
    }
    Result r = throughput(QStringLiteral("sse_parse_50mb"), mbps, QStringLiteral(">= 200 MB/s"));
    r.extra.insert(QStringLiteral("events"), double(events));
    return {r};
}

QList<Result> proposalLatency() {
    QByteArray turn = event(
        "message_start",
        R"({"type":"message_start","message":{"id":"msg_l","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":1}}})");
    turn += event(
        "content_block_start",
        R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_l","name":"run_command","input":{}}})");
    turn += event(
        "content_block_delta",
        R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"argv\": [\"ct"}})");
    turn += event(
        "content_block_delta",
        R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"est\", \"-L\", \"unit\"]}"}})");
    turn += event("content_block_stop", R"({"type":"content_block_stop","index":0})");
    const QByteArrayView prefix = QByteArrayView(turn).first(turn.size() - 1);
    const QByteArrayView last = QByteArrayView(turn).last(1);

    const int n = 20000;
    QList<double> samples;
    samples.reserve(n);
    for (int i = 0; i < n; ++i) {
        SseParser parser;
        StreamAssembler assembler;
        std::chrono::steady_clock::time_point seen;
        StreamAssembler::Callbacks cb;
        cb.toolUseComplete = [&](int, const QString&, const QString&, const QJsonObject& input) {
            seen = std::chrono::steady_clock::now();
            doNotOptimize(input);
        };
        assembler.setCallbacks(cb);
        QList<SseEvent> events;
        (void)parser.feed(prefix, events);
        for (const SseEvent& e : events)
            (void)assembler.handle(e);
        events.clear();
        const auto start = std::chrono::steady_clock::now();
        (void)parser.feed(last, events);
        for (const SseEvent& e : events)
            (void)assembler.handle(e);
        samples.append(
            double(std::chrono::duration_cast<std::chrono::nanoseconds>(seen - start).count()));
    }
    std::sort(samples.begin(), samples.end());
    Result r;
    r.name = QStringLiteral("proposal_signal_latency");
    r.unit = QStringLiteral("ns");
    r.n = n;
    r.p50 = samples.at(n / 2);
    r.p99 = samples.at(n * 99 / 100);
    r.target = QStringLiteral("< 1 ms");
    return {r};
}

// A minimal HTTP server on its own thread: answers every POST with the 50 MB stream, sent
// from the generated buffer straight to the kernel. Requests are read event-driven, so a
// connection the client opens without using it (QNAM may open one while the previous one is
// closing) blocks nothing.
class StreamServerThread : public QThread {
public:
    quint16 port = 0;

    void run() override {
        QTcpServer server;
        server.listen(QHostAddress::LocalHost);
        port = server.serverPort();
        QObject::connect(&server, &QTcpServer::newConnection, &server, [&server] {
            while (QTcpSocket* socket = server.nextPendingConnection())
                serve(socket);
        });
        m_ready.release();
        exec(); // until stop(); the sockets are the server's children
    }
    void waitReady() { m_ready.acquire(); }
    void stop() {
        quit();
        wait();
    }

private:
    static void serve(QTcpSocket* socket) {
        auto request = std::make_shared<QByteArray>("");
        QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        QObject::connect(socket, &QTcpSocket::readyRead, socket, [socket, request] {
            if (request->isNull())
                return; // answered
            *request += socket->readAll();
            const qsizetype headerEnd = request->indexOf("\r\n\r\n");
            if (headerEnd < 0 || request->size() < headerEnd + 4 + contentLength(*request))
                return;
            *request = QByteArray();
            // Straight from the generated stream into the kernel: QTcpSocket::write would
            // copy every byte once more into its own buffer first. The client may close
            // early (the provider stops reading at message_stop).
            const int fd = int(socket->socketDescriptor());
            if (sendAll(fd,
                        QByteArrayView(
                            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; "
                            "charset=utf-8\r\nrequest-id: req_bench\r\nconnection: close\r\n\r\n")))
                (void)sendAll(fd, stream());
            socket->disconnectFromHost();
        });
    }

    // Blocks this thread until everything is in the kernel or the peer is gone.
    static bool sendAll(int fd, QByteArrayView bytes) {
        const char* p = bytes.data();
        qsizetype n = bytes.size();
        while (n > 0) {
            const ssize_t w = ::send(fd, p, size_t(n), MSG_NOSIGNAL);
            if (w > 0) {
                p += w;
                n -= w;
            } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                pollfd writable{fd, POLLOUT, 0};
                if (::poll(&writable, 1, 30000) <= 0)
                    return false;
            } else if (!(w < 0 && errno == EINTR)) {
                return false;
            }
        }
        return true;
    }

    static qsizetype contentLength(const QByteArray& request) {
        const qsizetype at = request.toLower().indexOf("content-length:");
        if (at < 0)
            return 0;
        return request.mid(at + 15, request.indexOf('\r', at) - at - 15).trimmed().toLongLong();
    }
    QSemaphore m_ready;
};

double threadCpuMs() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

// The baseline: a plain QTcpSocket on the same thread reads the same response from the same
// server into one reused buffer, so the figure shows what the server and the loopback link
// allow on this machine at this moment.
QList<double> rawReads(quint16 port, int reps) {
    QList<double> mbps;
    QByteArray buffer(1 << 20, Qt::Uninitialized);
    for (int rep = 0; rep < reps; ++rep) {
        QElapsedTimer t;
        t.start();
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, port);
        if (!socket.waitForConnected(30000))
            return {};
        socket.write("POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 0\r\n\r\n");
        qint64 total = 0;
        for (;;) {
            if (socket.bytesAvailable() == 0 && !socket.waitForReadyRead(30000))
                break; // the server closed the connection: everything was read
            total += socket.read(buffer.data(), buffer.size());
        }
        const double seconds = double(t.nsecsElapsed()) / 1e9;
        if (total < stream().size())
            return {};
        mbps.append(double(stream().size()) / 1e6 / seconds);
    }
    return mbps;
}

QList<Result> sseLoopback() {
    (void)stream(); // generated before timing
    const int reps = 5;
    StreamServerThread server;
    server.start();
    server.waitReady();
    const QList<double> raw = rawReads(server.port, reps);
    ClaudeProvider::Options options;
    options.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(server.port));
    options.maxRetries = 0;
    ClaudeProvider provider(QByteArrayLiteral("bench-key"), options);
    ModelRequest request;
    request.model = QStringLiteral("claude-sonnet-4-6");
    request.messages = QJsonArray{QJsonObject{{"role", "user"}, {"content", "write the table"}}};
    QList<double> mbps;
    QList<double> cpuMs; // of this thread, which parses and assembles: less sensitive to load
    qsizetype inputChars = 0;
    QString failure;
    for (int rep = 0; rep < reps; ++rep) {
        QEventLoop loop;
        bool ok = false;
        auto c1 = QObject::connect(&provider, &ModelProvider::turnFinished,
                                   [&](const AssistantMessage& m) {
                                       inputChars = m.content.at(1)
                                                        .toObject()
                                                        .value(QLatin1String("input"))
                                                        .toObject()
                                                        .value(QLatin1String("content"))
                                                        .toString()
                                                        .size();
                                       ok = true;
                                       loop.quit();
                                   });
        auto c2 = QObject::connect(&provider, &ModelProvider::turnFailed, [&](const Error& e) {
            failure = e.message;
            loop.quit();
        });
        QElapsedTimer t;
        t.start();
        const double cpuStart = threadCpuMs();
        provider.startTurn(request);
        loop.exec();
        const double seconds = double(t.nsecsElapsed()) / 1e9;
        cpuMs.append(threadCpuMs() - cpuStart);
        QObject::disconnect(c1);
        QObject::disconnect(c2);
        if (!ok) {
            qWarning("sse_loopback_50mb: repetition %d failed: %s", rep + 1, qPrintable(failure));
            break;
        }
        mbps.append(double(stream().size()) / 1e6 / seconds);
    }
    server.stop();
    if (mbps.isEmpty()) {
        qWarning("sse_loopback_50mb failed: %s", qPrintable(failure));
        return {};
    }
    Result r = throughput(QStringLiteral("sse_loopback_50mb"), mbps,
                          QStringLiteral(">= 3x 66 MB/s = 198 MB/s"));
    r.extra.insert(QStringLiteral("tool_input_chars"), double(inputChars));
    std::sort(cpuMs.begin(), cpuMs.end());
    r.extra.insert(QStringLiteral("main_thread_cpu_ms"),
                   qRound(cpuMs.at(cpuMs.size() / 2) * 10) / 10.0);
    if (raw.isEmpty())
        return {r};
    r.baseline = QStringLiteral("sse_loopback_raw_read");
    Result base = throughput(QStringLiteral("sse_loopback_raw_read"), raw,
                             QStringLiteral("baseline of sse_loopback_50mb"));
    return {base, r};
}

} // namespace

M1_BENCHMARK("sse_parse_50mb", sseParse);
M1_BENCHMARK("proposal_signal_latency", proposalLatency);
M1_BENCHMARK("sse_loopback_50mb", sseLoopback);
