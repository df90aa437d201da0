#pragma once

#include <QByteArray>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

namespace m1::test {

// A fixed 32-byte secret for tests that need a TokenService (never used outside tests).
QByteArray testSecret();

// Result of running a program to completion.
struct ProcessResult {
    int exitCode = -1;
    bool crashed = false;
    QByteArray out;
    QByteArray err;
};

// Runs m1ctl with the given arguments and environment additions (merged into the current
// environment) and optional standard input. Waits up to timeoutMs.
ProcessResult runM1ctl(const QStringList& args, const QProcessEnvironment& extraEnv = {},
                       const QByteArray& stdinData = {}, int timeoutMs = 60000);

// Runs any program (argv, no shell).
ProcessResult runProgram(const QString& program, const QStringList& args,
                         const QProcessEnvironment& extraEnv = {}, const QByteArray& stdinData = {},
                         int timeoutMs = 60000);

// Writes a file (creating parent folders); returns false on failure.
bool writeFile(const QString& path, const QByteArray& content);
QByteArray readFile(const QString& path);

// The confinement tests run twice (tests/CMakeLists.txt): once as they are, and once as
// NAME_walk with M1_TEST_WORKSPACE_WALK=1, where Workspace::resolve never uses openat2(2) and
// always takes its walk, as on a kernel or under a seccomp filter without openat2. Call the first
// in initTestCase; the second in cleanupTestCase says whether the way asked for was the one taken
// (walk: openat2 never answered; otherwise it answered at least once).
void useWorkspaceWayFromEnvironment();
bool workspaceWayWasTaken();

} // namespace m1::test
