// m1ctl tool exec leaves the same audit record as a run: a run with one call (agent m1ctl, goal
// "tool exec TOOL") whose proposal, policy decision, approval or denial and execution are audit
// events written through the AuditWriter, refusals included; history shows it; and when the
// approval cannot be recorded, the tool does not run (fail closed).
#include "TestSupport.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QUuid>
#include <QtTest>

using m1::test::ProcessResult;
using m1::test::runM1ctl;
using m1::test::writeFile;

class TestM1ctlExecAudit : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_home;
    QString m_workspace;
    QString m_db;

    QProcessEnvironment env() const {
        QProcessEnvironment e;
        e.insert(QStringLiteral("XDG_DATA_HOME"), m_home->filePath(QStringLiteral("data")));
        e.insert(QStringLiteral("XDG_CONFIG_HOME"), m_home->filePath(QStringLiteral("config")));
        e.insert(QStringLiteral("M1_JWT_SECRET"),
                 QStringLiteral("exec-audit-secret-0123456789abcdef0123456789"));
        return e;
    }
    ProcessResult m1ctl(QStringList args, const QByteArray& stdinData = {}) const {
        args.prepend(m_db);
        args.prepend(QStringLiteral("--db"));
        return runM1ctl(args, env(), stdinData);
    }
    ProcessResult exec(const QString& tool, const QString& args,
                       const QStringList& extra = {}) const {
        return m1ctl(QStringList{QStringLiteral("tool"), QStringLiteral("exec"),
                                 QStringLiteral("--workspace"), m_workspace,
                                 QStringLiteral("--tool"), tool, QStringLiteral("--args"), args} +
                     extra);
    }
    QString mint(const QString& tool, const QString& scope, const QString& args) const {
        const ProcessResult r =
            m1ctl({QStringLiteral("token"), QStringLiteral("mint"), QStringLiteral("--tool"), tool,
                   QStringLiteral("--scope"), scope, QStringLiteral("--args"), args});
        if (r.exitCode != 0)
            qWarning() << "mint failed:" << r.err;
        return QString::fromUtf8(r.out).trimmed();
    }

    // One column of a query on the audit database, as text.
    QStringList column(const QString& sql) const {
        QStringList values;
        const QString name = QUuid::createUuid().toString();
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
            db.setDatabaseName(m_db);
            if (db.open()) {
                QSqlQuery q(db);
                if (q.exec(sql)) {
                    while (q.next())
                        values << q.value(0).toString();
                } else {
                    values << QStringLiteral("SQL ERROR");
                }
            }
        }
        QSqlDatabase::removeDatabase(name);
        return values;
    }
    int count(const QString& sql) const { return column(sql).value(0).toInt(); }
    bool runSql(const QString& sql) const {
        bool ok = false;
        const QString name = QUuid::createUuid().toString();
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
            db.setDatabaseName(m_db);
            ok = db.open() && QSqlQuery(db).exec(sql);
        }
        QSqlDatabase::removeDatabase(name);
        return ok;
    }
    // The run a tool exec recorded (the only one in the store).
    QString onlyRun() const {
        const QStringList runs = column(QStringLiteral("SELECT run_id FROM runs"));
        return runs.size() == 1 ? runs.first() : QString();
    }
    QStringList eventKinds(const QString& runId) const {
        return column(
            QStringLiteral("SELECT kind FROM audit_events WHERE run_id = '%1' ORDER BY seq")
                .arg(runId));
    }

