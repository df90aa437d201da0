// SseParser: NET-15 (splits never change the events), NET-16 (caps).
#include "llm/SseParser.h"

#include "SseScript.h"

#include <QRandomGenerator>
#include <QTest>

using m1::SseEvent;
using m1::SseParser;
using m1::Status;

namespace {

struct Parsed {
    QList<SseEvent> events;
    QString errorCode;  // from feed
    QString finishCode; // from finish
};

QString render(const QList<SseEvent>& events) {
    QString s;
    for (const SseEvent& e : events)
        s += QStringLiteral("[%1|%2|%3]")
                 .arg(QString::fromUtf8(e.type), QString::fromUtf8(e.data),
                      QString::fromUtf8(e.lastEventId));
    return s;
}

// With `borrowing`, every piece goes through one reused buffer (as ClaudeProvider reads):
// the events are copied at once and the buffer is overwritten before the next piece.
Parsed parseSplit(const QByteArray& input, const QList<qsizetype>& cuts,
                  SseParser::Limits limits = {}, bool borrowing = false) {
    Parsed r;
    SseParser parser(limits);
    qsizetype from = 0;
    QList<qsizetype> points = cuts;
    points.append(input.size());
    QByteArray buffer(input.size(), '#');
    for (qsizetype to : points) {
        if (to < from)
            continue;
        const QByteArrayView piece = QByteArrayView(input).sliced(from, to - from);
        Status s;
        if (borrowing) {
            std::copy(piece.begin(), piece.end(), buffer.begin());
            QList<SseEvent> events;
            s = parser.feedBorrowing(QByteArrayView(buffer).first(piece.size()), events);
            for (const SseEvent& e : events)
                r.events.append(
                    SseEvent{QByteArray(e.type.constData(), e.type.size()),
                             QByteArray(e.data.constData(), e.data.size()),
                             QByteArray(e.lastEventId.constData(), e.lastEventId.size())});
            buffer.fill('#');
        } else {
            s = parser.feed(piece, r.events);
        }
        from = to;
        if (!s) {
            r.errorCode = s.error().code;
            return r;
        }
    }
    if (auto s = parser.finish(); !s)
        r.finishCode = s.error().code;
    return r;
}

QList<qsizetype> everyByte(qsizetype n) {
    QList<qsizetype> cuts;
    for (qsizetype i = 1; i < n; ++i)
        cuts.append(i);
    return cuts;
}

} // namespace

class TestSseParser : public QObject {
    Q_OBJECT
private slots:
    void splitsGiveSameEvents_data();
    void splitsGiveSameEvents();
    void caps_data();
    void caps();
    void retryField();
    void borrowingCopiesNothing();
};

