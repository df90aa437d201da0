#pragma once

#include <QString>

#include <expected>

namespace m1 {

// A failure that crosses a module boundary: a stable machine-readable code (for example
// "path.outside_workspace" or "token.alg") and a message a person can act on. Messages never
// contain secrets (API key, JWT secret, raw tokens).
struct Error {
    QString code;
    QString message;

    QString toString() const { return message.isEmpty() ? code : message; }
    bool operator==(const Error&) const = default;
};

template <typename T>
using Result = std::expected<T, Error>;

using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail(QString code, QString message) {
    return std::unexpected<Error>(Error{std::move(code), std::move(message)});
}

} // namespace m1
