// JsonReader: the same documents and errors as QJsonDocument::fromJson, and the fast path
// really taken for what a model sends.
#include "util/JsonReader.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTest>

using m1::JsonReader;

namespace {

// A typed description: integers and doubles differ ("i:1" vs "d:1.5"), as do key orders.
QString describe(const QJsonValue& v) {
    switch (v.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Double:
        if (v.toVariant().typeId() == QMetaType::LongLong)
            return QStringLiteral("i:") + QString::number(v.toInteger());
        return QStringLiteral("d:") + QString::number(v.toDouble(), 'g', 17);
    case QJsonValue::String:
        return QStringLiteral("s%1:").arg(v.toString().size()) + v.toString();
    case QJsonValue::Array: {
        QString s = QStringLiteral("[");
        for (const QJsonValue& e : v.toArray())
            s += describe(e) + QLatin1Char(',');
        return s + QLatin1Char(']');
    }
    case QJsonValue::Object: {
        const QJsonObject o = v.toObject();
        QString s = QStringLiteral("{");
        for (auto it = o.begin(); it != o.end(); ++it)
            s += QStringLiteral("k%1:").arg(it.key().size()) + it.key() + QLatin1Char('=') +
                 describe(it.value()) + QLatin1Char(',');
        return s + QLatin1Char('}');
    }
    case QJsonValue::Undefined:
        break;
    }
    return QStringLiteral("undefined");
}

QString describe(const QJsonDocument& d) {
    if (d.isObject())
        return describe(QJsonValue(d.object()));
    if (d.isArray())
        return describe(QJsonValue(d.array()));
    return d.isNull() ? QStringLiteral("nulldoc") : QStringLiteral("emptydoc");
}

// Compares the reader alone (when it accepts the document) and parse() with Qt; returns an
// empty string when all agree, else what differs.
QString compareWithQt(const QByteArray& json) {
    QJsonParseError qt{-1, QJsonParseError::DocumentTooLarge};
    const QString expected = describe(QJsonDocument::fromJson(json, &qt));
    QJsonDocument fast;
    if (JsonReader::parseFast(json, fast)) {
        if (qt.error != QJsonParseError::NoError)
            return QStringLiteral("the reader accepted what Qt rejects (%1)").arg(qt.error);
        const QString a = describe(fast);
        if (a != expected)
            return QStringLiteral("reader %1 vs Qt %2").arg(a.left(200), expected.left(200));
    }
    QJsonParseError mine{-1, QJsonParseError::DocumentTooLarge};
    const QString a = describe(JsonReader::parse(json, &mine));
    if (a != expected)
        return QStringLiteral("parse %1 vs Qt %2").arg(a.left(200), expected.left(200));
    if (mine.error != qt.error || mine.offset != qt.offset)
        return QStringLiteral("error %1@%2 vs Qt %3@%4")
            .arg(mine.error)
            .arg(mine.offset)
            .arg(qt.error)
            .arg(qt.offset);
    return {};
}

QByteArray randomString(QRandomGenerator& rng) {
    static const char* pieces[] = {"a",
                                   "Z",
                                   " ",
                                   "\\n",
                                   "\\\"",
                                   "\\\\",
                                   "\\/",
                                   "\\t",
                                   "\\r",
                                   "\\b",
                                   "\\f",
                                   "\\u00e9",
                                   "\\u20AC",
                                   "\\ud83d\\ude00",
                                   "\xc3\xa9",
                                   "\xe2\x82\xac",
                                   "\xf0\x9f\x98\x80",
                                   "\\u0000",
                                   "0123456789abcdef",
                                   "{}[],:"};
    QByteArray s = "\"";
    const int n = int(rng.bounded(12));
    for (int i = 0; i < n; ++i)
        s += pieces[rng.bounded(int(std::size(pieces)))];
    return s + "\"";
}

QByteArray randomNumber(QRandomGenerator& rng) {
    static const char* numbers[] = {"0",
                                    "-0",
                                    "1",
                                    "-17",
                                    "0.5",
                                    "-0.0",
                                    "1.0",
                                    "1.000",
                                    "3.14159",
                                    "1e3",
                                    "1E-3",
                                    "2e+2",
                                    "-1.5e10",
                                    "123456789012345",
                                    "9007199254740992",
                                    "9223372036854775807",
                                    "-9223372036854775808",
                                    "0.1e1"};
    return numbers[rng.bounded(int(std::size(numbers)))];
}

QByteArray space(QRandomGenerator& rng) {
    static const char* spaces[] = {"", "", "", " ", "\n", "\t ", "\r\n"};
    return spaces[rng.bounded(int(std::size(spaces)))];
}

QByteArray randomValue(QRandomGenerator& rng, int depth) {
    const int kind = int(rng.bounded(depth > 4 ? 5 : 7));
    switch (kind) {
    case 0:
        return randomString(rng);
    case 1:
        return randomNumber(rng);
    case 2:
        return rng.bounded(2) ? "true" : "false";
    case 3:
        return "null";
    case 4:
        return randomString(rng);
    case 5: {
        QByteArray s = "[" + space(rng);
        const int n = int(rng.bounded(5));
        for (int i = 0; i < n; ++i)
            s += (i ? "," + space(rng) : QByteArray()) + randomValue(rng, depth + 1) + space(rng);
        return s + "]";
    }
    default: {
        QByteArray s = "{" + space(rng);
        const int n = int(rng.bounded(5));
        for (int i = 0; i < n; ++i)
            s += (i ? "," + space(rng) : QByteArray()) + randomString(rng) + space(rng) + ":" +
                 space(rng) + randomValue(rng, depth + 1);
        return s + space(rng) + "}";
    }
    }
}

} // namespace

