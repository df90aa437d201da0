#include "TestSupport.h"
#include "tools/JsonSchema.h"
#include "tools/RunCommandTool.h"
#include "tools/ToolRegistry.h"
#include "tools/Workspace.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QtTest>

#include <csignal>
#include <sys/types.h>

using namespace m1;

namespace {

// A process counts as gone when kill(0) fails or only its zombie is left.
bool processGone(qint64 pid) {
    if (::kill(static_cast<pid_t>(pid), 0) != 0)
        return true;
    const QByteArray stat = test::readFile(QStringLiteral("/proc/%1/stat").arg(pid));
    const qsizetype close = stat.lastIndexOf(')');
    return close >= 0 && stat.mid(close + 2, 1) == "Z";
}

bool waitUntilGone(qint64 pid, int milliseconds) {
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < milliseconds) {
        if (processGone(pid))
            return true;
        QTest::qWait(50);
    }
    return processGone(pid);
}

} // namespace

// run_command: argv stays argv (SBX-11/12), no assignments (SBX-16), no shell fallback (SBX-23),
// bounded time and output (SBX-25), allowlisted environment (SEC-08).
class TestRunCommand : public QObject {
    Q_OBJECT

    QTemporaryDir m_base;
    QString m_ws;
    QString m_canaryDir;

    Result<ToolResult> run(const QJsonObject& arguments, const RunCommandTool& tool = {}) {
        if (auto valid = JsonSchema::validate(arguments, tool.spec().inputSchema); !valid)
            return std::unexpected(valid.error());
        return tool.execute(arguments, *Workspace::open(m_ws));
    }
    static QJsonObject argv(const QStringList& list) {
        return {{"argv", QJsonArray::fromStringList(list)}};
    }
    static QString stdoutOf(const ToolResult& result) {
        const QString text = result.output;
        const qsizetype start = text.indexOf(QStringLiteral("--- stdout ---\n")) + 15;
        const qsizetype end = text.indexOf(QStringLiteral("\n--- stderr ---\n"));
        return text.mid(start, end - start);
    }

private Q_SLOTS:
    void cleanupTestCase() { QVERIFY(m1::test::workspaceWayWasTaken()); }

    void initTestCase() {
        m1::test::useWorkspaceWayFromEnvironment();
        QVERIFY(m_base.isValid());
        const QString base = QDir(m_base.path()).canonicalPath();
        m_ws = base + QStringLiteral("/ws");
        m_canaryDir = base + QStringLiteral("/canaries");
        QVERIFY(QDir().mkpath(m_ws + QStringLiteral("/sub")));
        QVERIFY(QDir().mkpath(m_canaryDir));
    }

