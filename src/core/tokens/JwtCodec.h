#pragma once

#include <QByteArray>

#include <string>
#include <string_view>
#include <vector>

// Internal to tokens/: the strict decoding that TokenService needs. QJsonDocument is not used for
// tokens because Qt 6.4 turns `300.0` and `1e2` into integers (so a fractional or exponent `exp`
// could not be told apart from an integer) and because it is several times slower than this.
namespace m1::jwt {

// base64url without padding (RFC 7515 §2). Refuses '=', characters outside the alphabet, a length
// of 4k+1 and non-zero trailing bits, so every byte string has exactly one accepted spelling.
bool decodeBase64Url(std::string_view in, std::string& out);
QByteArray encodeBase64Url(const QByteArray& in);

enum class Kind { String, Number, True, False, Null, Array, Object };

struct Member {
    std::string key; // UTF-8, escapes decoded
    Kind kind = Kind::Null;
    std::string text; // String: decoded UTF-8; Number: the literal as written; else empty
};

enum class ParseStatus {
    Ok,
    NotJson,  // malformed JSON, invalid UTF-8, lone surrogate escape, duplicate key, too deep
    NotObject // valid JSON whose top level is not an object
};

// Parses one JSON value that must be an object; members of nested arrays/objects are validated
// but not kept (tokens only carry flat objects).
ParseStatus parseObject(std::string_view in, std::vector<Member>& members);

const Member* find(const std::vector<Member>& members, std::string_view key);

// A JSON integer literal without sign, fraction or exponent, at most 2^53 (the range every JSON
// implementation reads exactly).
bool parseNonNegativeInteger(const Member& member, qint64& value);

} // namespace m1::jwt
