#include "policy/GlobMatcher.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace m1 {

GlobMatcher::GlobMatcher(const QString& pattern, Mode mode) : m_pattern(pattern), m_mode(mode) {
    QString literal;
    auto flushLiteral = [&] {
        if (literal.isEmpty())
            return;
        m_tokens.push_back({TokenKind::Literal, m_literals.size(), literal.size()});
        m_literals += literal;
        literal.clear();
    };
    const qsizetype n = pattern.size();
    for (qsizetype i = 0; i < n; ++i) {
        const QChar c = pattern.at(i);
        if (c == u'?') {
            flushLiteral();
            m_tokens.push_back({TokenKind::AnyChar});
            m_hasWildcards = true;
        } else if (c == u'*') {
            m_hasWildcards = true;
            const bool doubled = i + 1 < n && pattern.at(i + 1) == u'*';
            if (!doubled || mode == Mode::Text) {
                while (i + 1 < n && pattern.at(i + 1) == u'*')
                    ++i;
                flushLiteral();
                m_tokens.push_back({TokenKind::Star});
                continue;
            }
            // Path mode, "**" (and any further stars).
            qsizetype end = i;
            while (end < n && pattern.at(end) == u'*')
                ++end;
            const bool atSegmentStart = i == 0 || pattern.at(i - 1) == u'/';
            if (atSegmentStart && end < n && pattern.at(end) == u'/') {
                flushLiteral();
                m_tokens.push_back({TokenKind::AnyDirs});
                i = end; // also consumes the '/'
            } else if (atSegmentStart && end == n && i > 0) {
                literal.chop(1); // the '/' before "**" belongs to the tail
                flushLiteral();
                if (!m_tokens.empty() || i > 1) // `/**` alone would match everything anyway
                    m_tokens.push_back({TokenKind::AnyTail});
                else
                    m_tokens.push_back({TokenKind::DoubleStar});
                i = end - 1;
            } else {
                flushLiteral();
                m_tokens.push_back({TokenKind::DoubleStar});
                i = end - 1;
            }
        } else {
            literal += c;
        }
    }
    flushLiteral();

    // The precheck strings come from the tokens, not the text: `src/**` has the prefix "src".
    if (!m_tokens.empty() && m_tokens.front().kind == TokenKind::Literal)
        m_literalPrefix = m_literals.mid(m_tokens.front().start, m_tokens.front().length);
    if (!m_tokens.empty() && m_tokens.back().kind == TokenKind::Literal)
        m_literalSuffix = m_literals.mid(m_tokens.back().start, m_tokens.back().length);
}

bool GlobMatcher::matches(QStringView text) const {
    if (!m_hasWildcards)
        return text == QStringView(m_pattern);
    // Inline comparisons: most texts fail here, and QStringView::startsWith is a call into Qt
    // that handles case folding (so is QString::utf16(); QStringView's is inline).
    const auto same = [](const char16_t* a, const QString& b) {
        const QStringView view(b);
        return std::equal(view.utf16(), view.utf16() + view.size(), a);
    };
    if (text.size() < m_literalPrefix.size() || !same(text.utf16(), m_literalPrefix) ||
        text.size() < m_literalSuffix.size() ||
        !same(text.utf16() + (text.size() - m_literalSuffix.size()), m_literalSuffix))
        return false;
    // The memo records (token, position) pairs already known to fail, which bounds the work by
    // tokens x length however many stars the pattern has.
    const std::size_t cells = (m_tokens.size() + 1) * static_cast<std::size_t>(text.size() + 1);
    constexpr std::size_t kStackCells = 2048;
    if (cells <= kStackCells) {
        // Only the cells this text uses are cleared: most matches need a few dozen of them.
        std::array<unsigned char, kStackCells> memo;
        std::memset(memo.data(), 0, cells);
        return matchFrom(0, 0, text, memo.data());
    }
    std::vector<unsigned char> memo(cells, 0);
    return matchFrom(0, 0, text, memo.data());
}

bool GlobMatcher::matchFrom(std::size_t token, qsizetype pos, QStringView text,
                            unsigned char* memo) const {
    const qsizetype len = text.size();
    while (true) {
        if (token == m_tokens.size())
            return pos == len;
        unsigned char& seen = memo[token * static_cast<std::size_t>(len + 1) + pos];
        if (seen)
            return false;
        const Token& t = m_tokens[token];
        switch (t.kind) {
        case TokenKind::Literal: {
            if (len - pos < t.length ||
                text.mid(pos, t.length) != QStringView(m_literals).mid(t.start, t.length)) {
                seen = 1;
                return false;
            }
            pos += t.length;
            ++token;
            continue;
        }
        case TokenKind::AnyChar:
            if (pos >= len || (m_mode == Mode::Path && text.at(pos) == u'/')) {
                seen = 1;
                return false;
            }
            ++pos;
            ++token;
            continue;
        case TokenKind::Star:
        case TokenKind::DoubleStar: {
            // A star that failed from p also fails from every later p' it could reach (its
            // choices from p' are a subset), so the positions tried are all marked and a later
            // try stops at the first marked one: each (token, position) is visited once, and
            // `*a*b*c` against a long text stays linear per token.
            unsigned char* row = memo + token * static_cast<std::size_t>(len + 1);
            const bool star = t.kind == TokenKind::Star;
            qsizetype p = pos;
            for (;; ++p) {
                if (p > pos && row[p])
                    break;
                if (matchFrom(token + 1, p, text, memo))
                    return true;
                if (p >= len || (star && m_mode == Mode::Path && text.at(p) == u'/'))
                    break;
            }
            for (qsizetype q = pos; q <= std::min(p, len); ++q)
                row[q] = 1;
            return false;
        }
        case TokenKind::AnyDirs:
            // Nothing, or anything that ends with '/'.
            if (matchFrom(token + 1, pos, text, memo))
                return true;
            for (qsizetype p = pos; p < len; ++p)
                if (text.at(p) == u'/' && matchFrom(token + 1, p + 1, text, memo))
                    return true;
            seen = 1;
            return false;
        case TokenKind::AnyTail:
            // Nothing, or '/' followed by anything (always the last token).
            if (pos == len || text.at(pos) == u'/')
                return matchFrom(token + 1, len, text, memo);
            seen = 1;
            return false;
        }
    }
}

bool GlobMatcher::mayMatchBelow(QStringView dir) const {
    if (dir.isEmpty() || dir == u".")
        return true;
    const QString below = dir.toString() + u'/';
    if (!m_hasWildcards)
        return m_pattern.startsWith(below);
    // The pattern can produce a string starting with `below` when its literal prefix and `below`
    // agree as far as both go (the wildcard after the prefix may supply the rest).
    return m_literalPrefix.startsWith(below) || below.startsWith(m_literalPrefix);
}

} // namespace m1
