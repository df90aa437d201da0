#include "policy/CommandMatcher.h"
#include "policy/GlobMatcher.h"
#include "policy/PolicyRules.h"
#include "policy/RuleIndex.h"

#include <QRandomGenerator>
#include <QRegularExpression>
#include <QtTest>

#include <algorithm>

using m1::CommandMatcher;
using m1::GlobMatcher;
using m1::PolicyRule;
using m1::PolicyRules;
using m1::RuleIndex;

namespace {

QString show(const PolicyRule* rule) {
    return rule ? rule->text + u'#' + rule->file : QStringLiteral("none");
}

bool same(const PolicyRule* a, const PolicyRule* b) {
    return a == b || (a && b && a->file == b->file);
}

// CommandMatcher::matchesLoosely as it was written before its tests were reordered and the
// single-letter options became a bit mask: the definition the index must keep.
struct ReferenceLoose {
    explicit ReferenceLoose(const QString& pattern) {
        words = pattern.split(QRegularExpression(QStringLiteral("\\s+")), Qt::SkipEmptyParts);
        if (words.isEmpty())
            return;
        program =
            GlobMatcher(CommandMatcher::programBasename(words.front()), GlobMatcher::Mode::Text);
        QStringList plain;
        for (qsizetype i = 0; i < words.size(); ++i) {
            const QString& w = words[i];
            if (i > 0 && w.size() > 1 && w.startsWith(u'-') &&
                (w.contains(u'*') || w.contains(u'?')))
                flagGlobs.emplace_back(w, GlobMatcher::Mode::Text);
            else
                plain.append(w);
        }
        rule = CommandMatcher::shape(plain);
        for (const QString& operand : std::as_const(rule.operands))
            if (operand != QLatin1String("*"))
                operands.emplace_back(operand, GlobMatcher::Mode::Text);
    }

    bool matches(const CommandMatcher::Shape& s) const {
        if (words.isEmpty() || !program.matches(s.program))
            return false;
        for (const QString& flag : rule.flags) {
            if (std::binary_search(s.flags.begin(), s.flags.end(), flag))
                continue;
            if (!flag.startsWith(QLatin1String("--")) ||
                !std::any_of(s.flags.begin(), s.flags.end(), [&](const QString& f) {
                    return f.size() > 2 && f.startsWith(QLatin1String("--")) && !f.contains(u'=') &&
                           flag.startsWith(f);
                }))
                return false;
        }
        for (const GlobMatcher& glob : flagGlobs)
            if (!std::any_of(s.flags.begin(), s.flags.end(),
                             [&](const QString& f) { return glob.matches(f); }))
                return false;
        qsizetype next = 0;
        for (const GlobMatcher& glob : operands) {
            while (next < s.operands.size() && !glob.matches(s.operands[next]))
                ++next;
            if (next == s.operands.size())
                return false;
            ++next;
        }
        return true;
    }

    QStringList words;
    GlobMatcher program{QString(), GlobMatcher::Mode::Text};
    std::vector<GlobMatcher> flagGlobs;
    CommandMatcher::Shape rule;
    std::vector<GlobMatcher> operands;
};

QString pick(QRandomGenerator& random, const QStringList& from) {
    return from.at(random.bounded(static_cast<int>(from.size())));
}

} // namespace