private Q_SLOTS:
    void init() {
        m_home = std::make_unique<QTemporaryDir>();
        QVERIFY(m_home->isValid());
        m_workspace = m_home->filePath(QStringLiteral("ws"));
        m_db = m_home->filePath(QStringLiteral("audit.sqlite"));
        QVERIFY(QDir().mkpath(m_workspace));
        QVERIFY(writeFile(m_workspace + QStringLiteral("/README.md"), "hello\n"));
    }

    // The review's repro: a command run with a token shows up in audit_events and history.
    void commandWithTokenIsAudited() {
        const QString args = QStringLiteral("{\"argv\":[\"touch\",\"x\"]}");
        const QString token = mint(QStringLiteral("run_command"), QStringLiteral("execute"), args);
        QVERIFY(!token.isEmpty());
        const int before = count(QStringLiteral("SELECT count(*) FROM audit_events"));
        const ProcessResult r = exec(QStringLiteral("run_command"), args,
                                     {QStringLiteral("--token"), token, QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY(QFile::exists(m_workspace + QStringLiteral("/x")));
        QVERIFY(count(QStringLiteral("SELECT count(*) FROM audit_events")) > before);

        const QString runId = onlyRun();
        QVERIFY(!runId.isEmpty());
        QCOMPARE(QJsonDocument::fromJson(r.out).object().value("runId").toString(), runId);
        QCOMPARE(eventKinds(runId),
                 (QStringList{"run.started", "call.proposed", "call.policy", "call.approved",
                              "call.executed", "run.finished"}));
        QCOMPARE(column("SELECT agent || '|' || goal || '|' || stop_reason || '|' || "
                        "calls_proposed || calls_approved || calls_executed FROM runs"),
                 QStringList{"m1ctl|tool exec run_command|completed|111"});
        QCOMPARE(column("SELECT status || '|' || approver_kind || '|' || policy_decision FROM "
                        "tool_calls"),
                 QStringList{"executed|token|ask"});
        // The approval names the token's jti, the one the ledger consumed.
        QCOMPARE(column("SELECT token_jti FROM tool_calls"),
                 column("SELECT jti FROM token_ledger WHERE state = 'consumed'"));

        const ProcessResult list =
            m1ctl({QStringLiteral("history"), QStringLiteral("list"), QStringLiteral("--agent"),
                   QStringLiteral("m1ctl"), QStringLiteral("--json")});
        QCOMPARE(list.exitCode, 0);
        const QJsonArray runs = QJsonDocument::fromJson(list.out).object().value("runs").toArray();
        QCOMPARE(runs.size(), 1);
        QCOMPARE(runs.at(0).toObject().value("runId").toString(), runId);
        const ProcessResult show =
            m1ctl({QStringLiteral("history"), QStringLiteral("show"), runId});
        QCOMPARE(show.exitCode, 0);
        QVERIFY2(show.out.contains("run_command"), show.out.constData());
        QCOMPARE(m1ctl({QStringLiteral("audit"), QStringLiteral("verify")}).exitCode, 0);
    }

    void policyAllowedReadIsAudited() {
        const ProcessResult r =
            exec(QStringLiteral("read_file"), QStringLiteral("{\"path\":\"README.md\"}"));
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QCOMPARE(r.out, QByteArray("hello\n")); // stdout stays the tool's output
        const QString runId = onlyRun();
        QCOMPARE(eventKinds(runId).value(3), QStringLiteral("call.approved"));
        QCOMPARE(column("SELECT status || '|' || approver_kind || '|' || approver FROM tool_calls"),
                 QStringList{"executed|rule|policy"});
    }

    void toolFailureIsAudited() {
        const QString args = QStringLiteral("{\"argv\":[\"false\"]}");
        const QString token = mint(QStringLiteral("run_command"), QStringLiteral("execute"), args);
        const ProcessResult r =
            exec(QStringLiteral("run_command"), args, {QStringLiteral("--token"), token});
        QCOMPARE(r.exitCode, 5);
        QCOMPARE(eventKinds(onlyRun()).value(4), QStringLiteral("call.failed"));
        QCOMPARE(column("SELECT status FROM tool_calls"), QStringList{"failed"});
        QCOMPARE(column("SELECT calls_failed FROM runs"), QStringList{"1"});
    }

    // Refusals are recorded too: the proposal, the decision and the denial, and nothing ran.
    void refusalsAreAudited_data() {
        QTest::addColumn<QString>("tool");
        QTest::addColumn<QString>("args");
        QTest::addColumn<QString>("token"); // "" none, "garbage", "other" (minted for other args)
        QTest::addColumn<QString>("approverKind");
        QTest::addColumn<QString>("reasonPart");
        QTest::newRow("denied by policy") << "read_file"
                                          << "{\"path\":\"../outside.txt\"}"
                                          << ""
                                          << "rule"
                                          << "";
        // Nobody could approve (no --token): no approver kind, not a rule's denial.
        QTest::newRow("approval missing") << "write_file"
                                          << "{\"path\":\"new.txt\",\"content\":\"x\"}"
                                          << ""
                                          << ""
                                          << "approval required";
        QTest::newRow("malformed token") << "write_file"
                                         << "{\"path\":\"new.txt\",\"content\":\"x\"}"
                                         << "garbage"
                                         << "token"
                                         << "token.malformed";
        QTest::newRow("token for other arguments") << "write_file"
                                                   << "{\"path\":\"new.txt\",\"content\":\"x\"}"
                                                   << "other"
                                                   << "token"
                                                   << "token.args";
    }
    void refusalsAreAudited() {
        QFETCH(QString, tool);
        QFETCH(QString, args);
        QFETCH(QString, token);
        QFETCH(QString, approverKind);
        QFETCH(QString, reasonPart);
        QStringList extra;
        if (token == QLatin1String("garbage"))
            extra = {QStringLiteral("--token"), QStringLiteral("not-a-token")};
        else if (token == QLatin1String("other"))
            extra = {QStringLiteral("--token"),
                     mint(tool, QStringLiteral("write"),
                          QStringLiteral("{\"path\":\"new.txt\",\"content\":\"other\"}"))};
        const ProcessResult r = exec(tool, args, extra);
        QCOMPARE(r.exitCode, 3);
        QVERIFY(!QFile::exists(m_workspace + QStringLiteral("/new.txt")));
        const QString runId = onlyRun();
        QVERIFY(!runId.isEmpty());
        QCOMPARE(eventKinds(runId), (QStringList{"run.started", "call.proposed", "call.policy",
                                                 "call.denied", "run.finished"}));
        QCOMPARE(column("SELECT status || '|' || coalesce(approver_kind, '') FROM tool_calls"),
                 QStringList{"denied|" + approverKind});
        QVERIFY2(column("SELECT decision_reason FROM tool_calls").value(0).contains(reasonPart),
                 qPrintable(column("SELECT decision_reason FROM tool_calls").value(0)));
        QCOMPARE(column("SELECT stop_reason || '|' || calls_denied FROM runs"),
                 QStringList{"completed|1"});
        QCOMPARE(count("SELECT count(*) FROM token_ledger"), 0);
    }

    // Fail closed: when the store refuses the approval, the tool does not run and the token is
    // not spent.
    void unrecordedApprovalRunsNothing() {
        const QString args = QStringLiteral("{\"argv\":[\"touch\",\"must-not-exist\"]}");
        const QString token = mint(QStringLiteral("run_command"), QStringLiteral("execute"), args);
        // Create the store, then make it refuse every approval.
        QCOMPARE(
            exec(QStringLiteral("read_file"), QStringLiteral("{\"path\":\"README.md\"}")).exitCode,
            0);
        QVERIFY(runSql("CREATE TRIGGER refuse_approvals BEFORE UPDATE OF status ON tool_calls WHEN "
                       "NEW.status = 'approved' BEGIN SELECT RAISE(ABORT, 'approvals refused "
                       "(test)'); END"));
        const ProcessResult r =
            exec(QStringLiteral("run_command"), args, {QStringLiteral("--token"), token});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("nothing ran"), r.err.constData());
        QVERIFY(!QFile::exists(m_workspace + QStringLiteral("/must-not-exist")));
        QCOMPARE(count("SELECT count(*) FROM token_ledger"), 1); // only the read's minted token
        QCOMPARE(column("SELECT stop_reason FROM runs WHERE goal = 'tool exec run_command'"),
                 QStringList{"audit_failed"});
    }
};

QTEST_GUILESS_MAIN(TestM1ctlExecAudit)
#include "tst_m1ctl_exec_audit.moc"
