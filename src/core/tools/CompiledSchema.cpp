#include "tools/CompiledSchema.h"

#include <QJsonArray>
#include <QLatin1StringView>
#include <QVarLengthArray>

#include <algorithm>
#include <cmath>

namespace m1 {

namespace {

// Same bound as JsonSchema: beyond 2^53 a double no longer holds every integer.
constexpr double kMaxSafeInteger = 9007199254740992.0;

bool isSafeInteger(double number) {
    return std::isfinite(number) && std::trunc(number) == number &&
           std::fabs(number) <= kMaxSafeInteger;
}

// The keywords JsonSchema interprets; any other key is ignored there and here.
bool usesUnsupportedKeyword(const QJsonObject& schema) {
    return schema.contains(QLatin1StringView("enum")) ||
           schema.contains(QLatin1StringView("const")) ||
           schema.contains(QLatin1StringView("pattern"));
}

// A keyword that JsonSchema reads as an integer bound; nullopt in `out` when absent. False when
// present but malformed (JsonSchema would report the schema, so this schema is not compiled).
bool integerKeyword(const QJsonObject& schema, QLatin1StringView key, std::optional<qint64>& out) {
    const QJsonValue value = schema.value(key);
    if (value.isUndefined())
        return true;
    if (!value.isDouble() || !isSafeInteger(value.toDouble()))
        return false;
    out = value.toInteger();
    return true;
}

bool numberKeyword(const QJsonObject& schema, QLatin1StringView key, std::optional<double>& out) {
    const QJsonValue value = schema.value(key);
    if (value.isUndefined())
        return true;
    if (!value.isDouble())
        return false;
    out = value.toDouble();
    return true;
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

} // namespace

struct CompiledSchema::Node {
    enum class Type { Null, Boolean, Integer, Number, String, Array, Object };
    Type type = Type::Object;
    std::optional<qint64> minLength, maxLength, minItems, maxItems;
    std::optional<double> minimum, maximum;
    std::vector<Node> items; // zero or one element: the schema of every item
    std::vector<QString> propertyNames;
    std::vector<Node> propertyNodes;
    std::vector<bool> propertyRequired;  // per property: named in "required"
    std::vector<QString> requiredOthers; // required names that are not properties
    bool additionalAllowed = true;

    static std::optional<Node> compile(const QJsonObject& schema);

