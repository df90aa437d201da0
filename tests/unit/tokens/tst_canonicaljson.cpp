#include "TestSupport.h"
#include "util/CanonicalJson.h"

#include <QCryptographicHash>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QStandardPaths>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <limits>

using m1::CanonicalJson;

// moc cannot tokenise some raw string literals, and there is nothing for it to see here.
#ifndef Q_MOC_RUN
namespace {

QString python() {
    // The Debian interpreter first: a pyenv shim on PATH may lack the system packages.
    if (QFileInfo::exists(QStringLiteral("/usr/bin/python3")))
        return QStringLiteral("/usr/bin/python3");
    return QStandardPaths::findExecutable(QStringLiteral("python3"));
}

QJsonValue parseValue(const QByteArray& text) {
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson("[" + text + "]", &error);
    if (error.error != QJsonParseError::NoError)
        qFatal("bad corpus entry %s: %s", text.constData(), qPrintable(error.errorString()));
    return document.array().at(0);
}

// JSON texts whose values survive QJsonDocument unchanged in type (no integral floats), so the
// bytes must equal Python's json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"),
// ensure_ascii=False).encode("utf-8").
const QList<QByteArray>& corpus() {
    static const QList<QByteArray> entries = {
        R"({})",
        R"([])",
        R"("")",
        R"(0)",
        R"(-1)",
        R"(123456789012)",
        R"(9223372036854775807)",
        R"(-9223372036854775808)",
        R"(1.5)",
        R"(-2.25)",
        R"(0.1)",
        R"(1e-5)",
        R"(0.0001)",
        R"(0.00012345)",
        R"(1e300)",
        R"(-1e300)",
        R"(1e20)",
        R"(5e-324)",
        R"(1.7976931348623157e308)",
        R"(2.2250738585072014e-308)",
        R"(123456789012.5)",
        R"(1234567890123456.7)",
        R"(0.3333333333333333)",
        R"(true)",
        R"(false)",
        R"(null)",
        R"({"b":1,"a":2,"c":{"z":[1,2,{"y":null,"x":true}],"a":"A"}})",
        R"({"path":"src/main.cpp","content":"line1\nline2\r\n\ttab \"quoted\" back\\slash /"})",
        R"({"ctl":"\u0000\u0001\u0008\u000b\u000c\u001f\u007f"})",
        R"({"uni":"Grüße, 日本語, emoji 😀🎉, \u2028\u2029 separators, \ufeff BOM, \uffff"})",
        R"({"😀":1,"\ue000":2,"a":3,"é":4,"Z":5,"":6,"\uffff":7,"𝄞":8,"aa":9,"a\u0000":10})",
        R"({"nested":[[[[[]]]],{"k":[{"k":[{}]}]}],"mix":[1,1.5,"s",null,false]})",
        R"(["\"", "\\", "\b\f\n\r\t", "'single'", "</script>"])",
        R"({"argv":["ls","&&","touch","/tmp/canary"],"cwd":"."})",
    };
    return entries;
}

