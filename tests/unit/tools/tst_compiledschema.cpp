#include "tools/CompiledSchema.h"
#include "tools/JsonSchema.h"
#include "tools/ToolRegistry.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QtTest>

#include <cmath>
#include <limits>

using m1::CompiledSchema;
using m1::JsonSchema;

namespace {

// JSON written with single quotes (moc cannot parse raw string literals holding quotes).
QJsonObject parseObject(const char* text) {
    QJsonParseError error;
    const QJsonDocument document =
        QJsonDocument::fromJson(QByteArray(text).replace('\'', '"'), &error);
    if (error.error != QJsonParseError::NoError)
        qFatal("bad JSON in test: %s", text);
    return document.object();
}

// Schemas the compiler handles besides the built-in tools' ones.
const char* kCompilable[] = {
    "{'type':'object'}",
    "{'type':'object','properties':{'a':{'type':'number','minimum':-1.5,'maximum':2.5},"
    "'b':{'type':'boolean'},'c':{'type':'null'},'d':{'type':'integer'}},'required':['b']}",
    "{'type':'object','properties':{'o':{'type':'object','properties':{'s':{'type':'string',"
    "'minLength':2,'maxLength':3}},'required':['s'],'additionalProperties':false},"
    "'l':{'type':'array','minItems':0,'maxItems':2,'items':{'type':'array','items':"
    "{'type':'integer','minimum':0,'maximum':3}}}},'additionalProperties':true}",
    "{'type':'object','properties':{'u':{'type':'array'},'w':{'type':'string','minLength':0}},"
    "'required':[],'additionalProperties':false,'description':'ignored','default':{}}",
    // Required names that are properties and one that is not (named by a nested property, so
    // that the generated objects sometimes have it).
    "{'type':'object','properties':{'a':{'type':'string'},'n':{'type':'object','properties':"
    "{'z':{'type':'integer'}},'required':['z']}},'required':['a','z']}",
    "{'type':'object','properties':{'a':{'type':'string'},'z':{'type':'boolean'}},"
    "'required':['z','a','z'],'additionalProperties':false}",
};

// Schemas it must leave to JsonSchema.
const char* kNotCompilable[] = {
    "{'type':'array'}",
    "{'properties':{'a':{'type':'string'}}}",
    "{'type':['object','null']}",
    "{'type':'object','properties':{'a':{'type':'string','pattern':'^x'}}}",
    "{'type':'object','properties':{'a':{'enum':[1,2]}}}",
    "{'type':'object','properties':{'a':{'type':'integer','const':1}}}",
    "{'type':'object','additionalProperties':{'type':'string'}}",
    "{'type':'object','properties':{'a':{'type':'string','maxLength':1.5}}}",
    "{'type':'object','properties':{'a':{'type':'integer','minimum':'1'}}}",
    "{'type':'object','properties':{'a':'string'}}",
    "{'type':'object','required':'a'}",
    "{'type':'object','required':[1]}",
    "{'type':'object','properties':{'a':{'type':'array','items':true}}}",
    "{'type':'object','properties':{'a':{'type':'text'}}}",
};

class Generator {
public:
    explicit Generator(quint32 seed) : m_random(seed) {}

    int below(int n) { return static_cast<int>(m_random.bounded(n)); }

    // Lengths around the bounds the schemas use, text with and without surrogate pairs.
    QString text() {
        static const int lengths[] = {0, 1, 2, 3, 4, 5, 999, 1000, 1001, 4095, 4096, 4097};
        const int length = lengths[below(std::size(lengths))];
        QString s;
        const int kind = below(3);
        for (int i = 0; i < length; ++i) {
            if (kind == 1 && i % 2 == 0 && i + 1 < length) {
                s += QChar(0xd83d);
                s += QChar(0xde00);
                ++i;
            } else if (kind == 2 && i == 0) {
                s += QChar(0xd800); // a lone surrogate counts as one code point
            } else {
                s += QChar(u'a' + i % 26);
            }
        }
        return s;
    }

