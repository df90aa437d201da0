#pragma once

#include "model/Scope.h"

#include <QJsonObject>
#include <QString>

namespace m1 {

// What the registry knows about one tool; the only source of the definitions offered to the model.
struct ToolSpec {
    QString name;
    QString description;
    Scope scope = Scope::Execute;
    QJsonObject inputSchema; // JSON Schema, top level {"type":"object", ...}
    bool enabled = true;

    // {"name", "description", "input_schema"} as the Messages API expects it.
    QJsonObject toModelDefinition() const;
};

} // namespace m1
