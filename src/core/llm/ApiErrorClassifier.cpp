#include "ApiErrorClassifier.h"

#include <QJsonDocument>

namespace m1 {

namespace {

QString codeFor(int status, const QString& type) {
    if (type == QLatin1String("authentication_error"))
        return QStringLiteral("api.authentication");
    if (type == QLatin1String("permission_error"))
        return QStringLiteral("api.permission");
    if (type == QLatin1String("not_found_error"))
        return QStringLiteral("api.not_found");
    if (type == QLatin1String("rate_limit_error"))
        return QStringLiteral("api.rate_limited");
    if (type == QLatin1String("overloaded_error"))
        return QStringLiteral("api.overloaded");
    if (type == QLatin1String("billing_error"))
        return QStringLiteral("api.spend_limit");
    if (type == QLatin1String("request_too_large"))
        return QStringLiteral("api.request_too_large");
    if (type == QLatin1String("timeout_error"))
        return QStringLiteral("api.timeout");
    if (type == QLatin1String("api_error"))
        return QStringLiteral("api.server");
    if (type == QLatin1String("invalid_request_error"))
        return QStringLiteral("api.invalid_request");
    switch (status) {
    case 400:
        return QStringLiteral("api.invalid_request");
    case 401:
        return QStringLiteral("api.authentication");
    case 402:
        return QStringLiteral("api.spend_limit");
    case 403:
        return QStringLiteral("api.permission");
    case 404:
        return QStringLiteral("api.not_found");
    case 408:
    case 504:
        return QStringLiteral("api.timeout");
    case 413:
        return QStringLiteral("api.request_too_large");
    case 429:
        return QStringLiteral("api.rate_limited");
    case 529:
        return QStringLiteral("api.overloaded");
    default:
        break;
    }
    if (status >= 500 || status == 409)
        return QStringLiteral("api.server");
    if (status == 0) // an error event of a type this client does not know
        return QStringLiteral("api.server");
    return QStringLiteral("api.invalid_request");
}

bool retryableType(const QString& type) {
    return type == QLatin1String("overloaded_error") || type == QLatin1String("api_error") ||
           type == QLatin1String("rate_limit_error") || type == QLatin1String("timeout_error");
}

} // namespace

bool ApiErrorClassifier::isRetryableStatus(int status) {
    return status == 408 || status == 409 || status == 429 || status >= 500;
}

bool ApiErrorClassifier::isSpendLimit(int status, const QString& errorType,
                                      const QString& errorCode, const QString& apiMessage) {
    if (status == 402 || errorType == QLatin1String("billing_error"))
        return true;
    if (errorCode == QLatin1String("enforced_spend_limit_reached") ||
        errorCode == QLatin1String("contract_spend_limit_reached") ||
        errorCode.startsWith(QLatin1String("linked_organization_")))
        return true;
    // The organisation's own usage limit arrives as a plain 400 with no code of its own; its
    // wording is the only marker there is.
    return status == 400 && apiMessage.contains(QLatin1String("API usage limits"));
}

ApiFailure ApiErrorClassifier::fromErrorObject(int status, const QJsonObject& root) {
    ApiFailure f;
    f.httpStatus = status;
    const QJsonObject error = root.value(QLatin1String("error")).toObject();
    f.errorType = error.value(QLatin1String("type")).toString();
    f.apiMessage = error.value(QLatin1String("message")).toString().left(500);
    f.errorCode = error.value(QLatin1String("details"))
                      .toObject()
                      .value(QLatin1String("error_code"))
                      .toString();
    f.requestId = root.value(QLatin1String("request_id")).toString();
    if (isSpendLimit(status, f.errorType, f.errorCode, f.apiMessage)) {
        f.code = QStringLiteral("api.spend_limit");
        f.retryable = false;
        return f;
    }
    f.code = codeFor(status, f.errorType);
    f.retryable = status != 0 ? isRetryableStatus(status) : retryableType(f.errorType);
    return f;
}

ApiFailure ApiErrorClassifier::fromHttp(int status, const QByteArray& body,
                                        const QByteArray& contentType) {
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &parseError);
    const QJsonObject root = doc.object();
    if (parseError.error == QJsonParseError::NoError && doc.isObject() &&
        root.value(QLatin1String("error")).isObject())
        return fromErrorObject(status, root);
    ApiFailure f;
    f.httpStatus = status;
    f.retryable = isRetryableStatus(status);
    f.errorType = QString::fromLatin1(contentType.left(100));
    f.code = status == 413 ? QStringLiteral("api.request_too_large")
                           : QStringLiteral("api.unexpected_response");
    return f;
}

QString ApiErrorClassifier::describe(const ApiFailure& f) {
    QString text;
    const QString detail =
        f.apiMessage.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(f.apiMessage);
    if (f.code == QLatin1String("api.authentication"))
        text = tr("Claude rejected the API key (authentication failed). Check the key in the "
                  "settings.");
    else if (f.code == QLatin1String("api.spend_limit"))
        text = tr("The API budget is exhausted (spend limit reached%1). Not retried: raise the "
                  "limit or wait until it resets.")
                   .arg(f.errorCode.isEmpty() ? QString() : QStringLiteral(": ") + f.errorCode);
    else if (f.code == QLatin1String("api.rate_limited"))
        text = tr("Claude's rate limit was reached.");
    else if (f.code == QLatin1String("api.overloaded"))
        text = tr("Claude is overloaded. Try again in a few minutes.");
    else if (f.code == QLatin1String("api.permission"))
        text = tr("The API key is not allowed to do this%1.").arg(detail);
    else if (f.code == QLatin1String("api.not_found"))
        text = tr("The API does not know this model or endpoint%1.").arg(detail);
    else if (f.code == QLatin1String("api.request_too_large"))
        text = tr("The request is too large for the API (HTTP %1): the conversation or one tool "
                  "result is too big.")
                   .arg(f.httpStatus);
    else if (f.code == QLatin1String("api.timeout"))
        text = tr("The API timed out processing the request%1.").arg(detail);
    else if (f.code == QLatin1String("api.invalid_request"))
        text = tr("The API refused the request as invalid%1.").arg(detail);
    else if (f.code == QLatin1String("api.unexpected_response"))
        text = tr("Unexpected response from the API endpoint (HTTP %1, content type \"%2\").")
                   .arg(f.httpStatus)
                   .arg(f.errorType.isEmpty() ? tr("none") : f.errorType);
    else
        text = f.httpStatus ? tr("The API reported an internal error (HTTP %1)%2.")
                                  .arg(f.httpStatus)
                                  .arg(detail)
                            : tr("The API reported an error in the stream%1.").arg(detail);
    if (!f.requestId.isEmpty())
        text += QLatin1Char(' ') + tr("[request-id: %1]").arg(f.requestId);
    return text;
}

} // namespace m1
