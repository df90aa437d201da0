// SBX-29: the /metrics endpoint listens on loopback only, serves nothing but GET /metrics, and
// refuses a foreign Host (DNS rebinding), any Origin and WebSocket upgrades. Raw HTTP over
// QTcpSocket so the test controls every header.
#include "monitoring/MetricsEndpoint.h"
#include "monitoring/MetricsExporter.h"
#include "monitoring/Telemetry.h"

#include <QEventLoop>
#include <QNetworkInterface>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QtTest>

using m1::MetricsEndpoint;

class TestMetricsEndpoint : public QObject {
    Q_OBJECT

    std::unique_ptr<m1::Telemetry> m_telemetry;
    std::unique_ptr<MetricsEndpoint> m_endpoint;
    quint16 m_port = 0;

    // Asynchronous on purpose: the server answers on this same thread's event loop.
    QByteArray request(const QByteArray& raw, const QHostAddress& to = QHostAddress::LocalHost) {
        QTcpSocket socket;
        QByteArray reply;
        QEventLoop loop;
        QTimer::singleShot(5000, &loop, &QEventLoop::quit);
        connect(&socket, &QTcpSocket::connected, &loop, [&] { socket.write(raw); });
        connect(&socket, &QTcpSocket::readyRead, &loop, [&] {
            reply += socket.readAll();
            // Done once the body announced by Content-Length is complete (keep-alive or not).
            const qsizetype headerEnd = reply.indexOf("\r\n\r\n");
            if (headerEnd < 0)
                return;
            const QByteArray head = reply.left(headerEnd).toLower();
            const qsizetype at = head.indexOf("content-length:");
            if (at < 0)
                return;
            const qsizetype eol = head.indexOf("\r\n", at);
            const qint64 length =
                head.mid(at + 15, eol < 0 ? -1 : eol - at - 15).trimmed().toLongLong();
            if (reply.size() >= headerEnd + 4 + length)
                loop.quit();
        });
        connect(&socket, &QTcpSocket::disconnected, &loop, &QEventLoop::quit);
        connect(&socket, &QTcpSocket::errorOccurred, &loop, &QEventLoop::quit);
        socket.connectToHost(to, m_port);
        loop.exec();
        reply += socket.readAll();
        return reply;
    }
    static QByteArray get(const QByteArray& path, const QByteArray& extraHeaders,
                          const QByteArray& host = "127.0.0.1") {
        return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + extraHeaders +
               "Connection: close\r\n\r\n";
    }

private Q_SLOTS:
    void init() {
        m_telemetry = std::make_unique<m1::Telemetry>();
        m_telemetry->runStarted();
        m_endpoint = std::make_unique<MetricsEndpoint>(
            [this] { return m1::MetricsExporter::prometheusText(m_telemetry->registry()); });
        auto port = m_endpoint->start(0);
        QVERIFY2(port, port ? "" : qPrintable(port.error().message));
        m_port = *port;
    }
    void cleanup() {
        m_endpoint.reset();
        m_telemetry.reset();
    }

    void servesMetrics_data() {
        QTest::addColumn<QByteArray>("host");
        QTest::newRow("ip") << QByteArray("127.0.0.1");
        QTest::newRow("ip-port") << QByteArray("127.0.0.1:%1");
        QTest::newRow("localhost-port") << QByteArray("localhost:%1");
        QTest::newRow("LOCALHOST") << QByteArray("LOCALHOST");
    }
    void servesMetrics() {
        QFETCH(QByteArray, host);
        host.replace("%1", QByteArray::number(m_port));
        const QByteArray reply = request(get("/metrics", {}, host));
        QVERIFY2(reply.startsWith("HTTP/1.1 200"), reply.constData());
        QVERIFY(reply.toLower().contains("content-type: text/plain; version=0.0.4"));
        QVERIFY(reply.contains("m1_runs_started_total 1\n"));
    }

    void refuses_data() {
        QTest::addColumn<QByteArray>("raw");
        QTest::addColumn<QByteArray>("status");
        QTest::newRow("SBX-29/foreign-host")
            << get("/metrics", {}, "evil.example") << QByteArray("HTTP/1.1 403");
        QTest::newRow("SBX-29/rebinding-host-with-port")
            << get("/metrics", {}, "evil.example:%1") << QByteArray("HTTP/1.1 403");
        QTest::newRow("SBX-29/other-port")
            << get("/metrics", {}, "127.0.0.1:1") << QByteArray("HTTP/1.1 403");
        QTest::newRow("SBX-29/origin")
            << get("/metrics", "Origin: https://evil.example\r\n") << QByteArray("HTTP/1.1 403");
        QTest::newRow("SBX-29/origin-null")
            << get("/metrics", "Origin: null\r\n") << QByteArray("HTTP/1.1 403");
        QTest::newRow("no-host") << QByteArray("GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n")
                                 << QByteArray("HTTP/1.1 400");
        QTest::newRow("root") << get("/", {}) << QByteArray("HTTP/1.1 404");
        QTest::newRow("approve") << get("/approve?id=1", {}) << QByteArray("HTTP/1.1 404");
        QTest::newRow("runs") << get("/runs", {}) << QByteArray("HTTP/1.1 404");
        QTest::newRow("metrics-slash") << get("/metrics/x", {}) << QByteArray("HTTP/1.1 404");
        QTest::newRow("post")
            << QByteArray("POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
                          "Connection: close\r\n\r\n")
            << QByteArray("HTTP/1.1 405");
    }
    void refuses() {
        QFETCH(QByteArray, raw);
        QFETCH(QByteArray, status);
        raw.replace("%1", QByteArray::number(m_port));
        const QByteArray reply = request(raw);
        QVERIFY2(reply.startsWith(status), reply.constData());
        QVERIFY(!reply.contains("m1_runs_started_total"));
    }

    void noWebSocketUpgrade() {
        const QByteArray reply =
            request(get("/metrics", "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                    "Sec-WebSocket-Version: 13\r\n"));
        QVERIFY2(!reply.startsWith("HTTP/1.1 101"), reply.constData());
        QVERIFY(!reply.contains("m1_runs_started_total"));
    }

    void loopbackOnly() {
        // Not reachable on any other address of this machine.
        for (const QHostAddress& address : QNetworkInterface::allAddresses()) {
            if (address.isLoopback() || address.protocol() != QAbstractSocket::IPv4Protocol)
                continue;
            QTcpSocket socket;
            socket.connectToHost(address, m_port);
            QVERIFY2(!socket.waitForConnected(1000), qPrintable(address.toString()));
        }
        QCOMPARE(m_endpoint->servers().size(), 1);
        QCOMPARE(m_endpoint->servers().first()->serverAddress(),
                 QHostAddress(QHostAddress::LocalHost));
    }
};

QTEST_GUILESS_MAIN(TestMetricsEndpoint)
#include "tst_metrics_endpoint.moc"
