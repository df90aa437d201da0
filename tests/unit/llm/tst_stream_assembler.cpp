// StreamAssembler: claude-api.md §4 accumulation, NET-12/13/14/17.
#include "llm/SseParser.h"
#include "llm/StreamAssembler.h"

#include "SseScript.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using m1::SseEvent;
using m1::SseParser;
using m1::StreamAssembler;
using m1::test::SseScript;

namespace {

struct Outcome {
    bool complete = false;
    QString errorCode;
    QString errorMessage;
    QStringList previews; // "index:id:name:input" for each toolUseComplete
    QString text;
    m1::AssistantMessage message;
};

Outcome run(const QByteArray& stream) {
    Outcome o;
    StreamAssembler assembler;
    StreamAssembler::Callbacks cb;
    cb.textDelta = [&](int, const QString& t) { o.text += t; };
    cb.toolUseComplete = [&](int index, const QString& id, const QString& name,
                             const QJsonObject& input) {
        o.previews << QStringLiteral("%1:%2:%3:%4")
                          .arg(index)
                          .arg(id, name,
                               QString::fromUtf8(
                                   QJsonDocument(input).toJson(QJsonDocument::Compact)));
    };
    assembler.setCallbacks(cb);
    SseParser parser;
    QList<SseEvent> events;
    (void)parser.feed(stream, events);
    (void)parser.finish();
    for (const SseEvent& e : events) {
        if (auto s = assembler.handle(e); !s && o.errorCode.isEmpty()) {
            o.errorCode = s.error().code;
            o.errorMessage = s.error().message;
        }
    }
    o.complete = assembler.isComplete() && !assembler.hasFailed();
    if (o.complete)
        o.message = assembler.message();
    return o;
}

QByteArray deltaJson(int index, const QString& partial) {
    return QJsonDocument(QJsonObject{{"type", "content_block_delta"},
                                     {"index", index},
                                     {"delta", QJsonObject{{"type", "input_json_delta"},
                                                           {"partial_json", partial}}}})
        .toJson(QJsonDocument::Compact);
}

QByteArray startTool(int index, const QString& id, const QString& name) {
    return QJsonDocument(QJsonObject{{"type", "content_block_start"},
                                     {"index", index},
                                     {"content_block", QJsonObject{{"type", "tool_use"},
                                                                   {"id", id},
                                                                   {"name", name},
                                                                   {"input", QJsonObject()}}}})
        .toJson(QJsonDocument::Compact);
}

QByteArray stopBlock(int index) {
    return QByteArray("{\"type\":\"content_block_stop\",\"index\":") + QByteArray::number(index) +
           "}";
}

} // namespace

class TestStreamAssembler : public QObject {
    Q_OBJECT
private slots:
    void exampleStream();
    void cases_data();
    void cases();
    void thinkingEchoedExactly();
    void usageOverwritesNeverAdds();
    void fastPathFallbackAppendsOnce();
    void largeToolInputSplitAnywhere();
};

void TestStreamAssembler::exampleStream() {
    // The corpus file is the example copied from claude-api.md §4: the script is byte-faithful.
    QFile recorded(
        QStringLiteral(M1_SOURCE_DIR "/tests/fuzz/sse_parser/corpus/example-tool-use.sse"));
    QVERIFY(recorded.open(QIODevice::ReadOnly));
    QCOMPARE(SseScript::exampleToolUse(), recorded.readAll());
    const Outcome o = run(SseScript::exampleToolUse());
    QVERIFY(o.complete);
    QCOMPARE(o.message.id, QStringLiteral("msg_fake_0001"));
    QCOMPARE(o.message.model, QStringLiteral("claude-sonnet-4-6"));
    QCOMPARE(o.message.stopReason, QStringLiteral("tool_use"));
    QCOMPARE(o.message.usage.outputTokens, 41);
    QCOMPARE(o.message.usage.inputTokens, 1250);
    QCOMPARE(o.message.content.size(), 2);
    QCOMPARE(o.message.content[0].toObject().value("text").toString(),
             QStringLiteral("Running the tests."));
    const QJsonObject tool = o.message.content[1].toObject();
    QCOMPARE(tool.value("id").toString(), QStringLiteral("toolu_fake_02"));
    QCOMPARE(QJsonDocument(tool.value("input").toObject()).toJson(QJsonDocument::Compact),
             QByteArray(R"({"argv":["ctest","-L","unit"]})"));
    QCOMPARE(o.previews,
             QStringList{R"(1:toolu_fake_02:run_command:{"argv":["ctest","-L","unit"]})"});
    QCOMPARE(o.text, QStringLiteral("Running the tests."));
}

