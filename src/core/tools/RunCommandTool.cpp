#include "tools/RunCommandTool.h"

#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QProcess>
#include <QStandardPaths>
#include <QTimer>

#include <csignal>
#include <sys/stat.h>
#include <unistd.h>

namespace m1 {

namespace {

constexpr int kMaxTimeoutSeconds = 600;
constexpr char kDefaultPath[] = "/usr/local/bin:/usr/bin:/bin";

struct Stream {
    QByteArray captured;
    qint64 total = 0;

    void take(const QByteArray& chunk, qint64 cap) {
        total += chunk.size();
        if (captured.size() < cap)
            captured.append(chunk.left(cap - captured.size()));
    }
    bool truncated() const { return total > captured.size(); }
};

// kill(-pgid) reaches every process still in the group, also children that outlived the leader.
void killGroup(qint64 pgid) {
    if (pgid > 1)
        ::kill(static_cast<pid_t>(-pgid), SIGKILL);
}

// Why a program cannot be started, in words, before execve says only "Exec format error".
std::optional<Error> checkProgram(const QString& program) {
    struct stat info {};
    const QByteArray encoded = QFile::encodeName(program);
    if (::stat(encoded.constData(), &info) != 0)
        return Error{QStringLiteral("command.not_found"),
                     RunCommandTool::tr("The program %1 does not exist.").arg(program)};
    if (!S_ISREG(info.st_mode))
        return Error{QStringLiteral("command.not_executable"),
                     RunCommandTool::tr("%1 is not a program file.").arg(program)};
    if (::access(encoded.constData(), X_OK) != 0)
        return Error{QStringLiteral("command.not_executable"),
                     RunCommandTool::tr("%1 is not executable (no execute permission); it is not "
                                        "run through a shell either.")
                         .arg(program)};
    QFile file(program);
    if (!file.open(QIODevice::ReadOnly))
        return Error{QStringLiteral("command.not_executable"),
                     RunCommandTool::tr("%1 cannot be read.").arg(program)};
    const QByteArray head = file.read(4);
    if (!head.startsWith("\x7F"
                         "ELF") &&
        !head.startsWith("#!"))
        return Error{QStringLiteral("command.exec_format"),
                     RunCommandTool::tr("%1 cannot be run: exec format error (it is neither a "
                                        "binary nor a script with a #! line); it is not run "
                                        "through a shell either.")
                         .arg(program)};
    return std::nullopt;
}

} // namespace

QProcessEnvironment RunCommandTool::childEnvironment(const QProcessEnvironment& from) {
    // Default-constructed: empty, not inherited (InheritFromParent would pass the app's on).
    QProcessEnvironment environment;
    // Relative PATH entries ("", ".") would let a file in the workspace stand in for a program.
    QStringList path;
    for (const QString& entry : from.value(QStringLiteral("PATH")).split(QLatin1Char(':')))
        if (entry.startsWith(QLatin1Char('/')))
            path.append(entry);
    environment.insert(QStringLiteral("PATH"), path.isEmpty() ? QString::fromLatin1(kDefaultPath)
                                                              : path.join(QLatin1Char(':')));
    static const QStringList allowed{QStringLiteral("HOME"),    QStringLiteral("LANG"),
                                     QStringLiteral("LC_ALL"),  QStringLiteral("LC_CTYPE"),
                                     QStringLiteral("TMPDIR"),  QStringLiteral("USER"),
                                     QStringLiteral("LOGNAME"), QStringLiteral("TZ")};
    for (const QString& name : allowed)
        if (from.contains(name))
            environment.insert(name, from.value(name));
    environment.insert(QStringLiteral("TERM"), QStringLiteral("dumb"));
    return environment;
}

QProcessEnvironment RunCommandTool::childEnvironment(const QProcessEnvironment& from,
                                                     const Workspace& workspace) {
    QProcessEnvironment environment = childEnvironment(from);
    QStringList path;
    for (const QString& entry : environment.value(QStringLiteral("PATH")).split(QLatin1Char(':'))) {
        const QString canonical = QFileInfo(entry).canonicalFilePath();
        if (canonical.isEmpty() || workspace.contains(canonical) ||
            workspace.contains(QDir::cleanPath(entry)))
            continue;
        path.append(entry);
    }
    environment.insert(QStringLiteral("PATH"), path.join(QLatin1Char(':')));
    return environment;
}

ToolSpec RunCommandTool::spec() const {
    return ToolSpec{
        QStringLiteral("run_command"),
        QStringLiteral("Run one program with arguments (argv[0] is the program, found on PATH; no "
                       "shell, so pipes, redirections and variables are not interpreted) in a "
                       "workspace folder, and return its exit code, stdout and stderr."),
        Scope::Execute,
        QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
                    {QStringLiteral("properties"),
                     QJsonObject{{QStringLiteral("argv"),
                                  QJsonObject{{QStringLiteral("type"), QStringLiteral("array")},
                                              {QStringLiteral("items"),
                                               QJsonObject{{QStringLiteral("type"),
                                                            QStringLiteral("string")},
                                                           {QStringLiteral("maxLength"), 100000}}},
                                              {QStringLiteral("minItems"), 1},
                                              {QStringLiteral("maxItems"), 1000}}},
                                 {QStringLiteral("cwd"),
                                  QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                                              {QStringLiteral("minLength"), 1},
                                              {QStringLiteral("maxLength"), 4096}}},
                                 {QStringLiteral("timeout_seconds"),
                                  QJsonObject{{QStringLiteral("type"), QStringLiteral("integer")},
                                              {QStringLiteral("minimum"), 1},
                                              {QStringLiteral("maximum"), kMaxTimeoutSeconds},
                                              {QStringLiteral("default"), 120}}}}},
                    {QStringLiteral("required"), QJsonArray{QStringLiteral("argv")}},
                    {QStringLiteral("additionalProperties"), false}},
        true};
}

