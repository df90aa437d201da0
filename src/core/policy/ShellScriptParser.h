#pragma once

#include <QList>
#include <QString>
#include <QStringList>

namespace m1 {

// Splits a POSIX shell script (the text after `sh -c`) into the simple commands it would run, so
// the policy can check each of them. It sees through the separators `;` `&&` `||` `|` `|&` `&`,
// newlines, subshells `( … )`, brace groups, `if`/`while` bodies, command substitution `$(…)`
// and backticks, and process substitution `<(…)` `>(…)` (their inner commands are listed too).
//
// It does not pretend to know what it cannot: variable and parameter expansion, arithmetic,
// `$'…'`, globbing, tilde and brace expansion, here-documents and here-strings, assignments,
// output redirection to a file, control structures with variables (`for`, `case`), unbalanced
// quotes or parentheses and carriage returns each add a concern. A script with any concern is
// never allowed automatically; its visible commands still meet the deny rules.
class ShellScriptParser {
public:
    struct Command {
        QStringList argv;
        QStringList inputPaths; // targets of `<` redirections (files the command reads)
    };
    struct Script {
        QList<Command> commands;
        QStringList concerns; // sentences a person can read
    };

    static Script parse(const QString& script);

private:
    ShellScriptParser(const QString& script, Script& out) : m_text(script), m_out(out) {}
    void run();
    void parseDollar(QString& word);
    void parseDoubleQuoted(QString& word);
    void parseBacktick();
    void parseSubstitution(qsizetype start, const QString& what);
    qsizetype findClosingParen(qsizetype from) const;
    void finishWord();
    void finishCommand();
    void concern(const QString& reason);

    const QString& m_text;
    Script& m_out;
    qsizetype m_pos = 0;
    Command m_command;
    QString m_word;
    bool m_wordStarted = false;
    bool m_wordQuoted = false;
    bool m_wordHasGlob = false;
    bool m_wordHasBracket = false;
    enum class Redirect { None, Input, Output };
    Redirect m_pendingRedirect = Redirect::None;
    int m_parenDepth = 0;
};

} // namespace m1
