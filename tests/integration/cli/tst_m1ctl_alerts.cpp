// m1ctl alerts end to end: alerts raised into a real SQLite audit store by this process, listed,
// filtered and resolved by the m1ctl program through the global --db option.
#include "TestSupport.h"

#include "monitoring/AlertManager.h"
#include "store/AuditStore.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

using m1::Alert;
using m1::test::ProcessResult;
using m1::test::runM1ctl;

class TestM1ctlAlerts : public QObject {
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_home;
    QString m_db;
    QString m_costId;
    QString m_policyId;

    QProcessEnvironment env() const {
        QProcessEnvironment e;
        e.insert(QStringLiteral("XDG_DATA_HOME"), m_home->filePath(QStringLiteral("data")));
        e.insert(QStringLiteral("XDG_CONFIG_HOME"), m_home->filePath(QStringLiteral("config")));
        return e;
    }
    ProcessResult m1ctl(QStringList args) const {
        args.prepend(m_db);
        args.prepend(QStringLiteral("--db"));
        return runM1ctl(args, env());
    }
    static QJsonArray alertsOf(const ProcessResult& r) {
        return QJsonDocument::fromJson(r.out).object().value(QStringLiteral("alerts")).toArray();
    }

private Q_SLOTS:
    void init() {
        m_home = std::make_unique<QTemporaryDir>();
        m_db = m_home->filePath(QStringLiteral("audit.sqlite"));
        auto store = m1::AuditStore::open(m_db);
        QVERIFY2(store, store ? "" : qPrintable(store.error().message));
        auto writer = (*store)->startWriter();
        QVERIFY(writer);
        m1::AlertManager alerts(writer->get(), (*store)->connectionName());
        m_costId = alerts
                       .raise(Alert::Category::CostThreshold, Alert::Level::Warning,
                              QStringLiteral("80% of the daily budget is used"))
                       .id;
        m_policyId =
            alerts
                .raise(Alert::Category::PolicyViolation, Alert::Level::Critical,
                       QStringLiteral("denied: rm -rf /\nforged line"), QStringLiteral("run-1"))
                .id;
        alerts.raise(Alert::Category::Performance, Alert::Level::Info,
                     QStringLiteral("slow tools"));
        QVERIFY(alerts.flush());
    }

    void listAll() {
        const ProcessResult r = m1ctl({QStringLiteral("alerts"), QStringLiteral("list")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY(r.out.contains(m_costId.toUtf8()));
        QVERIFY(r.out.contains("policy_violation"));
        // One line per alert, even when the message holds a line break.
        QCOMPARE(r.out.count('\n'), 3);
    }

    void filters() {
        ProcessResult r =
            m1ctl({QStringLiteral("alerts"), QStringLiteral("list"), QStringLiteral("--category"),
                   QStringLiteral("cost_threshold"), QStringLiteral("--json")});
        QCOMPARE(r.exitCode, 0);
        QJsonArray alerts = alertsOf(r);
        QCOMPARE(alerts.size(), 1);
        QCOMPARE(alerts.at(0).toObject().value(QStringLiteral("id")).toString(), m_costId);
        r = m1ctl({QStringLiteral("alerts"), QStringLiteral("list"), QStringLiteral("--level"),
                   QStringLiteral("critical"), QStringLiteral("--json")});
        alerts = alertsOf(r);
        QCOMPARE(alerts.size(), 1);
        QCOMPARE(alerts.at(0).toObject().value(QStringLiteral("run_id")).toString(),
                 QStringLiteral("run-1"));
        r = m1ctl({QStringLiteral("alerts"), QStringLiteral("list"), QStringLiteral("--category"),
                   QStringLiteral("nonsense")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(r.err.startsWith("m1ctl: "));
    }

    void resolve() {
        ProcessResult r = m1ctl({QStringLiteral("alerts"), QStringLiteral("resolve"), m_costId,
                                 QStringLiteral("--note"), QStringLiteral("budget raised")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        r = m1ctl({QStringLiteral("alerts"), QStringLiteral("list"), QStringLiteral("--open"),
                   QStringLiteral("--json")});
        QCOMPARE(r.exitCode, 0);
        const QJsonArray open = alertsOf(r);
        QCOMPARE(open.size(), 2);
        for (const QJsonValue& a : open)
            QVERIFY(a.toObject().value(QStringLiteral("id")).toString() != m_costId);
        r = m1ctl({QStringLiteral("alerts"), QStringLiteral("list"), QStringLiteral("--json")});
        bool found = false;
        for (const QJsonValue& a : alertsOf(r)) {
            const QJsonObject o = a.toObject();
            if (o.value(QStringLiteral("id")).toString() != m_costId)
                continue;
            found = true;
            QCOMPARE(o.value(QStringLiteral("open")).toBool(), false);
            QCOMPARE(o.value(QStringLiteral("resolution_note")).toString(),
                     QStringLiteral("budget raised"));
        }
        QVERIFY(found);
        // Twice: an error; an unknown id: an error.
        r = m1ctl({QStringLiteral("alerts"), QStringLiteral("resolve"), m_costId});
        QCOMPARE(r.exitCode, 1);
        QVERIFY(r.err.contains("already resolved"));
        r = m1ctl({QStringLiteral("alerts"), QStringLiteral("resolve"), QStringLiteral("nope")});
        QCOMPARE(r.exitCode, 1);
        r = m1ctl({QStringLiteral("alerts"), QStringLiteral("resolve")});
        QCOMPARE(r.exitCode, 2);
    }

    void help() {
        ProcessResult r =
            m1ctl({QStringLiteral("alerts"), QStringLiteral("list"), QStringLiteral("--help")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains("Exit status"));
        r = runM1ctl({QStringLiteral("--help")}, env());
        QVERIFY(r.out.contains("alerts list"));
    }
};

QTEST_GUILESS_MAIN(TestM1ctlAlerts)
#include "tst_m1ctl_alerts.moc"
