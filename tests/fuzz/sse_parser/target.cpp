// FUZZ-04: SseParser. The first four input bytes seed the split points; the rest is the stream.
// Oracle: whole-buffer, byte-by-byte and seeded random splits, also through a reused buffer
// (feedBorrowing), give the same events, the same error and the same end-of-stream verdict;
// nothing grows past the caps.
#include "llm/SseParser.h"

#include <QByteArray>
#include <QList>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>

namespace {

struct Outcome {
    QList<m1::SseEvent> events;
    QString error;
    QString finish;
};

// With `borrowing`, the pieces go through one reused buffer, overwritten after each piece
// once its events are copied (as ClaudeProvider reads).
Outcome parse(const QByteArray& input, const QList<qsizetype>& cuts, bool borrowing = false) {
    const m1::SseParser::Limits limits{256, 1 << 20};
    m1::SseParser parser(limits);
    Outcome o;
    qsizetype from = 0;
    QList<qsizetype> points = cuts;
    points.append(input.size());
    QByteArray buffer(input.size(), '#');
    for (qsizetype to : points) {
        if (to < from)
            continue;
        const QByteArrayView piece = QByteArrayView(input).sliced(from, to - from);
        m1::Status s;
        if (borrowing) {
            std::memcpy(buffer.data(), piece.data(), size_t(piece.size()));
            QList<m1::SseEvent> events;
            s = parser.feedBorrowing(QByteArrayView(buffer).first(piece.size()), events);
            for (const m1::SseEvent& e : events)
                o.events.append(m1::SseEvent{e.type, QByteArray(e.data.constData(), e.data.size()),
                                             e.lastEventId});
            buffer.fill('#');
        } else {
            s = parser.feed(piece, o.events);
        }
        from = to;
        if (!s) {
            o.error = s.error().code;
            return o;
        }
    }
    if (const auto s = parser.finish(); !s)
        o.finish = s.error().code;
    return o;
}

bool same(const Outcome& a, const Outcome& b) {
    if (a.error != b.error || a.finish != b.finish || a.events.size() != b.events.size())
        return false;
    for (qsizetype i = 0; i < a.events.size(); ++i)
        if (a.events[i].type != b.events[i].type || a.events[i].data != b.events[i].data ||
            a.events[i].lastEventId != b.events[i].lastEventId)
            return false;
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 4)
        return 0;
    uint32_t seed;
    std::memcpy(&seed, data, 4);
    const QByteArray input(reinterpret_cast<const char*>(data) + 4, qsizetype(size - 4));
    const Outcome whole = parse(input, {});
    QList<qsizetype> bytes;
    for (qsizetype i = 1; i < input.size(); ++i)
        bytes.append(i);
    std::mt19937 rng(seed);
    QList<qsizetype> random;
    for (qsizetype i = 1; i < input.size(); ++i)
        if (rng() % 5 == 0)
            random.append(i);
    for (const Outcome& other : {parse(input, bytes), parse(input, random),
                                 parse(input, random, true), parse(input, bytes, true)}) {
        if (!same(whole, other))
            std::abort();
    }
    for (const m1::SseEvent& e : whole.events)
        if (e.data.size() > (1 << 20)) // joined data lines stay under the total cap
            std::abort();
    return 0;
}
