#pragma once

#include "store/AuditEvent.h"
#include "store/StoreConfig.h"
#include "util/Error.h"

#include <QFuture>
#include <QMutex>
#include <QObject>
#include <QThread>
#include <QWaitCondition>

#include <memory>

namespace m1 {

class AuditWriterWorker;

// The committed sequence number of an event in the audit chain, or why it was not committed.
using AuditAck = Result<qint64>;

// The one writer of audit events: its own thread, its own connection. submit() queues an event,
// or a batch of events, and returns at once; each submission is committed in its own transaction
// (chain rows + projections) in submission order, and then acknowledged. The run loop waits for
// the acknowledgement before the next step: "approved" must be durable before the tool runs,
// "executed" before its result goes back to the model. An error acknowledgement means nothing of
// that submission was written, and the caller must fail closed (not run the tool).
class AuditWriter : public QObject {
    Q_OBJECT

public:
    struct Ticket {
        quint64 id = 0; // 1, 2, 3... in submission order, per writer
        QFuture<AuditAck> ack;
    };

    // Opens the writer's connection on its thread. The schema must be current: open the store
    // with AuditStore::open() first, which migrates.
    static Result<std::unique_ptr<AuditWriter>> start(const StoreConfig& config);
    // Writes everything still queued, then closes the connection and stops the thread.
    ~AuditWriter() override;

    // What kind of failure an error acknowledgement reports, from its code: StorageFull
    // ("store.full": disk full, SQLite max_page_count, PostgreSQL 53100/53200), ReadOnly
    // ("store.readonly": file, folder or database made read-only) or Other (busy, corrupt, lost
    // connection, a refused transition...). The first two pass once a person frees space or fixes
    // the permissions, so the run loop can pause on them and retry.
    enum class Failure { None, StorageFull, ReadOnly, Other };
    static Failure failureOf(const Error& error);

    // Thread-safe.
    Ticket submit(const AuditEvent& event);
    // Several events in one transaction, in this order: all of them are committed, or none (the
    // error acknowledgement then covers the whole batch). The acknowledgement is the seq of the
    // last event. The run loop batches the events that gate nothing on their own ("proposed",
    // "policy checked", API calls) with the next gating one, so a step costs fewer commits (each
    // an fsync with synchronous=FULL). An empty batch is acknowledged with 0 and writes nothing.
    Ticket submit(const QList<AuditEvent>& events);
    // Blocks until the ticket is acknowledged; "store.timeout" if that takes longer than
    // timeoutMs (negative: no limit). Thread-safe; do not call it on the UI thread.
    AuditAck waitForAck(const Ticket& ticket, int timeoutMs = -1);
    // submit() + waitForAck(): for the CLI and tests.
    AuditAck write(const AuditEvent& event, int timeoutMs = -1);

    // SQLite: limits the database to this many pages on the writer's connection (a quota; also
    // how tests provoke "store.full"). Returns the limit in effect.
    Result<qint64> setSqliteMaxPageCount(qint64 pages);

signals:
    // Emitted from the writer thread once per ticket, after the commit or the failure.
    void acknowledged(quint64 ticket, qint64 seq);
    void writeFailed(quint64 ticket, const QString& code, const QString& message);

private:
    explicit AuditWriter(const StoreConfig& config);
    void finishTicket(quint64 ticket, const AuditAck& ack);

    QThread m_thread;
    AuditWriterWorker* m_worker = nullptr;
    QMutex m_submitMutex;
    quint64 m_lastSubmitted = 0;
    QMutex m_doneMutex;
    QWaitCondition m_doneChanged;
    quint64 m_lastDone = 0;
};

} // namespace m1