class TestJsonReader : public QObject {
    Q_OBJECT
private slots:
    void sameAsQt_data();
    void sameAsQt();
    void randomDocumentsSameAsQt();
    void mutatedDocumentsSameAsQt();
    void largeEscapedToolInput();
    void appendStringAtEveryOffset();
};

void TestJsonReader::sameAsQt_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<bool>("fast"); // the reader itself parses it (false: Qt decides)

    auto row = [](const char* name, const QByteArray& json, bool fast) {
        QTest::newRow(name) << json << fast;
    };
    row("empty-object", "{}", true);
    row("empty-array", "[ ]", true);
    row("spaces", " {\n\t\"a\" : [ 1 , 2 ] ,\r\n\"b\":{ } } \r\n", true);
    row("keys-sorted", "{\"b\":1,\"a\":2,\"c\":{\"z\":0,\"y\":1}}", true);
    row("literals", "[true,false,null]", true);
    row("integers", "[0,-0,7,-17,9223372036854775807,-9223372036854775808]", true);
    row("integral-doubles", "[1.0,-0.0,1e2,1E+2,2.500e1,0.1e1]", true);
    row("doubles", "[0.5,-1.25,1e-2,3.14159,123.456e-7]", true);
    row("2^53", "[9007199254740992,-9007199254740992.0]", true);
    row("beyond-2^53-double", "[9007199254740993.5e3]", false);
    row("beyond-qint64", "[9223372036854775808]", false);
    row("huge-exponent", "[1e400]", false);
    row("escapes", "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", true);
    row("unicode-escapes", "[\"\\u00e9\\u20ac\\ud83d\\ude00\\u0000x\"]", true);
    row("raw-utf8", "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]", true);
    row("lone-high-surrogate", "[\"\\ud83d\"]", false);
    row("lone-low-surrogate", "[\"\\ude00x\"]", false);
    row("high-then-raw", "[\"\\ud83dabcdef\"]", false);
    row("unknown-escape", "[\"\\q\"]", false);
    row("raw-control", "[\"a\x01z\"]", false);
    row("raw-tab", "[\"a\tz\"]", false);
    row("duplicate-key", "{\"a\":1,\"a\":2}", false);
    row("duplicate-nested", "{\"x\":{\"k\":1,\"j\":0,\"k\":[2]}}", false);
    row("deep-200", QByteArray(200, '[') + QByteArray(200, ']'), true);
    row("deep-300", QByteArray(300, '[') + QByteArray(300, ']'), false);
    row("deep-2000", QByteArray(2000, '[') + QByteArray(2000, ']'), false);
    row("bom", "\xef\xbb\xbf{}", false);
    row("bom-starts-key",
        "{\"A\":1,\"\xef\xbb\xbf"
        "B\":2,\"C\":3}",
        false);
    row("bom-escaped-value", "[\"\\ufeffx\"]", false);
    row("bom-raw-value", "[\"\xef\xbb\xbfx\"]", false);
    row("bom-inside", "[\"x\xef\xbb\xbf\\ufeff\"]", true);
    row("invalid-utf8", "[\"\xff\"]", false);
    row("overlong", "[\"\xc0\x80\"]", false);
    row("encoded-surrogate", "[\"\xed\xa0\x80\"]", false);
    row("truncated-utf8", "[\"\xe2\x82\"]", false);
    row("beyond-10ffff", "[\"\xf4\x90\x80\x80\"]", false);
    row("empty", "", false);
    row("blank", " \n", false);
    row("scalar", "123", false);
    row("string-top", "\"a\"", false);
    row("unterminated-object", "{", false);
    row("unterminated-object-2", "{\"a\":1", false);
    row("missing-colon", "{\"a\"}", false);
    row("missing-value", "{\"a\":}", false);
    row("trailing-comma-array", "[1,]", false);
    row("trailing-comma-object", "{\"a\":1,}", false);
    row("missing-comma", "[1 2]", false);
    row("bad-literal", "[nul]", false);
    row("short-literal", "[tru", false);
    row("leading-zero", "[01]", false);
    row("minus-alone", "[-]", false);
    row("dot-end", "[1.]", false);
    row("dot-start", "[.5]", false);
    row("exp-without-digits", "[1e]", false);
    row("plus", "[+1]", false);
    row("garbage-at-end", "{\"a\":1} x", false);
    row("number-at-end", "[1", false);
    row("unterminated-string", "[\"abc", false);
    row("backslash-at-end", "[\"abc\\", false);
    row("non-string-key", "{1:2}", false);
    row("comma-as-value", "{\"a\":,}", false);
}

