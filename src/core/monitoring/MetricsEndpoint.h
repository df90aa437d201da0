#pragma once

#include "util/Error.h"

#include <QAbstractHttpServer>
#include <QByteArray>

#include <functional>

namespace m1 {

// The opt-in Prometheus endpoint (monitoring.metricsEndpoint in the settings, off by default).
// Listens on 127.0.0.1 only and serves exactly one thing, GET (or HEAD) /metrics, read-only: no
// endpoint approves, starts runs or executes tools (SBX-29). Against DNS rebinding and drive-by
// pages it refuses, with 403, a Host header that is not 127.0.0.1 or localhost (with or without
// the port) and any request carrying an Origin header; a missing Host is 400, another method 405,
// another path 404, an Upgrade header (WebSocket) 400. A scraper running on
// this machine (Prometheus, curl) sends neither a foreign Host nor an Origin.
class MetricsEndpoint : public QAbstractHttpServer {
    Q_OBJECT

public:
    using Provider = std::function<QByteArray()>;

    // provider: builds the exposition on each scrape, on this object's thread (it may read the
    // audit store on a connection of that thread), e.g. MetricsExporter::prometheusText.
    explicit MetricsEndpoint(Provider provider, QObject* parent = nullptr);

    // port 0: any free port. Returns the port listened on. "metrics.listen" when it is taken.
    Result<quint16> start(quint16 port);
    quint16 port() const { return m_port; }

protected:
    bool handleRequest(const QHttpServerRequest& request, QTcpSocket* socket) override;
    void missingHandler(const QHttpServerRequest& request, QTcpSocket* socket) override;

private:
    bool hostAllowed(const QByteArray& host) const;

    Provider m_provider;
    quint16 m_port = 0;
};

} // namespace m1
