#pragma once

#include <QJsonObject>
#include <QMetaType>
#include <QString>

#include <optional>

namespace m1 {

// An ApprovalGate's answer to one PendingApproval.
struct ApprovalDecision {
    enum class Kind { Approve, Deny, Expired };

    Kind kind = Kind::Deny;
    // "person", "token" or "auto"; "none" for a denial because no one could decide (no terminal,
    // no covering --token or --auto-approve).
    QString approverKind = QStringLiteral("person");
    QString approver; // e.g. "terminal", "gui", "--auto-approve read"
    QString reason;   // why (shown and audited; for a denial also sent to the model)
    QString feedback; // a person's words for the model on a denial (may be empty)
    // A pre-authorised token that covers the call exactly (approverKind "token"); empty: the
    // run loop mints one for this call.
    QString token;
    // The arguments a person changed before approving (Approve only). The run loop checks them
    // against the schema and the policy again and, unless that denies, binds the token to them
    // and runs them instead of the proposed ones.
    std::optional<QJsonObject> editedArguments;

    // The evidence of a person's decision (SBX-27), audited with it; unset when no person was
    // shown a prompt. decisionMs: from the prompt first showing this call to the decision.
    // argsSeenWhole: the whole argv / argument text was scrolled into view. inBatch: decided
    // with "approve all" / "deny all" of one message. decidedBy: the person's login name.
    std::optional<qint64> decisionMs;
    std::optional<bool> argsSeenWhole;
    std::optional<bool> inBatch;
    QString decidedBy;

    // The login name of the account this process runs as (who sits at the prompt).
    static QString localUser();

    static ApprovalDecision approve(const QString& kind, const QString& approver,
                                    const QString& reason = {}) {
        ApprovalDecision d;
        d.kind = Kind::Approve;
        d.approverKind = kind;
        d.approver = approver;
        d.reason = reason;
        return d;
    }
    static ApprovalDecision deny(const QString& kind, const QString& approver,
                                 const QString& reason, const QString& feedback = {}) {
        ApprovalDecision d;
        d.kind = Kind::Deny;
        d.approverKind = kind;
        d.approver = approver;
        d.reason = reason;
        d.feedback = feedback;
        return d;
    }
};

} // namespace m1

Q_DECLARE_METATYPE(m1::ApprovalDecision)