void addKnownFormRows() {
    QTest::newRow("JWT-16/sorted-compact")
        << QByteArray(R"({ "b" : 1 , "a" : [ 1 , 2 ] })") << QByteArray(R"({"a":[1,2],"b":1})");
    QTest::newRow("JWT-16/short-escapes")
        << QByteArray(R"("\n\r\t\b\f\"\\/")") << QByteArray(R"("\n\r\t\b\f\"\\/")");
    QTest::newRow("JWT-16/control-lowercase-hex")
        << QByteArray(R"("\u001F\u0000\u000B")") << QByteArray(R"("\u001f\u0000\u000b")");
    QTest::newRow("JWT-16/del-and-u2028-raw")
        << QByteArray(R"("\u007f\u2028")") << QByteArray("\"\x7f\xe2\x80\xa8\"");
    QTest::newRow("JWT-16/non-ascii-utf8")
        << QByteArray(R"("\u00e9\ud83d\ude00")") << QByteArray("\"\xc3\xa9\xf0\x9f\x98\x80\"");
    QTest::newRow("JWT-16/astral-key-after-private-use")
        << QByteArray(R"({"\ud83d\ude00":1,"\ue000":2})")
        << QByteArray("{\"\xee\x80\x80\":2,\"\xf0\x9f\x98\x80\":1}");
    QTest::newRow("JWT-16/lone-surrogate-escaped")
        << QByteArray(R"("a\ud800b")") << QByteArray(R"("a\ud800b")");
    QTest::newRow("JWT-16/int") << QByteArray("123456789012") << QByteArray("123456789012");
    QTest::newRow("JWT-16/float") << QByteArray("1.5") << QByteArray("1.5");
    QTest::newRow("JWT-16/exp-small") << QByteArray("1e-5") << QByteArray("1e-05");
    QTest::newRow("JWT-16/exp-large") << QByteArray("1e300") << QByteArray("1e+300");
    // Qt 6.4 limit (documented in CanonicalJson.h): integral floats become integers.
    QTest::newRow("qt-limit/1.0-is-int") << QByteArray("1.0") << QByteArray("1");
    QTest::newRow("qt-limit/-0.0-is-int") << QByteArray("-0.0") << QByteArray("0");
    // Python keeps this an int; QJsonValue can only hold it as a double.
    QTest::newRow("qt-limit/2^63-is-float")
        << QByteArray("9223372036854775808") << QByteArray("9.223372036854776e+18");
    QTest::newRow("qt-limit/1e16-is-int") << QByteArray("1e16") << QByteArray("10000000000000000");
}

} // namespace
#endif // Q_MOC_RUN