void TestSseParser::splitsGiveSameEvents_data() {
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("expected");
    QTest::addColumn<bool>("incomplete");

    QTest::newRow("NET-15/lf") << QByteArray("event: a\ndata: 1\n\n") << "[a|1|]" << false;
    QTest::newRow("NET-15/crlf") << QByteArray("event: a\r\ndata: 1\r\n\r\n") << "[a|1|]" << false;
    QTest::newRow("NET-15/cr") << QByteArray("event: a\rdata: 1\r\r") << "[a|1|]" << false;
    QTest::newRow("NET-15/mixed") << QByteArray("event: a\r\ndata: 1\rdata: 2\n\r\ndata: 3\r\r")
                                  << "[a|1\n2|][message|3|]" << false;
    QTest::newRow("NET-15/bom-start") << QByteArray("\xEF\xBB\xBF"
                                                    "data: x\n\n")
                                      << "[message|x|]" << false;
    QTest::newRow("NET-15/bom-later-kept") << QByteArray("data: x\n\n\xEF\xBB\xBF"
                                                         "data: y\n\n")
                                           << "[message|x|]" << false;
    QTest::newRow("NET-15/comments")
        << QByteArray(": hello\ndata: x\n: between\n\n:\n") << "[message|x|]" << false;
    QTest::newRow("NET-15/no-space")
        << QByteArray("data:x\ndata:  y\n\n") << "[message|x\n y|]" << false;
    QTest::newRow("NET-15/multi-data")
        << QByteArray("data: a\ndata:\ndata: b\n\n") << "[message|a\n\nb|]" << false;
    QTest::newRow("NET-15/id-with-nul-ignored")
        << QByteArray("id: 7\ndata: a\n\nid: 8\0x\ndata: b\n\n", 32) << "[message|a|7][message|b|7]"
        << false;
    QTest::newRow("NET-15/retry-non-numeric")
        << QByteArray("retry: soon\ndata: a\n\n") << "[message|a|]" << false;
    QTest::newRow("NET-15/unknown-field-and-ping")
        << QByteArray("foo: bar\nevent: ping\ndata: {\"type\": \"ping\"}\n\n")
        << "[ping|{\"type\": \"ping\"}|]" << false;
    QTest::newRow("NET-15/event-without-data-not-dispatched")
        << QByteArray("event: a\n\ndata: b\n\n") << "[message|b|]" << false;
    QTest::newRow("NET-15/last-event-without-blank-line")
        << QByteArray("data: a\n\ndata: b\n") << "[message|a|]" << true;
    QTest::newRow("NET-15/last-line-unterminated")
        << QByteArray("data: a\n\ndata: b") << "[message|a|]" << true;
    QTest::newRow("NET-15/utf8-4-byte") << QByteArray("data: \xF0\x9F\x98\x80 \xC3\xA4\n\n")
                                        << QStringLiteral("[message|\U0001F600 \u00E4|]") << false;
    QTest::newRow("NET-15/invalid-utf8-replaced") << QByteArray("data: a\xFF"
                                                                "b\n\n")
                                                  << QStringLiteral("[message|a\uFFFDb|]") << false;
    QTest::newRow("NET-15/escaped-newline-is-not-a-line")
        << QByteArray("data: {\"t\":\"a\\n\\nb \xE2\x80\xA8\"}\n\n")
        << QStringLiteral("[message|{\"t\":\"a\\n\\nb \u2028\"}|]") << false;
    QTest::newRow("NET-15/empty-data-dispatches")
        << QByteArray("data:\n\n") << "[message||]" << false;
    QTest::newRow("NET-15/only-bom") << QByteArray("\xEF\xBB") << "" << true;
    QTest::newRow("NET-15/example-stream")
        << m1::test::SseScript::exampleToolUse() << QString() /* checked by count below */ << false;
}

void TestSseParser::splitsGiveSameEvents() {
    QFETCH(QByteArray, input);
    QFETCH(QString, expected);
    QFETCH(bool, incomplete);

    const Parsed whole = parseSplit(input, {});
    QVERIFY(whole.errorCode.isEmpty());
    if (!expected.isNull())
        QCOMPARE(render(whole.events), expected);
    else
        QCOMPARE(whole.events.size(), 12);
    QCOMPARE(whole.finishCode, incomplete ? QStringLiteral("api.stream_incomplete") : QString());

    const Parsed bytewise = parseSplit(input, everyByte(input.size()));
    QCOMPARE(render(bytewise.events), render(whole.events));
    QCOMPARE(bytewise.finishCode, whole.finishCode);
    for (const QList<qsizetype>& cuts : {QList<qsizetype>(), everyByte(input.size())}) {
        const Parsed borrowed = parseSplit(input, cuts, {}, true);
        QCOMPARE(render(borrowed.events), render(whole.events));
        QCOMPARE(borrowed.finishCode, whole.finishCode);
    }

    QRandomGenerator rng(20261125);
    for (int round = 0; round < 50; ++round) {
        QList<qsizetype> cuts;
        for (qsizetype i = 1; i < input.size(); ++i)
            if (rng.bounded(4) == 0)
                cuts.append(i);
        const Parsed random = parseSplit(input, cuts);
        QCOMPARE(render(random.events), render(whole.events));
        QCOMPARE(random.finishCode, whole.finishCode);
        const Parsed borrowed = parseSplit(input, cuts, {}, true);
        QCOMPARE(render(borrowed.events), render(whole.events));
        QCOMPARE(borrowed.finishCode, whole.finishCode);
    }
}

