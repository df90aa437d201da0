#pragma once

#include <QFutureWatcher>
#include <QObject>
#include <QtConcurrent/QtConcurrentRun>

#include <type_traits>
#include <utility>

class QProgressBar;
class QWidget;

namespace m1 {

// The one way the desktop does slow work (the audit store, the keychain, files): work() runs on
// a thread of the global pool, then done(result) runs on receiver's thread. Work that reads the
// store opens its own connection inside work() and closes it there: QtSql connections belong to
// the thread that opened them and never cross. When the receiver goes first, done is not called
// (the work still runs to its end; it must hold copies, not pointers into the receiver).
template <typename Work, typename Done>
void runInBackground(QObject* receiver, Work work, Done done) {
    using Value = std::invoke_result_t<Work>;
    auto* watcher = new QFutureWatcher<Value>(receiver);
    QObject::connect(watcher, &QFutureWatcherBase::finished, receiver,
                     [watcher, done = std::move(done)]() mutable {
                         watcher->deleteLater();
                         done(watcher->result());
                     });
    watcher->setFuture(QtConcurrent::run(std::move(work)));
}

// One load at a time: a request while one runs is remembered and served once after it, so a
// burst of refreshes (live runs, filter clicks) costs two reads, not one per click.
class LoadGate {
public:
    // False (and remembered) while a load runs.
    bool begin() {
        if (m_busy) {
            m_again = true;
            return false;
        }
        m_busy = true;
        return true;
    }
    // The load ended; true when another was asked for meanwhile (load again).
    bool end() {
        m_busy = false;
        return std::exchange(m_again, false);
    }
    bool busy() const { return m_busy; }

private:
    bool m_busy = false;
    bool m_again = false;
};

// A small "working…" bar without a percentage (a query or an open has no known length), hidden
// until shown.
QProgressBar* makeBusyBar(QWidget* parent, const QString& accessibleName);

} // namespace m1
