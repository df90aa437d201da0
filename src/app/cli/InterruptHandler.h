#pragma once

#include <QByteArray>
#include <QObject>

#include <memory>

class QSocketNotifier;

namespace m1::cli {

// SIGINT and SIGTERM for a long command (m1ctl run): the first one is handed to the event loop as
// interrupted() (the command stops cleanly and records why); a second one ends the process at
// once with status 128 + the signal number. The signal handler itself only does what is
// async-signal-safe: it writes the prepared notice to standard error and one byte into a pipe
// (the self-pipe trick), which a QSocketNotifier turns into the signal on the Qt side; on the
// second signal it writes its notice and calls _exit().
//
// One instance at a time; the previous handlers come back when it is destroyed.
class InterruptHandler : public QObject {
    Q_OBJECT
public:
    // firstNotice: written to standard error on the first signal (say what happens now and that
    // a second one quits at once); secondNotice: written before the immediate exit. Both may be
    // empty. nullptr when the pipe or the handlers cannot be set up (then signals keep their
    // default action).
    static std::unique_ptr<InterruptHandler> install(const QByteArray& firstNotice,
                                                     const QByteArray& secondNotice);
    ~InterruptHandler() override;

signals:
    // On the thread that installed the handler; signalNumber: SIGINT or SIGTERM.
    void interrupted(int signalNumber);

private:
    InterruptHandler(const QByteArray& firstNotice, const QByteArray& secondNotice);
    void onReadable();
    // Closes the pipe and forgets the notices (the handlers must not be installed any more).
    void release();

    QByteArray m_firstNotice;
    QByteArray m_secondNotice;
    std::unique_ptr<QSocketNotifier> m_notifier;
};

} // namespace m1::cli
