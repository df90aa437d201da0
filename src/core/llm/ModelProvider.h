#pragma once

#include "llm/ApiAttempt.h"
#include "llm/AssistantMessage.h"
#include "llm/ModelRequest.h"
#include "util/Error.h"

#include <QJsonObject>
#include <QObject>

namespace m1 {

// The network half of the agent loop: one model turn at a time, asynchronous. Exactly one of
// turnFinished / turnFailed ends every startTurn, also when a receiver of a live signal
// cancels. The delta and preview signals are for a live view only; proposals come from the
// finished message. A delta signal may carry several of the API's deltas of one block joined
// (ClaudeProvider emits one per block and network read). A new attemptStarted means any
// partial output shown so far is void (the request is being sent again).
class ModelProvider : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;

    virtual void startTurn(const ModelRequest& request) = 0;
    // Aborts the request and any retry wait at once; ends the turn with "api.cancelled".
    virtual void cancel() = 0;
    virtual bool isBusy() const = 0;
    // Whether the provider's calls cost money. The offline replay does not: its usage is recorded
    // as played, but each call costs 0 and no budget applies to it (nothing is billed).
    virtual bool isBilled() const { return true; }

signals:
    void attemptStarted(int attempt);
    void textDelta(int index, const QString& text);
    void thinkingDelta(int index, const QString& text);
    void toolUseStarted(int index, const QString& id, const QString& name);
    void toolUsePreview(int index, const QString& id, const QString& name,
                        const QJsonObject& input);
    void attemptFinished(const m1::ApiAttempt& attempt);
    void turnFinished(const m1::AssistantMessage& message);
    // Codes: api.authentication, api.rate_limited, api.spend_limit, api.overloaded,
    // api.invalid_request, api.not_found, api.permission, api.request_too_large, api.server,
    // api.timeout, api.network, api.redirect, api.insecure_url, api.unexpected_response,
    // api.stream_incomplete, api.response_too_large, api.invalid_tool_input, api.cancelled.
    void turnFailed(const m1::Error& error);
};

} // namespace m1

Q_DECLARE_METATYPE(m1::Error)
