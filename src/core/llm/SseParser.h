#pragma once

#include "util/Error.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QCoreApplication>
#include <QList>
#include <QString>

namespace m1 {

// One dispatched server-sent event. `data` stays UTF-8 (valid; invalid sequences replaced by
// U+FFFD) because the next consumer is a JSON parser that wants bytes.
struct SseEvent {
    QByteArray type; // the `event:` name, "message" when none was given
    QByteArray data;
    QByteArray lastEventId;
};

// Incremental event-stream parser following the WHATWG rules. Chunks may split lines, CRLF
// pairs and UTF-8 characters anywhere; the result does not depend on how the bytes were cut.
class SseParser {
    Q_DECLARE_TR_FUNCTIONS(SseParser)
public:
    struct Limits {
        qsizetype maxLineBytes = qsizetype(1) << 20;
        qint64 maxTotalBytes = qint64(64) << 20;
    };

    SseParser() = default;
    explicit SseParser(Limits limits) : m_limits(limits) {}

    // Appends every event completed by this chunk to `out`. After an error
    // ("api.response_too_large") the parser is dead: later calls return the same error and produce
    // nothing.
    Status feed(QByteArrayView chunk, QList<SseEvent>& out);

    // The same, but the data of an event whose single data line lies in `chunk` is not copied:
    // it refers to the chunk's bytes (QByteArray::fromRawData) and is valid only while they
    // are. For a caller that handles the events before it reuses its buffer; copying an
    // event's data (or appending to it) gives an array of its own.
    Status feedBorrowing(QByteArrayView chunk, QList<SseEvent>& out);

    // End of stream. "api.stream_incomplete" when an event (or a line) was left without its
    // terminating blank line; that event is dropped, as the standard says.
    Status finish();

    qint64 totalBytes() const { return m_total; }
    // The reconnection time from the last valid `retry:` field, -1 when none.
    qint64 retryMs() const { return m_retryMs; }
    bool failed() const { return !m_error.code.isEmpty(); }

private:
    Status processBytes(const char* p, qsizetype n, QList<SseEvent>& out);
    void processLine(const char* p, qsizetype n, QList<SseEvent>& out);
    Status tooLarge();

    Limits m_limits;
    QByteArray m_partial;  // the bytes of an unfinished line
    QByteArray m_bomProbe; // the first bytes of the stream while they may still be a BOM
    bool m_atStart = true;
    bool m_skipLf = false; // the previous chunk ended in \r: a \n right after belongs to it
    qint64 m_total = 0;

    QByteArray m_eventType;
    QByteArray m_typeCache;             // the last event name seen
    const char* m_borrowFrom = nullptr; // the chunk of feedBorrowing, while it runs
    const char* m_borrowTo = nullptr;
    QByteArray m_data;
    bool m_hasData = false;
    QByteArray m_lastEventId;
    qint64 m_retryMs = -1;
    Error m_error;
};

} // namespace m1
