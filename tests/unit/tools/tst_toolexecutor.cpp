// I1: ToolExecutor runs a call only with a token that verifies and names exactly that call, once;
// with a policy guard, a deny wins over any token.
#include "TestSupport.h"

#include "policy/PolicyEngine.h"
#include "tokens/TokenLedger.h"
#include "tokens/TokenService.h"
#include "tools/ToolExecutor.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <unistd.h>

using namespace m1;

class TestToolExecutor : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::optional<Workspace> m_workspace;
    std::optional<TokenService> m_tokens;
    std::unique_ptr<TokenLedger> m_ledger;
    ToolRegistry m_registry = ToolRegistry::withBuiltins();

    QString ws(const QString& relative) const {
        return m_dir->filePath(QStringLiteral("ws/") + relative);
    }
    static QJsonObject writeArgs(const QString& path, const QString& content) {
        return {{QStringLiteral("path"), path}, {QStringLiteral("content"), content}};
    }
    QString mint(const QString& tool, Scope scope, const QJsonObject& args,
                 const QString& runId = QString()) const {
        return m_tokens->mint(tool, scope, args, runId).value();
    }

private Q_SLOTS:
    void initTestCase() { test::useWorkspaceWayFromEnvironment(); }
    void cleanupTestCase() { QVERIFY(test::workspaceWayWasTaken()); }

    void init() {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(QDir().mkpath(ws(QStringLiteral("docs"))));
        QVERIFY(m1::test::writeFile(ws(QStringLiteral(".env")), "KEY=secret\n"));
        QVERIFY(m1::test::writeFile(ws(QStringLiteral("docs/real.md")), "docs\n"));
        m_workspace.emplace(*Workspace::open(m_dir->filePath(QStringLiteral("ws"))));
        m_tokens.emplace(*TokenService::create(m1::test::testSecret()));
        auto ledger = TokenLedger::open(m_dir->filePath(QStringLiteral("ledger.sqlite")));
        QVERIFY2(ledger.has_value(), qPrintable(ledger ? QString() : ledger.error().message));
        m_ledger = std::move(*ledger);
    }
    void cleanup() {
        m_ledger.reset();
        m_workspace.reset();
    }

    void runsExactCallOnce() {
        const ToolExecutor executor(m_registry, *m_workspace, *m_tokens, *m_ledger);
        const ToolCall call{QStringLiteral("t1"), QStringLiteral("run-1"),
                            QStringLiteral("write_file"),
                            writeArgs(QStringLiteral("a.txt"), QStringLiteral("one"))};
        const QString token = mint(call.toolName, Scope::Write, call.arguments, call.runId);
        auto outcome = executor.execute(call, token);
        QVERIFY2(outcome.result.has_value(), qPrintable(outcome.result.error().message));
        QVERIFY(outcome.tokenConsumed);
        QCOMPARE(m1::test::readFile(ws(QStringLiteral("a.txt"))), QByteArray("one"));

        QVERIFY(m1::test::writeFile(ws(QStringLiteral("a.txt")), "changed"));
        outcome = executor.execute(call, token);
        QVERIFY(!outcome.result.has_value());
        QCOMPARE(outcome.result.error().code, QStringLiteral("token.consumed"));
        QCOMPARE(m1::test::readFile(ws(QStringLiteral("a.txt"))), QByteArray("changed"));
    }

    void refusesWhatTheTokenDoesNotName_data() {
        QTest::addColumn<QString>("tool");
        QTest::addColumn<QJsonObject>("args");
        QTest::addColumn<QString>("runId");
        QTest::addColumn<QString>("code");
        const QJsonObject approved = writeArgs(QStringLiteral("a.txt"), QStringLiteral("one"));
        QTest::newRow("JWT-16/other content")
            << "write_file" << writeArgs(QStringLiteral("a.txt"), QStringLiteral("two")) << "run-1"
            << "token.args";
        QTest::newRow("JWT-16/other path")
            << "write_file" << writeArgs(QStringLiteral("b.txt"), QStringLiteral("one")) << "run-1"
            << "token.args";
        QTest::newRow("other run") << "write_file" << approved << "run-2"
                                   << "token.run";
        QTest::newRow("other tool")
            << "edit_file"
            << QJsonObject{{QStringLiteral("path"), QStringLiteral("a.txt")},
                           {QStringLiteral("old_string"), QStringLiteral("x")},
                           {QStringLiteral("new_string"), QStringLiteral("y")}}
            << "run-1"
            << "token.tool";
        QTest::newRow("SBX-19/unknown tool") << "delete_everything" << approved << "run-1"
                                             << "tool.unknown";
        QTest::newRow("SBX-19/extra argument")
            << "write_file"
            << QJsonObject{{QStringLiteral("path"), QStringLiteral("a.txt")},
                           {QStringLiteral("content"), QStringLiteral("one")},
                           {QStringLiteral("mode"), QStringLiteral("0777")}}
            << "run-1"
            << "schema.invalid";
    }
    void refusesWhatTheTokenDoesNotName() {
        QFETCH(QString, tool);
        QFETCH(QJsonObject, args);
        QFETCH(QString, runId);
        QFETCH(QString, code);
        const ToolExecutor executor(m_registry, *m_workspace, *m_tokens, *m_ledger);
        const QString token = mint(QStringLiteral("write_file"), Scope::Write,
                                   writeArgs(QStringLiteral("a.txt"), QStringLiteral("one")),
                                   QStringLiteral("run-1"));
        const auto outcome =
            executor.execute(ToolCall{QStringLiteral("t"), runId, tool, args}, token);
        QVERIFY(!outcome.result.has_value());
        QCOMPARE(outcome.result.error().code, code);
        QVERIFY(!outcome.tokenConsumed);
        QVERIFY(!QFile::exists(ws(QStringLiteral("a.txt"))));
        QVERIFY(!QFile::exists(ws(QStringLiteral("b.txt"))));
        QVERIFY(!outcome.result.error().message.contains(token));
    }

    void noTokenNoRun() {
        const ToolExecutor executor(m_registry, *m_workspace, *m_tokens, *m_ledger);
        const ToolCall call{QStringLiteral("t"), QString(), QStringLiteral("read_file"),
                            QJsonObject{{QStringLiteral("path"), QStringLiteral("docs/real.md")}}};
        const auto outcome = executor.execute(call, QString());
        QVERIFY(!outcome.result.has_value());
        QCOMPARE(outcome.result.error().code, QStringLiteral("token.missing"));
    }

    void guardDeniesDespiteValidToken() {
        const auto rules =
            PolicyRules::parse("{\"deny\":[\"read_file(.env)\"]}", QStringLiteral("rules.json"));
        QVERIFY(rules.has_value());
        const PolicyEngine engine(m_registry, *m_workspace, PolicyConfig(), *rules);
        ToolExecutor executor(m_registry, *m_workspace, *m_tokens, *m_ledger);
        executor.setPolicyGuard(&engine);

        // A token someone minted for a denied call.
        const ToolCall denied{QStringLiteral("t"), QString(), QStringLiteral("read_file"),
                              QJsonObject{{QStringLiteral("path"), QStringLiteral(".env")}}};
        auto outcome =
            executor.execute(denied, mint(denied.toolName, Scope::Read, denied.arguments));
        QVERIFY(!outcome.result.has_value());
        QCOMPARE(outcome.result.error().code, QStringLiteral("policy.denied"));
        QVERIFY(!outcome.tokenConsumed);

        // Approved while docs/link.md pointed at docs/real.md; pointed at .env before it ran.
        QVERIFY(::symlink("real.md",
                          ws(QStringLiteral("docs/link.md")).toLocal8Bit().constData()) == 0);
        const ToolCall viaLink{
            QStringLiteral("t2"), QString(), QStringLiteral("read_file"),
            QJsonObject{{QStringLiteral("path"), QStringLiteral("docs/link.md")}}};
        QVERIFY(engine.evaluate(viaLink, RunState()).isAllow());
        const QString token = mint(viaLink.toolName, Scope::Read, viaLink.arguments);
        QVERIFY(QFile::remove(ws(QStringLiteral("docs/link.md"))));
        QVERIFY(::symlink("../.env",
                          ws(QStringLiteral("docs/link.md")).toLocal8Bit().constData()) == 0);
        outcome = executor.execute(viaLink, token);
        QVERIFY(!outcome.result.has_value());
        QCOMPARE(outcome.result.error().code, QStringLiteral("policy.denied"));
    }
};

QTEST_GUILESS_MAIN(TestToolExecutor)
#include "tst_toolexecutor.moc"
