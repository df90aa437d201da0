#include "SseParser.h"

#include "util/Utf8.h"

#include <cstring>

namespace m1 {

namespace {

constexpr char kBom[] = "\xEF\xBB\xBF";

QByteArray utf8Value(const char* p, qsizetype n) {
    if (isValidUtf8(p, n))
        return QByteArray(p, n);
    // The standard decodes with replacement characters; doing the same keeps every split
    // of the stream equivalent.
    return QString::fromUtf8(p, n).toUtf8();
}

bool fieldIs(const char* p, qsizetype n, const char* name, qsizetype nameLen) {
    return n == nameLen && std::memcmp(p, name, size_t(n)) == 0;
}

} // namespace

Status SseParser::tooLarge() {
    if (m_error.code.isEmpty())
        m_error = Error{QStringLiteral("api.response_too_large"),
                        tr("The response from the API is too large (limit %1 bytes per line, "
                           "%2 bytes in total).")
                            .arg(m_limits.maxLineBytes)
                            .arg(m_limits.maxTotalBytes)};
    m_partial.clear();
    m_data.clear();
    return std::unexpected(m_error);
}

Status SseParser::feedBorrowing(QByteArrayView chunk, QList<SseEvent>& out) {
    m_borrowFrom = chunk.data();
    m_borrowTo = chunk.data() + chunk.size();
    const Status s = feed(chunk, out);
    m_borrowFrom = m_borrowTo = nullptr;
    // An event still being collected must not point into the caller's buffer.
    if (m_hasData && !m_data.isEmpty())
        m_data.detach();
    return s;
}

Status SseParser::feed(QByteArrayView chunk, QList<SseEvent>& out) {
    if (failed())
        return std::unexpected(m_error);
    m_total += chunk.size();
    if (m_total > m_limits.maxTotalBytes)
        return tooLarge();
    const char* p = chunk.data();
    qsizetype n = chunk.size();
    if (m_atStart) {
        // The BOM may itself be split across chunks: hold back up to three bytes.
        while (n > 0 && m_bomProbe.size() < 3 && *p == kBom[m_bomProbe.size()]) {
            m_bomProbe.append(*p);
            ++p;
            --n;
        }
        if (m_bomProbe.size() == 3) {
            m_bomProbe.clear();
            m_atStart = false;
        } else if (n == 0) {
            return {};
        } else {
            m_atStart = false;
            if (!m_bomProbe.isEmpty()) {
                const QByteArray probe = std::exchange(m_bomProbe, {});
                if (Status s = processBytes(probe.constData(), probe.size(), out); !s)
                    return s;
            }
        }
    }
    return processBytes(p, n, out);
}

Status SseParser::processBytes(const char* p, qsizetype n, QList<SseEvent>& out) {
    const char* end = p + n;
    if (m_skipLf && p < end) {
        m_skipLf = false;
        if (*p == '\n')
            ++p;
    }
    // Next positions of \n and \r, each found with memchr and reused until passed, so the
    // scan stays linear even when one of them never occurs.
    const char* nextLf = nullptr;
    const char* nextCr = nullptr;
    bool lfValid = false;
    bool crValid = false;
    while (p < end) {
        if (!lfValid || (nextLf && nextLf < p)) {
            nextLf = static_cast<const char*>(std::memchr(p, '\n', size_t(end - p)));
            lfValid = true;
        }
        if (!crValid || (nextCr && nextCr < p)) {
            nextCr = static_cast<const char*>(std::memchr(p, '\r', size_t(end - p)));
            crValid = true;
        }
        const char* eol = nextLf;
        if (nextCr && (!eol || nextCr < eol))
            eol = nextCr;
        if (!eol) {
            if (m_partial.size() + (end - p) > m_limits.maxLineBytes)
                return tooLarge();
            m_partial.append(p, end - p);
            return {};
        }
        const qsizetype len = eol - p;
        if (m_partial.isEmpty()) {
            if (len > m_limits.maxLineBytes)
                return tooLarge();
            processLine(p, len, out);
        } else {
            if (m_partial.size() + len > m_limits.maxLineBytes)
                return tooLarge();
            m_partial.append(p, len);
            processLine(m_partial.constData(), m_partial.size(), out);
            m_partial.clear();
        }
        p = eol + 1;
        if (*eol == '\r') {
            if (p < end) {
                if (*p == '\n')
                    ++p;
            } else {
                m_skipLf = true;
            }
        }
    }
    return {};
}

void SseParser::processLine(const char* p, qsizetype n, QList<SseEvent>& out) {
    if (n == 0) {
        if (m_hasData) {
            SseEvent event;
            event.type = m_eventType.isEmpty() ? QByteArrayLiteral("message") : m_eventType;
            event.data = std::move(m_data);
            event.lastEventId = m_lastEventId;
            out.append(std::move(event));
        }
        m_data = QByteArray();
        m_hasData = false;
        m_eventType.clear();
        return;
    }
    if (*p == ':')
        return;
    const char* colon = static_cast<const char*>(std::memchr(p, ':', size_t(n)));
    const qsizetype fieldLen = colon ? colon - p : n;
    const char* value = colon ? colon + 1 : p + n;
    qsizetype valueLen = colon ? n - fieldLen - 1 : 0;
    if (valueLen > 0 && *value == ' ') {
        ++value;
        --valueLen;
    }
    if (fieldIs(p, fieldLen, "data", 4)) {
        if (m_hasData)
            m_data.append('\n');
        if (m_data.isEmpty() && !m_hasData) {
            // Borrowed only from the caller's chunk, never from m_partial (reused below).
            const auto at = quintptr(value);
            if (at >= quintptr(m_borrowFrom) && at + quintptr(valueLen) <= quintptr(m_borrowTo) &&
                isValidUtf8(value, valueLen))
                m_data = QByteArray::fromRawData(value, valueLen);
            else
                m_data = utf8Value(value, valueLen);
        } else
            m_data.append(utf8Value(value, valueLen));
        m_hasData = true;
    } else if (fieldIs(p, fieldLen, "event", 5)) {
        // A stream repeats a handful of names: share the previous array instead of allocating.
        if (QByteArrayView(value, valueLen) != QByteArrayView(m_typeCache))
            m_typeCache = utf8Value(value, valueLen);
        m_eventType = m_typeCache;
    } else if (fieldIs(p, fieldLen, "id", 2)) {
        if (!std::memchr(value, '\0', size_t(valueLen)))
            m_lastEventId = utf8Value(value, valueLen);
    } else if (fieldIs(p, fieldLen, "retry", 5)) {
        if (valueLen == 0 || valueLen > 15)
            return; // also keeps the number far from overflow
        qint64 ms = 0;
        for (qsizetype i = 0; i < valueLen; ++i) {
            if (value[i] < '0' || value[i] > '9')
                return;
            ms = ms * 10 + (value[i] - '0');
        }
        m_retryMs = ms;
    }
    // Unknown fields are ignored.
}

Status SseParser::finish() {
    if (failed())
        return std::unexpected(m_error);
    const bool pending =
        m_hasData || !m_eventType.isEmpty() || !m_partial.isEmpty() || !m_bomProbe.isEmpty();
    m_partial.clear();
    m_bomProbe.clear();
    m_data.clear();
    m_hasData = false;
    m_eventType.clear();
    if (pending)
        return fail(QStringLiteral("api.stream_incomplete"),
                    tr("The response stream ended in the middle of an event."));
    return {};
}

} // namespace m1
