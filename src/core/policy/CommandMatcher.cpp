#include "policy/CommandMatcher.h"

#include <QHash>
#include <QRegularExpression>

#include <algorithm>

namespace m1 {

namespace {

struct FlagAliases {
    const char* programs;     // " rm "
    const char* shortAliases; // pairs: "Rr" means -R is -r
    const char* longToShort;  // " recursive=r force=f "
    // Every long option the program knows, so that an abbreviation (GNU getopt and git accept
    // any unambiguous prefix: `rm --rec --for`) is read as the option it stands for.
    const char* longOptions;
};

const FlagAliases kAliases[] = {
    {" rm ", "Rr", " recursive=r force=f dir=d verbose=v interactive=i ",
     " force interactive one-file-system no-preserve-root preserve-root recursive dir verbose "
     "help version "},
    {" cp ", "Rr",
     " recursive=r force=f archive=a verbose=v interactive=i link=l symbolic-link=s "
     "no-clobber=n update=u ",
     " archive attributes-only backup copy-contents debug dereference force interactive link "
     "no-dereference no-clobber preserve no-preserve parents recursive reflink remove-destination "
     "sparse strip-trailing-slashes symbolic-link suffix target-directory no-target-directory "
     "update verbose one-file-system context help version "},
    {" mv ", "", " force=f verbose=v interactive=i no-clobber=n update=u ",
     " backup debug exchange force interactive no-clobber no-copy strip-trailing-slashes suffix "
     "target-directory no-target-directory update verbose context help version "},
    {" ln ", "", " symbolic=s force=f verbose=v no-dereference=n ",
     " backup directory force interactive logical no-dereference physical relative symbolic "
     "suffix target-directory no-target-directory verbose help version "},
    {" chmod chown chgrp ", "", " recursive=R verbose=v changes=c silent=f quiet=f ",
     " changes silent quiet verbose no-preserve-root preserve-root reference recursive "
     "dereference no-dereference from help version "},
    {" grep egrep fgrep ", "Rr", " recursive=r dereference-recursive=r ignore-case=i ",
     " extended-regexp fixed-strings basic-regexp perl-regexp regexp file ignore-case "
     "no-ignore-case word-regexp line-regexp null-data no-messages invert-match version help "
     "max-count byte-offset line-number line-buffered with-filename no-filename label "
     "only-matching quiet silent binary-files text directories devices recursive "
     "dereference-recursive include exclude exclude-from exclude-dir files-without-match "
     "files-with-matches count initial-tab null before-context after-context context color "
     "colour binary "},
    {" mkdir ", "", " parents=p verbose=v mode=m ", " mode parents verbose context help version "},
    {" sed ", "", " in-place=i expression=e quiet=n silent=n ",
     " quiet silent debug expression file follow-symlinks in-place line-length null-data "
     "zero-terminated posix regexp-extended separate sandbox unbuffered help version "},
    {" git ", "", " force=f ",
     " force force-with-lease force-if-includes all mirror tags follow-tags atomic dry-run "
     "porcelain delete prune verbose quiet progress no-verify verify set-upstream repo "
     "recurse-submodules thin no-thin receive-pack exec push-option signed no-signed ipv4 "
     "ipv6 no-force-with-lease "},
    {" curl ", "", " output=o remote-name=O request=X data=d insecure=k location=L ", nullptr},
    {" wget ", "", " output-document=O ", nullptr},
    {" tar ", "", " extract=x create=c file=f ", nullptr},
    {" shred ", "", " remove=u zero=z force=f ",
     " force iterations random-source size remove exact verbose zero help version "},
    {" dd ", "", " ", nullptr},
};

// Programs whose single-dash options are whole words (find -delete), not clusters.
const char* const kNoClusters[] = {"find", "java",  "javac",   "gcc", "g++",
                                   "cc",   "clang", "clang++", "ld",  "go"};

// What shape() needs to know about a program, found with one lookup per command.
struct ProgramFlags {
    const FlagAliases* aliases = nullptr;
    bool clusters = true; // single-dash options are clusters of letters (-rf)
};

ProgramFlags flagsFor(const QString& program) {
    // Built once (thread-safe static initialisation); the table is looked up for every command.
    static const QHash<QString, ProgramFlags> byProgram = [] {
        QHash<QString, ProgramFlags> map;
        for (const FlagAliases& a : kAliases)
            for (const QString& name :
                 QString::fromLatin1(a.programs).split(u' ', Qt::SkipEmptyParts))
                if (!map.contains(name))
                    map.insert(name, ProgramFlags{&a, true});
        for (const char* name : kNoClusters)
            map[QString::fromLatin1(name)].clusters = false;
        return map;
    }();
    return byProgram.value(program);
}

QString mapLong(const FlagAliases* aliases, const QString& name) {
    if (aliases) {
        const QLatin1StringView map(aliases->longToShort);
        const QString key = u' ' + name + u'=';
        const qsizetype at = map.indexOf(key);
        if (at >= 0)
            return u'-' + QString(QChar(map.at(at + key.size())));
    }
    return QStringLiteral("--") + name;
}

// The long options `name` may stand for: itself when known or when nothing is known, else every
// known option it abbreviates. An ambiguous abbreviation is refused by the program, so taking
// all of its readings only ever makes a deny or ask rule match more.
QStringList expandLong(const FlagAliases* aliases, const QString& name) {
    if (!aliases || !aliases->longOptions || name.isEmpty())
        return {name};
    const QLatin1StringView known(aliases->longOptions);
    if (known.contains(QString(u' ' + name + u' ')))
        return {name};
    QStringList out;
    const QString start = u' ' + name;
    for (qsizetype at = known.indexOf(start); at >= 0; at = known.indexOf(start, at + 1)) {
        const qsizetype end = known.indexOf(u' ', at + 1);
        out.append(QString(known.sliced(at + 1, end - at - 1)));
    }
    if (out.isEmpty())
        out.append(name);
    return out;
}

// The long name of a short option in the alias table (-f is --force for rm), so that a rule
// written with a wildcard on the long spelling (`--force*`) also meets the short one.
QString longOf(const FlagAliases* aliases, QChar c) {
    if (!aliases)
        return {};
    const QLatin1StringView map(aliases->longToShort);
    const char16_t value[] = {u'=', c.unicode(), u' '};
    const qsizetype at = map.indexOf(QStringView(value, 3));
    if (at < 0)
        return {};
    const qsizetype start = map.lastIndexOf(u' ', at) + 1;
    QString longName;
    longName.reserve(2 + at - start);
    longName += u"--";
    longName += map.sliced(start, at - start);
    return longName;
}

QChar mapShort(const FlagAliases* aliases, QChar c) {
    if (aliases) {
        const QLatin1StringView pairs(aliases->shortAliases);
        for (qsizetype i = 0; i + 1 < pairs.size(); i += 2)
            if (QChar(pairs.at(i)) == c)
                return QChar(pairs.at(i + 1));
    }
    return c;
}

bool isUnsafeForWildcard(QChar c) {
    const char16_t u = c.unicode();
    if (u < 0x20 || u == 0x7f)
        return true;
    switch (u) {
    case u';':
    case u'|':
    case u'&':
    case u'$':
    case u'`':
    case u'<':
    case u'>':
    case u'(':
    case u')':
    case u'{':
    case u'}':
    case u'\\':
    case 0x2028:
    case 0x2029:
    case 0x85:
        return true;
    default:
        return false;
    }
}

bool hasUnsafeChar(const QString& s) {
    return std::any_of(s.cbegin(), s.cend(), isUnsafeForWildcard);
}

bool strictWordMatches(const GlobMatcher& glob, const QString& element, bool unsafe) {
    if (unsafe)
        return !glob.hasWildcards() && glob.pattern() == element;
    return glob.matches(element);
}

} // namespace

QString CommandMatcher::programBasename(const QString& program) {
    const qsizetype slash = program.lastIndexOf(u'/');
    return slash < 0 ? program : program.mid(slash + 1);
}

CommandMatcher::Shape CommandMatcher::shape(const QStringList& argv) {
    Shape s;
    if (argv.isEmpty())
        return s;
    s.program = programBasename(argv.front());
    const ProgramFlags programFlags = flagsFor(s.program);
    const FlagAliases* aliases = programFlags.aliases;
    const bool clusters = programFlags.clusters;
    s.operands.reserve(argv.size() - 1);
    bool optionsEnded = false;
    auto addShort = [&](QChar c) {
        const QChar mapped = mapShort(aliases, c);
        const char16_t flag[] = {u'-', mapped.unicode()};
        s.flags.push_back(QStringView(flag, 2).toString());
        const QString longName = longOf(aliases, mapped);
        if (!longName.isEmpty())
            s.flags.push_back(longName);
    };
    for (qsizetype i = 1; i < argv.size(); ++i) {
        const QString& w = argv[i];
        if (optionsEnded || w.size() < 2 || !w.startsWith(u'-')) {
            s.operands.append(w);
            continue;
        }
        if (w == QLatin1String("--")) {
            optionsEnded = true;
            continue;
        }
        if (w.startsWith(QLatin1String("--"))) {
            const qsizetype eq = w.indexOf(u'=');
            const QString name = w.mid(2, eq < 0 ? -1 : eq - 2);
            for (const QString& full : expandLong(aliases, name)) {
                s.flags.push_back(mapLong(aliases, full));
                s.flags.push_back(QStringLiteral("--") + full);
            }
            if (eq >= 0)
                s.flags.push_back(w);
            continue;
        }
        if (!clusters) {
            s.flags.push_back(w);
            continue;
        }
        for (qsizetype k = 1; k < w.size(); ++k)
            addShort(w.at(k));
    }
    // `git push origin +main` forces the push exactly like --force (a `+` refspec).
    if (s.program == QLatin1String("git")) {
        const qsizetype push = s.operands.indexOf(QStringLiteral("push"));
        if (push >= 0)
            for (qsizetype k = push + 1; k < s.operands.size(); ++k)
                if (s.operands[k].size() > 1 && s.operands[k].startsWith(u'+')) {
                    s.flags.push_back(QStringLiteral("-f"));
                    s.flags.push_back(QStringLiteral("--force"));
                    break;
                }
    }
    std::sort(s.flags.begin(), s.flags.end());
    s.flags.erase(std::unique(s.flags.begin(), s.flags.end()), s.flags.end());
    for (const QString& flag : s.flags)
        s.shortFlags.add(flag);
    return s;
}

bool CommandMatcher::ShortFlags::add(QStringView flag) {
    if (flag.size() != 2 || flag.front() != u'-' || flag.back() == u'-' ||
        flag.back().unicode() >= 128)
        return false;
    const char16_t c = flag.back().unicode();
    bits[c / 64] |= quint64(1) << (c % 64);
    return true;
}

CommandMatcher::CommandMatcher(const QString& pattern) {
    static const QRegularExpression spaces(QStringLiteral("\\s+"));
    m_words = pattern.split(spaces, Qt::SkipEmptyParts);
    if (m_words.isEmpty())
        return;
    m_programWritten = m_words.front();
    const QString base = programBasename(m_programWritten);
    m_programGlob = GlobMatcher(base, GlobMatcher::Mode::Text);
    if (!m_programGlob.hasWildcards())
        m_programKey = base;
    // A rule option with a wildcard (`--force*`, `-f*`) is kept whole and compared as a glob
    // with the command's options; splitting it like a cluster would ask for an option `-*`.
    QStringList plainWords;
    for (qsizetype i = 0; i < m_words.size(); ++i) {
        const QString& w = m_words[i];
        if (i > 0 && w.size() > 1 && w.startsWith(u'-') && (w.contains(u'*') || w.contains(u'?')))
            m_flagGlobs.emplace_back(w, GlobMatcher::Mode::Text);
        else
            plainWords.append(w);
    }
    const Shape ruleShape = shape(plainWords);
    for (const QString& flag : ruleShape.flags)
        if (!m_shortFlags.add(flag))
            m_flags.push_back(flag);
    for (const QString& operand : ruleShape.operands)
        if (operand != QLatin1String("*"))
            m_operands.emplace_back(operand, GlobMatcher::Mode::Text);
    for (const QString& word : std::as_const(m_words))
        m_strictWords.emplace_back(word, GlobMatcher::Mode::Text);
    m_lastTakesRest = m_words.back().endsWith(u'*');
}

bool CommandMatcher::matchesLoosely(const Shape& s) const {
    if (m_words.isEmpty() || !m_programGlob.matches(s.program))
        return false;
    // Every test below must hold; the cheap ones come first. A single-letter option is never
    // taken for an abbreviation, so a missing one decides.
    if (!s.shortFlags.containsAll(m_shortFlags))
        return false;
    // The rule's words must appear in order; other words may come between and after them.
    qsizetype next = 0;
    for (const GlobMatcher& operand : m_operands) {
        while (next < s.operands.size() && !operand.matches(s.operands[next]))
            ++next;
        if (next == s.operands.size())
            return false;
        ++next;
    }
    for (const QString& flag : m_flags) {
        if (std::binary_search(s.flags.begin(), s.flags.end(), flag))
            continue;
        // An abbreviated long option of a program whose options are not modelled may stand for
        // the rule's option (`--danger` for `--dangerous`): taken as it, which only widens a
        // deny or ask rule.
        if (!flag.startsWith(QLatin1String("--")) ||
            !std::any_of(s.flags.begin(), s.flags.end(), [&](const QString& f) {
                return f.size() > 2 && f.startsWith(QLatin1String("--")) && !f.contains(u'=') &&
                       flag.startsWith(f);
            }))
            return false;
    }
    for (const GlobMatcher& glob : m_flagGlobs)
        if (!std::any_of(s.flags.begin(), s.flags.end(),
                         [&](const QString& f) { return glob.matches(f); }))
            return false;
    return true;
}

CommandMatcher::UnsafeElements CommandMatcher::unsafeElements(const QStringList& argv,
                                                              bool scriptAnalysed) {
    UnsafeElements unsafe(argv.size(), false);
    if (!scriptAnalysed)
        for (qsizetype i = 0; i < argv.size(); ++i)
            unsafe[i] = hasUnsafeChar(argv[i]);
    return unsafe;
}

bool CommandMatcher::matchesStrictly(const QStringList& argv, bool scriptAnalysed) const {
    return matchesStrictly(argv, unsafeElements(argv, scriptAnalysed));
}

bool CommandMatcher::matchesStrictly(const QStringList& argv, const UnsafeElements& unsafe) const {
    const qsizetype ruleWords = static_cast<qsizetype>(m_strictWords.size());
    if (ruleWords == 0)
        return false;
    const bool lastIsLoneStar = m_words.back() == QLatin1String("*");
    const qsizetype fixed = lastIsLoneStar ? ruleWords - 1 : ruleWords;
    if (argv.size() < fixed)
        return false;
    // A wildcard in the rule's program word must not reach into a path: `ls*` allows `lsblk`,
    // never `lsdir/script` (a file in the workspace) or `./ls`. Found by fuzz_argv_classifier.
    if (argv.front().contains(u'/') && !m_programWritten.contains(u'/'))
        return false;
    if (!m_lastTakesRest && argv.size() != fixed)
        return false;
    for (qsizetype i = 0; i < fixed; ++i)
        if (!strictWordMatches(m_strictWords[i], argv[i], unsafe[i]))
            return false;
    for (qsizetype i = fixed; i < argv.size(); ++i)
        if (unsafe[i])
            return false;
    return true;
}

} // namespace m1
