// m1ctl end to end: real processes, real files, the real ledger and (where stated) the real
// keychain of the test session. Each test gets its own data and config folders.
#include "TestSupport.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

using m1::test::ProcessResult;
using m1::test::readFile;
using m1::test::runM1ctl;
using m1::test::writeFile;

class TestM1ctl : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_home;
    QString m_workspace;
    QString m_outside;

    QProcessEnvironment env(bool withSecret = true) const {
        QProcessEnvironment e;
        e.insert(QStringLiteral("XDG_DATA_HOME"), m_home->filePath(QStringLiteral("data")));
        e.insert(QStringLiteral("XDG_CONFIG_HOME"), m_home->filePath(QStringLiteral("config")));
        if (withSecret)
            e.insert(QStringLiteral("M1_JWT_SECRET"),
                     QStringLiteral("cli-test-secret-0123456789abcdef0123456789"));
        return e;
    }
    ProcessResult m1ctl(const QStringList& args, const QByteArray& stdinData = {}) const {
        return runM1ctl(args, env(), stdinData);
    }
    static QJsonObject json(const ProcessResult& r) {
        return QJsonDocument::fromJson(r.out).object();
    }
    QString mint(const QString& tool, const QString& scope, const QString& args) const {
        const ProcessResult r =
            m1ctl({QStringLiteral("token"), QStringLiteral("mint"), QStringLiteral("--tool"), tool,
                   QStringLiteral("--scope"), scope, QStringLiteral("--args"), args});
        if (r.exitCode != 0)
            qWarning() << "mint failed:" << r.err;
        return QString::fromUtf8(r.out).trimmed();
    }

