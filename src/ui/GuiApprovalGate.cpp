#include "GuiApprovalGate.h"

#include "AppContext.h"
#include "ApprovalDialog.h"

#include "policy/PolicyRules.h"
#include "util/CanonicalJson.h"

#include <QDateTime>
#include <QJsonArray>
#include <QTimer>
#include <QWidget>

namespace m1 {

namespace {
QString idOf(const QString& runId, const QString& callId) {
    return runId + QLatin1Char('/') + callId;
}
} // namespace

GuiApprovalGate::GuiApprovalGate(const AppContext& context, QWidget* dialogParent, QObject* parent)
    : ApprovalGate(parent), m_context(context), m_dialogParent(dialogParent) {}

GuiApprovalGate::~GuiApprovalGate() {
    if (m_dialog)
        delete m_dialog.data();
}

void GuiApprovalGate::registerRun(const QString& runId, const RunInfo& info) {
    m_runs.insert(runId, info);
}

void GuiApprovalGate::unregisterRun(const QString& runId) {
    m_runs.remove(runId);
    const QString prefix = runId + QLatin1Char('/');
    for (auto it = m_remembered.begin(); it != m_remembered.end();)
        it = it->startsWith(prefix) ? m_remembered.erase(it) : std::next(it);
}

QString GuiApprovalGate::rememberKey(const PendingApproval& p) {
    const QString tool = p.call.toolName;
    const QJsonObject& args = p.call.arguments;
    QString what;
    if (tool == QLatin1String("run_command"))
        what = QString::fromUtf8(CanonicalJson::serialize(
            QJsonObject{{QStringLiteral("argv"), args.value(QLatin1String("argv"))},
                        {QStringLiteral("cwd"), args.value(QLatin1String("cwd"))}}));
    else if (PolicyRules::isPathTool(tool))
        what = args.value(QLatin1String("path")).toString();
    else
        what = QString::fromUtf8(CanonicalJson::serialize(args));
    return p.call.runId + QLatin1Char('/') + tool + QLatin1Char('\x1f') + what;
}

void GuiApprovalGate::request(const PendingApproval& pending) {
    if (m_remembered.contains(rememberKey(pending))) {
        // Emitted after request() returns: the contract says a decision comes later.
        const QString runId = pending.call.runId;
        const QString callId = pending.call.id;
        QTimer::singleShot(0, this, [this, runId, callId] {
            emit decided(
                runId, callId,
                ApprovalDecision::approve(QStringLiteral("person"), QStringLiteral("gui"),
                                          tr("covered by \"approve for this run\" given earlier")));
        });
        return;
    }
    m_queue.append(pending);
    m_requestedAt.insert(idOf(pending.call.runId, pending.call.id),
                         QDateTime::currentMSecsSinceEpoch());
    emit requested(pending);
    emit queueChanged(int(m_queue.size()));
    if (!m_dialog)
        showHead();
    else if (m_dialog->belongsToBatch(pending))
        // The message's next proposal: the dialog shows it in its list, to page to.
        m_dialog->addPending(pending);
    if (m_dialog)
        m_dialog->setQueuePosition(1, int(m_queue.size()));
}

void GuiApprovalGate::cancel(const QString& runId, const QString& callId) {
    const bool held =
        m_dialog && m_dialog->pending().call.runId == runId && m_dialog->holds(callId);
    remove(runId, callId);
    if (!held)
        return;
    if (m_dialog->undecidedCount() > 1) {
        // The rest of the message stays in the dialog.
        m_dialog->withdrawCall(callId);
        m_dialog->setQueuePosition(1, int(m_queue.size()));
        return;
    }
    m_dialog->disconnect(this);
    m_dialog->withdraw();
    m_dialog = nullptr;
    showHead();
}

void GuiApprovalGate::remove(const QString& runId, const QString& callId) {
    for (qsizetype i = 0; i < m_queue.size(); ++i)
        if (m_queue.at(i).call.runId == runId && m_queue.at(i).call.id == callId) {
            m_queue.removeAt(i);
            m_requestedAt.remove(idOf(runId, callId));
            emit queueChanged(int(m_queue.size()));
            return;
        }
}

void GuiApprovalGate::decide(const QString& runId, const QString& callId,
                             const ApprovalDecision& decision) {
    bool found = false;
    for (const PendingApproval& p : std::as_const(m_queue))
        found = found || (p.call.runId == runId && p.call.id == callId);
    if (!found)
        return;
    cancel(runId, callId);
    emit decided(runId, callId, decision);
}

void GuiApprovalGate::denyAll(const QString& reason) {
    const QList<PendingApproval> all = m_queue;
    for (const PendingApproval& p : all) {
        ApprovalDecision d =
            ApprovalDecision::deny(QStringLiteral("person"), QStringLiteral("gui"), reason);
        d.inBatch = true;
        d.decidedBy = ApprovalDecision::localUser();
        decide(p.call.runId, p.call.id, d);
    }
}

void GuiApprovalGate::focus(const QString& runId, const QString& callId) {
    for (qsizetype i = 0; i < m_queue.size(); ++i)
        if (m_queue.at(i).call.runId == runId && m_queue.at(i).call.id == callId) {
            if (m_dialog && m_dialog->pending().call.runId == runId && m_dialog->holds(callId)) {
                m_dialog->showCall(callId);
                m_dialog->raise();
                m_dialog->activateWindow();
                return;
            }
            // Its whole message moves to the front, in the message's order.
            const PendingApproval wanted = m_queue.at(i);
            QList<PendingApproval> front;
            QList<PendingApproval> rest;
            for (const PendingApproval& p : std::as_const(m_queue))
                (p.call.runId == runId && p.step == wanted.step ? front : rest).append(p);
            m_queue = front + rest;
            if (m_dialog) {
                m_dialog->disconnect(this);
                m_dialog->withdraw();
                m_dialog = nullptr;
            }
            showHead();
            if (m_dialog)
                m_dialog->showCall(callId);
            return;
        }
}

void GuiApprovalGate::showHead() {
    if (m_queue.isEmpty())
        return;
    const PendingApproval head = m_queue.first();
    ApprovalDialog::Context context;
    context.registry = &m_context.registry();
    const RunInfo info = m_runs.value(head.call.runId);
    context.policy = info.policy;
    context.workspace = info.workspace;
    context.runLabel = info.label.isEmpty() ? head.call.runId : info.label;
    context.armDelayMs = m_armDelayMs;
    context.policyFile = m_context.settings().effectivePolicyFile();
    if (m_context.approvalTimeoutMs() > 0)
        context.expiresAtMs = m_requestedAt.value(idOf(head.call.runId, head.call.id)) +
                              m_context.approvalTimeoutMs();
    auto* dialog = new ApprovalDialog(head, context, m_dialogParent);
    // The rest of the head's message joins it (requested together, in the message's order).
    for (qsizetype i = 1; i < m_queue.size(); ++i)
        if (dialog->belongsToBatch(m_queue.at(i)))
            dialog->addPending(m_queue.at(i));
    m_dialog = dialog;
    dialog->setQueuePosition(1, int(m_queue.size()));
    connect(dialog, &ApprovalDialog::decided, this,
            [this, dialog](const PendingApproval& pending, const ApprovalDecision& decision,
                           const QString& remember) {
                if (remember == QLatin1String("run") || remember == QLatin1String("always"))
                    m_remembered.insert(rememberKey(pending));
                remove(pending.call.runId, pending.call.id);
                const bool last = dialog->undecidedCount() == 0;
                if (last)
                    m_dialog = nullptr;
                else
                    dialog->setQueuePosition(1, int(m_queue.size()));
                emit decided(pending.call.runId, pending.call.id, decision);
                // The next message's prompt opens after this one is gone; it starts disarmed.
                if (last)
                    QTimer::singleShot(0, this, [this] {
                        if (!m_dialog)
                            showHead();
                    });
            });
    dialog->show();
    dialog->raise();
    dialog->activateWindow();
}

} // namespace m1
