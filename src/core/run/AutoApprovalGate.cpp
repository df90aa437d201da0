#include "run/AutoApprovalGate.h"

#include "tokens/TokenService.h"

#include <QTimer>

namespace m1 {

AutoApprovalGate::AutoApprovalGate(Options options, QObject* parent)
    : ApprovalGate(parent), m_options(std::move(options)) {
    if (m_options.fallback)
        connect(m_options.fallback, &ApprovalGate::decided, this, &ApprovalGate::decided);
}

void AutoApprovalGate::request(const PendingApproval& pending) {
    const QString runId = pending.call.runId;
    const QString callId = pending.call.id;
    auto answer = [this, runId, callId](const ApprovalDecision& decision) {
        // Asynchronous as the contract demands, even when the answer is known at once.
        const QString key = runId + QLatin1Char('\x1f') + callId;
        m_answering.insert(key);
        QTimer::singleShot(0, this, [this, runId, callId, decision, key] {
            m_answering.remove(key);
            // A request withdrawn in the meantime gets no answer (the gate contract).
            if (!m_withdrawn.remove(key))
                emit decided(runId, callId, decision);
        });
    };

    if (m_options.tokenService) {
        TokenService::Expectation expectation;
        expectation.toolName = pending.call.toolName;
        expectation.scope = pending.scope;
        expectation.arguments = pending.call.arguments;
        expectation.runId = pending.call.runId;
        for (qsizetype i = 0; i < m_options.tokens.size(); ++i) {
            const QString token = m_options.tokens.at(i);
            const auto claims = m_options.tokenService->verify(token, expectation);
            if (!claims)
                continue;
            m_options.tokens.removeAt(i);
            ApprovalDecision d = ApprovalDecision::approve(
                QStringLiteral("token"), QStringLiteral("--token %1").arg(claims->jti),
                tr("pre-authorised token %1").arg(claims->jti));
            d.token = token;
            answer(d);
            return;
        }
    }
    // Auto mode stands in for a person only where the scope's approval requirement asked. A user's
    // own ask rule, a built-in protection (privileged wrappers, protected paths, places outside
    // the workspace) or a command the analysis could not see through needs a person (or a token
    // a person minted for exactly that call), whatever the mode.
    const bool autoMayDecide = pending.decision.source == DecisionSource::ScopeRequirement;
    if (m_options.autoApproveUpTo && !(*m_options.autoApproveUpTo < pending.scope) &&
        autoMayDecide) {
        const QString mode = scopeToString(*m_options.autoApproveUpTo);
        answer(ApprovalDecision::approve(QStringLiteral("auto"),
                                         QStringLiteral("--auto-approve %1").arg(mode),
                                         tr("auto-approved up to scope %1").arg(mode)));
        return;
    }
    if (m_options.fallback) {
        m_options.fallback->request(pending);
        return;
    }
    // Nobody decided: approver kind "none", not "rule" (no rule refused the call).
    if (m_options.autoApproveUpTo && !(*m_options.autoApproveUpTo < pending.scope)) {
        answer(ApprovalDecision::deny(
            QStringLiteral("none"), QStringLiteral("no approver"),
            tr("%1 needs a person's approval (%2); --auto-approve covers only calls that need "
               "approval because of their scope, never a rule's or a built-in protection's "
               "question, and there is no terminal to ask")
                .arg(pending.call.toolName, pending.decision.reason)));
        return;
    }
    answer(ApprovalDecision::deny(
        QStringLiteral("none"), QStringLiteral("no approver"),
        tr("%1 needs a person's approval (%2), but there is no terminal to ask and no --token "
           "or --auto-approve covers it")
            .arg(pending.call.toolName, pending.decision.reason)));
}

void AutoApprovalGate::cancel(const QString& runId, const QString& callId) {
    if (m_answering.remove(runId + QLatin1Char('\x1f') + callId))
        m_withdrawn.insert(runId + QLatin1Char('\x1f') + callId);
    if (m_options.fallback)
        m_options.fallback->cancel(runId, callId);
}

} // namespace m1
