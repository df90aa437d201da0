#pragma once

#include <QString>

#include <optional>

namespace m1 {

// Ordered by power: a tool with a higher scope can do more harm.
enum class Scope { Read = 0, Write = 1, Execute = 2 };

QString scopeToString(Scope scope);
std::optional<Scope> scopeFromString(const QString& text);

inline bool operator<(Scope a, Scope b) {
    return static_cast<int>(a) < static_cast<int>(b);
}

} // namespace m1
