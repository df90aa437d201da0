#pragma once

#include "run/ApprovalGate.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QList>
#include <QSet>
#include <QSocketNotifier>

#include <memory>

namespace m1 {

// The approval prompt of m1ctl run: shows the proposal on the terminal (tool, scope, the
// policy's reason, the arguments: a unified diff against the current file for write_file and
// edit_file, the argv one element per line for run_command, control and bidi characters made
// visible) and reads one key line from the terminal without blocking the event loop
// (QSocketNotifier). Keys: y approve once, a approve this exact call for the rest of the run
// (same tool and same argv / same path / same arguments, this run only: SBX-20), n deny,
// f deny with feedback for the model. Requests queue and are shown one at a time; typeahead is
// discarded before each prompt so a held key cannot answer a prompt not yet shown (SBX-26).
class TerminalApprovalGate : public ApprovalGate {
    Q_OBJECT
public:
    // Uses standard input when it is a terminal, else /dev/tty when standard error is one (a
    // person watches); nullptr otherwise.
    static std::unique_ptr<TerminalApprovalGate> open(QObject* parent = nullptr);
    ~TerminalApprovalGate() override;

    void request(const m1::PendingApproval& pending) override;
    void cancel(const QString& runId, const QString& callId) override;

    // The proposal as shown to a person (also used by tests).
    static QString describe(const PendingApproval& pending);
    // Control, bidi and invisible characters as <U+XXXX>.
    static QString visible(const QString& text);

private:
    TerminalApprovalGate(int inFd, int outFd, bool ownsFd, QObject* parent);
    void showNext();
    void onReadable();
    void onLine(const QString& line);
    void write(const QString& text);
    static QString rememberKey(const PendingApproval& pending);

    int m_in = -1;
    int m_out = -1;
    bool m_ownsFd = false;
    std::unique_ptr<QSocketNotifier> m_notifier;
    QByteArray m_buffer;
    QList<PendingApproval> m_queue;
    bool m_showing = false;
    bool m_wantFeedback = false;
    QElapsedTimer m_shown; // since the current prompt was written (time to decide, SBX-27)
    QSet<QString> m_remembered;
};

} // namespace m1
