#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>

namespace m1 {

// The canonical serialisation that approval tokens bind to: exactly what Python's
// json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False) produces, in UTF-8.
// Keys sorted by code point, no insignificant whitespace, non-ASCII kept as UTF-8, only '"', '\\'
// and control characters below U+0020 escaped (\n \r \t \b \f as short forms, others as \u00XX),
// integers as integers, other numbers as Python's repr(float) ("1.5", "1e+16", "1e-05", "3.0").
class CanonicalJson {
public:
    static QByteArray serialize(const QJsonValue& value);
    static QByteArray serialize(const QJsonObject& object);
    // Lowercase hex SHA-256 of serialize(object).
    static QByteArray sha256Hex(const QJsonObject& object);
};

} // namespace m1
