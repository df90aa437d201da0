#pragma once

#include <QByteArray>
#include <QCoreApplication>
#include <QJsonObject>
#include <QString>

namespace m1 {

// What went wrong with one API call, classified by status, error.type and
// details.error_code (never by message wording, which changes).
struct ApiFailure {
    QString code;       // stable: api.overloaded, api.spend_limit, ...
    int httpStatus = 0; // 0 for an `error` event inside a 200 stream or no response
    QString errorType;  // API error.type ("overloaded_error") or empty
    QString errorCode;  // API error.details.error_code or empty
    QString apiMessage; // the API's own words, for context only
    QString requestId;
    bool retryable = false; // by status/type; RetryPolicy also weighs x-should-retry
};

class ApiErrorClassifier {
    Q_DECLARE_TR_FUNCTIONS(ApiErrorClassifier)
public:
    // An HTTP error response (status >= 300). Non-JSON bodies (edge HTML) give
    // api.unexpected_response (api.request_too_large for 413); the body itself is never quoted.
    static ApiFailure fromHttp(int status, const QByteArray& body, const QByteArray& contentType);
    // An error body {"type":"error","error":{...},"request_id":...} or an `error` event's data.
    static ApiFailure fromErrorObject(int status, const QJsonObject& root);
    // A spend cap: never retried, reported as "budget exhausted".
    static bool isSpendLimit(int status, const QString& errorType, const QString& errorCode,
                             const QString& apiMessage);
    static bool isRetryableStatus(int status);
    // A message a person can act on, with the request-id when known.
    static QString describe(const ApiFailure& failure);
};

} // namespace m1
