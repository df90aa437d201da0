#pragma once

#include "run/ApprovalGate.h"

#include <QCoreApplication>
#include <QPointer>
#include <QSet>
#include <QStringList>

#include <optional>

namespace m1 {

class TokenService;

// Decides without asking where the user said so in advance, and hands the rest to a person:
// 1. a pre-authorised token (m1ctl run --token) that covers the proposal exactly (tool, scope,
//    arguments, run; verified with TokenService) approves it as approver "token", and is used
//    for that call only (ToolExecutor consumes it);
// 2. an auto-approve scope (--auto-approve read|write|execute) approves proposals up to that
//    scope as approver "auto", but only those the scope requirement asked about: a user's ask
//    rule, a built-in protection or an unanalysable command always goes to a person;
// 3. otherwise the fallback gate (the terminal prompt) decides; without one the proposal is
//    denied with approver kind "none" and a reason saying that no one could approve it.
// Deny rules still win: the gate only sees proposals the policy marked "ask".
class AutoApprovalGate : public ApprovalGate {
    Q_OBJECT
public:
    struct Options {
        std::optional<Scope> autoApproveUpTo;
        QStringList tokens;
        const TokenService* tokenService = nullptr;
        ApprovalGate* fallback = nullptr;
    };

    explicit AutoApprovalGate(Options options, QObject* parent = nullptr);

    void request(const m1::PendingApproval& pending) override;
    void cancel(const QString& runId, const QString& callId) override;

    int unusedTokens() const { return int(m_options.tokens.size()); }

private:
    Options m_options;
    QSet<QString> m_answering; // decided, answer queued
    QSet<QString> m_withdrawn; // cancelled before the queued answer went out
};

} // namespace m1
