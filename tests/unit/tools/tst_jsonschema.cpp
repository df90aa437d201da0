#include "tools/JsonSchema.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QtTest>

using m1::JsonSchema;

namespace {

// JSON written with single quotes (moc cannot parse raw string literals holding quotes).
QByteArray json(const char* text) {
    return QByteArray(text).replace('\'', '"');
}

QJsonObject parseObject(const char* text) {
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(json(text), &error);
    if (error.error != QJsonParseError::NoError)
        qFatal("bad JSON in test: %s", text);
    return document.object();
}

// Shaped like the run_command and read_file schemas.
const char* kSchema =
    "{"
    "  'type': 'object',"
    "  'properties': {"
    "    'path': {'type': 'string', 'minLength': 1, 'maxLength': 4096},"
    "    'argv': {'type': 'array', 'items': {'type': 'string'}, 'minItems': 1, 'maxItems': 4},"
    "    'count': {'type': 'integer', 'minimum': 1, 'maximum': 600},"
    "    'ratio': {'type': 'number', 'minimum': 0, 'maximum': 1},"
    "    'flag': {'type': 'boolean'},"
    "    'mode': {'type': 'string', 'enum': ['a', 'b']},"
    "    'fixed': {'const': 7},"
    "    'name': {'type': 'string', 'pattern': '^[a-z]+$'},"
    "    'maybe': {'type': ['string', 'null']},"
    "    'nested': {'type': 'object', 'properties': {'x/y~z': {'type': 'string'}},"
    "               'additionalProperties': false}"
    "  },"
    "  'required': ['path'],"
    "  'additionalProperties': false"
    "}";

} // namespace

class TestJsonSchema : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void validate_data() {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("message"); // empty: valid; otherwise the expected message

        QTest::newRow("minimal") << json("{'path':'a'}") << QString();
        QTest::newRow("all-fields")
            << json("{'path':'a','argv':['ls','-l'],'count':600,'ratio':0.5,'flag':true,"
                    "                 "
                    "'mode':'b','fixed':7,'name':'abc','maybe':null,'nested':{'x/y~z':'v'}}")
            << QString();
        QTest::newRow("integer-written-as-1.0") << json("{'path':'a','count':1.0}") << QString();
        QTest::newRow("type-list-string") << json("{'path':'a','maybe':'s'}") << QString();

