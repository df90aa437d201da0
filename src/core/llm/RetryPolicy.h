#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QHash>

#include <functional>
#include <optional>

namespace m1 {

// When to try an API call again and how long to wait (claude-api.md §5). The clock and the
// random source are injectable so tests can assert exact waits.
class RetryPolicy {
public:
    struct Options {
        int maxRetries = 2;
        qint64 maxServerWaitMs = 60000;  // a longer server wait ends the turn with a resume time
        std::function<QDateTime()> now;  // default: current UTC time
        std::function<double()> uniform; // U in [0,1); default: QRandomGenerator
    };
    struct Decision {
        enum class Kind { Retry, Stop, ServerWaitTooLong };
        Kind kind = Kind::Stop;
        qint64 waitMs = 0;
        QDateTime resumeAt; // for ServerWaitTooLong
    };
    using Headers = QHash<QByteArray, QByteArray>; // lower-case names

    RetryPolicy() : RetryPolicy(Options{}) {}
    explicit RetryPolicy(Options options);

    // `retryable` is the classification of the failure, `neverRetry` marks spend limits,
    // redirects and the like that no header can override. `retriesMade` is n.
    Decision decide(bool retryable, bool neverRetry, const Headers& headers, int retriesMade) const;

    // retry-after-ms, else retry-after (seconds or HTTP date); nullopt when absent, zero,
    // negative or malformed (those mean ordinary backoff).
    std::optional<qint64> serverWaitMs(const Headers& headers) const;
    // min(0.5 s · 2^n, 8 s) · (1 − 0.25·U), in milliseconds.
    qint64 backoffMs(int retriesMade) const;
    int maxRetries() const { return m_options.maxRetries; }
    QDateTime now() const { return m_options.now(); }

private:
    Options m_options;
};

} // namespace m1
