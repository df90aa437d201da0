#pragma once

#include "model/Alert.h"
#include "monitoring/AlertRepository.h"
#include "store/AuditWriter.h"
#include "util/Error.h"

#include <QCoreApplication>
#include <QHash>
#include <QList>
#include <QMutex>
#include <QObject>

#include <deque>
#include <functional>
#include <optional>

namespace m1 {

class Telemetry;

struct AlertManagerOptions {
    qint64 dedupeWindowMs = 5 * 60 * 1000;
    int maxPerCategoryPerMinute = 20;
    std::function<qint64()> clock; // ms since the epoch; empty: the system clock
};

// Raises, lists and resolves alerts. Alerts are persisted through the audit writer
// (alert.raised / alert.resolved events, asynchronously: raise() never waits for the database,
// so the UI thread may call it) and read back from the store's `alerts` table together with the
// alerts of this process whose write is still under way.
//
// Repeated alerts are folded: the same category, dedupe key (default: the message) and run within
// dedupeWindowMs of an open alert returns that alert's id instead of a new one; and at most
// maxPerCategoryPerMinute new alerts per category are raised, the rest only counted
// (suppressedCount()). Callbacks run on the thread that raised the alert, outside any lock; the
// GUI connects to the alertRaised signal (queued to its thread) or subscribes per category.
//
// Thread-safety: raise() and resolve() from any thread; list(), find() and statistics() read the
// store on the connection given to the constructor, so call them on the thread that opened it.
// A program whose UI thread holds no connection (the desktop) constructs it without one, reads
// the stored alerts on a worker (AlertRepository on the worker's own connection) and passes them
// to merge() and resolve(const Alert&) here, which touch no database.
class AlertManager : public QObject {
    Q_OBJECT

public:
    using Options = AlertManagerOptions;
    struct Raised {
        QString id;              // the new alert, or the open one it was folded into
        bool suppressed = false; // folded into an existing alert or rate-limited
    };
    using Callback = std::function<void(const Alert&)>;

    // writer: where alerts are persisted (may be null: in memory only). readConnection: a store
    // connection name for list()/find()/statistics() (may be empty: this process's alerts only).
    explicit AlertManager(AuditWriter* writer = nullptr, QString readConnection = {},
                          Options options = Options(), QObject* parent = nullptr);
    ~AlertManager() override;

    void setTelemetry(Telemetry* telemetry) { m_telemetry = telemetry; }
    // For a writer that starts after the manager (the desktop opens the store on a worker):
    // what was raised or resolved before is written now, in order. Set once.
    void setWriter(AuditWriter* writer);

    Raised raise(Alert::Category category, Alert::Level level, const QString& message,
                 const QString& runId = {}, const QJsonObject& details = {},
                 const QString& dedupeKey = {});
    // "alert.not_found", "alert.already_resolved", "alert.query"; the write itself completes
    // asynchronously: flush() reports its result.
    Status resolve(const QString& alertId, const QString& note);
    // The same for an alert the caller read from the store itself (this process's newer state
    // of it wins); no database access.
    Status resolve(const Alert& stored, const QString& note);
    // Waits until every write submitted so far is acknowledged; the first failure, if any.
    // Not on the UI thread.
    Status flush(int timeoutMs = 10000);

    Result<QList<Alert>> list(const AlertFilter& filter = {}) const;
    // What list() returns, for alerts the caller read from the store itself (AlertRepository on
    // a connection of its own): this process's newer states and its alerts whose write is still
    // under way merged in, filtered, newest first, limited. No database access.
    QList<Alert> merge(QList<Alert> stored, const AlertFilter& filter) const;
    Result<std::optional<Alert>> find(const QString& alertId) const;
    Result<QHash<Alert::Category, AlertCategoryStats>> statistics() const;
    quint64 suppressedCount() const;

    // category empty: every category. Returns an id for unsubscribe().
    int subscribe(std::optional<Alert::Category> category, Callback callback);
    void unsubscribe(int id);

signals:
    void alertRaised(const m1::Alert& alert);
    void alertResolved(const QString& alertId);

private:
    qint64 now() const;
    Status resolveKnown(Alert alert, const QString& note);
    // Submits to the writer, or keeps it for setWriter(). Under m_mutex.
    void persist(const AuditEvent& event);

    AuditWriter* m_writer;
    AlertRepository m_repository;
    bool m_hasStore;
    Options m_options;
    Telemetry* m_telemetry = nullptr;

    mutable QMutex m_mutex;
    QHash<QString, Alert> m_alerts;            // raised or resolved by this process
    QHash<QString, QString> m_openByDedupeKey; // dedupe key -> alert id
    QHash<Alert::Category, std::deque<qint64>> m_recentByCategory;
    QList<AuditWriter::Ticket> m_pending;
    QList<AuditEvent> m_unwritten; // raised or resolved before there was a writer
    quint64 m_suppressed = 0;
    struct Subscription {
        int id;
        std::optional<Alert::Category> category;
        Callback callback;
    };
    QList<Subscription> m_subscriptions;
    int m_nextSubscription = 1;
};

} // namespace m1

Q_DECLARE_METATYPE(m1::Alert)
