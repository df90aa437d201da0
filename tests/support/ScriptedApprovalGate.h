#pragma once

#include "run/ApprovalGate.h"

#include <QList>
#include <QStringList>

#include <functional>

namespace m1::test {

// An ApprovalGate for tests: answers each request with the next scripted decision (or a
// function of the request), asynchronously, and records what it was asked.
class ScriptedApprovalGate : public ApprovalGate {
    Q_OBJECT
public:
    using ApprovalGate::ApprovalGate;

    QList<ApprovalDecision> script; // taken in order; when empty, `fallback` decides
    std::function<ApprovalDecision(const PendingApproval&)> fallback;
    bool silent = false; // never answer (for expiry tests)

    QList<PendingApproval> asked;
    QStringList cancelled;

    void request(const m1::PendingApproval& pending) override;
    void cancel(const QString& runId, const QString& callId) override;

    static ApprovalDecision approve() {
        return ApprovalDecision::approve(QStringLiteral("person"), QStringLiteral("test"));
    }
    static ApprovalDecision deny(const QString& feedback = {}) {
        return ApprovalDecision::deny(QStringLiteral("person"), QStringLiteral("test"),
                                      QStringLiteral("denied in the test"), feedback);
    }
};

} // namespace m1::test