    double number() {
        static const double numbers[] = {0,
                                         1,
                                         -1,
                                         0.5,
                                         1.5,
                                         2.5,
                                         2.50001,
                                         -1.5,
                                         -1.50001,
                                         3,
                                         4,
                                         5,
                                         6,
                                         600,
                                         601,
                                         3600,
                                         3601,
                                         1000,
                                         1001,
                                         9007199254740992.0,
                                         9007199254740994.0,
                                         1e300,
                                         -1e300,
                                         std::numeric_limits<double>::infinity(),
                                         std::numeric_limits<double>::quiet_NaN()};
        return numbers[below(std::size(numbers))];
    }

    QJsonValue value(const QStringList& keys, int depth) {
        switch (below(depth > 2 ? 5 : 7)) {
        case 0:
            return QJsonValue(QJsonValue::Null);
        case 1:
            return below(2) == 0;
        case 2:
            return number();
        case 3:
        case 4:
            return below(8) ? text().left(5) : text();
        case 5: {
            QJsonArray array;
            const int n = below(40) == 0 ? 1001 : below(4);
            for (int i = 0; i < n; ++i)
                array.append(below(10) == 0 ? value(keys, depth + 1)
                                            : QJsonValue(QStringLiteral("w%1").arg(i)));
            return array;
        }
        default:
            return object(keys, depth + 1);
        }
    }

    QJsonObject object(const QStringList& keys, int depth) {
        QJsonObject o;
        const int n = below(5);
        for (int i = 0; i < n; ++i) {
            const QString key =
                below(6) == 0 ? QStringLiteral("other") : keys.at(below(keys.size()));
            o.insert(key, value(keys, depth));
        }
        return o;
    }

private:
    QRandomGenerator m_random;
};

// The property names a schema mentions anywhere, so that random objects hit them often.
void collectKeys(const QJsonObject& schema, QStringList& keys) {
    const QJsonObject properties = schema.value(QLatin1String("properties")).toObject();
    for (auto it = properties.begin(); it != properties.end(); ++it) {
        keys.append(it.key());
        collectKeys(it.value().toObject(), keys);
    }
    if (schema.value(QLatin1String("items")).isObject())
        collectKeys(schema.value(QLatin1String("items")).toObject(), keys);
}

} // namespace

class TestCompiledSchema : public QObject {
    Q_OBJECT

    static QList<QJsonObject> compilableSchemas() {
        QList<QJsonObject> schemas;
        const m1::ToolRegistry registry = m1::ToolRegistry::withBuiltins();
        for (const QString& name : registry.enabledNames())
            if (name != QLatin1String("update_plan"))
                schemas.append(registry.spec(name)->inputSchema);
        for (const char* text : kCompilable)
            schemas.append(parseObject(text));
        return schemas;
    }

private Q_SLOTS:
    void compilesTheBuiltinSchemas() {
        const m1::ToolRegistry registry = m1::ToolRegistry::withBuiltins();
        QCOMPARE(registry.enabledNames().size(), 7);
        // update_plan's schema uses enum, which the fast path leaves to JsonSchema on purpose:
        // it is a read tool without side effects, not worth a compiled check.
        for (const QString& name : registry.enabledNames()) {
            const bool compiled =
                CompiledSchema::compile(registry.spec(name)->inputSchema).has_value();
            QVERIFY2(compiled == (name != QLatin1String("update_plan")), qPrintable(name));
        }
        for (const char* text : kCompilable)
            QVERIFY2(CompiledSchema::compile(parseObject(text)).has_value(), text);
    }

    void leavesOtherSchemasToJsonSchema() {
        for (const char* text : kNotCompilable)
            QVERIFY2(!CompiledSchema::compile(parseObject(text)).has_value(), text);
    }

