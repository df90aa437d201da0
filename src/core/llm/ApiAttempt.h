#pragma once

#include "llm/TokenUsage.h"
#include "util/Error.h"

#include <QDateTime>
#include <QMetaType>
#include <QString>

namespace m1 {

// One HTTP attempt of a model turn, for the audit trail (one row each). Never holds request
// headers or the API key.
struct ApiAttempt {
    int attempt = 1; // 1-based within the turn
    QString method = QStringLiteral("POST");
    QString endpoint = QStringLiteral("/v1/messages");
    QString model;
    QString requestId;  // the response's request-id header (or the error body's request_id)
    int httpStatus = 0; // 0 when no response arrived
    QString errorType;  // API error.type, or a transport kind such as "connection_refused"
    QString errorCode;  // API error.details.error_code
    Error error;        // empty code on success
    TokenUsage usage;   // whatever counts were seen, even on a cut stream
    qint64 latencyMs = 0;
    qint64 bytesReceived = 0;
    qint64 retryWaitMs = -1; // the wait chosen before the next attempt, -1 when none follows
    QDateTime resumeAt;      // when the server asked for a wait longer than the project allows
    QDateTime startedAt;

    bool succeeded() const { return error.code.isEmpty(); }
};

} // namespace m1

Q_DECLARE_METATYPE(m1::ApiAttempt)
