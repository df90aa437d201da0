#include "TestSupport.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>

#include "tools/Workspace.h"

namespace m1::test {

QByteArray testSecret() {
    return QByteArrayLiteral("test-secret-0123456789abcdef-0123456789abcdef");
}

ProcessResult runProgram(const QString& program, const QStringList& args,
                         const QProcessEnvironment& extraEnv, const QByteArray& stdinData,
                         int timeoutMs) {
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const QString& key : extraEnv.keys())
        env.insert(key, extraEnv.value(key));
    process.setProcessEnvironment(env);
    process.start(program, args);
    ProcessResult result;
    if (!process.waitForStarted(timeoutMs)) {
        result.err = process.errorString().toUtf8();
        return result;
    }
    if (!stdinData.isEmpty())
        process.write(stdinData);
    process.closeWriteChannel();
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
        result.err = "timed out";
        return result;
    }
    result.crashed = process.exitStatus() != QProcess::NormalExit;
    result.exitCode = process.exitCode();
    result.out = process.readAllStandardOutput();
    result.err = process.readAllStandardError();
    return result;
}

ProcessResult runM1ctl(const QStringList& args, const QProcessEnvironment& extraEnv,
                       const QByteArray& stdinData, int timeoutMs) {
    return runProgram(QStringLiteral(M1CTL_PATH), args, extraEnv, stdinData, timeoutMs);
}

bool writeFile(const QString& path, const QByteArray& content) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    return file.write(content) == content.size();
}

QByteArray readFile(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

namespace {
bool forcedWalk() {
    return qEnvironmentVariableIntValue("M1_TEST_WORKSPACE_WALK") == 1;
}
} // namespace

void useWorkspaceWayFromEnvironment() {
    Workspace::setFastPathEnabled(!forcedWalk());
}

bool workspaceWayWasTaken() {
    return forcedWalk() ? Workspace::fastPathAnswers() == 0 : Workspace::fastPathAnswers() > 0;
}

} // namespace m1::test
