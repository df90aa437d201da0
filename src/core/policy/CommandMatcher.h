#pragma once

#include "policy/GlobMatcher.h"

#include <QString>
#include <QStringList>
#include <QVarLengthArray>

#include <vector>

namespace m1 {

// One compiled run_command pattern, e.g. "rm -rf *" or "git status*".
//
// Deny and ask rules match broadly (matchesLoosely): the program's basename matches the rule's
// program, the rule's options are a subset of the command's options after normalisation (clusters
// split: -rf is -r -f; known long options mapped to their short form for common programs: rm
// --recursive is -r; -R and -r are the same for rm/cp/grep; order and repetition ignored), and the
// rule's other words glob-match the command's other words in order, allowing words in between and
// after (a lone `*` matches any number of words).
//
// Allow rules match strictly (matchesStrictly): argv element by element as written, `*` never
// crossing an element, except that a last rule word ending in `*` also accepts any further
// elements; a wildcard never absorbs an element containing a shell metacharacter or control
// character (`;|&$` backtick `<>(){}`, newline, ...), so "git status*" does not allow
// ["git", "status; rm x"]. The program must be written as in the rule (./git is not git).
class CommandMatcher {
public:
    // A set of single-letter options `-c` (c ASCII, not '-') as a bit mask.
    struct ShortFlags {
        quint64 bits[2] = {0, 0};
        // Sets the bit of `flag` and returns true when it is such an option, else false.
        bool add(QStringView flag);
        bool containsAll(const ShortFlags& other) const {
            return (other.bits[0] & ~bits[0]) == 0 && (other.bits[1] & ~bits[1]) == 0;
        }
    };

    // What the loose match compares: computed once per command, shared by all rules.
    struct Shape {
        QString program;            // basename
        std::vector<QString> flags; // normalised, sorted, unique
        QStringList operands;       // words that are not options, in order
        // The flags of one ASCII letter or sign (`-r`, not `--`) as bits, so that a rule's
        // single-letter options are checked in two instructions instead of a search each.
        ShortFlags shortFlags;
    };

    explicit CommandMatcher(const QString& pattern);

    static Shape shape(const QStringList& argv);
    static QString programBasename(const QString& program);

    bool matchesLoosely(const Shape& shape) const;
    // scriptAnalysed: the command is a shell (or the like) whose script was split into commands
    // that are checked one by one, so its script element may contain metacharacters.
    bool matchesStrictly(const QStringList& argv, bool scriptAnalysed = false) const;

    // Per element of an argv: whether a wildcard must not absorb it (always false for a command
    // whose script was analysed). Computed once per command and shared by all rules.
    using UnsafeElements = QVarLengthArray<bool, 16>;
    static UnsafeElements unsafeElements(const QStringList& argv, bool scriptAnalysed);
    bool matchesStrictly(const QStringList& argv, const UnsafeElements& unsafe) const;

    const QString& program() const { return m_programWritten; }
    // The basename of the rule's program ("" when it has wildcards).
    const QString& programKey() const { return m_programKey; }
    const QStringList& words() const { return m_words; }

private:
    QStringList m_words;
    QString m_programWritten;
    QString m_programKey;
    GlobMatcher m_programGlob;    // on the basename
    std::vector<QString> m_flags; // other than the single-letter ones
    ShortFlags m_shortFlags;
    std::vector<GlobMatcher> m_flagGlobs; // rule options with wildcards, e.g. `--force*`
    std::vector<GlobMatcher> m_operands;  // lone `*` dropped
    std::vector<GlobMatcher> m_strictWords;
    bool m_lastTakesRest = false;
};

} // namespace m1
