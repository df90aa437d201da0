#include "tools/JsonSchema.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>

#include <cmath>

namespace m1 {

namespace {

const QString kInvalid = QStringLiteral("schema.invalid");

// Beyond 2^53 a double no longer holds every integer, so such a value cannot be trusted to be
// the integer the sender meant.
constexpr double kMaxSafeInteger = 9007199254740992.0;

QString escapeToken(QString token) {
    token.replace(QLatin1Char('~'), QLatin1String("~0"));
    token.replace(QLatin1Char('/'), QLatin1String("~1"));
    return token;
}

QString shownPointer(const QString& pointer) {
    return pointer.isEmpty() ? QStringLiteral("(root)") : pointer;
}

bool isInteger(const QJsonValue& value) {
    if (!value.isDouble())
        return false;
    const double number = value.toDouble();
    return std::isfinite(number) && std::trunc(number) == number &&
           std::fabs(number) <= kMaxSafeInteger;
}

QString typeName(const QJsonValue& value) {
    switch (value.type()) {
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Bool:
        return QStringLiteral("boolean");
    case QJsonValue::Double:
        return isInteger(value) ? QStringLiteral("integer") : QStringLiteral("number");
    case QJsonValue::String:
        return QStringLiteral("string");
    case QJsonValue::Array:
        return QStringLiteral("array");
    case QJsonValue::Object:
        return QStringLiteral("object");
    case QJsonValue::Undefined:
        break;
    }
    return QStringLiteral("undefined");
}

bool matchesType(const QJsonValue& value, const QString& type) {
    if (type == QLatin1String("integer"))
        return isInteger(value);
    if (type == QLatin1String("number"))
        return value.isDouble() && std::isfinite(value.toDouble());
    return typeName(value) == type;
}

qsizetype codePoints(const QString& text) {
    qsizetype count = 0;
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (text.at(i).isHighSurrogate() && i + 1 < text.size() && text.at(i + 1).isLowSurrogate())
            ++i;
        ++count;
    }
    return count;
}

class Validator {
    Q_DECLARE_TR_FUNCTIONS(JsonSchema)

public:
    Status check(const QJsonValue& value, const QJsonObject& schema, const QString& pointer) {
        if (auto status = checkType(value, schema, pointer); !status)
            return status;
        if (auto status = checkEnum(value, schema, pointer); !status)
            return status;
        if (value.isString())
            return checkString(value.toString(), schema, pointer);
        if (value.isDouble())
            return checkNumber(value.toDouble(), schema, pointer);
        if (value.isArray())
            return checkArray(value.toArray(), schema, pointer);
        if (value.isObject())
            return checkObject(value.toObject(), schema, pointer);
        return {};
    }

private:
    std::unexpected<Error> error(const QString& pointer, const QString& reason) {
        return fail(kInvalid, QStringLiteral("%1: %2").arg(shownPointer(pointer), reason));
    }

    std::unexpected<Error> schemaError(const QString& pointer, const QString& keyword) {
        return fail(
            kInvalid,
            tr("%1: the schema keyword \"%2\" is malformed.").arg(shownPointer(pointer), keyword));
    }

    Status checkType(const QJsonValue& value, const QJsonObject& schema, const QString& pointer) {
        const QJsonValue type = schema.value(QLatin1String("type"));
        if (type.isUndefined())
            return {};
        QStringList allowed;
        if (type.isString()) {
            allowed.append(type.toString());
        } else if (type.isArray()) {
            for (const QJsonValue& entry : type.toArray()) {
                if (!entry.isString())
                    return schemaError(pointer, QStringLiteral("type"));
                allowed.append(entry.toString());
            }
        } else {
            return schemaError(pointer, QStringLiteral("type"));
        }
        for (const QString& candidate : allowed)
            if (matchesType(value, candidate))
                return {};
        QString got = typeName(value);
        if (value.isDouble() && allowed.contains(QStringLiteral("integer")) &&
            std::isfinite(value.toDouble()) && std::trunc(value.toDouble()) == value.toDouble())
            got = tr("an integer too large to be exact");
        return error(
            pointer,
            tr("expected %1, got %2").arg(allowed.join(tr(" or ", "between type names")), got));
    }

    Status checkEnum(const QJsonValue& value, const QJsonObject& schema, const QString& pointer) {
        if (schema.contains(QLatin1String("const")) &&
            value != schema.value(QLatin1String("const")))
            return error(pointer,
                         tr("must be the value %1")
                             .arg(QString::fromUtf8(
                                 QJsonDocument(QJsonArray{schema.value(QLatin1String("const"))})
                                     .toJson(QJsonDocument::Compact))));
        const QJsonValue options = schema.value(QLatin1String("enum"));
        if (options.isUndefined())
            return {};
        if (!options.isArray())
            return schemaError(pointer, QStringLiteral("enum"));
        if (!options.toArray().contains(value))
            return error(pointer,
                         tr("must be one of %1")
                             .arg(QString::fromUtf8(
                                 QJsonDocument(options.toArray()).toJson(QJsonDocument::Compact))));
        return {};
    }

