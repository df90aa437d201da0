#include "store/AuditWriter.h"

#include "store/AuditWriterWorker.h"

#include <QDeadlineTimer>
#include <QPromise>

namespace m1 {

AuditWriter::AuditWriter(const StoreConfig& config) : m_worker(new AuditWriterWorker(config)) {
    m_thread.setObjectName(QStringLiteral("m1-audit-writer"));
    m_worker->moveToThread(&m_thread);
}

Result<std::unique_ptr<AuditWriter>> AuditWriter::start(const StoreConfig& config) {
    std::unique_ptr<AuditWriter> writer(new AuditWriter(config));
    writer->m_thread.start();
    Status opened;
    AuditWriterWorker* worker = writer->m_worker;
    QMetaObject::invokeMethod(
        worker, [worker, &opened] { opened = worker->openConnection(); },
        Qt::BlockingQueuedConnection);
    if (!opened)
        return std::unexpected(opened.error());
    return writer;
}

AuditWriter::~AuditWriter() {
    AuditWriterWorker* worker = m_worker;
    // Queued after every submitted event, so those are written (or failed) before the close.
    QMetaObject::invokeMethod(
        worker, [worker] { worker->closeConnection(); }, Qt::BlockingQueuedConnection);
    m_thread.quit();
    m_thread.wait();
    delete m_worker;
}

AuditWriter::Failure AuditWriter::failureOf(const Error& error) {
    if (error.code.isEmpty())
        return Failure::None;
    if (error.code == QLatin1String("store.full"))
        return Failure::StorageFull;
    if (error.code == QLatin1String("store.readonly"))
        return Failure::ReadOnly;
    return Failure::Other;
}

AuditWriter::Ticket AuditWriter::submit(const AuditEvent& event) {
    return submit(QList<AuditEvent>{event});
}

AuditWriter::Ticket AuditWriter::submit(const QList<AuditEvent>& events) {
    auto promise = std::make_shared<QPromise<AuditAck>>();
    promise->start();
    Ticket ticket;
    ticket.ack = promise->future();
    AuditWriterWorker* worker = m_worker;
    // Ticket numbers and queue order must agree, since waitForAck relies on in-order completion.
    QMutexLocker lock(&m_submitMutex);
    ticket.id = ++m_lastSubmitted;
    const quint64 id = ticket.id;
    QMetaObject::invokeMethod(
        worker,
        [this, worker, promise, events, id] {
            const AuditAck ack = worker->write(events);
            promise->addResult(ack);
            promise->finish();
            finishTicket(id, ack);
        },
        Qt::QueuedConnection);
    return ticket;
}

void AuditWriter::finishTicket(quint64 ticket, const AuditAck& ack) {
    {
        QMutexLocker lock(&m_doneMutex);
        m_lastDone = ticket;
    }
    m_doneChanged.wakeAll();
    if (ack)
        emit acknowledged(ticket, *ack);
    else
        emit writeFailed(ticket, ack.error().code, ack.error().message);
}

AuditAck AuditWriter::waitForAck(const Ticket& ticket, int timeoutMs) {
    QDeadlineTimer deadline =
        timeoutMs < 0 ? QDeadlineTimer(QDeadlineTimer::Forever) : QDeadlineTimer(timeoutMs);
    {
        QMutexLocker lock(&m_doneMutex);
        while (m_lastDone < ticket.id) {
            if (!m_doneChanged.wait(&m_doneMutex, deadline))
                return fail(QStringLiteral("store.timeout"),
                            tr("The audit writer did not confirm the event within %1 ms; treat "
                               "it as not written.")
                                .arg(timeoutMs));
        }
    }
    return ticket.ack.result();
}

AuditAck AuditWriter::write(const AuditEvent& event, int timeoutMs) {
    return waitForAck(submit(event), timeoutMs);
}

Result<qint64> AuditWriter::setSqliteMaxPageCount(qint64 pages) {
    Result<qint64> result = 0;
    AuditWriterWorker* worker = m_worker;
    QMetaObject::invokeMethod(
        worker, [worker, pages, &result] { result = worker->setSqliteMaxPageCount(pages); },
        Qt::BlockingQueuedConnection);
    return result;
}

} // namespace m1