void TestJsonReader::sameAsQt() {
    QFETCH(QByteArray, json);
    QFETCH(bool, fast);
    const QString diff = compareWithQt(json);
    QVERIFY2(diff.isEmpty(), qPrintable(diff));
    QJsonDocument doc;
    QCOMPARE(JsonReader::parseFast(json, doc), fast);
}

void TestJsonReader::randomDocumentsSameAsQt() {
    QRandomGenerator rng(20261125);
    int fast = 0;
    for (int i = 0; i < 3000; ++i) {
        const QByteArray json = space(rng) +
                                (rng.bounded(2) ? "[" + randomValue(rng, 1) + "]"
                                                : "{\"k\":" + randomValue(rng, 1) + "}") +
                                space(rng);
        const QString diff = compareWithQt(json);
        QVERIFY2(diff.isEmpty(), qPrintable(QString::fromUtf8(json) + QStringLiteral(": ") + diff));
        QJsonDocument doc;
        fast += JsonReader::parseFast(json, doc) ? 1 : 0;
    }
    // Only random duplicate keys leave documents to Qt.
    QVERIFY2(fast > 2700, qPrintable(QString::number(fast)));
}

void TestJsonReader::mutatedDocumentsSameAsQt() {
    QRandomGenerator rng(7);
    static const char bytes[] = "{}[],:\"\\ -0.5e+tfnu\x01\xc3\xa9\xff";
    for (int i = 0; i < 3000; ++i) {
        QByteArray json = "{\"k\":" + randomValue(rng, 1) + "}";
        const int edits = 1 + int(rng.bounded(3));
        for (int e = 0; e < edits && !json.isEmpty(); ++e) {
            const qsizetype at = rng.bounded(json.size());
            switch (rng.bounded(3)) {
            case 0:
                json.remove(at, 1);
                break;
            case 1:
                json.insert(at, bytes[rng.bounded(int(sizeof(bytes) - 1))]);
                break;
            default:
                json[at] = bytes[rng.bounded(int(sizeof(bytes) - 1))];
                break;
            }
        }
        const QString diff = compareWithQt(json);
        QVERIFY2(diff.isEmpty(),
                 qPrintable(QString::fromLatin1(json.toHex()) + QStringLiteral(": ") + diff));
    }
}

void TestJsonReader::largeEscapedToolInput() {
    // The shape of a write_file call: one long string with an escape every few characters.
    QByteArray json = "{\"path\": \"src/table.cpp\", \"content\": \"";
    for (int i = 0; i < 20000; ++i)
        json += "    {\\\"id\\\", 42, \\\"v\xc3\xa9\\u00e9\\\"},\\n// row\\t\\ud83d\\ude00 ";
    json += "\", \"mode\": 420}";
    const QString diff = compareWithQt(json);
    QVERIFY2(diff.isEmpty(), qPrintable(diff));
    QJsonDocument doc;
    QVERIFY(JsonReader::parseFast(json, doc));
    QCOMPARE(doc.object().value("mode").toInteger(), 420);
}

void TestJsonReader::appendStringAtEveryOffset() {
    // The word-at-a-time scan must find a quote, backslash or control byte at every position.
    for (int len = 0; len < 40; ++len) {
        for (const char special : {'"', '\\', '\x1f'}) {
            for (int at = 0; at <= len; ++at) {
                QByteArray body(len, 'x');
                QByteArray input;
                if (special == '\\')
                    input = body.left(at) + "\\n" + body.mid(at) + "\"tail";
                else if (special == '"')
                    input = body.left(at) + "\"tail";
                else
                    input = body.left(at) + special + body.mid(at) + "\"tail";
                QByteArray out = "prefix";
                const char* p = input.constData();
                const bool ok = JsonReader::appendString(p, input.constData() + input.size(), out);
                if (special == '\x1f') {
                    QVERIFY(!ok);
                    QCOMPARE(out, QByteArray("prefix")); // untouched on failure
                    continue;
                }
                QVERIFY(ok);
                const QByteArray expected =
                    special == '"' ? body.left(at) : body.left(at) + "\n" + body.mid(at);
                QCOMPARE(out, "prefix" + expected);
                QCOMPARE(QByteArray(p), QByteArray("tail"));
            }
        }
    }
    const QByteArray unterminated = "abcdefghijklmnop";
    QByteArray out;
    const char* p = unterminated.constData();
    QVERIFY(!JsonReader::appendString(p, p + unterminated.size(), out));
    QVERIFY(out.isEmpty());
}

QTEST_GUILESS_MAIN(TestJsonReader)
#include "tst_json_reader.moc"
