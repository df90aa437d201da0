// The terminal approval prompt of m1ctl run, driven through tmux: the proposal is shown (argv
// one element per line, control characters visible, diff for writes), "n" denies, "y" approves.
#include "run/TerminalApprovalGate.h"
#include "run/UnifiedDiff.h"

#include "TestSupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QStandardPaths>
#include <QTest>
#include <QThread>

using namespace m1;

class TestApprovalPrompt : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_session = QStringLiteral("m1run%1").arg(QCoreApplication::applicationPid());

    QString pane() {
        return QString::fromUtf8(
            test::runProgram("tmux", {"capture-pane", "-p", "-J", "-S", "-200", "-t", m_session})
                .out);
    }
    bool waitFor(const QString& text, int ms = 20000) {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < ms) {
            if (pane().contains(text))
                return true;
            QThread::msleep(100);
        }
        return false;
    }

private slots:
    void describeShowsArgvAndDiff() {
        PendingApproval p;
        p.call.toolName = "run_command";
        p.call.id = "toolu_1";
        p.call.arguments =
            QJsonObject{{"argv", QJsonArray{"git", QString::fromUtf8("st\u202Eus\x1b[2J")}}};
        const QString text = TerminalApprovalGate::describe(p);
        QVERIFY(text.contains("[0] git"));
        QVERIFY(text.contains("<U+202E>"));
        QVERIFY(text.contains("<U+001B>"));
        const QString diff = UnifiedDiff::diff("a\nb\nc\n", "a\nB\nc\n", "a/x", "b/x");
        QVERIFY(diff.contains("-b\n+B\n"));
        QVERIFY(diff.contains("@@ -1,3 +1,3 @@"));
    }

    void promptInTmux() {
        if (QStandardPaths::findExecutable("tmux").isEmpty())
            QSKIP("tmux is not installed");
        const QString ws = m_dir.filePath("ws");
        QDir().mkpath(ws);
        test::writeFile(ws + "/a.txt", "alpha\n");
        const QJsonArray turns{
            QJsonObject{
                {"content",
                 QJsonArray{
                     QJsonObject{
                         {"type", "tool_use"},
                         {"id", "toolu_t1"},
                         {"name", "run_command"},
                         {"input", QJsonObject{{"argv", QJsonArray{"touch", "denied-marker"}}}}},
                     QJsonObject{
                         {"type", "tool_use"},
                         {"id", "toolu_t2"},
                         {"name", "write_file"},
                         {"input", QJsonObject{{"path", "a.txt"}, {"content", "beta\n"}}}}}},
                {"stop_reason", "tool_use"}},
            QJsonObject{{"content", QJsonArray{QJsonObject{{"type", "text"}, {"text", "Bye."}}}},
                        {"stop_reason", "end_turn"}}};
        const QString transcript = m_dir.filePath("t.json");
        test::writeFile(
            transcript,
            QJsonDocument(QJsonObject{{"model", "claude-sonnet-4-6"}, {"turns", turns}}).toJson());
        const QString report = m_dir.filePath("report.json");
        const QString script = m_dir.filePath("run.sh");
        // The child gets the environment through env(1): argv only, nothing interpolated.
        QStringList command{"env",
                            "M1_JWT_SECRET=prompt-test-secret-0123456789abcdef0123",
                            "ANTHROPIC_API_KEY=",
                            "HOME=" + m_dir.path(),
                            "XDG_CONFIG_HOME=" + m_dir.filePath("config"),
                            "XDG_DATA_HOME=" + m_dir.filePath("data"),
                            QStringLiteral(M1CTL_PATH),
                            "--db",
                            m_dir.filePath("audit.sqlite"),
                            "run",
                            "--goal",
                            "prompt",
                            "--provider",
                            "replay",
                            "--transcript",
                            transcript,
                            "--workspace",
                            ws,
                            "--replay-pace",
                            "0"};
        QStringList args{"new-session", "-d", "-s", m_session, "-x", "200", "-y", "50"};
        args += command;
        test::runProgram("tmux", {"kill-session", "-t", m_session});
        const auto started = test::runProgram("tmux", args);
        QVERIFY2(started.exitCode == 0, started.err.constData());
        test::runProgram("tmux", {"set-option", "-t", m_session, "remain-on-exit", "on"});
        QVERIFY2(waitFor("Approve?"), qPrintable(pane()));
        QVERIFY(pane().contains("[0] touch"));
        QVERIFY(pane().contains("[1] denied-marker"));
        test::runProgram("tmux", {"send-keys", "-t", m_session, "n", "Enter"});
        QVERIFY2(waitFor("+++ b/a.txt"), qPrintable(pane()));
        QVERIFY(pane().contains("-alpha"));
        QVERIFY(pane().contains("+beta"));
        test::runProgram("tmux", {"send-keys", "-t", m_session, "y", "Enter"});
        QVERIFY2(waitFor("finished: completed"), qPrintable(pane()));
        test::runProgram("tmux", {"kill-session", "-t", m_session});
        QVERIFY(!QFile::exists(ws + "/denied-marker"));
        QCOMPARE(test::readFile(ws + "/a.txt"), QByteArray("beta\n"));
    }
};

QTEST_MAIN(TestApprovalPrompt)
#include "tst_approval_prompt.moc"
