#include "policy/CommandMatcher.h"

#include <QRegularExpression>

#include <algorithm>

namespace m1 {

namespace {

struct FlagAliases {
    const char* programs;     // " rm "
    const char* shortAliases; // pairs: "Rr" means -R is -r
    const char* longToShort;  // " recursive=r force=f "
};

const FlagAliases kAliases[] = {
    {" rm ", "Rr", " recursive=r force=f dir=d verbose=v interactive=i "},
    {" cp ", "Rr",
     " recursive=r force=f archive=a verbose=v interactive=i link=l symbolic-link=s "
     "no-clobber=n update=u "},
    {" mv ", "", " force=f verbose=v interactive=i no-clobber=n update=u "},
    {" ln ", "", " symbolic=s force=f verbose=v no-dereference=n "},
    {" chmod chown chgrp ", "", " recursive=R verbose=v changes=c silent=f quiet=f "},
    {" grep egrep fgrep ", "Rr", " recursive=r dereference-recursive=r ignore-case=i "},
    {" mkdir ", "", " parents=p verbose=v mode=m "},
    {" sed ", "", " in-place=i expression=e quiet=n silent=n "},
    {" git ", "", " force=f "},
    {" curl ", "", " output=o remote-name=O request=X data=d insecure=k location=L "},
    {" wget ", "", " output-document=O "},
    {" tar ", "", " extract=x create=c file=f "},
    {" shred ", "", " remove=u zero=z force=f "},
    {" dd ", "", " "},
};

// Programs whose single-dash options are whole words (find -delete), not clusters.
const QStringList kNoClusters = {QStringLiteral("find"),  QStringLiteral("java"),
                                 QStringLiteral("javac"), QStringLiteral("gcc"),
                                 QStringLiteral("g++"),   QStringLiteral("cc"),
                                 QStringLiteral("clang"), QStringLiteral("clang++"),
                                 QStringLiteral("ld"),    QStringLiteral("go")};

const FlagAliases* aliasesFor(const QString& program) {
    const QString key = u' ' + program + u' ';
    for (const FlagAliases& a : kAliases)
        if (QLatin1StringView(a.programs).contains(key))
            return &a;
    return nullptr;
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
    const FlagAliases* aliases = aliasesFor(s.program);
    const bool clusters = !kNoClusters.contains(s.program);
    bool optionsEnded = false;
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
            s.flags.push_back(mapLong(aliases, name));
            if (eq >= 0)
                s.flags.push_back(w);
            continue;
        }
        if (!clusters) {
            s.flags.push_back(w);
            continue;
        }
        for (qsizetype k = 1; k < w.size(); ++k)
            s.flags.push_back(u'-' + QString(mapShort(aliases, w.at(k))));
    }
    std::sort(s.flags.begin(), s.flags.end());
    s.flags.erase(std::unique(s.flags.begin(), s.flags.end()), s.flags.end());
    return s;
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
    const Shape ruleShape = shape(m_words);
    m_flags = ruleShape.flags;
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
    for (const QString& flag : m_flags)
        if (!std::binary_search(s.flags.begin(), s.flags.end(), flag))
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