// The index answers as a scan of every rule in order would (first matching rule wins), for the
// strict match (allow rules, bucketed by program and second word) and the loose one (deny and ask
// rules, single-letter options as a bit mask).
class TestRuleIndex : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void agreesWithScanningEveryRule() {
        const QStringList programs = {"rm", "git", "make", "npm",  "ls",     "cp",     "find",
                                      "r?", "*",   "m*",   "grep", "./make", "/bin/rm"};
        const QStringList ruleWords = {"-r",     "-f",          "-rf",     "-R",       "--force",
                                       "--rec",  "--recursive", "target1", "target*",  "dir1*",
                                       "*",      "run",         "task1*",  "task12",   "push",
                                       "origin", "--dangerous", "-x*",     "--force*", "status*",
                                       "status", "-delete",     "a;b",     "-v",       "--"};
        const QStringList argvWords = {
            "-r",     "-f",          "-rf",      "-fr",     "-R",         "--force",
            "--rec",  "--recursive", "--danger", "target1", "target12",   "dir1",
            "dir12",  "run",         "task1",    "task12",  "task123",    "push",
            "origin", "+main",       "status",   "status;", "a;b",        "-delete",
            "-v",     "--",          "-",        "x",       "--force=yes"};
        const QStringList argvPrograms = {"rm",    "git",  "make",  "npm",         "ls",
                                          "cp",    "find", "rr",    "/bin/rm",     "./make",
                                          "gmake", "grep", "mkdir", "/usr/bin/git"};
        QRandomGenerator random(20261125);
        int strictMatches = 0;
        int looseMatches = 0;
        for (int set = 0; set < 40; ++set) {
            PolicyRules rules;
            for (int n = 0; n < 60; ++n) {
                QStringList words = {pick(random, programs)};
                for (int k = random.bounded(4); k > 0; --k)
                    words.append(pick(random, ruleWords));
                const auto list =
                    random.bounded(2) ? PolicyRule::List::Allow : PolicyRule::List::Deny;
                // The file field tells equal rules apart (the index returns its own copies).
                (void)rules.add(list, QStringLiteral("run_command(%1)").arg(words.join(u' ')),
                                QString::number(n));
            }
            const RuleIndex index(rules.rules());
            std::vector<CommandMatcher> strictMatchers;
            std::vector<ReferenceLoose> looseMatchers;
            for (const PolicyRule& rule : rules.rules()) {
                strictMatchers.emplace_back(rule.pattern);
                looseMatchers.emplace_back(rule.pattern);
            }
            for (int c = 0; c < 200; ++c) {
                QStringList argv = {pick(random, argvPrograms)};
                for (int k = random.bounded(5); k > 0; --k)
                    argv.append(pick(random, argvWords));
                const bool scriptAnalysed = random.bounded(4) == 0;
                const QString program = CommandMatcher::programBasename(argv.front());
                const CommandMatcher::Shape shape = CommandMatcher::shape(argv);

                const PolicyRule* strict = nullptr;
                const PolicyRule* loose = nullptr;
                for (qsizetype r = 0; r < rules.rules().size(); ++r) {
                    const PolicyRule& rule = rules.rules()[r];
                    if (!strict && rule.list == PolicyRule::List::Allow &&
                        strictMatchers[r].matchesStrictly(argv, scriptAnalysed))
                        strict = &rule;
                    if (!loose && rule.list == PolicyRule::List::Deny &&
                        looseMatchers[r].matches(shape))
                        loose = &rule;
                }
                const QString where = argv.join(u' ');
                const PolicyRule* strictFound =
                    index.commandStrictly(PolicyRule::List::Allow, program, argv, scriptAnalysed);
                QVERIFY2(same(strictFound, strict),
                         qPrintable(where + QStringLiteral(": ") + show(strictFound) +
                                    QStringLiteral(" vs ") + show(strict)));
                const PolicyRule* looseFound = index.commandLoosely(PolicyRule::List::Deny, shape);
                QVERIFY2(same(looseFound, loose),
                         qPrintable(where + QStringLiteral(": ") + show(looseFound) +
                                    QStringLiteral(" vs ") + show(loose)));
                strictMatches += strict != nullptr;
                looseMatches += loose != nullptr;
            }
        }
        // The comparison means something only if both kinds of match happen often.
        QVERIFY2(strictMatches > 200, qPrintable(QString::number(strictMatches)));
        QVERIFY2(looseMatches > 800, qPrintable(QString::number(looseMatches)));
    }

    // pathAnyTool / pathBelowAnyTool (one bucket for all path tools) against path / pathBelow
    // given the five tools, on random rule sets and paths, with either case.
    void anyToolAgreesWithEveryTool() {
        const QStringList tools = {"read_file", "write_file", "edit_file", "list_directory",
                                   "search_files"};
        const QStringList patterns = {
            "src/**",           "src/*.cpp", "**/*.pem", "**/.env", "secrets/**", "Secrets/**",
            "docs/*",           "*.md",      "a/b/c",    "a/**/c",  "**",         "?rc/x",
            "config/app1.json", ".git/**",   "s*/key"};
        const QStringList paths = {"src",           "src/a.cpp",   "SRC/A.cpp", "x.pem",
                                   "deep/er/k.pem", ".env",        "a/.ENV",    "secrets",
                                   "secrets/key",   "Secrets/KEY", "docs/x",    "README.md",
                                   "a/b/c",         "a/x/y/c",     ".",         "config/app1.json",
                                   ".git/config",   "s1/key",      "other"};
        QRandomGenerator random(20261126);
        int found = 0;
        for (int set = 0; set < 40; ++set) {
            PolicyRules rules;
            for (int n = 0; n < 30; ++n) {
                const auto list = static_cast<PolicyRule::List>(random.bounded(3));
                (void)rules.add(
                    list, QStringLiteral("%1(%2)").arg(pick(random, tools), pick(random, patterns)),
                    QString::number(n));
            }
            const RuleIndex index(rules.rules());
            for (const auto list :
                 {PolicyRule::List::Allow, PolicyRule::List::Ask, PolicyRule::List::Deny}) {
                for (const QString& path : paths) {
                    const PolicyRule* every = index.path(list, tools, path);
                    const PolicyRule* any = index.pathAnyTool(list, path);
                    QVERIFY2(same(any, every), qPrintable(path + u' ' + show(any) +
                                                          QStringLiteral(" vs ") + show(every)));
                    const PolicyRule* everyBelow = index.pathBelow(list, tools, path);
                    const PolicyRule* anyBelow = index.pathBelowAnyTool(list, path);
                    QVERIFY2(same(anyBelow, everyBelow),
                             qPrintable(path + u' ' + show(anyBelow) + QStringLiteral(" vs ") +
                                        show(everyBelow)));
                    found += every != nullptr;
                }
            }
        }
        QVERIFY2(found > 500, qPrintable(QString::number(found)));
    }
};

QTEST_GUILESS_MAIN(TestRuleIndex)
#include "tst_ruleindex.moc"
