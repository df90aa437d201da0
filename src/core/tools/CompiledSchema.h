#pragma once

#include <QJsonObject>
#include <QString>

#include <memory>
#include <optional>
#include <vector>

namespace m1 {

// A tool's input schema compiled once into a form that checks arguments without building
// strings or copying schema values: the policy engine checks every proposed call, so this runs
// on the hot path. It only answers "certainly valid"; whenever it says no, the caller runs
// JsonSchema::validate, which decides and words the error. So it may be stricter than
// JsonSchema (never more lenient): accepts(x) implies JsonSchema::validate(x, schema) succeeds.
//
// Only the keywords the built-in tools use are compiled (type given as one name, properties,
// required, additionalProperties false, minLength, maxLength, minimum, maximum, minItems,
// maxItems, items). A schema using anything else that JsonSchema would check (enum, const,
// pattern, a list of types, additionalProperties as a schema, a malformed keyword) is not
// compiled: compile() returns nothing and the caller always uses JsonSchema.
class CompiledSchema {
public:
    static std::optional<CompiledSchema> compile(const QJsonObject& schema);

    bool accepts(const QJsonObject& value) const;

    struct Node;

private:
    explicit CompiledSchema(std::shared_ptr<const Node> root) : m_root(std::move(root)) {}
    std::shared_ptr<const Node> m_root;
};

} // namespace m1