    void shellSyntaxIsLiteral_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("expectedStdout"); // empty: not checked
        const QString c = QStringLiteral("@canary");
        QTest::newRow("SBX-11/and-and") << QStringList{"ls", "&&", "touch", c} << QString();
        QTest::newRow("SBX-11/and-and-echo")
            << QStringList{"echo", "&&", "touch", c} << QStringLiteral("&& touch @canary\n");
        const QStringList single{
            "x; touch @canary",        "x | touch @canary",         "x || touch @canary",
            "x & touch @canary",       "x\ntouch @canary",          "x\rtouch @canary",
            "$(touch @canary)",        "`touch @canary`",           "<(touch @canary)",
            ">(touch @canary)",        "{ touch @canary; }",        "> @canary",
            "2>&1 > @canary",          "<<EOF\ntouch @canary\nEOF", "$IFS touch @canary",
            "${IFS}touch${IFS}@canary"};
        const QStringList names{"semicolon",
                                "pipe",
                                "or-or",
                                "ampersand",
                                "newline",
                                "cr",
                                "dollar-paren",
                                "backticks",
                                "process-substitution-in",
                                "process-substitution-out",
                                "brace-group",
                                "redirect",
                                "redirect-2-1",
                                "here-doc",
                                "ifs",
                                "ifs-braced"};
        for (qsizetype i = 0; i < single.size(); ++i)
            QTest::addRow("SBX-12/%s", qPrintable(names.at(i)))
                << QStringList{"echo", single.at(i)} << single.at(i) + QLatin1Char('\n');
        QTest::newRow("SBX-12/separate-semicolon")
            << QStringList{"echo", "a", ";", "touch", c} << QStringLiteral("a ; touch @canary\n");
    }
    void shellSyntaxIsLiteral() {
        QFETCH(QStringList, arguments);
        QFETCH(QString, expectedStdout);
        const QString canary = m_canaryDir + QLatin1Char('/') +
                               QString::fromLatin1(QTest::currentDataTag()).replace('/', '-');
        for (QString& argument : arguments)
            argument.replace(QStringLiteral("@canary"), canary);
        expectedStdout.replace(QStringLiteral("@canary"), canary);
        const auto result = run(argv(arguments));
        QVERIFY2(result, qPrintable(result ? QString() : result.error().message));
        QVERIFY2(!QFile::exists(canary), "a shell interpreted the arguments");
        QCOMPARE(result->details.value("argv").toArray(), QJsonArray::fromStringList(arguments));
        if (!expectedStdout.isEmpty()) {
            QCOMPARE(stdoutOf(*result), expectedStdout);
            QCOMPARE(result->details.value("exitCode").toInt(), 0);
        }
    }

    void assignmentIsNotAProgram_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::newRow("SBX-16/tz-rm") << QStringList{"TZ=x", "rm", "-rf", "y"};
        QTest::newRow("SBX-16/x-1") << QStringList{"X=1"};
        QTest::newRow("SBX-16/bash-env") << QStringList{"BASH_ENV=/tmp/x", "true"};
    }
    void assignmentIsNotAProgram() {
        QFETCH(QStringList, arguments);
        QVERIFY(test::writeFile(m_ws + QStringLiteral("/y/file"), "keep"));
        const auto result = run(argv(arguments));
        QVERIFY(!result);
        QCOMPARE(result.error().code, QStringLiteral("command.not_a_program"));
        QVERIFY(result.error().message.contains(QStringLiteral("is not a program")));
        QVERIFY(QFile::exists(m_ws + QStringLiteral("/y/file")));
    }

    void environmentIsAllowlisted() {
        // SEC-08: the app's secrets never reach a child.
        qputenv("ANTHROPIC_API_KEY", "sk-ant-api03-FAKEFAKEFAKE");
        qputenv("M1_JWT_SECRET", "jwt-secret-FAKE");
        qputenv("M1_TEST_LEAK", "leak");
        qputenv("LD_PRELOAD", "");
        const auto result = run(argv({"env"}));
        qunsetenv("ANTHROPIC_API_KEY");
        qunsetenv("M1_JWT_SECRET");
        qunsetenv("M1_TEST_LEAK");
        qunsetenv("LD_PRELOAD");
        QVERIFY(result);
        const QString out = stdoutOf(*result);
        QVERIFY(!out.contains(QStringLiteral("sk-ant")));
        QVERIFY(!out.contains(QStringLiteral("ANTHROPIC_API_KEY")));
        QVERIFY(!out.contains(QStringLiteral("M1_JWT_SECRET")));
        QVERIFY(!out.contains(QStringLiteral("M1_TEST_LEAK")));
        QVERIFY(!out.contains(QStringLiteral("LD_PRELOAD")));
        QVERIFY(out.contains(QStringLiteral("TERM=dumb\n")));
        QVERIFY(out.contains(QStringLiteral("PATH=/")));
    }

    void childEnvironmentDropsRelativePathEntries() {
        QProcessEnvironment from;
        from.insert("PATH", ".::/usr/bin:bin:/bin");
        from.insert("HOME", "/home/x");
        from.insert("ANTHROPIC_API_KEY", "sk-ant-x");
        from.insert("TERM", "xterm");
        const QProcessEnvironment env = RunCommandTool::childEnvironment(from);
        QCOMPARE(env.value("PATH"), QStringLiteral("/usr/bin:/bin"));
        QCOMPARE(env.value("HOME"), QStringLiteral("/home/x"));
        QCOMPARE(env.value("TERM"), QStringLiteral("dumb"));
        QVERIFY(!env.contains("ANTHROPIC_API_KEY"));
        QCOMPARE(env.keys().size(), 3);
    }

    void plantedProgramOnPathIsNeverRun_data() {
        QTest::addColumn<QString>("path"); // @ws and @base are replaced
        QTest::addColumn<bool>("found");
        QTest::newRow("REVIEW-4/workspace-bin") << "@ws/bin:/usr/bin:/bin" << true;
        QTest::newRow("REVIEW-4/workspace-bin-dotdot") << "@ws/sub/../bin:/usr/bin:/bin" << true;
        QTest::newRow("REVIEW-4/link-into-workspace") << "@base/binlink:/usr/bin:/bin" << true;
        QTest::newRow("REVIEW-4/missing-folder-in-workspace") << "@ws/later:/usr/bin:/bin" << true;
        QTest::newRow("REVIEW-4/only-workspace-entry") << "@ws/bin" << false;
    }
    void plantedProgramOnPathIsNeverRun() {
        QFETCH(QString, path);
        QFETCH(bool, found);
        const QString base = QFileInfo(m_ws).path();
        QVERIFY(test::writeFile(m_ws + QStringLiteral("/bin/git"), "#!/bin/sh\necho PLANTED\n"));
        QVERIFY(QFile::setPermissions(m_ws + QStringLiteral("/bin/git"),
                                      QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
        if (!QFileInfo::exists(base + QStringLiteral("/binlink")))
            QVERIFY(QFile::link(m_ws + QStringLiteral("/bin"), base + QStringLiteral("/binlink")));
        path.replace(QStringLiteral("@ws"), m_ws).replace(QStringLiteral("@base"), base);
        const QByteArray savedPath = qgetenv("PATH");
        qputenv("PATH", path.toLocal8Bit());
        const auto result = run(argv({"git", "--version"}));
        qputenv("PATH", savedPath);
        if (!result) {
            QCOMPARE(result.error().code, QStringLiteral("command.not_found"));
            QVERIFY2(!found || !QFileInfo::exists(QStringLiteral("/usr/bin/git")),
                     qPrintable(result.error().message));
            return;
        }
        QVERIFY2(found, qPrintable(result->output));
        QVERIFY2(!result->output.contains(QStringLiteral("PLANTED")), qPrintable(result->output));
        QVERIFY(!result->details.value("program").toString().startsWith(m_ws));
        QCOMPARE(result->details.value("program").toString(), QStringLiteral("/usr/bin/git"));
    }

    void dataFileIsNotRun_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("executable");
        QTest::addColumn<QString>("program");
        QTest::addColumn<QString>("code");
        QTest::newRow("SBX-23/history-jsonl") << "history.jsonl" << false << "./history.jsonl"
                                              << "command.not_executable";
        QTest::newRow("SBX-23/notes-md") << "notes.md" << false << "./notes.md"
                                         << "command.not_executable";
        QTest::newRow("SBX-23/exec-bit-no-shebang") << "script.txt" << true << "./script.txt"
                                                    << "command.exec_format";
        QTest::newRow("SBX-23/exec-bit-in-subfolder") << "sub/run.me" << true << "sub/run.me"
                                                      << "command.exec_format";
        QTest::newRow("SBX-23/bare-name-not-on-path") << "notes2.md" << true << "notes2.md"
                                                      << "command.not_found";
    }
    void dataFileIsNotRun() {
        QFETCH(QString, name);
        QFETCH(bool, executable);
        QFETCH(QString, program);
        QFETCH(QString, code);
        const QString canary = m_canaryDir + QStringLiteral("/sbx23-") + QFileInfo(name).fileName();
        const QString path = m_ws + QLatin1Char('/') + name;
        QVERIFY(test::writeFile(path, "touch " + canary.toUtf8() + "\n`touch " + canary.toUtf8() +
                                          "`\n"));
        if (executable)
            QVERIFY(QFile::setPermissions(path,
                                          QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
        const auto result = run(argv({program}));
        QVERIFY(!result);
        QCOMPARE(result.error().code, code);
        if (code == QLatin1String("command.exec_format"))
            QVERIFY(result.error().message.contains(QStringLiteral("exec format error")));
        QVERIFY(!QFile::exists(canary));
    }

    void programAndCwdStayConfined() {
        auto outsideProgram = run(argv({"../../bin/true"}));
        QVERIFY(!outsideProgram);
        QCOMPARE(outsideProgram.error().code, QStringLiteral("path.outside_workspace"));
        auto outsideCwd = run({{"argv", QJsonArray{"pwd"}}, {"cwd", "../"}});
        QVERIFY(!outsideCwd);
        QCOMPARE(outsideCwd.error().code, QStringLiteral("path.outside_workspace"));
        auto inSub = run({{"argv", QJsonArray{"pwd"}}, {"cwd", "sub"}});
        QVERIFY(inSub);
        QCOMPARE(stdoutOf(*inSub), m_ws + QStringLiteral("/sub\n"));
        QCOMPARE(inSub->details.value("cwd").toString(), QStringLiteral("sub"));
        auto absolute = run(argv({"/bin/echo", "hi"}));
        QVERIFY(absolute);
        QCOMPARE(stdoutOf(*absolute), QStringLiteral("hi\n"));
        auto nul = run(argv({"echo", QStringLiteral("a") + QChar(0) + QStringLiteral("b")}));
        QVERIFY(!nul);
        QCOMPARE(nul.error().code, QStringLiteral("command.invalid_argument"));
    }

    void exitCodeAndSeparateStreams() {
        const auto result = run(argv({"sh", "-c", "echo out; echo err >&2; exit 3"}));
        QVERIFY(result);
        QVERIFY(result->isError);
        QCOMPARE(result->details.value("exitCode").toInt(), 3);
        QCOMPARE(result->output, QStringLiteral("exit code: 3\n--- stdout ---\nout\n\n--- stderr "
                                                "---\nerr\n"));
        QCOMPARE(result->details.value("stdoutBytes").toInt(), 4);
        QCOMPARE(result->details.value("stderrBytes").toInt(), 4);
    }

    void longArgumentPassesWhole() {
        // SBX-22: a 20 000-character argument reaches the program unchanged.
        const QString longArgument(20000, QLatin1Char('x'));
        const auto result = run(argv({"echo", longArgument}));
        QVERIFY(result);
        QCOMPARE(stdoutOf(*result), longArgument + QLatin1Char('\n'));
    }

    void timeoutKillsProcessGroup() {
        // SBX-25: a background child that would outlive the leader dies with it.
        const QString pidFile = m_canaryDir + QStringLiteral("/bg.pid");
        const auto result = run(
            {{"argv", QJsonArray{"sh", "-c", "sleep 300 & echo $! > " + pidFile + "; sleep 300"}},
             {"timeout_seconds", 1}});
        QVERIFY(result);
        QVERIFY(result->isError);
        QCOMPARE(result->details.value("timedOut").toBool(), true);
        QVERIFY(result->details.value("exitCode").isNull());
        QVERIFY(result->output.contains(QStringLiteral("timed out after 1 s")));
        const qint64 pid = test::readFile(pidFile).trimmed().toLongLong();
        QVERIFY(pid > 1);
        QVERIFY2(waitUntilGone(pid, 5000), "the background sleep survived the timeout");
    }

    void childrenDoNotOutliveTheCall() {
        const QString pidFile = m_canaryDir + QStringLiteral("/orphan.pid");
        const auto result = run(
            argv({"sh", "-c", "sleep 300 >/dev/null 2>&1 & echo $! > " + pidFile + "; exit 0"}));
        QVERIFY(result);
        QCOMPARE(result->details.value("timedOut").toBool(), false);
        const qint64 pid = test::readFile(pidFile).trimmed().toLongLong();
        QVERIFY(pid > 1);
        QVERIFY2(waitUntilGone(pid, 5000), "a child outlived the call");
    }

    void outputIsCapped() {
        const auto result = run(argv({"head", "-c", "3000000", "/dev/zero"}));
        QVERIFY(result);
        QCOMPARE(result->details.value("stdoutBytes").toInteger(), 3000000);
        QCOMPARE(result->details.value("truncated").toBool(), true);
        QCOMPARE(result->details.value("exitCode").toInt(), 0);
        QVERIFY(result->output.contains(QStringLiteral("[stdout truncated: 1048576 of 3000000 "
                                                       "bytes shown]")));
    }

    void endlessOutputIsKilled() {
        // `yes` never stops: the hard ceiling kills the group long before the timeout.
        RunCommandTool::Limits limits;
        limits.capturedBytesPerStream = 1024;
        limits.hardCeilingBytes = 4 * 1024 * 1024;
        const RunCommandTool tool(limits);
        const auto result = run({{"argv", QJsonArray{"yes"}}, {"timeout_seconds", 60}}, tool);
        QVERIFY(result);
        QVERIFY(result->isError);
        QCOMPARE(result->details.value("killedForOutput").toBool(), true);
        QCOMPARE(result->details.value("truncated").toBool(), true);
        QCOMPARE(result->details.value("timedOut").toBool(), false);
        QVERIFY(result->details.value("stdoutBytes").toInteger() > 4 * 1024 * 1024);
        QVERIFY(result->output.contains(QStringLiteral("truncated")));
        QVERIFY(result->output.toUtf8().size() < 4096);
    }

    void gigabyteOfOutputStaysBounded() {
        // SBX-25 "a command printing 1 GB": stopped at the default 64 MiB ceiling.
        const auto result = run(argv({"head", "-c", "1000000000", "/dev/zero"}));
        QVERIFY(result);
        QCOMPARE(result->details.value("killedForOutput").toBool(), true);
        QVERIFY(result->details.value("stdoutBytes").toInteger() < 200 * 1024 * 1024);
        QVERIFY(result->output.size() < 2 * 1024 * 1024);
    }
};

QTEST_GUILESS_MAIN(TestRunCommand)
#include "tst_runcommand.moc"
