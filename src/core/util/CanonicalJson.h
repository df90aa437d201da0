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
//
// Limits (Qt 6.4): QJsonValue stores every integral double within the qint64 range as an
// integer, both when parsing ("1.0", "-0.0", "1e2") and when constructed from a double, so such
// values come out as "1", "0", "100" where Python would keep the float ("1.0", "-0.0", "100.0").
// Integers beyond the qint64 range are held as doubles and come out as Python floats
// ("9.223372036854776e+18"). Mint and verify both hash QJsonValues, so the binding stays exact;
// only a byte-for-byte comparison with Python differs for those values. A lone surrogate (which
// Python cannot encode to UTF-8) is written as its \udXXX escape, keeping the form injective.
class CanonicalJson {
public:
    static QByteArray serialize(const QJsonValue& value);
    static QByteArray serialize(const QJsonObject& object);
    // Lowercase hex SHA-256 of serialize(object).
    static QByteArray sha256Hex(const QJsonObject& object);
    // Python's repr(float) for one double; what serialize() writes for a non-integer number.
    static QByteArray pythonFloatRepr(double value);
};

} // namespace m1
