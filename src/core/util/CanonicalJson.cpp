#include "util/CanonicalJson.h"

#include "util/Sha256.h"
#include "util/Utf8.h"

#include <QJsonArray>
#include <QVariant>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

namespace m1 {

namespace {

// Python orders str keys by code point; QString compares UTF-16 code units, which puts the
// surrogates (U+D800..U+DFFF, i.e. everything above U+FFFF) before U+E000..U+FFFF. Shifting the
// surrogate range above U+FFFF restores code-point order without decoding.
inline char32_t codePointRank(char16_t unit) {
    if (unit >= 0xD800 && unit <= 0xDFFF)
        return char32_t(unit) + 0x2000;
    if (unit >= 0xE000)
        return char32_t(unit) - 0x800;
    return unit;
}

bool lessByCodePoint(const QString& a, const QString& b) {
    const qsizetype n = std::min(a.size(), b.size());
    const char16_t* pa = reinterpret_cast<const char16_t*>(a.constData());
    const char16_t* pb = reinterpret_cast<const char16_t*>(b.constData());
    for (qsizetype i = 0; i < n; ++i) {
        if (pa[i] != pb[i])
            return codePointRank(pa[i]) < codePointRank(pb[i]);
    }
    return a.size() < b.size();
}

void appendHexEscape(QByteArray& out, char16_t unit) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.append("\\u", 2);
    out.append(kHex[(unit >> 12) & 0xF]);
    out.append(kHex[(unit >> 8) & 0xF]);
    out.append(kHex[(unit >> 4) & 0xF]);
    out.append(kHex[unit & 0xF]);
}

void appendString(QByteArray& out, const QString& text) {
    out.append('"');
    const char16_t* p = reinterpret_cast<const char16_t*>(text.constData());
    const qsizetype n = text.size();
    for (qsizetype i = 0; i < n; ++i) {
        const char16_t u = p[i];
        switch (u) {
        case u'"':
            out.append("\\\"", 2);
            continue;
        case u'\\':
            out.append("\\\\", 2);
            continue;
        case u'\n':
            out.append("\\n", 2);
            continue;
        case u'\r':
            out.append("\\r", 2);
            continue;
        case u'\t':
            out.append("\\t", 2);
            continue;
        case u'\b':
            out.append("\\b", 2);
            continue;
        case u'\f':
            out.append("\\f", 2);
            continue;
        default:
            break;
        }
        if (u < 0x20) {
            appendHexEscape(out, u);
        } else if (u < 0x80) {
            out.append(char(u));
        } else if (u >= 0xD800 && u <= 0xDBFF && i + 1 < n && p[i + 1] >= 0xDC00 &&
                   p[i + 1] <= 0xDFFF) {
            appendUtf8(out, 0x10000 + ((char32_t(u) - 0xD800) << 10) + (p[i + 1] - 0xDC00));
            ++i;
        } else if (u >= 0xD800 && u <= 0xDFFF) {
            // Python cannot encode a lone surrogate to UTF-8 at all. Writing it as an escape (what
            // ensure_ascii=True would do) keeps the form injective: U+FFFD stays distinct.
            appendHexEscape(out, u);
        } else {
            appendUtf8(out, u);
        }
    }
    out.append('"');
}

// Python's repr(float): shortest round-trip digits; positional when the decimal exponent lies in
// [-4, 16), otherwise d[.ddd]e+XX with at least two exponent digits.
void appendDouble(QByteArray& out, double value) {
    if (std::isnan(value)) {
        out.append("NaN");
        return;
    }
    if (std::isinf(value)) {
        out.append(value < 0 ? "-Infinity" : "Infinity");
        return;
    }
    char buffer[64];
    const auto result =
        std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
    std::string_view text(buffer, result.ptr - buffer);
    QByteArray sign;
    if (!text.empty() && text.front() == '-') {
        sign = "-";
        text.remove_prefix(1);
    }
    const auto ePos = text.find('e');
    std::string digits;
    for (char c : text.substr(0, ePos)) {
        if (c != '.')
            digits.push_back(c);
    }
    int exponent = 0;
    const std::string_view expText = text.substr(ePos + 1);
    std::from_chars(expText.data() + (expText.front() == '+' ? 1 : 0),
                    expText.data() + expText.size(), exponent);
    const int decimalPoint = exponent + 1; // value = 0.DIGITS * 10^decimalPoint
    const int count = int(digits.size());

    out.append(sign);
    if (decimalPoint <= -4 || decimalPoint > 16) {
        out.append(digits[0]);
        if (count > 1) {
            out.append('.');
            out.append(digits.data() + 1, count - 1);
        }
        char expBuffer[16];
        const int e = decimalPoint - 1;
        std::snprintf(expBuffer, sizeof expBuffer, "e%c%02d", e < 0 ? '-' : '+', std::abs(e));
        out.append(expBuffer);
    } else if (decimalPoint <= 0) {
        out.append("0.");
        out.append(QByteArray(-decimalPoint, '0'));
        out.append(digits.data(), count);
    } else if (decimalPoint >= count) {
        out.append(digits.data(), count);
        out.append(QByteArray(decimalPoint - count, '0'));
        out.append(".0");
    } else {
        out.append(digits.data(), decimalPoint);
        out.append('.');
        out.append(digits.data() + decimalPoint, count - decimalPoint);
    }
}

void appendValue(QByteArray& out, const QJsonValue& value);

void appendObject(QByteArray& out, const QJsonObject& object) {
    // Values are taken from the iterator, not looked up by key: Qt 6.4's QJsonObject::value()
    // misses some keys above U+FFFF (its binary search and its sort order disagree there).
    std::vector<std::pair<QString, QJsonValue>> members;
    members.reserve(size_t(object.size()));
    for (auto it = object.constBegin(); it != object.constEnd(); ++it)
        members.emplace_back(it.key(), it.value());
    std::sort(members.begin(), members.end(),
              [](const auto& a, const auto& b) { return lessByCodePoint(a.first, b.first); });
    out.append('{');
    bool first = true;
    for (const auto& [key, value] : members) {
        if (!first)
            out.append(',');
        first = false;
        appendString(out, key);
        out.append(':');
        appendValue(out, value);
    }
    out.append('}');
}

void appendValue(QByteArray& out, const QJsonValue& value) {
    switch (value.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        out.append("null");
        return;
    case QJsonValue::Bool:
        out.append(value.toBool() ? "true" : "false");
        return;
    case QJsonValue::Double: {
        // QJsonValue keeps integers (and, in Qt 6.4, integral doubles) as qint64 internally;
        // toVariant() is the public way to see which one it holds.
        const QVariant variant = value.toVariant();
        if (variant.typeId() == QMetaType::LongLong)
            out.append(QByteArray::number(variant.toLongLong()));
        else
            appendDouble(out, value.toDouble());
        return;
    }
    case QJsonValue::String:
        appendString(out, value.toString());
        return;
    case QJsonValue::Array: {
        const QJsonArray array = value.toArray();
        out.append('[');
        bool first = true;
        for (const QJsonValue& element : array) {
            if (!first)
                out.append(',');
            first = false;
            appendValue(out, element);
        }
        out.append(']');
        return;
    }
    case QJsonValue::Object:
        appendObject(out, value.toObject());
        return;
    }
}

} // namespace

QByteArray CanonicalJson::serialize(const QJsonValue& value) {
    QByteArray out;
    appendValue(out, value);
    return out;
}

QByteArray CanonicalJson::serialize(const QJsonObject& object) {
    QByteArray out;
    out.reserve(64);
    appendObject(out, object);
    return out;
}

QByteArray CanonicalJson::pythonFloatRepr(double value) {
    QByteArray out;
    appendDouble(out, value);
    return out;
}

QByteArray CanonicalJson::sha256Hex(const QJsonObject& object) {
    return m1::sha256Hex(serialize(object));
}

} // namespace m1