void TestSseParser::caps_data() {
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<qsizetype>("maxLine");
    QTest::addColumn<qint64>("maxTotal");
    QTest::addColumn<QString>("code");

    QTest::newRow("NET-16/line-without-newline")
        << QByteArray(2000, 'x') << qsizetype(1024) << qint64(1 << 20) << "api.response_too_large";
    QTest::newRow("NET-16/long-data-line")
        << (QByteArray("data: ") + QByteArray(2000, 'x') + "\n\n") << qsizetype(1024)
        << qint64(1 << 20) << "api.response_too_large";
    QTest::newRow("NET-16/total") << QByteArray("data: 12345678\n\n").repeated(1000)
                                  << qsizetype(1024) << qint64(8000) << "api.response_too_large";
    QTest::newRow("NET-16/under-caps") << QByteArray("data: 12345678\n\n").repeated(10)
                                       << qsizetype(1024) << qint64(8000) << QString();
}

void TestSseParser::caps() {
    QFETCH(QByteArray, input);
    QFETCH(qsizetype, maxLine);
    QFETCH(qint64, maxTotal);
    QFETCH(QString, code);
    const SseParser::Limits limits{maxLine, maxTotal};
    for (const QList<qsizetype>& cuts : {QList<qsizetype>{}, everyByte(input.size())}) {
        const Parsed r = parseSplit(input, cuts, limits);
        QCOMPARE(r.errorCode, code);
    }
    SseParser parser(limits);
    QList<SseEvent> out;
    if (!code.isEmpty()) {
        (void)parser.feed(input, out);
        QVERIFY(parser.failed());
        const auto again = parser.feed("data: x\n\n", out);
        QVERIFY(!again);
        QVERIFY(again.error().message.contains(QStringLiteral("too large")));
    }
}

void TestSseParser::retryField() {
    SseParser parser;
    QList<SseEvent> out;
    QVERIFY(parser.feed("retry: 1500\nretry: 99999999999999999999\nretry: -1\n\n", out));
    QCOMPARE(parser.retryMs(), 1500);
    QVERIFY(out.isEmpty());
}

void TestSseParser::borrowingCopiesNothing() {
    // A one-line event inside the chunk refers to the chunk; a data line cut by the end of a
    // chunk, a second data line and invalid UTF-8 are copied.
    const QByteArray chunk = "data: one\n\ndata: a\ndata: b\n\ndata: x\xFF\n\ndata: cut";
    SseParser parser;
    QList<SseEvent> events;
    QVERIFY(parser.feedBorrowing(chunk, events));
    QCOMPARE(events.size(), 3);
    const auto inChunk = [&](const QByteArray& data) {
        return data.constData() >= chunk.constData() &&
               data.constData() < chunk.constData() + chunk.size();
    };
    QCOMPARE(events[0].data, QByteArray("one"));
    QVERIFY(inChunk(events[0].data));
    QCOMPARE(events[1].data, QByteArray("a\nb"));
    QVERIFY(!inChunk(events[1].data));
    QCOMPARE(events[2].data, QByteArray("x\xEF\xBF\xBD"));
    QVERIFY(!inChunk(events[2].data));
    events.clear();
    QByteArray next = "ter\n\n";
    QVERIFY(parser.feedBorrowing(next, events));
    QCOMPARE(events.size(), 1);
    QCOMPARE(events[0].data, QByteArray("cutter"));
}

QTEST_GUILESS_MAIN(TestSseParser)
#include "tst_sse_parser.moc"