class TestCanonicalJson : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void knownForms_data() {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QByteArray>("expected");
        addKnownFormRows();
    }
    void knownForms() {
        QFETCH(QByteArray, json);
        QFETCH(QByteArray, expected);
        QCOMPARE(CanonicalJson::serialize(parseValue(json)), expected);
    }

    void pythonFloatRepr_data() {
        QTest::addColumn<double>("value");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("zero") << 0.0 << QByteArray("0.0");
        QTest::newRow("negative-zero") << -0.0 << QByteArray("-0.0");
        QTest::newRow("three") << 3.0 << QByteArray("3.0");
        QTest::newRow("1e15") << 1e15 << QByteArray("1000000000000000.0");
        QTest::newRow("1e16") << 1e16 << QByteArray("1e+16");
        QTest::newRow("1.5e16") << 1.5e16 << QByteArray("1.5e+16");
        QTest::newRow("1e-4") << 1e-4 << QByteArray("0.0001");
        QTest::newRow("1e-5") << 1e-5 << QByteArray("1e-05");
        QTest::newRow("1.5") << 1.5 << QByteArray("1.5");
        QTest::newRow("0.1") << 0.1 << QByteArray("0.1");
        QTest::newRow("1e100") << 1e100 << QByteArray("1e+100");
        QTest::newRow("denormal") << 5e-324 << QByteArray("5e-324");
        QTest::newRow("infinity") << std::numeric_limits<double>::infinity()
                                  << QByteArray("Infinity");
    }
    void pythonFloatRepr() {
        QFETCH(double, value);
        QFETCH(QByteArray, expected);
        QCOMPARE(CanonicalJson::pythonFloatRepr(value), expected);
    }

    void keyOrderAndWhitespaceHashAlike() {
        const QJsonObject a = parseValue("{\"x\":1,\"y\":{\"b\":2,\"a\":\"\xc3\xa9\"}}").toObject();
        const QJsonObject b =
            parseValue("{ \"y\" : {\"a\":\"\\u00e9\" ,\"b\":2},\n\"x\":1}").toObject();
        QCOMPARE(CanonicalJson::sha256Hex(a), CanonicalJson::sha256Hex(b));
        QJsonObject c = a;
        c.insert(QStringLiteral("x"), 2);
        QVERIFY(CanonicalJson::sha256Hex(a) != CanonicalJson::sha256Hex(c));
    }

    void sha256HexIsLowercaseDigestOfBytes() {
        const QJsonObject object = parseValue("{\"b\":[1,\"two\"],\"a\":null}").toObject();
        const QByteArray expected =
            QCryptographicHash::hash("{\"a\":null,\"b\":[1,\"two\"]}", QCryptographicHash::Sha256)
                .toHex();
        QCOMPARE(CanonicalJson::sha256Hex(object), expected);
        QCOMPARE(CanonicalJson::sha256Hex(QJsonObject()),
                 QByteArray("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"));
    }

    // JWT-16: the bytes must equal real Python's json.dumps for every corpus entry.
    void matchesPythonJsonDumps() {
        const QString interpreter = python();
        if (interpreter.isEmpty())
            QFAIL("python3 not found; the canonical form is defined by Python's output");
        QByteArray input;
        for (const QByteArray& entry : corpus())
            input += entry.toHex() + '\n';
        const QString script = QStringLiteral(
            "import sys, json\n"
            "for line in sys.stdin.read().split():\n"
            "    v = json.loads(bytes.fromhex(line).decode('utf-8'))\n"
            "    out = json.dumps(v, sort_keys=True, separators=(',', ':'), ensure_ascii=False)\n"
            "    print(out.encode('utf-8').hex())\n");
        const auto result =
            m1::test::runProgram(interpreter, {QStringLiteral("-c"), script}, {}, input);
        QVERIFY2(result.exitCode == 0, result.err.constData());
        const QList<QByteArray> lines = result.out.trimmed().split('\n');
        QCOMPARE(lines.size(), corpus().size());
        for (qsizetype i = 0; i < lines.size(); ++i) {
            const QByteArray expected = QByteArray::fromHex(lines.at(i));
            const QByteArray actual = CanonicalJson::serialize(parseValue(corpus().at(i)));
            QVERIFY2(actual == expected,
                     qPrintable(QStringLiteral("entry %1: %2\n ours:   %3\n python: %4")
                                    .arg(i)
                                    .arg(QString::fromUtf8(corpus().at(i)),
                                         QString::fromUtf8(actual), QString::fromUtf8(expected))));
        }
    }

    // repr(float) for doubles passed exactly (as float.hex), including the integral ones that a
    // QJsonValue cannot hold as doubles.
    void floatReprMatchesPython() {
        const QString interpreter = python();
        if (interpreter.isEmpty())
            QFAIL("python3 not found");
        QList<double> values = {0.0,
                                -0.0,
                                3.0,
                                1e15,
                                1e16,
                                1.5e16,
                                1e-4,
                                1e-5,
                                1.5,
                                0.1,
                                1e100,
                                5e-324,
                                1e22,
                                -1e-7,
                                2e-4,
                                123.456,
                                1e308,
                                9007199254740993.0,
                                0.30000000000000004};
        // A deterministic spread of bit patterns.
        quint64 state = 0x9E3779B97F4A7C15ull;
        for (int i = 0; i < 2000; ++i) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            double value;
            std::memcpy(&value, &state, sizeof value);
            if (std::isfinite(value))
                values.append(value);
            values.append(double(state % 100000000) / double((state >> 40) % 9999 + 1));
        }
        QByteArray input;
        for (double value : values) {
            quint64 bits;
            std::memcpy(&bits, &value, sizeof bits);
            input += QByteArray::number(bits) + '\n';
        }
        const QString script = QStringLiteral(
            "import sys, struct\n"
            "for line in sys.stdin.read().split():\n"
            "    print(repr(struct.unpack('<d', struct.pack('<Q', int(line)))[0]))\n");
        const auto result =
            m1::test::runProgram(interpreter, {QStringLiteral("-c"), script}, {}, input);
        QVERIFY2(result.exitCode == 0, result.err.constData());
        const QList<QByteArray> lines = result.out.trimmed().split('\n');
        QCOMPARE(lines.size(), values.size());
        for (qsizetype i = 0; i < lines.size(); ++i)
            QCOMPARE(CanonicalJson::pythonFloatRepr(values.at(i)), lines.at(i));
    }
};

QTEST_GUILESS_MAIN(TestCanonicalJson)
#include "tst_canonicaljson.moc"
