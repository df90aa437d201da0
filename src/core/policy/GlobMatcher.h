#pragma once

#include <QString>
#include <QStringView>

#include <vector>

namespace m1 {

// A glob compiled once and matched many times without allocating.
//
// Path mode (workspace-relative paths with '/' separators):
//   `*`  any run of characters except '/'
//   `?`  one character except '/'
//   `**` any run of characters including '/'; `**/` at the start or after a '/' also matches
//        nothing (so `**/*.md` matches `README.md`), and a trailing `/**` also matches the folder
//        itself (so `src/**` matches `src` and everything below it).
// Text mode (command words): `*` any run of characters, `?` one character; '/' is ordinary.
// Every other character is literal (no character classes, no escapes); matching is
// case-sensitive. Dot files are not special: `*` matches `.env`.
class GlobMatcher {
public:
    enum class Mode { Path, Text };

    GlobMatcher() = default;
    GlobMatcher(const QString& pattern, Mode mode);

    bool matches(QStringView text) const;
    // Whether some path strictly below the folder `dir` ("." for the root) could match
    // (conservative: true when unsure). Path mode only.
    bool mayMatchBelow(QStringView dir) const;

    const QString& pattern() const { return m_pattern; }
    bool hasWildcards() const { return m_hasWildcards; }
    // The literal text every match starts with (e.g. "src" for `src/**`).
    const QString& literalPrefix() const { return m_literalPrefix; }
    // The literal text every match ends with ("" when the pattern ends with a wildcard).
    const QString& literalSuffix() const { return m_literalSuffix; }

private:
    enum class TokenKind { Literal, AnyChar, Star, DoubleStar, AnyDirs, AnyTail };
    struct Token {
        TokenKind kind;
        qsizetype start = 0; // literal: offset into m_literals
        qsizetype length = 0;
    };

    bool matchFrom(std::size_t token, qsizetype pos, QStringView text, unsigned char* memo) const;

    QString m_pattern;
    QString m_literals;
    QString m_literalPrefix;
    QString m_literalSuffix;
    std::vector<Token> m_tokens;
    Mode m_mode = Mode::Path;
    bool m_hasWildcards = false;
};

} // namespace m1
