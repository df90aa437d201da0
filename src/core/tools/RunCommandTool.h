#pragma once

#include "tools/Tool.h"

#include <QCoreApplication>
#include <QProcessEnvironment>

namespace m1 {

// Runs one program with an argument vector: QProcess::start(program, args) straight to execve,
// never a shell, so shell syntax in arguments stays literal. The child gets an environment built
// from an allowlist (never a copy of the app's, which holds the API key), runs in its own session
// so a timeout or an output flood kills its whole process group, and its output is capped.
//
// SEC-08 limit: the allowlist keeps secrets out of the child's environment, but a key exported in
// the shell that launched the app stays readable in /proc/<app pid>/environ by any process of the
// same user (a child included); unsetting it inside the app does not scrub that copy. Keep the key
// in the keychain rather than in the launching environment.
//
// Process-group limit: a descendant that calls setsid() or setpgid() (a daemon, `setsid x`,
// `nohup` plus a double fork) leaves the group and survives the kill on timeout or at the end of
// the call. Becoming a child subreaper (prctl) would catch it, but that setting is process-wide
// and would change how the whole app (the GUI included) reaps orphans, so it is not done here.
class RunCommandTool : public Tool {
    Q_DECLARE_TR_FUNCTIONS(RunCommandTool)

public:
    struct Limits {
        qint64 capturedBytesPerStream = 1024 * 1024;
        // Beyond this much output in total the command is killed rather than drained forever.
        qint64 hardCeilingBytes = 64 * 1024 * 1024;
        int defaultTimeoutSeconds = 120;
    };

    RunCommandTool() = default;
    explicit RunCommandTool(Limits limits) : m_limits(limits) {}

    ToolSpec spec() const override;
    Result<ToolResult> execute(const QJsonObject& arguments,
                               const Workspace& workspace) const override;

    // The child's environment: PATH (absolute entries only), HOME, LANG, LC_ALL, LC_CTYPE, TMPDIR,
    // USER, LOGNAME, TZ taken from `from` when set, and TERM=dumb. Nothing else crosses over.
    static QProcessEnvironment childEnvironment(const QProcessEnvironment& from);
    // As above, without the PATH entries that lie inside `workspace` (as written or after
    // resolving links) or do not exist: a `git` planted in <workspace>/bin must never stand in
    // for the real one, and a missing folder could be created there later. PATH may end up empty.
    static QProcessEnvironment childEnvironment(const QProcessEnvironment& from,
                                                const Workspace& workspace);

private:
    Limits m_limits;
};

} // namespace m1
