#pragma once

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonObject>
#include <QMetaType>
#include <QString>
#include <QStringList>

#include <optional>

namespace m1 {

// What a finished run amounts to: the run's row in a sentence, for the CLI and the GUI.
// Stop reasons: completed, max_steps, max_tool_calls, max_runtime, budget_exceeded,
// user_cancelled, api_error, provider_refused, max_tokens, context_exhausted, audit_failed.
struct RunReport {
    Q_DECLARE_TR_FUNCTIONS(RunReport)
public:
    QString runId;
    QString agent;
    QString model;
    QString provider;
    bool dryRun = false;
    QString stopReason;
    QString errorCode; // why the run ended abnormally (api.*, store.*, ...); empty otherwise
    QString errorMessage;
    QJsonObject stopDetails; // e.g. the refusal's stop_details
    int steps = 0;
    int apiCalls = 0;
    int proposed = 0;
    int approved = 0;
    int denied = 0;
    int executed = 0;
    int failed = 0;
    int expired = 0;
    int cancelled = 0;
    int dryRunSkipped = 0;
    qint64 inputTokens = 0;
    qint64 outputTokens = 0;
    qint64 cacheWriteTokens = 0;
    qint64 cacheReadTokens = 0;
    std::optional<qint64> costMicros; // empty: no call had a known price
    bool costComplete = true;
    bool billed = true; // false: the provider bills nothing (replay), the cost is 0
    qint64 durationMs = 0;
    QJsonArray plan; // [{title, status}]
    int contextTrims = 0;
    QString finalText; // the model's last text

    // Every stop reason above, in that order (what history filters accept besides "running").
    static QStringList stopReasons();

    QJsonObject toJson() const;
    // Several lines for a terminal.
    QString toText() const;
};

} // namespace m1

Q_DECLARE_METATYPE(m1::RunReport)
