#pragma once

#include <QList>
#include <QString>
#include <QStringList>

namespace m1 {

// Sorts out what an argv would really run, so that rules about a command cannot be dodged by
// dressing it up. Wrappers that run their arguments as a command (env, sudo, timeout, nice,
// xargs, find -exec, busybox, ...) are unwrapped with their own options parsed; shell
// interpreters with -c have their script split into commands (ShellScriptParser); interpreters
// given inline code (python -c, perl -e, node -e, ...) and everything else that cannot be known
// become concerns. Semantics: docs/policy.md.
class CommandAnalyzer {
public:
    struct Command {
        QStringList argv;            // as it would be started (argv[0] as written)
        QString program;             // basename of argv[0]
        bool runsOthers = false;     // a wrapper, shell or find -exec: it starts other programs
        bool fromShell = false;      // came out of a shell script (after quote removal)
        QStringList inputPaths;      // files a shell redirection reads
        bool scriptAnalysed = false; // one of its arguments is a script split into commands
        // Words of an unknown or opaque runner that may be a command: shown to the deny and ask
        // rules only (never enough for an allow, never checked as paths: the words are the
        // outer command's).
        bool probeOnly = false;
    };
    struct Concern {
        enum class Kind {
            Unanalysable, // what would run cannot be known with confidence
            Privileged,   // runs the command with other privileges or a changed environment
        };
        Kind kind = Kind::Unanalysable;
        QString reason;
    };
    struct Analysis {
        QList<Command> commands; // every program that would run, outermost first
        QList<Concern> concerns;
        QString notAProgram; // argv[0] (or an inner one) that is not a program, e.g. "TZ=x"
        bool hasNotAProgram = false;
        bool changesDirectory = false; // a script runs cd/pushd: later relative paths are unknown
    };

    static Analysis analyze(const QStringList& argv);

    static bool isShell(const QString& program);

private:
    explicit CommandAnalyzer(Analysis& out) : m_out(out) {}
    void analyzeArgv(const QStringList& argv, int depth, bool fromShell,
                     const QStringList& inputPaths = {});
    void analyzeScript(const QString& script, int depth, qsizetype owner = -1);
    void unwrap(const QStringList& argv, qsizetype commandIndex, int depth);
    void execOptions(const QStringList& argv, qsizetype from, const QString& what,
                     const char* longs, const char* shorts, const char* words, bool optionalValue,
                     int depth);
    void opaqueInner(const QStringList& argv, qsizetype from, int depth);
    void probe(const QStringList& argv, qsizetype from, int count);
    void concern(const QString& reason);
    void privileged(const QString& reason);

    Analysis& m_out;
};

} // namespace m1
