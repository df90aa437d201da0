#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonDocument>
#include <QJsonParseError>

namespace m1 {

// QJsonDocument::fromJson with the same result for every input, but fast on large strings with
// escape sequences. Qt 6.4's parser decodes such a string one character at a time (a
// QString::append per character): a model's 6.6 MB tool input with a \n or \" every few
// characters takes 56 ms of CPU there, 13 ms here.
//
// The reader parses only what it can prove Qt parses the same way: valid UTF-8, the standard
// escapes (no lone surrogates), RFC 8259 numbers that are exact integers or doubles within 2^53
// (Qt's integer/double choice is replicated), no duplicate keys, nesting up to 256. Any other
// document, every invalid one included, goes to QJsonDocument::fromJson, so values and errors
// (with their offsets) are always Qt's. parse() also leaves documents under 2 KiB and documents
// without a backslash to Qt, which is faster on those.
class JsonReader {
public:
    static QJsonDocument parse(QByteArrayView json, QJsonParseError* error = nullptr);

    // The reader alone: false when it leaves the document to Qt (parse() then calls
    // QJsonDocument::fromJson), `out` set otherwise.
    static bool parseFast(QByteArrayView json, QJsonDocument& out);

    // Decodes the body of a JSON string: `p` points after the opening quote. On success `p`
    // points after the closing quote and the UTF-8 of the value was appended to `out`. False,
    // with `out` as it was and `p` unspecified, for an unterminated string, an unescaped
    // control character, an escape other than the nine standard ones or a lone surrogate.
    static bool appendString(const char*& p, const char* end, QByteArray& out);

    // The same into raw memory: `w` must have room for end - p bytes (decoding never
    // lengthens). Returns the new write position, nullptr on failure.
    static char* decodeString(const char*& p, const char* end, char* w);
};

} // namespace m1