        QTest::newRow("SBX-19/unknown-property")
            << json("{'path':'a','extra':1}")
            << QStringLiteral("/extra: unknown property \"extra\" is not allowed");
        QTest::newRow("SBX-19/wrong-type")
            << json("{'path':5}") << QStringLiteral("/path: expected string, got integer");
        QTest::newRow("SBX-19/missing-required")
            << json("{}") << QStringLiteral("/path: required property \"path\" is missing");
        QTest::newRow("SBX-11/string-where-array-wanted")
            << json("{'path':'a','argv':'ls && touch canary'}")
            << QStringLiteral("/argv: expected array, got string");
        QTest::newRow("array-item-pointer")
            << json("{'path':'a','argv':['ls','-l',3]}")
            << QStringLiteral("/argv/2: expected string, got integer");
        QTest::newRow("min-items")
            << json("{'path':'a','argv':[]}")
            << QStringLiteral("/argv: too few items (0, at least 1 required)");
        QTest::newRow("max-items")
            << json("{'path':'a','argv':['1','2','3','4','5']}")
            << QStringLiteral("/argv: too many items (5, at most 4 allowed)");
        QTest::newRow("fraction-is-not-integer")
            << json("{'path':'a','count':1.5}")
            << QStringLiteral("/count: expected integer, got number");
        QTest::newRow("1e300-is-not-integer")
            << json("{'path':'a','count':1e300}")
            << QStringLiteral("/count: expected integer, got an integer too large to be exact");
        QTest::newRow("integer-below-minimum")
            << json("{'path':'a','count':0}") << QStringLiteral("/count: 0 is below the minimum 1");
        QTest::newRow("integer-above-maximum")
            << json("{'path':'a','count':601}")
            << QStringLiteral("/count: 601 is above the maximum 600");
        QTest::newRow("number-above-maximum")
            << json("{'path':'a','ratio':1.5}")
            << QStringLiteral("/ratio: 1.5 is above the maximum 1");
        QTest::newRow("boolean-not-string")
            << json("{'path':'a','flag':'true'}")
            << QStringLiteral("/flag: expected boolean, got string");
        QTest::newRow("enum") << json("{'path':'a','mode':'c'}")
                              << QStringLiteral("/mode: must be one of [\"a\",\"b\"]");
        QTest::newRow("const") << json("{'path':'a','fixed':8}")
                               << QStringLiteral("/fixed: must be the value [7]");
        QTest::newRow("pattern") << json("{'path':'a','name':'ABC'}")
                                 << QStringLiteral(
                                        "/name: text does not match the pattern ^[a-z]+$");
        QTest::newRow("min-length") << json("{'path':''}")
                                    << QStringLiteral("/path: text is too short (0 characters, at "
                                                      "least 1 required)");
        QTest::newRow("type-list-refuses")
            << json("{'path':'a','maybe':1}")
            << QStringLiteral("/maybe: expected string or null, got integer");
        QTest::newRow("null-not-string")
            << json("{'path':null}") << QStringLiteral("/path: expected string, got null");
        QTest::newRow("pointer-escaping")
            << json("{'path':'a','nested':{'x/y~z':1}}")
            << QStringLiteral("/nested/x~1y~0z: expected string, got integer");
        QTest::newRow("nested-unknown")
            << json("{'path':'a','nested':{'q':1}}")
            << QStringLiteral("/nested/q: unknown property \"q\" is not allowed");
    }

    void validate() {
        QFETCH(QByteArray, json);
        QFETCH(QString, message);
        const QJsonObject value = QJsonDocument::fromJson(json).object();
        QVERIFY(!value.isEmpty() || json == "{}");
        const auto status = JsonSchema::validate(value, parseObject(kSchema));
        if (message.isEmpty()) {
            QVERIFY2(status, qPrintable(status ? QString() : status.error().message));
        } else {
            QVERIFY(!status);
            QCOMPARE(status.error().code, QStringLiteral("schema.invalid"));
            QCOMPARE(status.error().message, message);
        }
    }

    void rootTypeMismatch() {
        const auto status = JsonSchema::validate(QJsonValue(3), parseObject(kSchema));
        QVERIFY(!status);
        QCOMPARE(status.error().message, QStringLiteral("(root): expected object, got integer"));
    }

    void tenMegabyteArgumentRefused() {
        // SBX-19: a 10 MB argument stops at maxLength.
        const QJsonObject value{
            {QStringLiteral("path"), QString(10 * 1024 * 1024, QLatin1Char('a'))}};
        const auto status = JsonSchema::validate(value, parseObject(kSchema));
        QVERIFY(!status);
        QCOMPARE(status.error().code, QStringLiteral("schema.invalid"));
        QVERIFY2(status.error().message.startsWith(
                     QStringLiteral("/path: text is too long (10485760 characters, at most 4096")),
                 qPrintable(status.error().message));
    }

    void lengthCountsCodePoints() {
        const QJsonObject schema = parseObject("{'type':'string','maxLength':2}");
        // Two emoji: four UTF-16 units, two code points.
        QVERIFY(JsonSchema::validate(QJsonValue(QStringLiteral("\U0001F600\U0001F600")), schema));
        QVERIFY(!JsonSchema::validate(QJsonValue(QStringLiteral("abc")), schema));
    }

    void malformedSchemaFailsClosed() {
        const auto badPattern = JsonSchema::validate(
            QJsonValue(QStringLiteral("x")), parseObject("{'type':'string','pattern':'(['}"));
        QVERIFY(!badPattern);
        QCOMPARE(badPattern.error().code, QStringLiteral("schema.invalid"));
        QVERIFY(badPattern.error().message.contains(QStringLiteral("pattern")));
        const auto badType = JsonSchema::validate(QJsonValue(1), parseObject("{'type':5}"));
        QVERIFY(!badType);
    }

    void additionalPropertiesSchema() {
        const QJsonObject schema =
            parseObject("{'type':'object','additionalProperties':{'type':'integer'}}");
        QVERIFY(JsonSchema::validate(parseObject("{'a':1,'b':2}"), schema));
        const auto status = JsonSchema::validate(parseObject("{'a':'x'}"), schema);
        QVERIFY(!status);
        QCOMPARE(status.error().message, QStringLiteral("/a: expected integer, got string"));
    }
};

QTEST_GUILESS_MAIN(TestJsonSchema)
#include "tst_jsonschema.moc"