    // The fast check is used only when it says valid, so it must never accept what JsonSchema
    // refuses; it should also accept what JsonSchema accepts, or the fast path buys nothing.
    void agreesWithJsonSchema() {
        Generator generator(20240611);
        int valid = 0;
        int invalid = 0;
        for (const QJsonObject& schema : compilableSchemas()) {
            const std::optional<CompiledSchema> compiled = CompiledSchema::compile(schema);
            QVERIFY(compiled);
            QStringList keys;
            collectKeys(schema, keys);
            if (keys.isEmpty())
                keys.append(QStringLiteral("k"));
            for (int i = 0; i < 1500; ++i) {
                const QJsonObject value = generator.object(keys, 0);
                const bool expected = JsonSchema::validate(value, schema).has_value();
                QVERIFY2(
                    compiled->accepts(value) == expected,
                    qPrintable(
                        QString::fromUtf8(QJsonDocument(value).toJson(QJsonDocument::Compact))
                            .left(300) +
                        QStringLiteral(" against ") +
                        QString::fromUtf8(QJsonDocument(schema).toJson(QJsonDocument::Compact))));
                (expected ? valid : invalid) += 1;
            }
        }
        // The generator must exercise both outcomes, or the comparison says little.
        QVERIFY2(valid > 1000 && invalid > 1000,
                 qPrintable(QStringLiteral("%1 valid, %2 invalid").arg(valid).arg(invalid)));
    }

    void registryGivesTheSameErrors() {
        const m1::ToolRegistry registry = m1::ToolRegistry::withBuiltins();
        const auto bad = registry.validateCall(
            QStringLiteral("run_command"),
            QJsonObject{{QStringLiteral("argv"), QJsonArray{QStringLiteral("ls"), 3}}});
        QVERIFY(!bad);
        QCOMPARE(bad.error().message,
                 QStringLiteral("Arguments for run_command do not match its schema: /argv/1: "
                                "expected string, got integer"));
        QVERIFY(registry
                    .validateCall(
                        QStringLiteral("run_command"),
                        QJsonObject{{QStringLiteral("argv"), QJsonArray{QStringLiteral("ls")}}})
                    .has_value());
    }

    // The policy engine's way (enabledSpec, then validateArguments) gives validateCall's answer
    // and error for every built-in tool.
    void validateArgumentsGivesValidateCallsAnswer() {
        m1::ToolRegistry registry = m1::ToolRegistry::withBuiltins();
        const QList<QJsonObject> arguments = {
            {},
            {{QStringLiteral("argv"), QJsonArray{QStringLiteral("ls"), 3}}},
            {{QStringLiteral("argv"), QJsonArray{QStringLiteral("ls")}}},
            {{QStringLiteral("argv"), QJsonArray{}}},
            {{QStringLiteral("argv"), QJsonArray{QStringLiteral("ls")}},
             {QStringLiteral("cwd"), QString()}},
            {{QStringLiteral("path"), QStringLiteral("a.txt")}},
            {{QStringLiteral("path"), 1}},
            {{QStringLiteral("path"), QStringLiteral("a.txt")}, {QStringLiteral("extra"), true}},
            {{QStringLiteral("path"), QStringLiteral("a.txt")},
             {QStringLiteral("content"), QStringLiteral("x")}},
            {{QStringLiteral("pattern"), QStringLiteral("x")}},
        };
        for (const QString& name : registry.enabledNames()) {
            const m1::ToolSpec* spec = registry.enabledSpec(name);
            QVERIFY(spec);
            QCOMPARE(spec->name, name);
            for (const QJsonObject& value : arguments) {
                const auto expected = registry.validateCall(name, value);
                const auto got = registry.validateArguments(*spec, value);
                QCOMPARE(got.has_value(), expected.has_value());
                if (!expected) {
                    QCOMPARE(got.error().code, expected.error().code);
                    QCOMPARE(got.error().message, expected.error().message);
                }
            }
        }
        QVERIFY(!registry.enabledSpec(QStringLiteral("no_such_tool")));
        QVERIFY(registry.setEnabled(QStringLiteral("run_command"), false).has_value());
        QVERIFY(!registry.enabledSpec(QStringLiteral("run_command")));
    }
};

QTEST_GUILESS_MAIN(TestCompiledSchema)
#include "tst_compiledschema.moc"
