#pragma once

#include "util/Error.h"

#include <QCoreApplication>
#include <QJsonObject>
#include <QJsonValue>

namespace m1 {

// Validates a value against the subset of JSON Schema the tool definitions use: type (object,
// array, string, integer, number, boolean, null, or a list), properties, required,
// additionalProperties (false or a schema), items, enum, const, minLength, maxLength, minimum,
// maximum, minItems, maxItems, pattern. On failure the error (code "schema.invalid") names the
// JSON pointer of the offending value, e.g. "/argv/2: expected string, got number".
// "integer" means a finite number without a fractional part and at most 2^53 in magnitude (so 1.5
// and 1e300 are not integers); lengths count code points; "pattern" is an unanchored search. A
// keyword the validator does not know is ignored; a malformed schema keyword fails closed.
class JsonSchema {
    Q_DECLARE_TR_FUNCTIONS(JsonSchema)

public:
    static Status validate(const QJsonValue& value, const QJsonObject& schema);
};

} // namespace m1
