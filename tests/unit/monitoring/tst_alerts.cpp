// The alert manager through a real SQLite audit store: raise, filter, resolve, statistics,
// callbacks, folding of repeats; persisted alerts read back by a fresh manager.
#include "monitoring/AlertManager.h"
#include "monitoring/AlertRepository.h"
#include "monitoring/SecretRedactor.h"
#include "store/AuditStore.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using m1::Alert;
using m1::AlertFilter;
using m1::AlertManager;

class TestAlerts : public QObject {
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<m1::AuditStore> m_store;
    std::unique_ptr<m1::AuditWriter> m_writer;
    qint64 m_now = 1764000000000;
    m1::SecretRedactor m_redactor;

    AlertManager::Options options() {
        AlertManager::Options o;
        o.clock = [this] { return m_now; };
        return o;
    }

private Q_SLOTS:
    void init() {
        m_dir = std::make_unique<QTemporaryDir>();
        m1::StoreConfig config;
        config.textFilter = m_redactor.textFilter();
        auto store = m1::AuditStore::open(m_dir->filePath(QStringLiteral("audit.sqlite")), config);
        QVERIFY2(store, store ? "" : qPrintable(store.error().message));
        m_store = std::move(*store);
        auto writer = m_store->startWriter();
        QVERIFY(writer);
        m_writer = std::move(*writer);
    }
    void cleanup() {
        m_writer.reset();
        m_store.reset();
    }

    void raiseFilterResolve() {
        AlertManager alerts(m_writer.get(), m_store->connectionName(), options());
        const auto a = alerts.raise(Alert::Category::PolicyViolation, Alert::Level::Critical,
                                    QStringLiteral("rm -rf / was proposed"), QStringLiteral("r1"));
        m_now += 1000;
        const auto b = alerts.raise(Alert::Category::ExecutionError, Alert::Level::Warning,
                                    QStringLiteral("grep failed"), QStringLiteral("r1"));
        m_now += 1000;
        const auto c =
            alerts.raise(Alert::Category::Performance, Alert::Level::Info, QStringLiteral("slow"),
                         {}, QJsonObject{{QStringLiteral("p95"), 31.5}});
        QVERIFY(!a.suppressed && !b.suppressed && !c.suppressed);
        QVERIFY(alerts.flush());

        AlertManager fresh(nullptr, m_store->connectionName());
        auto all = fresh.list();
        QVERIFY(all);
        QCOMPARE(all->size(), 3);
        QCOMPARE(all->first().id, c.id); // newest first
        QCOMPARE(all->first().details.value(QStringLiteral("p95")).toDouble(), 31.5);

        AlertFilter byCategory;
        byCategory.category = Alert::Category::ExecutionError;
        QCOMPARE(fresh.list(byCategory)->size(), 1);
        QCOMPARE(fresh.list(byCategory)->first().id, b.id);
        AlertFilter byLevel;
        byLevel.level = Alert::Level::Critical;
        QCOMPARE(fresh.list(byLevel)->first().id, a.id);
        AlertFilter byRun;
        byRun.runId = QStringLiteral("r1");
        QCOMPARE(fresh.list(byRun)->size(), 2);

        QVERIFY(alerts.resolve(a.id, QStringLiteral("policy tightened")));
        QVERIFY(alerts.flush());
        AlertFilter open;
        open.openOnly = true;
        QCOMPARE(fresh.list(open)->size(), 2);
        const auto resolved = fresh.find(a.id);
        QVERIFY(resolved && resolved->has_value());
        QVERIFY(!(*resolved)->isOpen());
        QCOMPARE((*resolved)->resolutionNote, QStringLiteral("policy tightened"));

        const auto again = fresh.resolve(a.id, {});
        QVERIFY(!again);
        QCOMPARE(again.error().code, QStringLiteral("alert.already_resolved"));
        const auto unknown = fresh.resolve(QStringLiteral("no-such-id"), {});
        QVERIFY(!unknown);
        QCOMPARE(unknown.error().code, QStringLiteral("alert.not_found"));

        const auto stats = fresh.statistics();
        QVERIFY(stats);
        QCOMPARE(stats->value(Alert::Category::PolicyViolation).total, qint64(1));
        QCOMPARE(stats->value(Alert::Category::PolicyViolation).open, qint64(0));
        QCOMPARE(stats->value(Alert::Category::ExecutionError).open, qint64(1));
        QCOMPARE(stats->value(Alert::Category::Performance).info, qint64(1));
    }

    void listIncludesAlertsNotYetWritten() {
        AlertManager alerts(m_writer.get(), m_store->connectionName(), options());
        alerts.raise(Alert::Category::TokenExpired, Alert::Level::Warning, QStringLiteral("late"));
        QCOMPARE(alerts.list()->size(), 1); // written or not, it is listed
        QVERIFY(alerts.flush());
        QCOMPARE(alerts.list()->size(), 1); // and not twice once written
    }

