#include "model/ToolSpec.h"

namespace m1 {

QJsonObject ToolSpec::toModelDefinition() const {
    return QJsonObject{{QStringLiteral("name"), name},
                       {QStringLiteral("description"), description},
                       {QStringLiteral("input_schema"), inputSchema}};
}

} // namespace m1
