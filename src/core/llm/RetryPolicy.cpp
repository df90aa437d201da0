#include "RetryPolicy.h"

#include <QRandomGenerator>

#include <cmath>

namespace m1 {

namespace {

// Anything beyond this is not a wait a server means (20 digits, 1e309): treat as malformed.
constexpr double kMaxPlausibleSeconds = 1e7;

std::optional<double> parseSeconds(const QByteArray& raw) {
    const QByteArray v = raw.trimmed();
    if (v.isEmpty() || v.size() > 32)
        return std::nullopt;
    for (char c : v)
        if (!((c >= '0' && c <= '9') || c == '.'))
            return std::nullopt; // rejects signs, exponents, "NaN", "inf"
    bool ok = false;
    const double d = v.toDouble(&ok);
    if (!ok || !std::isfinite(d) || d > kMaxPlausibleSeconds)
        return std::nullopt;
    return d;
}

} // namespace

RetryPolicy::RetryPolicy(Options options) : m_options(std::move(options)) {
    if (!m_options.now)
        m_options.now = [] { return QDateTime::currentDateTimeUtc(); };
    if (!m_options.uniform)
        m_options.uniform = [] { return QRandomGenerator::global()->generateDouble(); };
    if (m_options.maxRetries < 0)
        m_options.maxRetries = 0;
}

std::optional<qint64> RetryPolicy::serverWaitMs(const Headers& headers) const {
    if (const auto it = headers.find("retry-after-ms"); it != headers.end()) {
        if (const auto ms = parseSeconds(it.value()); ms && *ms > 0)
            return qint64(std::llround(*ms));
    }
    const auto it = headers.find("retry-after");
    if (it == headers.end())
        return std::nullopt;
    if (const auto s = parseSeconds(it.value())) {
        if (*s > 0)
            return qint64(std::llround(*s * 1000));
        return std::nullopt;
    }
    QString text = QString::fromLatin1(it.value().trimmed());
    // HTTP dates end in "GMT", which Qt's RFC 2822 parser does not take as a zone.
    if (text.endsWith(QLatin1String(" GMT")))
        text = text.chopped(4) + QLatin1String(" +0000");
    const QDateTime date = QDateTime::fromString(text, Qt::RFC2822Date);
    if (!date.isValid())
        return std::nullopt;
    const qint64 ms = m_options.now().msecsTo(date);
    if (ms <= 0 || ms > qint64(kMaxPlausibleSeconds * 1000))
        return std::nullopt;
    return ms;
}

qint64 RetryPolicy::backoffMs(int retriesMade) const {
    const int n = qBound(0, retriesMade, 10);
    const double base = std::min(0.5 * std::pow(2.0, n), 8.0);
    double u = m_options.uniform();
    if (!(u >= 0.0 && u < 1.0))
        u = 0.0;
    return qint64(std::llround(base * (1.0 - 0.25 * u) * 1000.0));
}

RetryPolicy::Decision RetryPolicy::decide(bool retryable, bool neverRetry, const Headers& headers,
                                          int retriesMade) const {
    Decision d;
    if (neverRetry)
        return d;
    if (const auto it = headers.find("x-should-retry"); it != headers.end()) {
        const QByteArray v = it.value().trimmed().toLower();
        if (v == "true")
            retryable = true;
        else if (v == "false")
            retryable = false;
    }
    if (!retryable)
        return d;
    const std::optional<qint64> server = serverWaitMs(headers);
    if (server && *server > m_options.maxServerWaitMs) {
        d.kind = Decision::Kind::ServerWaitTooLong;
        d.waitMs = *server;
        d.resumeAt = m_options.now().addMSecs(*server);
        return d;
    }
    if (retriesMade >= m_options.maxRetries)
        return d;
    d.kind = Decision::Kind::Retry;
    d.waitMs = server ? *server : backoffMs(retriesMade);
    return d;
}

} // namespace m1