    template <typename Value>
    bool accepts(const Value& value) const;
    bool acceptsObject(const QJsonObject& object) const;
    bool acceptsArray(const QJsonArray& array) const;
    bool acceptsString(const QString& text) const;
    bool acceptsNumber(double number) const;
};

std::optional<CompiledSchema::Node> CompiledSchema::Node::compile(const QJsonObject& schema) {
    if (usesUnsupportedKeyword(schema))
        return std::nullopt;
    const QJsonValue type = schema.value(QLatin1StringView("type"));
    if (!type.isString())
        return std::nullopt; // absent (checks depend on the value's type) or a list
    Node node;
    const QString name = type.toString();
    if (name == QLatin1StringView("null"))
        node.type = Type::Null;
    else if (name == QLatin1StringView("boolean"))
        node.type = Type::Boolean;
    else if (name == QLatin1StringView("integer"))
        node.type = Type::Integer;
    else if (name == QLatin1StringView("number"))
        node.type = Type::Number;
    else if (name == QLatin1StringView("string"))
        node.type = Type::String;
    else if (name == QLatin1StringView("array"))
        node.type = Type::Array;
    else if (name == QLatin1StringView("object"))
        node.type = Type::Object;
    else
        return std::nullopt;

    switch (node.type) {
    case Type::Null:
    case Type::Boolean:
        break;
    case Type::Integer:
    case Type::Number:
        if (!numberKeyword(schema, QLatin1StringView("minimum"), node.minimum) ||
            !numberKeyword(schema, QLatin1StringView("maximum"), node.maximum))
            return std::nullopt;
        break;
    case Type::String:
        if (!integerKeyword(schema, QLatin1StringView("minLength"), node.minLength) ||
            !integerKeyword(schema, QLatin1StringView("maxLength"), node.maxLength))
            return std::nullopt;
        break;
    case Type::Array: {
        if (!integerKeyword(schema, QLatin1StringView("minItems"), node.minItems) ||
            !integerKeyword(schema, QLatin1StringView("maxItems"), node.maxItems))
            return std::nullopt;
        const QJsonValue items = schema.value(QLatin1StringView("items"));
        if (!items.isUndefined()) {
            if (!items.isObject())
                return std::nullopt;
            std::optional<Node> item = compile(items.toObject());
            if (!item)
                return std::nullopt;
            node.items.push_back(std::move(*item));
        }
        break;
    }
    case Type::Object: {
        const QJsonValue properties = schema.value(QLatin1StringView("properties"));
        if (!properties.isUndefined() && !properties.isObject())
            return std::nullopt;
        const QJsonObject propertyObject = properties.toObject();
        for (auto it = propertyObject.constBegin(); it != propertyObject.constEnd(); ++it) {
            if (!it.value().isObject())
                return std::nullopt;
            std::optional<Node> child = compile(it.value().toObject());
            if (!child)
                return std::nullopt;
            node.propertyNames.push_back(it.key());
            node.propertyNodes.push_back(std::move(*child));
        }
        const QJsonValue required = schema.value(QLatin1StringView("required"));
        if (!required.isUndefined() && !required.isArray())
            return std::nullopt;
        node.propertyRequired.assign(node.propertyNames.size(), false);
        for (const QJsonValue& entry : required.toArray()) {
            if (!entry.isString())
                return std::nullopt;
            const QString name = entry.toString();
            const auto property =
                std::find(node.propertyNames.cbegin(), node.propertyNames.cend(), name);
            if (property == node.propertyNames.cend())
                node.requiredOthers.push_back(name);
            else
                node.propertyRequired[property - node.propertyNames.cbegin()] = true;
        }
        const QJsonValue additional = schema.value(QLatin1StringView("additionalProperties"));
        if (additional.isBool())
            node.additionalAllowed = additional.toBool();
        else if (!additional.isUndefined())
            return std::nullopt; // a schema for the other properties: not compiled
        break;
    }
    }
    return node;
}

template <typename Value>
bool CompiledSchema::Node::accepts(const Value& value) const {
    switch (type) {
    case Type::Null:
        return value.isNull();
    case Type::Boolean:
        return value.isBool();
    case Type::Integer:
        return value.isDouble() && isSafeInteger(value.toDouble()) &&
               acceptsNumber(value.toDouble());
    case Type::Number:
        return value.isDouble() && std::isfinite(value.toDouble()) &&
               acceptsNumber(value.toDouble());
    case Type::String:
        return value.isString() && acceptsString(value.toString());
    case Type::Array:
        return value.isArray() && acceptsArray(value.toArray());
    case Type::Object:
        return value.isObject() && acceptsObject(value.toObject());
    }
    return false;
}

bool CompiledSchema::Node::acceptsNumber(double number) const {
    return !(minimum && number < *minimum) && !(maximum && number > *maximum);
}

bool CompiledSchema::Node::acceptsString(const QString& text) const {
    // UTF-16 units bound the code points from above and from below (at most two units each), so
    // the count is needed only near a bound.
    if (maxLength && text.size() > *maxLength && codePoints(text) > *maxLength)
        return false;
    if (minLength && text.size() < 2 * *minLength && codePoints(text) < *minLength)
        return false;
    return true;
}

bool CompiledSchema::Node::acceptsArray(const QJsonArray& array) const {
    if ((minItems && array.size() < *minItems) || (maxItems && array.size() > *maxItems))
        return false;
    if (items.empty())
        return true;
    const Node& item = items.front();
    for (auto it = array.constBegin(); it != array.constEnd(); ++it)
        if (!item.accepts(*it))
            return false;
    return true;
}

bool CompiledSchema::Node::acceptsObject(const QJsonObject& object) const {
    for (const QString& name : requiredOthers)
        if (!object.contains(name))
            return false;
    // An object with fewer members than the schema has properties (a call that leaves the
    // optional ones out) is read member by member instead of looking up every property.
    if (object.size() < static_cast<qsizetype>(propertyNames.size())) {
        QVarLengthArray<bool, 16> seen(static_cast<qsizetype>(propertyNames.size()), false);
        for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
            const QString key = it.key();
            const auto property = std::find(propertyNames.cbegin(), propertyNames.cend(), key);
            if (property == propertyNames.cend()) {
                if (!additionalAllowed)
                    return false;
                continue;
            }
            const auto i = property - propertyNames.cbegin();
            seen[i] = true;
            if (!propertyNodes[i].accepts(it.value()))
                return false;
        }
        for (std::size_t i = 0; i < propertyNames.size(); ++i)
            if (propertyRequired[i] && !seen[static_cast<qsizetype>(i)])
                return false;
        return true;
    }
    // One lookup per property also answers whether a required one is there.
    qsizetype known = 0;
    for (std::size_t i = 0; i < propertyNames.size(); ++i) {
        const auto it = object.constFind(QStringView(propertyNames[i]));
        if (it == object.constEnd()) {
            if (propertyRequired[i])
                return false;
            continue;
        }
        ++known;
        if (!propertyNodes[i].accepts(it.value()))
            return false;
    }
    // Keys are unique, so every key of the object was a known property when the counts agree.
    return additionalAllowed || known == object.size();
}

std::optional<CompiledSchema> CompiledSchema::compile(const QJsonObject& schema) {
    std::optional<Node> root = Node::compile(schema);
    if (!root || root->type != Node::Type::Object)
        return std::nullopt;
    return CompiledSchema(std::make_shared<const Node>(std::move(*root)));
}

bool CompiledSchema::accepts(const QJsonObject& value) const {
    return m_root->acceptsObject(value);
}

} // namespace m1