    Status checkString(const QString& text, const QJsonObject& schema, const QString& pointer) {
        const QJsonValue minLength = schema.value(QLatin1String("minLength"));
        const QJsonValue maxLength = schema.value(QLatin1String("maxLength"));
        if ((!minLength.isUndefined() && !isInteger(minLength)) ||
            (!maxLength.isUndefined() && !isInteger(maxLength)))
            return schemaError(pointer, QStringLiteral("minLength/maxLength"));
        // UTF-16 length bounds the code points from above, so long texts are refused without a
        // full scan.
        if (!maxLength.isUndefined() && text.size() > maxLength.toInteger() &&
            codePoints(text) > maxLength.toInteger())
            return error(pointer, tr("text is too long (%1 characters, at most %2 allowed)")
                                      .arg(codePoints(text))
                                      .arg(maxLength.toInteger()));
        if (!minLength.isUndefined() && codePoints(text) < minLength.toInteger())
            return error(pointer, tr("text is too short (%1 characters, at least %2 required)")
                                      .arg(codePoints(text))
                                      .arg(minLength.toInteger()));
        const QJsonValue pattern = schema.value(QLatin1String("pattern"));
        if (!pattern.isUndefined()) {
            const QRegularExpression expression(pattern.toString());
            if (!pattern.isString() || !expression.isValid())
                return schemaError(pointer, QStringLiteral("pattern"));
            if (!expression.match(text).hasMatch())
                return error(pointer,
                             tr("text does not match the pattern %1").arg(pattern.toString()));
        }
        return {};
    }

    Status checkNumber(double number, const QJsonObject& schema, const QString& pointer) {
        const QJsonValue minimum = schema.value(QLatin1String("minimum"));
        const QJsonValue maximum = schema.value(QLatin1String("maximum"));
        if ((!minimum.isUndefined() && !minimum.isDouble()) ||
            (!maximum.isUndefined() && !maximum.isDouble()))
            return schemaError(pointer, QStringLiteral("minimum/maximum"));
        if (!minimum.isUndefined() && number < minimum.toDouble())
            return error(pointer, tr("%1 is below the minimum %2")
                                      .arg(QString::number(number, 'g', 17),
                                           QString::number(minimum.toDouble(), 'g', 17)));
        if (!maximum.isUndefined() && number > maximum.toDouble())
            return error(pointer, tr("%1 is above the maximum %2")
                                      .arg(QString::number(number, 'g', 17),
                                           QString::number(maximum.toDouble(), 'g', 17)));
        return {};
    }

    Status checkArray(const QJsonArray& array, const QJsonObject& schema, const QString& pointer) {
        const QJsonValue minItems = schema.value(QLatin1String("minItems"));
        const QJsonValue maxItems = schema.value(QLatin1String("maxItems"));
        if ((!minItems.isUndefined() && !isInteger(minItems)) ||
            (!maxItems.isUndefined() && !isInteger(maxItems)))
            return schemaError(pointer, QStringLiteral("minItems/maxItems"));
        if (!minItems.isUndefined() && array.size() < minItems.toInteger())
            return error(pointer, tr("too few items (%1, at least %2 required)")
                                      .arg(array.size())
                                      .arg(minItems.toInteger()));
        if (!maxItems.isUndefined() && array.size() > maxItems.toInteger())
            return error(pointer, tr("too many items (%1, at most %2 allowed)")
                                      .arg(array.size())
                                      .arg(maxItems.toInteger()));
        const QJsonValue items = schema.value(QLatin1String("items"));
        if (items.isUndefined())
            return {};
        if (!items.isObject())
            return schemaError(pointer, QStringLiteral("items"));
        for (qsizetype i = 0; i < array.size(); ++i)
            if (auto status = check(array.at(i), items.toObject(),
                                    pointer + QLatin1Char('/') + QString::number(i));
                !status)
                return status;
        return {};
    }

    Status checkObject(const QJsonObject& object, const QJsonObject& schema,
                       const QString& pointer) {
        const QJsonValue propertiesValue = schema.value(QLatin1String("properties"));
        if (!propertiesValue.isUndefined() && !propertiesValue.isObject())
            return schemaError(pointer, QStringLiteral("properties"));
        const QJsonObject properties = propertiesValue.toObject();

        const QJsonValue required = schema.value(QLatin1String("required"));
        if (!required.isUndefined() && !required.isArray())
            return schemaError(pointer, QStringLiteral("required"));
        for (const QJsonValue& name : required.toArray()) {
            if (!name.isString())
                return schemaError(pointer, QStringLiteral("required"));
            if (!object.contains(name.toString()))
                return error(pointer + QLatin1Char('/') + escapeToken(name.toString()),
                             tr("required property \"%1\" is missing").arg(name.toString()));
        }

        const QJsonValue additional = schema.value(QLatin1String("additionalProperties"));
        if (!additional.isUndefined() && !additional.isBool() && !additional.isObject())
            return schemaError(pointer, QStringLiteral("additionalProperties"));
        for (auto it = object.begin(); it != object.end(); ++it) {
            const QString childPointer = pointer + QLatin1Char('/') + escapeToken(it.key());
            if (properties.contains(it.key())) {
                const QJsonValue childSchema = properties.value(it.key());
                if (!childSchema.isObject())
                    return schemaError(childPointer, QStringLiteral("properties"));
                if (auto status = check(it.value(), childSchema.toObject(), childPointer); !status)
                    return status;
            } else if (additional.isBool() && !additional.toBool()) {
                return error(childPointer,
                             tr("unknown property \"%1\" is not allowed").arg(it.key()));
            } else if (additional.isObject()) {
                if (auto status = check(it.value(), additional.toObject(), childPointer); !status)
                    return status;
            }
        }
        return {};
    }
};

} // namespace

Status JsonSchema::validate(const QJsonValue& value, const QJsonObject& schema) {
    Validator validator;
    return validator.check(value, schema, QString());
}

} // namespace m1