Result<ToolResult> RunCommandTool::execute(const QJsonObject& arguments,
                                           const Workspace& workspace) const {
    QStringList argv;
    for (const QJsonValue& value : arguments.value(QLatin1String("argv")).toArray()) {
        if (!value.isString())
            return fail(QStringLiteral("command.invalid_argument"),
                        tr("Every element of argv must be a string."));
        argv.append(value.toString());
    }
    if (argv.isEmpty() || argv.first().isEmpty())
        return fail(QStringLiteral("command.not_a_program"), tr("argv[0] (the program) is empty."));
    // execve would cut an argument at a NUL byte without a word.
    for (const QString& argument : std::as_const(argv))
        if (argument.contains(QChar(0)))
            return fail(QStringLiteral("command.invalid_argument"),
                        tr("An argument contains a NUL byte."));
    const QString& name = argv.first();
    if (name.contains(QLatin1Char('=')))
        return fail(QStringLiteral("command.not_a_program"),
                    tr("\"%1\" is not a program: argv[0] looks like an environment assignment, "
                       "and assignments are never applied to the environment.")
                        .arg(name));

    auto cwd =
        workspace.resolve(arguments.value(QLatin1String("cwd")).toString(QStringLiteral(".")),
                          Workspace::Access::Read);
    if (!cwd)
        return std::unexpected(cwd.error());
    if (!QFileInfo(*cwd).isDir())
        return fail(QStringLiteral("file.not_folder"),
                    tr("The working folder \"%1\" is not a folder.").arg(workspace.relative(*cwd)));

    const QProcessEnvironment environment =
        childEnvironment(QProcessEnvironment::systemEnvironment(), workspace);
    QString program;
    if (name.startsWith(QLatin1Char('/'))) {
        program = name; // outside the workspace only when spelled out; the policy judges it
    } else if (name.contains(QLatin1Char('/'))) {
        auto inside = workspace.resolve(QDir(*cwd).filePath(name), Workspace::Access::Read);
        if (!inside)
            return std::unexpected(inside.error());
        program = *inside;
    } else {
        // An empty list would make findExecutable search the app's own PATH.
        const QStringList searched =
            environment.value(QStringLiteral("PATH")).split(QLatin1Char(':'), Qt::SkipEmptyParts);
        program = searched.isEmpty() ? QString() : QStandardPaths::findExecutable(name, searched);
        if (program.isEmpty())
            return fail(QStringLiteral("command.not_found"),
                        tr("The program \"%1\" was not found on PATH (%2).")
                            .arg(name, environment.value(QStringLiteral("PATH"))));
    }
    if (auto problem = checkProgram(program))
        return std::unexpected(*problem);

    const int timeoutSeconds = std::clamp(
        arguments.value(QLatin1String("timeout_seconds")).toInt(m_limits.defaultTimeoutSeconds), 1,
        kMaxTimeoutSeconds);

    QProcess process;
    process.setProgram(program);
    process.setArguments(argv.mid(1));
    process.setWorkingDirectory(*cwd);
    process.setProcessEnvironment(environment);
    process.setStandardInputFile(QProcess::nullDevice());
    // A new session makes the child the leader of its own process group (pgid == pid).
    process.setChildProcessModifier([] { ::setsid(); });

    Stream out;
    Stream err;
    bool timedOut = false;
    bool outputLimitHit = false;
    QEventLoop loop;
    const auto checkCeiling = [&] {
        if (!outputLimitHit && out.total + err.total > m_limits.hardCeilingBytes) {
            outputLimitHit = true;
            killGroup(process.processId());
            process.kill();
        }
    };
    // Drained as it arrives, so memory stays at the cap whatever the command prints.
    QObject::connect(&process, &QProcess::readyReadStandardOutput, &loop, [&] {
        out.take(process.readAllStandardOutput(), m_limits.capturedBytesPerStream);
        checkCeiling();
    });
    QObject::connect(&process, &QProcess::readyReadStandardError, &loop, [&] {
        err.take(process.readAllStandardError(), m_limits.capturedBytesPerStream);
        checkCeiling();
    });
    QObject::connect(&process, &QProcess::finished, &loop, &QEventLoop::quit);
    QObject::connect(&process, &QProcess::errorOccurred, &loop, [&](QProcess::ProcessError error) {
        if (error == QProcess::FailedToStart)
            loop.quit();
    });
    QTimer timer;
    timer.setSingleShot(true);
    QObject::connect(&timer, &QTimer::timeout, &loop, [&] {
        timedOut = true;
        killGroup(process.processId());
        process.kill(); // in case the group could not be signalled
    });

    QElapsedTimer elapsed;
    elapsed.start();
    process.start();
    if (!process.waitForStarted(30000))
        return fail(QStringLiteral("command.start_failed"),
                    tr("%1 could not be started: %2").arg(program, process.errorString()));
    const qint64 pgid = process.processId();
    timer.start(timeoutSeconds * 1000);
    if (process.state() != QProcess::NotRunning)
        loop.exec();
    // Leftover children of the group must not outlive the call. The group id stays reserved
    // while any member lives, so this cannot hit an unrelated process unless the group has
    // already emptied and its number was reused in the few microseconds since the leader exited.
    killGroup(pgid);
    out.take(process.readAllStandardOutput(), m_limits.capturedBytesPerStream);
    err.take(process.readAllStandardError(), m_limits.capturedBytesPerStream);

    const bool crashed = process.exitStatus() == QProcess::CrashExit;
    const bool truncated = out.truncated() || err.truncated();
    const int exitCode = crashed ? -1 : process.exitCode();

    QString output;
    if (timedOut)
        output += tr("[timed out after %1 s; the process group was killed]\n").arg(timeoutSeconds);
    else if (outputLimitHit)
        output += tr("[killed: more than %1 bytes of output]\n").arg(m_limits.hardCeilingBytes);
    else if (crashed)
        output += tr("[terminated by a signal]\n");
    else
        output += tr("exit code: %1\n").arg(exitCode);
    output += QStringLiteral("--- stdout ---\n") + QString::fromUtf8(out.captured);
    if (out.truncated())
        output += tr("\n[stdout truncated: %1 of %2 bytes shown]")
                      .arg(out.captured.size())
                      .arg(out.total);
    output += QStringLiteral("\n--- stderr ---\n") + QString::fromUtf8(err.captured);
    if (err.truncated())
        output += tr("\n[stderr truncated: %1 of %2 bytes shown]")
                      .arg(err.captured.size())
                      .arg(err.total);

    ToolResult result;
    result.isError = timedOut || outputLimitHit || crashed || exitCode != 0;
    result.output = output;
    result.details = QJsonObject{
        {QStringLiteral("exitCode"), crashed || timedOut ? QJsonValue() : QJsonValue(exitCode)},
        {QStringLiteral("timedOut"), timedOut},
        {QStringLiteral("truncated"), truncated},
        {QStringLiteral("killedForOutput"), outputLimitHit},
        {QStringLiteral("crashed"), crashed},
        {QStringLiteral("stdoutBytes"), out.total},
        {QStringLiteral("stderrBytes"), err.total},
        {QStringLiteral("cwd"), workspace.relative(*cwd)},
        {QStringLiteral("program"), program},
        {QStringLiteral("argv"), QJsonArray::fromStringList(argv)},
        {QStringLiteral("durationMs"), elapsed.elapsed()}};
    return result;
}

} // namespace m1
