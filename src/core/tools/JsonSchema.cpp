// TEMPORARY skeleton: replaced by the real validator before anything relies on it.
#include "tools/JsonSchema.h"

namespace m1 {
Status JsonSchema::validate(const QJsonValue&, const QJsonObject&) {
    return fail(QStringLiteral("schema.unimplemented"), QStringLiteral("not implemented"));
}
} // namespace m1
