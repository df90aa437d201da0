#pragma once

#include "model/PolicyDecision.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QString>

#include <optional>

namespace m1 {

// One transition for the audit trail: a value built by the factories below and handed to
// AuditWriter::submit(). `data` holds the kind's fields under the keys the factories use; the
// writer stores it (filtered, outputs capped) as the event row's payload and updates the
// projection tables from it.
class AuditEvent {
public:
    enum class Kind {
        RunStarted,
        PlanUpdated,
        RunFinished,
        CallProposed,
        PolicyChecked,
        CallApproved,
        CallDenied,
        CallExecuted,
        CallFailed,
        CallExpired,
        CallCancelled,
        ApiCall,
        AlertRaised,
        AlertResolved,
    };

    struct RunStart {
        QString agent;
        QString goal;
        QJsonObject constraints;
        QString model;
        QString provider;
        QString workspace;
        bool dryRun = false;
    };

    struct RunTotals {
        QString stopReason;
        int proposed = 0;
        int approved = 0;
        int denied = 0;
        int executed = 0;
        int failed = 0;
        int steps = 0;
        qint64 inputTokens = 0;
        qint64 outputTokens = 0;
        qint64 cacheWriteTokens = 0;
        qint64 cacheReadTokens = 0;
        std::optional<qint64> costMicros; // empty: unknown
        bool costComplete = true;         // false: some calls had no known price
    };

    struct ApiCallInfo {
        QString model;
        QString requestId; // the provider's request id
        int attempt = 1;
        qint64 inputTokens = 0;
        qint64 outputTokens = 0;
        qint64 cacheWriteTokens = 0;
        qint64 cacheReadTokens = 0;
        std::optional<qint64> costMicros; // empty: unknown price
        qint64 latencyMs = 0;
        int httpStatus = 0;
        QString errorType; // empty on success
    };

    // The evidence of a decision (SBX-27), added to call.approved / call.denied with
    // addDecisionEvidence(): for tuning the prompts, not a gate. Unset fields are stored as NULL.
    struct DecisionEvidence {
        QString reason;                    // why (call.denied carries its own reason already)
        std::optional<qint64> decisionMs;  // from the prompt showing the call to the decision
        std::optional<bool> argsSeenWhole; // the whole argv / argument text scrolled into view
        std::optional<bool> inBatch;       // "approve all" / "deny all" of one message
        QString decidedBy;                 // the login name of the person at the prompt
    };

    // Who decided: "person", "rule", "token" (pre-authorised) or "auto".
    static AuditEvent runStarted(const QString& runId, const RunStart& start, qint64 at = now());
    static AuditEvent planUpdated(const QString& runId, const QJsonValue& plan, qint64 at = now());
    static AuditEvent runFinished(const QString& runId, const RunTotals& totals, qint64 at = now());
    static AuditEvent callProposed(const QString& runId, const QString& requestId, int step,
                                   const QString& toolName, const QString& scope,
                                   const QJsonObject& arguments, qint64 at = now());
    static AuditEvent policyChecked(const QString& runId, const QString& requestId,
                                    const PolicyDecision& decision, qint64 at = now());
    // editedArguments: what the person changed before approving (empty when not edited).
    static AuditEvent callApproved(const QString& runId, const QString& requestId,
                                   const QString& approverKind, const QString& approver,
                                   const QString& tokenJti,
                                   const std::optional<QJsonObject>& editedArguments = {},
                                   qint64 at = now());
    static AuditEvent callDenied(const QString& runId, const QString& requestId,
                                 const QString& approverKind, const QString& approver,
                                 const QString& reason, qint64 at = now());
    // output: the full output; the writer stores its size and SHA-256 and a capped copy.
    static AuditEvent callExecuted(const QString& runId, const QString& requestId,
                                   const QJsonObject& executedArguments, const QString& output,
                                   qint64 durationMs, qint64 at = now());
    static AuditEvent callFailed(const QString& runId, const QString& requestId,
                                 const QJsonObject& executedArguments, const QString& error,
                                 const QString& output, qint64 durationMs, qint64 at = now());
    static AuditEvent callExpired(const QString& runId, const QString& requestId,
                                  const QString& reason, qint64 at = now());
    static AuditEvent callCancelled(const QString& runId, const QString& requestId,
                                    const QString& reason, qint64 at = now());
    static AuditEvent apiCall(const QString& runId, const ApiCallInfo& info, qint64 at = now());
    // level: "info", "warning" or "critical"; alertId chosen by the caller (a UUID).
    static AuditEvent alertRaised(const QString& alertId, const QString& category,
                                  const QString& level, const QString& message,
                                  const QString& runId, const QJsonObject& details,
                                  qint64 at = now());
    static AuditEvent alertResolved(const QString& alertId, const QString& note, qint64 at = now());

    // For call.approved and call.denied events (ignored for other kinds).
    void addDecisionEvidence(const DecisionEvidence& evidence);

    static QString kindName(Kind kind);
    static qint64 now();

    Kind kind = Kind::RunStarted;
    QString runId;
    QString requestId; // the tool call's request id, or the alert id for alerts
    qint64 at = 0;     // ms since the epoch, UTC
    QJsonObject data;
};

} // namespace m1
