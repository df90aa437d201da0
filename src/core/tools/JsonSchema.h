#pragma once

#include "util/Error.h"

#include <QJsonObject>
#include <QJsonValue>

namespace m1 {

// Validates a value against the subset of JSON Schema the tool definitions use: type (object,
// array, string, integer, number, boolean, null, or a list), properties, required,
// additionalProperties (false or a schema), items, enum, const, minLength, maxLength, minimum,
// maximum, minItems, maxItems, pattern. On failure the error (code "schema.invalid") names the
// JSON pointer of the offending value, e.g. "/argv/2: expected string, got number".
class JsonSchema {
public:
    static Status validate(const QJsonValue& value, const QJsonObject& schema);
};

} // namespace m1
