#pragma once

#include "ApprovalDialog.h"

#include "run/ApprovalGate.h"

#include <QHash>
#include <QPointer>
#include <QSet>

class QWidget;

namespace m1 {

class ApprovalDialog;
class AppContext;
class PolicyEngine;
class Workspace;

// The desktop's ApprovalGate: one queue of pending proposals across every run, shown in a
// non-modal ApprovalDialog one message at a time: the proposals of one assistant message (same
// run and step) share a dialog, to be decided one by one or all at once. Each new dialog, and each
// call shown in it, is disarmed for a moment, so a held key cannot answer the next prompt
// (SBX-26). "Approve for this run" is remembered per run for the same tool and the same command
// line / path / arguments.
class GuiApprovalGate : public ApprovalGate {
    Q_OBJECT
public:
    struct RunInfo {
        const PolicyEngine* policy = nullptr;
        const Workspace* workspace = nullptr;
        QString label;
    };

    GuiApprovalGate(const AppContext& context, QWidget* dialogParent, QObject* parent = nullptr);
    ~GuiApprovalGate() override;

    void registerRun(const QString& runId, const RunInfo& info);
    void unregisterRun(const QString& runId);

    void request(const m1::PendingApproval& pending) override;
    void cancel(const QString& runId, const QString& callId) override;

    const QList<PendingApproval>& pending() const { return m_queue; }
    // A decision from outside the dialog (the queue list's "Deny selected", tests).
    void decide(const QString& runId, const QString& callId, const ApprovalDecision& decision);
    void denyAll(const QString& reason);
    // Brings the dialog of this proposal forward (it becomes the one shown).
    void focus(const QString& runId, const QString& callId);

    ApprovalDialog* dialog() const { return m_dialog; }
    void setArmDelayMs(int ms) { m_armDelayMs = ms; }
    int armDelayMs() const { return m_armDelayMs; }

signals:
    void requested(const m1::PendingApproval& pending);
    void queueChanged(int count);

private:
    void showHead();
    void remove(const QString& runId, const QString& callId);
    static QString rememberKey(const PendingApproval& pending);

    const AppContext& m_context;
    QPointer<QWidget> m_dialogParent;
    QList<PendingApproval> m_queue;
    QHash<QString, qint64> m_requestedAt; // runId/callId → ms since the epoch
    QHash<QString, RunInfo> m_runs;
    QSet<QString> m_remembered;
    QPointer<ApprovalDialog> m_dialog;
    int m_armDelayMs = 1000;
};

} // namespace m1
