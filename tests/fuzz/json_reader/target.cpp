// JsonReader against Qt's parser. Oracle: for every input, JsonReader::parse gives the same
// document (values, integer or double, key order) and the same error and offset as
// QJsonDocument::fromJson, and the reader alone accepts only what Qt parses, with the same
// document.
#include "util/JsonReader.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>

#include <cstdint>
#include <cstdlib>

namespace {

bool same(const QJsonValue& a, const QJsonValue& b) {
    if (a.type() != b.type())
        return false;
    switch (a.type()) {
    case QJsonValue::Double:
        if (a.toVariant().typeId() != b.toVariant().typeId())
            return false;
        return a.toVariant().typeId() == QMetaType::LongLong
                   ? a.toInteger() == b.toInteger()
                   : (a.toDouble() == b.toDouble() ||
                      (a.toDouble() != a.toDouble() && b.toDouble() != b.toDouble()));
    case QJsonValue::Array: {
        const QJsonArray x = a.toArray();
        const QJsonArray y = b.toArray();
        if (x.size() != y.size())
            return false;
        for (qsizetype i = 0; i < x.size(); ++i)
            if (!same(x.at(i), y.at(i)))
                return false;
        return true;
    }
    case QJsonValue::Object: {
        const QJsonObject x = a.toObject();
        const QJsonObject y = b.toObject();
        if (x.size() != y.size())
            return false;
        // In step, not by lookup: Qt cannot look up a key that starts with U+FEFF.
        for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j)
            if (i.key() != j.key() || !same(i.value(), j.value()))
                return false;
        return true;
    }
    default:
        return a == b;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const QByteArray input(reinterpret_cast<const char*>(data), qsizetype(size));
    QJsonParseError mine;
    QJsonParseError qt;
    const QJsonDocument a = m1::JsonReader::parse(input, &mine);
    const QJsonDocument b = QJsonDocument::fromJson(input, &qt);
    if (mine.error != qt.error || mine.offset != qt.offset)
        std::abort();
    if (a.isObject() != b.isObject() || a.isArray() != b.isArray())
        std::abort();
    if (a.isObject() && !same(QJsonValue(a.object()), QJsonValue(b.object())))
        std::abort();
    if (a.isArray() && !same(QJsonValue(a.array()), QJsonValue(b.array())))
        std::abort();
    // The reader alone, which parse() skips for small documents.
    QJsonDocument fast;
    if (m1::JsonReader::parseFast(input, fast)) {
        if (qt.error != QJsonParseError::NoError || fast.isObject() != b.isObject())
            std::abort();
        if (fast.isObject() && !same(QJsonValue(fast.object()), QJsonValue(b.object())))
            std::abort();
        if (fast.isArray() && !same(QJsonValue(fast.array()), QJsonValue(b.array())))
            std::abort();
    }
    return 0;
}
