#pragma once

#include <QtGlobal>

namespace m1 {

// True when [p, p + n) is well-formed UTF-8 (no overlong forms, no surrogates, nothing past
// U+10FFFF): exactly what QUtf8 and Qt's JSON parser accept. ASCII runs are skipped a word at a
// time.
bool isValidUtf8(const char* p, qsizetype n);

// Appends the UTF-8 encoding of one code point to a byte container (QByteArray, std::string).
// The hand-written JSON readers (tokens, stream deltas, canonical JSON) decode \u escapes
// themselves, since Qt's parser rounds numbers and costs more than the work they need.
template <typename Bytes>
inline void appendUtf8(Bytes& out, char32_t cp) {
    auto put = [&out](unsigned value) { out.push_back(static_cast<char>(value)); };
    if (cp < 0x80) {
        put(cp);
    } else if (cp < 0x800) {
        put(0xC0 | (cp >> 6));
        put(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        put(0xE0 | (cp >> 12));
        put(0x80 | ((cp >> 6) & 0x3F));
        put(0x80 | (cp & 0x3F));
    } else {
        put(0xF0 | (cp >> 18));
        put(0x80 | ((cp >> 12) & 0x3F));
        put(0x80 | ((cp >> 6) & 0x3F));
        put(0x80 | (cp & 0x3F));
    }
}

} // namespace m1
