#include "policy/ShellScriptParser.h"

#include <QCoreApplication>
#include <QHash>

#include <utility>

namespace m1 {

namespace {

class Tr {
    Q_DECLARE_TR_FUNCTIONS(ShellScriptParser)
};

bool isNameStart(QChar c) {
    return c == u'_' || (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z');
}
bool isNameChar(QChar c) {
    return isNameStart(c) || (c >= u'0' && c <= u'9');
}
bool isAssignment(const QString& word) {
    const qsizetype eq = word.indexOf(u'=');
    if (eq <= 0 || !isNameStart(word.front()))
        return false;
    for (qsizetype i = 0; i < eq; ++i)
        if (!isNameChar(word.at(i)) && !(i == eq - 1 && word.at(i) == u'+'))
            return false;
    return true;
}
bool allDigits(const QString& word) {
    return !word.isEmpty() &&
           std::all_of(word.cbegin(), word.cend(), [](QChar c) { return c.isDigit(); });
}

// The words that mean something at the start of a command, found with one lookup.
enum class CommandWord : quint8 {
    Transparent, // shapes control flow; the command that follows it still runs
    Opaque,      // a construct whose commands are not analysed
};
const QHash<QString, CommandWord> kCommandWords = {
    {QStringLiteral("{"), CommandWord::Transparent},
    {QStringLiteral("}"), CommandWord::Transparent},
    {QStringLiteral("!"), CommandWord::Transparent},
    {QStringLiteral("then"), CommandWord::Transparent},
    {QStringLiteral("do"), CommandWord::Transparent},
    {QStringLiteral("else"), CommandWord::Transparent},
    {QStringLiteral("elif"), CommandWord::Transparent},
    {QStringLiteral("if"), CommandWord::Transparent},
    {QStringLiteral("while"), CommandWord::Transparent},
    {QStringLiteral("until"), CommandWord::Transparent},
    {QStringLiteral("fi"), CommandWord::Transparent},
    {QStringLiteral("done"), CommandWord::Transparent},
    {QStringLiteral("esac"), CommandWord::Transparent},
    {QStringLiteral("{}"), CommandWord::Transparent},
    {QStringLiteral("for"), CommandWord::Opaque},
    {QStringLiteral("case"), CommandWord::Opaque},
    {QStringLiteral("select"), CommandWord::Opaque},
    {QStringLiteral("function"), CommandWord::Opaque},
    {QStringLiteral("[["), CommandWord::Opaque},
    {QStringLiteral("coproc"), CommandWord::Opaque}};

} // namespace

ShellScriptParser::Script ShellScriptParser::parse(const QString& script) {
    Script out;
    out.commands.reserve(4); // most scripts are a few commands: no regrowth, no moves
    ShellScriptParser parser(script, out);
    parser.run();
    out.concerns.removeDuplicates();
    return out;
}

void ShellScriptParser::concern(const QString& reason) {
    m_out.concerns.append(reason);
}

void ShellScriptParser::finishWord() {
    if (!m_wordStarted)
        return;
    QString word = std::exchange(m_word, QString());
    const bool quoted = m_wordQuoted;
    const bool glob = m_wordHasGlob || (m_wordHasBracket && word.contains(u']'));
    m_wordStarted = m_wordQuoted = m_wordHasGlob = m_wordHasBracket = false;

    if (m_pendingRedirect != Redirect::None) {
        const Redirect kind = m_pendingRedirect;
        m_pendingRedirect = Redirect::None;
        if (kind == Redirect::Input) {
            m_command.inputPaths.append(std::move(word));
        } else if (word != QLatin1String("/dev/null")) {
            concern(Tr::tr("the script redirects output to \"%1\"").arg(word));
        }
        return;
    }
    if (glob)
        concern(Tr::tr("the word \"%1\" is expanded by the shell (wildcards)").arg(word));
    if (!quoted && word.startsWith(u'~'))
        concern(Tr::tr("the word \"%1\" uses tilde expansion").arg(word));
    if (!quoted && word.contains(u'{') &&
        (word.contains(u',') || word.contains(QLatin1String(".."))))
        concern(Tr::tr("the word \"%1\" uses brace expansion").arg(word));
    if (m_command.argv.isEmpty() && !quoted) {
        const auto special = kCommandWords.constFind(word);
        if (special != kCommandWords.cend() && *special == CommandWord::Transparent)
            return;
        if (special != kCommandWords.cend() || word.startsWith(QLatin1String("(("))) {
            concern(Tr::tr("the script uses the shell construct \"%1\"").arg(word));
            return;
        }
        if (isAssignment(word)) {
            concern(Tr::tr("the script sets a variable (%1)").arg(word.left(80)));
            return;
        }
    }
    m_command.argv.append(std::move(word));
}

void ShellScriptParser::finishCommand() {
    finishWord();
    if (m_pendingRedirect != Redirect::None) {
        concern(Tr::tr("a redirection has no target"));
        m_pendingRedirect = Redirect::None;
    }
    if (!m_command.argv.isEmpty() || !m_command.inputPaths.isEmpty())
        m_out.commands.append(std::exchange(m_command, Command()));
    else
        m_command = Command();
}

qsizetype ShellScriptParser::findClosingParen(qsizetype from) const {
    int depth = 1;
    for (qsizetype i = from; i < m_text.size(); ++i) {
        const QChar c = m_text.at(i);
        if (c == u'\\') {
            ++i;
        } else if (c == u'\'') {
            const qsizetype end = m_text.indexOf(u'\'', i + 1);
            if (end < 0)
                return -1;
            i = end;
        } else if (c == u'"') {
            ++i;
            while (i < m_text.size() && m_text.at(i) != u'"') {
                if (m_text.at(i) == u'\\')
                    ++i;
                ++i;
            }
            if (i >= m_text.size())
                return -1;
        } else if (c == u'(') {
            ++depth;
        } else if (c == u')') {
            if (--depth == 0)
                return i;
        }
    }
    return -1;
}

// m_pos is just past the opening parenthesis; the inner script is parsed as its own script and
// its commands join ours.
void ShellScriptParser::parseSubstitution(qsizetype start, const QString& what) {
    const qsizetype end = findClosingParen(start);
    const QString inner = m_text.mid(start, end < 0 ? -1 : end - start);
    if (end < 0)
        concern(Tr::tr("unbalanced parentheses in %1").arg(what));
    const Script sub = parse(inner);
    m_out.commands.append(sub.commands);
    m_out.concerns.append(sub.concerns);
    m_pos = end < 0 ? m_text.size() : end + 1;
}

void ShellScriptParser::parseBacktick() {
    // m_pos is at the opening backtick.
    QString inner;
    qsizetype i = m_pos + 1;
    for (; i < m_text.size() && m_text.at(i) != u'`'; ++i) {
        if (m_text.at(i) == u'\\' && i + 1 < m_text.size()) {
            ++i;
        }
        inner += m_text.at(i);
    }
    if (i >= m_text.size())
        concern(Tr::tr("an unbalanced backtick"));
    concern(Tr::tr("the script uses command substitution (`…`)"));
    const Script sub = parse(inner);
    m_out.commands.append(sub.commands);
    m_out.concerns.append(sub.concerns);
    m_pos = i + 1;
    m_wordStarted = true;
    m_word += QStringLiteral("`…`");
}

void ShellScriptParser::parseDollar(QString& word) {
    // m_pos is at '$'.
    const QChar next = m_pos + 1 < m_text.size() ? m_text.at(m_pos + 1) : QChar();
    m_wordStarted = true;
    if (next == u'(') {
        if (m_pos + 2 < m_text.size() && m_text.at(m_pos + 2) == u'(') {
            concern(Tr::tr("the script uses arithmetic expansion $((…))"));
            const qsizetype end = findClosingParen(m_pos + 2);
            m_pos = end < 0 ? m_text.size() : end + 1;
            if (m_pos < m_text.size() && m_text.at(m_pos) == u')')
                ++m_pos;
            word += QStringLiteral("$((…))");
            return;
        }
        concern(Tr::tr("the script uses command substitution $(…)"));
        parseSubstitution(m_pos + 2, QStringLiteral("$(…)"));
        word += QStringLiteral("$(…)");
        return;
    }
    if (next == u'{') {
        concern(Tr::tr("the script expands a variable (${…})"));
        const qsizetype end = m_text.indexOf(u'}', m_pos + 2);
        m_pos = end < 0 ? m_text.size() : end + 1;
        word += QStringLiteral("${…}");
        return;
    }
    if (next == u'\'') {
        concern(Tr::tr("the script uses $'…' quoting"));
        qsizetype i = m_pos + 2;
        while (i < m_text.size() && m_text.at(i) != u'\'') {
            if (m_text.at(i) == u'\\')
                ++i;
            ++i;
        }
        m_pos = qMin(i + 1, m_text.size());
        word += QStringLiteral("$'…'");
        return;
    }
    if (next == u'"') {
        concern(Tr::tr("the script uses $\"…\" quoting"));
        ++m_pos;
        parseDoubleQuoted(word);
        return;
    }
    if (isNameChar(next) || QStringView(u"@*#?$!-").contains(next)) {
        concern(Tr::tr("the script expands a variable ($%1…)").arg(next));
        qsizetype i = m_pos + 1;
        if (isNameStart(next))
            while (i < m_text.size() && isNameChar(m_text.at(i)))
                ++i;
        else
            ++i;
        m_pos = i;
        word += QStringLiteral("$…");
        return;
    }
    word += u'$';
    ++m_pos;
}

void ShellScriptParser::parseDoubleQuoted(QString& word) {
    // m_pos is at the opening quote.
    m_wordStarted = true;
    m_wordQuoted = true;
    ++m_pos;
    while (m_pos < m_text.size()) {
        const QChar c = m_text.at(m_pos);
        if (c == u'"') {
            ++m_pos;
            return;
        }
        if (c == u'\\' && m_pos + 1 < m_text.size()) {
            const QChar e = m_text.at(m_pos + 1);
            if (e == u'\n') {
                m_pos += 2;
                continue;
            }
            if (QStringView(u"$`\"\\").contains(e)) {
                word += e;
                m_pos += 2;
                continue;
            }
            word += c;
            ++m_pos;
            continue;
        }
        if (c == u'$') {
            parseDollar(word);
            continue;
        }
        if (c == u'`') {
            parseBacktick();
            continue;
        }
        word += c;
        ++m_pos;
    }
    concern(Tr::tr("an unbalanced double quote"));
}

namespace {

// A character that no branch of run() takes once a word has started.
bool isOrdinary(QChar c) {
    switch (c.unicode()) {
    case u' ':
    case u'\t':
    case u'\n':
    case u'\r':
    case u';':
    case u'&':
    case u'|':
    case u'(':
    case u')':
    case u'<':
    case u'>':
    case u'\'':
    case u'"':
    case u'\\':
    case u'$':
    case u'`':
        return false;
    default:
        return true;
    }
}

} // namespace

void ShellScriptParser::run() {
    const QString& t = m_text;
    while (m_pos < t.size()) {
        const QChar c = t.at(m_pos);
        const QChar next = m_pos + 1 < t.size() ? t.at(m_pos + 1) : QChar();
        if (c == u' ' || c == u'\t') {
            finishWord();
            ++m_pos;
        } else if (c == u'\n') {
            finishCommand();
            ++m_pos;
        } else if (c == u'\r') {
            concern(Tr::tr("the script contains a carriage return"));
            finishCommand();
            ++m_pos;
        } else if (c == u'#' && !m_wordStarted) {
            const qsizetype end = t.indexOf(u'\n', m_pos);
            m_pos = end < 0 ? t.size() : end;
        } else if (c == u';') {
            finishCommand();
            ++m_pos;
        } else if (c == u'&') {
            if (next == u'>') {
                finishWord();
                m_pendingRedirect = Redirect::Output;
                m_pos += 2;
                if (m_pos < t.size() && t.at(m_pos) == u'>')
                    ++m_pos;
            } else {
                finishCommand();
                m_pos += next == u'&' ? 2 : 1;
            }
        } else if (c == u'|') {
            finishCommand();
            m_pos += (next == u'|' || next == u'&') ? 2 : 1;
        } else if (c == u'(' && !m_wordStarted) {
            finishCommand();
            ++m_parenDepth;
            ++m_pos;
        } else if (c == u')') {
            finishCommand();
            if (--m_parenDepth < 0) {
                concern(Tr::tr("unbalanced parentheses"));
                m_parenDepth = 0;
            }
            ++m_pos;
        } else if (c == u'(') {
            concern(Tr::tr("the script defines a function or uses \"(\" inside a word"));
            finishCommand();
            ++m_parenDepth;
            ++m_pos;
        } else if ((c == u'<' || c == u'>') && next == u'(') {
            // Process substitution: the inner commands run; the word is a /dev/fd path.
            m_wordStarted = true;
            m_word += QStringLiteral("/dev/fd/N");
            parseSubstitution(m_pos + 2,
                              c == u'<' ? QStringLiteral("<(…)") : QStringLiteral(">(…)"));
        } else if (c == u'<' || c == u'>') {
            // A file descriptor number directly before the operator belongs to it (2>…).
            if (m_wordStarted && !m_wordQuoted && allDigits(m_word)) {
                m_word.clear();
                m_wordStarted = false;
            } else {
                finishWord();
            }
            if (c == u'<' && next == u'<') {
                concern(m_pos + 2 < t.size() && t.at(m_pos + 2) == u'<'
                            ? Tr::tr("the script uses a here-string (<<<)")
                            : Tr::tr("the script uses a here-document (<<)"));
                m_pos += 2;
                while (m_pos < t.size() && (t.at(m_pos) == u'<' || t.at(m_pos) == u'-'))
                    ++m_pos;
                m_pendingRedirect = Redirect::Input;
                continue;
            }
            m_pos += 1;
            if (m_pos < t.size() && (t.at(m_pos) == u'>' || t.at(m_pos) == u'|'))
                ++m_pos; // >> >|
            else if (c == u'<' && m_pos < t.size() && t.at(m_pos) == u'>') {
                ++m_pos; // <> opens for reading and writing
                concern(Tr::tr("the script opens a file for writing (<>)"));
            }
            if (m_pos < t.size() && t.at(m_pos) == u'&') {
                // Duplicating a descriptor (2>&1, >&-) touches no file.
                ++m_pos;
                qsizetype end = m_pos;
                while (end < t.size() && (t.at(end).isDigit() || t.at(end) == u'-'))
                    ++end;
                if (end > m_pos) {
                    m_pos = end;
                    continue;
                }
            }
            m_pendingRedirect = c == u'<' ? Redirect::Input : Redirect::Output;
        } else if (c == u'\'') {
            const qsizetype end = t.indexOf(u'\'', m_pos + 1);
            m_wordStarted = true;
            m_wordQuoted = true;
            if (end < 0) {
                concern(Tr::tr("an unbalanced single quote"));
                m_word += t.mid(m_pos + 1);
                m_pos = t.size();
            } else {
                m_word += t.mid(m_pos + 1, end - m_pos - 1);
                m_pos = end + 1;
            }
        } else if (c == u'"') {
            parseDoubleQuoted(m_word);
        } else if (c == u'\\') {
            if (next == u'\n') {
                m_pos += 2;
                continue;
            }
            m_wordStarted = true;
            m_wordQuoted = true;
            if (m_pos + 1 < t.size())
                m_word += next;
            m_pos += 2;
        } else if (c == u'$') {
            parseDollar(m_word);
        } else if (c == u'`') {
            parseBacktick();
        } else {
            // An ordinary character, and the ones after it up to the next character that any
            // branch above takes ('#' is one only where no word has started), appended at once.
            const qsizetype start = m_pos;
            do {
                const QChar d = t.at(m_pos);
                if (d == u'*' || d == u'?')
                    m_wordHasGlob = true;
                if (d == u'[')
                    m_wordHasBracket = true;
                ++m_pos;
            } while (m_pos < t.size() && isOrdinary(t.at(m_pos)));
            m_wordStarted = true;
            m_word += QStringView(t).sliced(start, m_pos - start);
        }
    }
    finishCommand();
    if (m_parenDepth > 0)
        concern(Tr::tr("unbalanced parentheses"));
}

} // namespace m1