private Q_SLOTS:
    void init() {
        m_home = std::make_unique<QTemporaryDir>();
        QVERIFY(m_home->isValid());
        m_workspace = m_home->filePath(QStringLiteral("ws"));
        m_outside = m_home->filePath(QStringLiteral("outside"));
        QVERIFY(QDir().mkpath(m_workspace + QStringLiteral("/src")));
        QVERIFY(QDir().mkpath(m_outside));
        QVERIFY(writeFile(m_workspace + QStringLiteral("/README.md"), "hello\nworld\n"));
        QVERIFY(writeFile(m_outside + QStringLiteral("/secret.txt"), "outside\n"));
    }

    void versionAndHelp() {
        ProcessResult r = m1ctl({QStringLiteral("--version")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.startsWith("m1ctl "));
        r = m1ctl({QStringLiteral("--help")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains("Exit statuses"));
        QVERIFY(r.out.contains("policy check"));
        for (const QString& cmd : {QStringLiteral("policy check"), QStringLiteral("token mint"),
                                   QStringLiteral("token verify"), QStringLiteral("token revoke"),
                                   QStringLiteral("tool exec")}) {
            QStringList args = cmd.split(QLatin1Char(' '));
            args << QStringLiteral("--help");
            r = m1ctl(args);
            QCOMPARE(r.exitCode, 0);
            QVERIFY2(r.out.contains("Exit status"), qPrintable(cmd));
        }
    }

    void usageErrorsAreOneLineOnStderr() {
        ProcessResult r = m1ctl({QStringLiteral("frobnicate")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.startsWith("m1ctl: unknown command"));
        QCOMPARE(r.err.count('\n'), 1);
        r = m1ctl({QStringLiteral("token"), QStringLiteral("mint"), QStringLiteral("--bogus")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.contains("--bogus") || r.err.contains("bogus"));
        r = m1ctl({QStringLiteral("policy"), QStringLiteral("check"), QStringLiteral("--workspace"),
                   m_workspace, QStringLiteral("--tool"), QStringLiteral("read_file"),
                   QStringLiteral("--args"), QStringLiteral("{not json")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.contains("not valid JSON"));
    }

    void policyCheckDecisions_data() {
        QTest::addColumn<QString>("tool");
        QTest::addColumn<QString>("args");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("decision");
        QTest::newRow("read allowed by scope") << "read_file"
                                               << "{\"path\":\"README.md\"}" << 0 << "allow";
        QTest::newRow("write asks by scope")
            << "write_file"
            << "{\"path\":\"a.txt\",\"content\":\"x\"}" << 4 << "ask";
        QTest::newRow("command asks by scope") << "run_command"
                                               << "{\"argv\":[\"git\",\"status\"]}" << 4 << "ask";
        QTest::newRow("SBX-19/unknown tool") << "delete_everything"
                                             << "{\"path\":\"x\"}" << 3 << "deny";
        QTest::newRow("SBX-19/schema extra property")
            << "read_file"
            << "{\"path\":\"README.md\",\"mode\":\"x\"}" << 3 << "deny";
        QTest::newRow("SBX-01/outside workspace")
            << "read_file"
            << "{\"path\":\"../outside/secret.txt\"}" << 3 << "deny";
        QTest::newRow("SBX-16/assignment as program")
            << "run_command"
            << "{\"argv\":[\"TZ=x\",\"rm\",\"-rf\",\"y\"]}" << 3 << "deny";
    }
    void policyCheckDecisions() {
        QFETCH(QString, tool);
        QFETCH(QString, args);
        QFETCH(int, exitCode);
        QFETCH(QString, decision);
        const ProcessResult r =
            m1ctl({QStringLiteral("policy"), QStringLiteral("check"), QStringLiteral("--workspace"),
                   m_workspace, QStringLiteral("--tool"), tool, QStringLiteral("--args"), args,
                   QStringLiteral("--json")});
        QVERIFY2(r.exitCode == exitCode, r.out + r.err);
        const QJsonObject o = json(r);
        QCOMPARE(o.value(QStringLiteral("decision")).toString(), decision);
        QVERIFY(!o.value(QStringLiteral("reason")).toString().isEmpty());
    }

    void policyCheckNamesRuleAndFile() {
        const QString rules = m_home->filePath(QStringLiteral("rules.json"));
        QVERIFY(writeFile(rules, "{\"allow\":[\"run_command(git status*)\"],\"ask\":[],"
                                 "\"deny\":[\"run_command(rm -rf *)\"]}"));
        ProcessResult r = m1ctl(
            {QStringLiteral("policy"), QStringLiteral("check"), QStringLiteral("--workspace"),
             m_workspace, QStringLiteral("--rules"), rules, QStringLiteral("--tool"),
             QStringLiteral("run_command"), QStringLiteral("--args"),
             QStringLiteral("{\"argv\":[\"/bin/rm\",\"-fr\",\"src\"]}"), QStringLiteral("--json")});
        QCOMPARE(r.exitCode, 3);
        QJsonObject o = json(r);
        QCOMPARE(o.value(QStringLiteral("decision")).toString(), QStringLiteral("deny"));
        QCOMPARE(o.value(QStringLiteral("rule")).toString(),
                 QStringLiteral("run_command(rm -rf *)"));
        QCOMPARE(o.value(QStringLiteral("ruleFile")).toString(), rules);

        r = m1ctl({QStringLiteral("policy"), QStringLiteral("check"), QStringLiteral("--workspace"),
                   m_workspace, QStringLiteral("--rules"), rules, QStringLiteral("--tool"),
                   QStringLiteral("run_command"), QStringLiteral("--args"),
                   QStringLiteral("{\"argv\":[\"git\",\"status\",\"--short\"]}")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.startsWith("allow: "));
        QVERIFY(r.out.contains("git status*"));
    }

    void malformedRulesFileIsRefusedWithLine() {
        const QString rules = m_home->filePath(QStringLiteral("bad.json"));
        QVERIFY(writeFile(rules, "{\n  \"allow\": [\"read_file(src/**)\"],\n  \"deny\": "
                                 "[\"run_command(rm -rf *\"]\n}\n"));
        const ProcessResult r =
            m1ctl({QStringLiteral("policy"), QStringLiteral("check"), QStringLiteral("--workspace"),
                   m_workspace, QStringLiteral("--rules"), rules, QStringLiteral("--tool"),
                   QStringLiteral("read_file"), QStringLiteral("--args"),
                   QStringLiteral("{\"path\":\"src/a\"}")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("bad.json"), r.err);
        QVERIFY2(r.err.contains("3"), r.err); // the line of the broken rule
        const ProcessResult v =
            m1ctl({QStringLiteral("policy"), QStringLiteral("validate"), rules});
        QCOMPARE(v.exitCode, 1);
    }

    void missingConfiguredRulesFileIsAnError() {
        // The settings name a rules file that went missing: running without its deny rules
        // would be silent and dangerous.
        const QString settings =
            m_home->filePath(QStringLiteral("config/m1-agent-control/settings.json"));
        QVERIFY(writeFile(settings, QStringLiteral("{\"policyFile\":\"%1\"}")
                                        .arg(m_home->filePath(QStringLiteral("gone.json")))
                                        .toUtf8()));
        const ProcessResult r =
            m1ctl({QStringLiteral("tool"), QStringLiteral("exec"), QStringLiteral("--workspace"),
                   m_workspace, QStringLiteral("--tool"), QStringLiteral("read_file"),
                   QStringLiteral("--args"), QStringLiteral("{\"path\":\"README.md\"}")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("gone.json"), r.err);
        QVERIFY(r.out.isEmpty());
    }

    void readToolRunsWithoutTokenWhenPolicyAllows() {
        const ProcessResult r =
            m1ctl({QStringLiteral("tool"), QStringLiteral("exec"), QStringLiteral("--workspace"),
                   m_workspace, QStringLiteral("--tool"), QStringLiteral("read_file"),
                   QStringLiteral("--args"), QStringLiteral("{\"path\":\"README.md\"}"),
                   QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.err);
        const QJsonObject o = json(r);
        QCOMPARE(o.value(QStringLiteral("approver")).toString(), QStringLiteral("rule"));
        QVERIFY(o.value(QStringLiteral("result"))
                    .toObject()
                    .value(QStringLiteral("output"))
                    .toString()
                    .contains(QStringLiteral("world")));
        QVERIFY(!o.value(QStringLiteral("jti")).toString().isEmpty());
    }

    void writeWithoutTokenRefusedAndNothingWritten() {
        const ProcessResult r = m1ctl(
            {QStringLiteral("tool"), QStringLiteral("exec"), QStringLiteral("--workspace"),
             m_workspace, QStringLiteral("--tool"), QStringLiteral("write_file"),
             QStringLiteral("--args"), QStringLiteral("{\"path\":\"new.txt\",\"content\":\"x\"}")});
        QCOMPARE(r.exitCode, 3);
        QVERIFY(r.err.contains("approval required"));
        QVERIFY(!QFile::exists(m_workspace + QStringLiteral("/new.txt")));
    }

    void tokenRunsExactlyOneCallOnce() {
        const QString args = QStringLiteral("{\"content\":\"approved\\n\",\"path\":\"new.txt\"}");
        const QString token = mint(QStringLiteral("write_file"), QStringLiteral("write"), args);
        QVERIFY(!token.isEmpty());

        // Same arguments in another key order and spacing hash alike (canonical JSON).
        ProcessResult r =
            m1ctl({QStringLiteral("token"), QStringLiteral("verify"), token,
                   QStringLiteral("--tool"), QStringLiteral("write_file"), QStringLiteral("--args"),
                   QStringLiteral("{ \"path\": \"new.txt\", \"content\": \"approved\\n\" }"),
                   QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.out + r.err);
        QCOMPARE(json(r).value(QStringLiteral("valid")).toBool(), true);

        // JWT-16: other arguments are refused and nothing is written.
        r = m1ctl({QStringLiteral("tool"), QStringLiteral("exec"), QStringLiteral("--workspace"),
                   m_workspace, QStringLiteral("--tool"), QStringLiteral("write_file"),
                   QStringLiteral("--args"),
                   QStringLiteral("{\"path\":\"new.txt\",\"content\":\"tampered\\n\"}"),
                   QStringLiteral("--token"), token});
        QCOMPARE(r.exitCode, 3);
        QVERIFY2(r.err.contains("token.args"), r.err);
        QVERIFY(!QFile::exists(m_workspace + QStringLiteral("/new.txt")));

        // The exact call runs, once.
        r = m1ctl({QStringLiteral("tool"), QStringLiteral("exec"), QStringLiteral("--workspace"),
                   m_workspace, QStringLiteral("--tool"), QStringLiteral("write_file"),
                   QStringLiteral("--args"), args, QStringLiteral("--token"), token});
        QVERIFY2(r.exitCode == 0, r.err);
        QCOMPARE(readFile(m_workspace + QStringLiteral("/new.txt")), QByteArray("approved\n"));

        // Replay: the consumed token is refused, in a new process (the ledger persists).
        QVERIFY(writeFile(m_workspace + QStringLiteral("/new.txt"), "changed\n"));
        r = m1ctl({QStringLiteral("tool"), QStringLiteral("exec"), QStringLiteral("--workspace"),
                   m_workspace, QStringLiteral("--tool"), QStringLiteral("write_file"),
                   QStringLiteral("--args"), args, QStringLiteral("--token"), token});
        QCOMPARE(r.exitCode, 3);
        QVERIFY2(r.err.contains("token.consumed"), r.err);
        QCOMPARE(readFile(m_workspace + QStringLiteral("/new.txt")), QByteArray("changed\n"));
        QVERIFY2(!r.err.contains(token.toUtf8()), "the token must never appear in an error");
    }

    void revokedTokenStaysRevoked() {
        const QString args = QStringLiteral("{\"argv\":[\"touch\",\"made-by-token\"]}");
        const QString token = mint(QStringLiteral("run_command"), QStringLiteral("execute"), args);
        QVERIFY(!token.isEmpty());
        ProcessResult r = m1ctl({QStringLiteral("token"), QStringLiteral("revoke"), token});
        QVERIFY2(r.exitCode == 0, r.err);
        r = m1ctl({QStringLiteral("token"), QStringLiteral("verify"), token});
        QCOMPARE(r.exitCode, 3);
        QVERIFY(r.err.contains("token.revoked"));
        r = m1ctl({QStringLiteral("tool"), QStringLiteral("exec"), QStringLiteral("--workspace"),
                   m_workspace, QStringLiteral("--tool"), QStringLiteral("run_command"),
                   QStringLiteral("--args"), args, QStringLiteral("--token"), token});
        QCOMPARE(r.exitCode, 3);
        QVERIFY(!QFile::exists(m_workspace + QStringLiteral("/made-by-token")));
    }

    void commandRunsAsArgvWithToken() {
        const QString args =
            QStringLiteral("{\"argv\":[\"touch\",\"made\",\"&&\",\"touch\",\"canary\"]}");
        const QString token = mint(QStringLiteral("run_command"), QStringLiteral("execute"), args);
        const ProcessResult r =
            m1ctl({QStringLiteral("tool"), QStringLiteral("exec"), QStringLiteral("--workspace"),
                   m_workspace, QStringLiteral("--tool"), QStringLiteral("run_command"),
                   QStringLiteral("--args"), args, QStringLiteral("--token"), QStringLiteral("-")},
                  token.toUtf8());
        QVERIFY2(r.exitCode == 0, r.out + r.err);
        // touch got "&&" as a file name: no shell ever saw the string.
        QVERIFY(QFile::exists(m_workspace + QStringLiteral("/made")));
        QVERIFY(QFile::exists(m_workspace + QStringLiteral("/&&")));
        QVERIFY(QFile::exists(m_workspace + QStringLiteral("/canary")));
    }

    void toolFailureHasItsOwnExitStatus() {
        const QString args = QStringLiteral("{\"argv\":[\"false\"]}");
        const QString token = mint(QStringLiteral("run_command"), QStringLiteral("execute"), args);
        const ProcessResult r =
            m1ctl({QStringLiteral("tool"), QStringLiteral("exec"), QStringLiteral("--workspace"),
                   m_workspace, QStringLiteral("--tool"), QStringLiteral("run_command"),
                   QStringLiteral("--args"), args, QStringLiteral("--token"), token});
        QCOMPARE(r.exitCode, 5);
    }

    void lowScopeTokenRefused() {
        const QString args = QStringLiteral("{\"path\":\"x.txt\",\"content\":\"x\"}");
        const QString token = mint(QStringLiteral("write_file"), QStringLiteral("read"), args);
        QVERIFY(!token.isEmpty());
        const ProcessResult r =
            m1ctl({QStringLiteral("tool"), QStringLiteral("exec"), QStringLiteral("--workspace"),
                   m_workspace, QStringLiteral("--tool"), QStringLiteral("write_file"),
                   QStringLiteral("--args"), args, QStringLiteral("--token"), token});
        QCOMPARE(r.exitCode, 3);
        QVERIFY2(r.err.contains("token.scope"), r.err);
        QVERIFY(!QFile::exists(m_workspace + QStringLiteral("/x.txt")));
    }

    void ttlAboveMaximumRefused() {
        const ProcessResult r =
            m1ctl({QStringLiteral("token"), QStringLiteral("mint"), QStringLiteral("--tool"),
                   QStringLiteral("read_file"), QStringLiteral("--scope"), QStringLiteral("read"),
                   QStringLiteral("--args"), QStringLiteral("{}"), QStringLiteral("--ttl"),
                   QStringLiteral("86400")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.contains("token.ttl") || r.err.contains("300"));
    }

    void shortSecretRefusedClearly() {
        QProcessEnvironment e = env(false);
        e.insert(QStringLiteral("M1_JWT_SECRET"), QStringLiteral("too-short"));
        const ProcessResult r =
            runM1ctl({QStringLiteral("token"), QStringLiteral("mint"), QStringLiteral("--tool"),
                      QStringLiteral("read_file"), QStringLiteral("--scope"),
                      QStringLiteral("read"), QStringLiteral("--args"), QStringLiteral("{}")},
                     e);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("M1_JWT_SECRET") && r.err.contains("32"), r.err);
        QVERIFY(!r.err.contains("too-short"));
    }

    void SEC01_noKeychainSaysHowToFix() {
        QProcessEnvironment e = env(false);
        e.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"),
                 QStringLiteral("unix:path=/nonexistent/m1-no-bus"));
        const ProcessResult r =
            runM1ctl({QStringLiteral("token"), QStringLiteral("mint"), QStringLiteral("--tool"),
                      QStringLiteral("read_file"), QStringLiteral("--scope"),
                      QStringLiteral("read"), QStringLiteral("--args"), QStringLiteral("{}")},
                     e);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("M1_JWT_SECRET"), r.err);
        QVERIFY2(r.err.toLower().contains("keychain"), r.err);
        QVERIFY(r.out.isEmpty());
    }

    void keychainSecretIsCreatedOnceAndReused() {
        // No M1_JWT_SECRET: the secret comes from the test session's gnome-keyring.
        if (qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS"))
            QSKIP("no D-Bus session (scripts/test provides one with gnome-keyring)");
        const QProcessEnvironment e = env(false);
        const QString args = QStringLiteral("{\"path\":\"README.md\"}");
        ProcessResult r =
            runM1ctl({QStringLiteral("token"), QStringLiteral("mint"), QStringLiteral("--tool"),
                      QStringLiteral("read_file"), QStringLiteral("--scope"),
                      QStringLiteral("read"), QStringLiteral("--args"), args},
                     e);
        QVERIFY2(r.exitCode == 0, r.err);
        const QString token = QString::fromUtf8(r.out).trimmed();
        r = runM1ctl({QStringLiteral("token"), QStringLiteral("verify"), token}, e);
        QVERIFY2(r.exitCode == 0, r.err);
        r = runM1ctl({QStringLiteral("secret"), QStringLiteral("status")}, e);
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains("keychain"));
    }
};

QTEST_GUILESS_MAIN(TestM1ctl)
#include "tst_m1ctl.moc"