    // The desktop's way: no store connection in the manager (its thread holds none); the stored
    // alerts are read elsewhere and merged, resolved from the record; the writer comes later and
    // then writes what was raised before it.
    void withoutConnectionMergeAndLateWriter() {
        {
            AlertManager other(m_writer.get(), m_store->connectionName(), options());
            other.raise(Alert::Category::ExecutionError, Alert::Level::Warning,
                        QStringLiteral("stored by another process"));
            QVERIFY(other.flush());
        }
        AlertManager alerts(nullptr, {}, options());
        m_now += 1000;
        const auto early = alerts.raise(Alert::Category::Performance, Alert::Level::Critical,
                                        QStringLiteral("before the writer"));
        const m1::AlertRepository repository(m_store->connectionName());
        auto stored = repository.list({});
        QVERIFY(stored);
        QCOMPARE(stored->size(), 1);
        QList<Alert> merged = alerts.merge(*stored, {});
        QCOMPARE(merged.size(), 2);
        QCOMPARE(merged.at(0).message, QStringLiteral("before the writer")); // newest first
        AlertFilter critical;
        critical.level = Alert::Level::Critical;
        QCOMPARE(alerts.merge(*stored, critical).size(), 1);
        // Resolving the stored one needs only its record.
        QVERIFY(alerts.resolve(stored->at(0), QStringLiteral("seen")));
        QCOMPARE(alerts.resolve(stored->at(0), QStringLiteral("again")).error().code,
                 QStringLiteral("alert.already_resolved"));
        AlertFilter open;
        open.openOnly = true;
        QCOMPARE(alerts.merge(*stored, open).size(), 1);
        // The writer arrives: the early alert and the resolution are written, in order.
        alerts.setWriter(m_writer.get());
        QVERIFY(alerts.flush());
        const auto after = repository.list({});
        QVERIFY(after);
        QCOMPARE(after->size(), 2);
        const auto found = repository.find(early.id);
        QVERIFY(found && *found);
        QCOMPARE((*found)->message, QStringLiteral("before the writer"));
        QVERIFY((*found)->isOpen());
        const auto resolved = repository.find(stored->at(0).id);
        QVERIFY(resolved && *resolved);
        QCOMPARE((*resolved)->resolutionNote, QStringLiteral("seen"));
    }

    void repeatsAreFolded() {
        AlertManager alerts(m_writer.get(), m_store->connectionName(), options());
        const auto first = alerts.raise(Alert::Category::ApprovalDenied, Alert::Level::Info,
                                        QStringLiteral("denied"), QStringLiteral("r1"));
        m_now += 60 * 1000;
        const auto second = alerts.raise(Alert::Category::ApprovalDenied, Alert::Level::Info,
                                         QStringLiteral("denied"), QStringLiteral("r1"));
        QVERIFY(second.suppressed);
        QCOMPARE(second.id, first.id);
        // Another run is another alert.
        QVERIFY(!alerts
                     .raise(Alert::Category::ApprovalDenied, Alert::Level::Info,
                            QStringLiteral("denied"), QStringLiteral("r2"))
                     .suppressed);
        // After the window, or once resolved, a repeat is new.
        QVERIFY(alerts.resolve(first.id, {}));
        QVERIFY(!alerts
                     .raise(Alert::Category::ApprovalDenied, Alert::Level::Info,
                            QStringLiteral("denied"), QStringLiteral("r1"))
                     .suppressed);
        QCOMPARE(alerts.suppressedCount(), quint64(1));
        QVERIFY(alerts.flush());
    }

    void rateLimitPerCategory() {
        AlertManager::Options o = options();
        o.maxPerCategoryPerMinute = 3;
        AlertManager alerts(nullptr, {}, o);
        for (int i = 0; i < 5; ++i)
            alerts.raise(Alert::Category::ExecutionError, Alert::Level::Warning,
                         QStringLiteral("failure %1").arg(i));
        QCOMPARE(alerts.list()->size(), 3);
        QCOMPARE(alerts.suppressedCount(), quint64(2));
        // Other categories are not held back.
        QVERIFY(!alerts.raise(Alert::Category::Performance, Alert::Level::Info, QStringLiteral("x"))
                     .suppressed);
        m_now += 61 * 1000;
        QVERIFY(!alerts
                     .raise(Alert::Category::ExecutionError, Alert::Level::Warning,
                            QStringLiteral("failure later"))
                     .suppressed);
    }

    void callbacksPerCategory() {
        AlertManager alerts(nullptr, {}, options());
        QStringList costs;
        QStringList everything;
        alerts.subscribe(Alert::Category::CostThreshold,
                         [&](const Alert& a) { costs << a.message; });
        const int all =
            alerts.subscribe(std::nullopt, [&](const Alert& a) { everything << a.message; });
        QSignalSpy spy(&alerts, &AlertManager::alertRaised);
        alerts.raise(Alert::Category::CostThreshold, Alert::Level::Warning, QStringLiteral("80%"));
        alerts.raise(Alert::Category::Performance, Alert::Level::Warning, QStringLiteral("slow"));
        alerts.unsubscribe(all);
        alerts.raise(Alert::Category::CostThreshold, Alert::Level::Critical,
                     QStringLiteral("100%"));
        QCOMPARE(costs, QStringList({QStringLiteral("80%"), QStringLiteral("100%")}));
        QCOMPARE(everything, QStringList({QStringLiteral("80%"), QStringLiteral("slow")}));
        QCOMPARE(spy.count(), 3);
    }

    void storedTextIsRedacted() {
        const QString key = QStringLiteral(
            "sk-ant-api03-FAKE0TEST0KEY0NOT0REAL0xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxAA");
        AlertManager alerts(m_writer.get(), m_store->connectionName(), options());
        const auto r = alerts.raise(Alert::Category::ExecutionError, Alert::Level::Warning,
                                    QStringLiteral("curl failed with key ") + key);
        QVERIFY(alerts.resolve(r.id, QStringLiteral("rotated ") + key));
        QVERIFY(alerts.flush());
        AlertManager fresh(nullptr, m_store->connectionName());
        const auto stored = fresh.find(r.id);
        QVERIFY(stored && stored->has_value());
        QVERIFY(!(*stored)->message.contains(QLatin1String("FAKE0TEST")));
        QVERIFY((*stored)->message.contains(QLatin1String("[REDACTED]")));
        QVERIFY(!(*stored)->resolutionNote.contains(QLatin1String("FAKE0TEST")));
    }
};

QTEST_GUILESS_MAIN(TestAlerts)
#include "tst_alerts.moc"
