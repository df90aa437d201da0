#include "monitoring/MetricsEndpoint.h"

#include "monitoring/MetricsExporter.h"

#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QTcpServer>
#include <QTcpSocket>

namespace m1 {

MetricsEndpoint::MetricsEndpoint(Provider provider, QObject* parent)
    : QAbstractHttpServer(parent), m_provider(std::move(provider)) {}

Result<quint16> MetricsEndpoint::start(quint16 port) {
    const quint16 bound = listen(QHostAddress::LocalHost, port);
    if (bound == 0)
        return fail(QStringLiteral("metrics.listen"),
                    tr("Cannot serve metrics on 127.0.0.1:%1 (is the port in use?)").arg(port));
    m_port = bound;
    return bound;
}

bool MetricsEndpoint::hostAllowed(const QByteArray& host) const {
    const QByteArray h = host.trimmed().toLower();
    const QByteArray port = QByteArray::number(m_port);
    for (const QByteArray& name : {QByteArray("127.0.0.1"), QByteArray("localhost")})
        if (h == name || h == name + ':' + port)
            return true;
    return false;
}

bool MetricsEndpoint::handleRequest(const QHttpServerRequest& request, QTcpSocket* socket) {
    QHttpServerResponder responder = makeResponder(request, socket);
    using Status = QHttpServerResponder::StatusCode;
    auto reply = [&](Status status, const QByteArray& text) {
        responder.write(text + '\n',
                        {{"Content-Type", "text/plain; charset=utf-8"},
                         {"Cache-Control", "no-store"},
                         {"X-Content-Type-Options", "nosniff"}},
                        status);
    };
    QByteArray host;
    int hostCount = 0;
    bool hasOrigin = false;
    bool hasUpgrade = false;
    for (const auto& [name, value] : request.headers()) {
        if (name.compare("host", Qt::CaseInsensitive) == 0) {
            host = value;
            ++hostCount;
        } else if (name.compare("origin", Qt::CaseInsensitive) == 0) {
            hasOrigin = true;
        } else if (name.compare("upgrade", Qt::CaseInsensitive) == 0) {
            hasUpgrade = true;
        }
    }
    if (hostCount != 1) {
        reply(Status::BadRequest, "bad request: exactly one Host header is required");
        return true;
    }
    if (!hostAllowed(host)) {
        reply(Status::Forbidden, "forbidden: Host must be 127.0.0.1 or localhost");
        return true;
    }
    if (hasOrigin) {
        reply(Status::Forbidden, "forbidden: requests from web pages are refused");
        return true;
    }
    // No WebSocket or other protocol switch: a plain read-only HTTP reply or nothing.
    if (hasUpgrade) {
        reply(Status::BadRequest, "bad request: protocol upgrades are not supported");
        return true;
    }
    if (request.url().path() != QLatin1String("/metrics")) {
        reply(Status::NotFound, "not found");
        return true;
    }
    const auto method = request.method();
    if (method != QHttpServerRequest::Method::Get && method != QHttpServerRequest::Method::Head) {
        reply(Status::MethodNotAllowed, "method not allowed");
        return true;
    }
    const QByteArray body = m_provider ? m_provider() : QByteArray();
    responder.write(method == QHttpServerRequest::Method::Head ? QByteArray() : body,
                    {{"Content-Type", MetricsExporter::kContentType},
                     {"Cache-Control", "no-store"},
                     {"X-Content-Type-Options", "nosniff"}},
                    Status::Ok);
    return true;
}

void MetricsEndpoint::missingHandler(const QHttpServerRequest& request, QTcpSocket* socket) {
    makeResponder(request, socket)
        .write(QByteArray("not found\n"), "text/plain", QHttpServerResponder::StatusCode::NotFound);
}

} // namespace m1
