#include "model/Scope.h"

namespace m1 {

QString scopeToString(Scope scope) {
    switch (scope) {
    case Scope::Read:
        return QStringLiteral("read");
    case Scope::Write:
        return QStringLiteral("write");
    case Scope::Execute:
        return QStringLiteral("execute");
    }
    return QStringLiteral("execute");
}

std::optional<Scope> scopeFromString(const QString& text) {
    if (text == QLatin1String("read"))
        return Scope::Read;
    if (text == QLatin1String("write"))
        return Scope::Write;
    if (text == QLatin1String("execute"))
        return Scope::Execute;
    return std::nullopt;
}

} // namespace m1