void TestStreamAssembler::cases_data() {
    QTest::addColumn<QByteArray>("stream");
    QTest::addColumn<bool>("complete");
    QTest::addColumn<QString>("errorCode");
    QTest::addColumn<QStringList>("previews");
    QTest::addColumn<QString>("mustMention"); // part of the error message

    const QByteArray example = SseScript::exampleToolUse();

    QTest::newRow("NET-14/interleaved-tool-blocks")
        << SseScript()
               .messageStart()
               .raw(SseScript()
                        .event("content_block_start", startTool(1, "toolu_a", "read_file"))
                        .bytes())
               .event("content_block_start", startTool(2, "toolu_b", "read_file"))
               .event("content_block_delta", deltaJson(1, "{\"pa"))
               .event("content_block_delta", deltaJson(2, "{\"path\":"))
               .event("content_block_delta", deltaJson(1, "th\":\"a.txt\"}"))
               .event("content_block_delta", deltaJson(2, "\"b.txt\"}"))
               .event("content_block_stop", stopBlock(2))
               .event("content_block_stop", stopBlock(1))
               .messageDelta("tool_use", 30)
               .messageStop()
               .bytes()
        << true << QString()
        << QStringList{R"(2:toolu_b:read_file:{"path":"b.txt"})",
                       R"(1:toolu_a:read_file:{"path":"a.txt"})"}
        << QString();
    QTest::newRow("NET-14/invalid-json-no-proposal")
        << SseScript()
               .messageStart()
               .toolUseBlock(0, "toolu_x", "run_command", {"", "{\"argv\": [\"ls\""})
               .messageDelta("tool_use", 3)
               .messageStop()
               .bytes()
        << false << "api.invalid_tool_input" << QStringList() << "invalid tool input";
    QTest::newRow("FUZZ-05/no-argument-tool")
        << SseScript()
               .messageStart()
               .toolUseBlock(0, "toolu_n", "list_directory", {""})
               .messageDelta("tool_use", 3)
               .messageStop()
               .bytes()
        << true << QString() << QStringList{"0:toolu_n:list_directory:{}"} << QString();
    QTest::newRow("NET-13/error-event-final")
        << SseScript()
               .messageStart()
               .textBlock(0, {"Hello"})
               .error("overloaded_error", "Overloaded", "req_fake_77")
               .messageDelta("end_turn", 5)
               .messageStop()
               .bytes()
        << false << "api.overloaded" << QStringList() << "req_fake_77";
    QTest::newRow("NET-23/error-first-event")
        << SseScript().error("api_error", "Internal").bytes() << false << "api.server"
        << QStringList() << QString();
    QTest::newRow("NET-16/unknown-types-skipped")
        << SseScript()
               .messageStart()
               .event("future_event", QByteArray("{\"type\":\"future_event\"}"))
               .event(
                   "content_block_start",
                   QByteArray(
                       R"({"type":"content_block_start","index":0,"content_block":{"type":"server_widget","x":1}})"))
               .event(
                   "content_block_delta",
                   QByteArray(
                       R"({"type":"content_block_delta","index":0,"delta":{"type":"widget_delta","y":2}})"))
               .event("content_block_stop", stopBlock(0))
               .textBlock(1, {"ok"})
               .messageDelta("end_turn", 3)
               .messageStop()
               .bytes()
        << true << QString() << QStringList() << QString();
    QTest::newRow("NET-12/cut-before-message-stop")
        << example.left(example.indexOf("event: message_stop")) << false << QString()
        << QStringList{R"(1:toolu_fake_02:run_command:{"argv":["ctest","-L","unit"]})"}
        << QString();
    QTest::newRow("NET-12/cut-inside-partial-json")
        << example.left(example.indexOf("est\\\", ")) << false << QString() << QStringList()
        << QString();
    QTest::newRow("NET-17/broken-json")
        << SseScript().messageStart().event("content_block_start", QByteArray("{\"type\":")).bytes()
        << false << "api.unexpected_response" << QStringList() << "content_block_start";
    QTest::newRow("NET-17/delta-without-delta")
        << SseScript().messageStart().textBlock(0, {}).bytes().replace(
               "event: content_block_stop", "event: content_block_delta\ndata: "
                                            "{\"type\":\"content_block_delta\",\"index\":0}\n\n"
                                            "event: content_block_stop")
        << false << "api.unexpected_response" << QStringList() << "event 3";
    QTest::newRow("NET-17/number-for-string")
        << SseScript()
               .messageStart()
               .event(
                   "content_block_start",
                   QByteArray(
                       R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"))
               .event(
                   "content_block_delta",
                   QByteArray(
                       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":5}})"))
               .bytes()
        << false << "api.unexpected_response" << QStringList() << "content_block_delta";
    QTest::newRow("NET-17/delta-for-unstarted-block")
        << SseScript().messageStart().event("content_block_delta", deltaJson(4, "{}")).bytes()
        << false << "api.unexpected_response" << QStringList() << "never started";
    QTest::newRow("NET-17/delta-before-message-start")
        << SseScript().event("content_block_delta", deltaJson(0, "{}")).bytes() << false
        << "api.unexpected_response" << QStringList() << "message_start";
    QTest::newRow("NET-17/huge-index")
        << SseScript()
               .messageStart()
               .event("content_block_start", startTool(2000000000, "t", "n"))
               .bytes()
        << false << "api.unexpected_response" << QStringList() << "index";
}

void TestStreamAssembler::cases() {
    QFETCH(QByteArray, stream);
    QFETCH(bool, complete);
    QFETCH(QString, errorCode);
    QFETCH(QStringList, previews);
    QFETCH(QString, mustMention);
    const Outcome o = run(stream);
    QCOMPARE(o.complete, complete);
    QCOMPARE(o.errorCode, errorCode);
    QCOMPARE(o.previews, previews);
    if (!mustMention.isEmpty())
        QVERIFY2(o.errorMessage.contains(mustMention), qPrintable(o.errorMessage));
}

void TestStreamAssembler::thinkingEchoedExactly() {
    const QByteArray stream =
        SseScript()
            .messageStart()
            .thinkingBlock(0, {"Let me ", "think."}, "sig_abc")
            .raw(
                SseScript()
                    .event(
                        "content_block_start",
                        QByteArray(
                            R"({"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"opaque=="}})"))
                    .event("content_block_stop", stopBlock(1))
                    .bytes())
            .textBlock(2, {"Done \u2028 \n\n ok"})
            .messageDelta("end_turn", 9)
            .messageStop()
            .bytes();
    const Outcome o = run(stream);
    QVERIFY(o.complete);
    QCOMPARE(o.message.content.size(), 3);
    QCOMPARE(o.message.content[0].toObject(),
             (QJsonObject{
                 {"type", "thinking"}, {"thinking", "Let me think."}, {"signature", "sig_abc"}}));
    QCOMPARE(o.message.content[1].toObject(),
             (QJsonObject{{"type", "redacted_thinking"}, {"data", "opaque=="}}));
    QCOMPARE(o.message.content[2].toObject().value("text").toString(),
             QStringLiteral("Done \u2028 \n\n ok"));
}

void TestStreamAssembler::usageOverwritesNeverAdds() {
    const QByteArray stream =
        SseScript()
            .messageStart()
            .textBlock(0, {"x"})
            .event(
                "message_delta",
                QByteArray(
                    R"({"type":"message_delta","delta":{"stop_reason":"refusal","stop_sequence":null,"stop_details":{"type":"refusal","category":"cyber"}},"usage":{"input_tokens":1300,"output_tokens":7,"cache_read_input_tokens":null,"cache_creation":{"ephemeral_5m_input_tokens":4,"ephemeral_1h_input_tokens":6}}})"))
            .messageStop()
            .bytes();
    const Outcome o = run(stream);
    QVERIFY(o.complete);
    QCOMPARE(o.message.usage.inputTokens, 1300);
    QCOMPARE(o.message.usage.outputTokens, 7);
    QCOMPARE(o.message.usage.cacheReadInputTokens, 0);
    QCOMPARE(o.message.usage.cacheCreation1hInputTokens, 6);
    QCOMPARE(o.message.stopReason, QStringLiteral("refusal"));
    QCOMPARE(o.message.stopDetails.value("category").toString(), QStringLiteral("cyber"));
}

void TestStreamAssembler::fastPathFallbackAppendsOnce() {
    // Deltas in the API's compact shape are decoded straight into the block; when the decoder
    // gives up half way (a member after the delta, a raw control character, an escape only
    // Qt accepts) the general path decides, and the text is appended exactly once.
    const QByteArray head = "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
                            "\"text_delta\",\"text\":\"";
    const QByteArray stream =
        SseScript()
            .messageStart()
            .event("content_block_start",
                   QByteArray("{\"type\":\"content_block_start\",\"index\":0,"
                              "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"))
            .event("content_block_delta", head + "ab\"},\"extra\":1}")
            .event("content_block_delta", head + "c\x01"
                                                 "d\"}}")
            .event("content_block_delta", head + "e\\q\"}}")
            .event("content_block_delta", head + "f\\n\\u00e9\"} }  ")
            .event("content_block_stop", stopBlock(0))
            .messageDelta("end_turn", 5)
            .messageStop()
            .bytes();
    const Outcome o = run(stream);
    QVERIFY(o.complete);
    const QString expected = QString::fromUtf8("abc\x01"
                                               "deqf\n\xc3\xa9");
    QCOMPARE(o.text, expected);
    QCOMPARE(o.message.content[0].toObject().value("text").toString(), expected);
}

void TestStreamAssembler::largeToolInputSplitAnywhere() {
    // A write_file call: a long string full of escapes, non-ASCII and surrogate pairs, its
    // partial JSON cut at every few bytes (inside escapes too).
    QByteArray input = "{\"path\": \"src/t.cpp\", \"content\": \"";
    for (int i = 0; i < 400; ++i)
        input += "  {\\\"id\\\", 42},\\n\xc3\xa9\\u20ac\\ud83d\\ude00\\t";
    input += "\", \"mode\": 420, \"ratio\": 0.5, \"flags\": [true, null]}";
    SseScript script;
    script.messageStart().event("content_block_start", startTool(0, "toolu_w", "write_file"));
    const QString text = QString::fromUtf8(input);
    for (qsizetype at = 0; at < text.size(); at += 7)
        script.event("content_block_delta", deltaJson(0, text.mid(at, 7)));
    const QByteArray stream = script.event("content_block_stop", stopBlock(0))
                                  .messageDelta("tool_use", 9)
                                  .messageStop()
                                  .bytes();
    const Outcome o = run(stream);
    QVERIFY(o.complete);
    const QJsonObject expected = QJsonDocument::fromJson(input).object();
    QVERIFY(!expected.isEmpty());
    QCOMPARE(o.message.content[0].toObject().value("input").toObject(), expected);
    QCOMPARE(o.previews,
             QStringList{"0:toolu_w:write_file:" + QString::fromUtf8(QJsonDocument(expected).toJson(
                                                       QJsonDocument::Compact))});
}

QTEST_GUILESS_MAIN(TestStreamAssembler)
#include "tst_stream_assembler.moc"
