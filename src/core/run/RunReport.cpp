#include "run/RunReport.h"

namespace m1 {

QStringList RunReport::stopReasons() {
    return {QStringLiteral("completed"),       QStringLiteral("max_steps"),
            QStringLiteral("max_tool_calls"),  QStringLiteral("max_runtime"),
            QStringLiteral("budget_exceeded"), QStringLiteral("user_cancelled"),
            QStringLiteral("api_error"),       QStringLiteral("provider_refused"),
            QStringLiteral("max_tokens"),      QStringLiteral("context_exhausted"),
            QStringLiteral("audit_failed")};
}

QJsonObject RunReport::toJson() const {
    return QJsonObject{
        {QStringLiteral("run_id"), runId},
        {QStringLiteral("agent"), agent},
        {QStringLiteral("model"), model},
        {QStringLiteral("provider"), provider},
        {QStringLiteral("dry_run"), dryRun},
        {QStringLiteral("stop_reason"), stopReason},
        {QStringLiteral("error"),
         errorCode.isEmpty() ? QJsonValue(QJsonValue::Null)
                             : QJsonValue(QJsonObject{{QStringLiteral("code"), errorCode},
                                                      {QStringLiteral("message"), errorMessage}})},
        {QStringLiteral("stop_details"), stopDetails},
        {QStringLiteral("steps"), steps},
        {QStringLiteral("api_calls"), apiCalls},
        {QStringLiteral("tool_calls"), QJsonObject{{QStringLiteral("proposed"), proposed},
                                                   {QStringLiteral("approved"), approved},
                                                   {QStringLiteral("denied"), denied},
                                                   {QStringLiteral("executed"), executed},
                                                   {QStringLiteral("failed"), failed},
                                                   {QStringLiteral("expired"), expired},
                                                   {QStringLiteral("cancelled"), cancelled},
                                                   {QStringLiteral("dry_run"), dryRunSkipped}}},
        {QStringLiteral("tokens"),
         QJsonObject{{QStringLiteral("input"), double(inputTokens)},
                     {QStringLiteral("output"), double(outputTokens)},
                     {QStringLiteral("cache_write"), double(cacheWriteTokens)},
                     {QStringLiteral("cache_read"), double(cacheReadTokens)}}},
        {QStringLiteral("cost_usd"),
         costMicros ? QJsonValue(double(*costMicros) / 1e6) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("cost_complete"), costComplete},
        {QStringLiteral("billed"), billed},
        {QStringLiteral("duration_ms"), double(durationMs)},
        {QStringLiteral("context_trims"), contextTrims},
        {QStringLiteral("plan"), plan}};
}

QString RunReport::toText() const {
    QString text;
    text += tr("Run %1 finished: %2").arg(runId, stopReason);
    if (dryRun)
        text += tr(" (dry run: no tool was executed)");
    text += QLatin1Char('\n');
    if (!errorCode.isEmpty())
        text += tr("  error: %1: %2\n").arg(errorCode, errorMessage);
    if (!stopDetails.isEmpty()) {
        const QString why = stopDetails.value(QLatin1String("explanation")).toString();
        if (!why.isEmpty())
            text += tr("  provider: %1\n").arg(why);
    }
    text += tr("  agent %1, model %2, provider %3\n").arg(agent, model, provider);
    text += tr("  steps %1, API calls %2, duration %3 s\n")
                .arg(steps)
                .arg(apiCalls)
                .arg(double(durationMs) / 1000.0, 0, 'f', 1);
    text += tr("  tool calls: %1 proposed, %2 approved, %3 denied, %4 executed, %5 failed, %6 "
               "expired, %7 cancelled, %8 not run (dry run)\n")
                .arg(proposed)
                .arg(approved)
                .arg(denied)
                .arg(executed)
                .arg(failed)
                .arg(expired)
                .arg(cancelled)
                .arg(dryRunSkipped);
    text += tr("  tokens: %1 in, %2 out, %3 cache write, %4 cache read\n")
                .arg(inputTokens)
                .arg(outputTokens)
                .arg(cacheWriteTokens)
                .arg(cacheReadTokens);
    if (!billed)
        text += tr("  cost: $0 (%1 provider: nothing is billed)\n").arg(provider);
    else if (costMicros)
        text += tr("  cost: $%1%2\n")
                    .arg(double(*costMicros) / 1e6, 0, 'f', 4)
                    .arg(costComplete ? QString() : tr(" (incomplete: some prices unknown)"));
    else
        text += tr("  cost: unknown\n");
    if (!plan.isEmpty()) {
        text += tr("  plan:\n");
        int n = 1;
        for (const QJsonValue& v : plan) {
            const QJsonObject step = v.toObject();
            text += QStringLiteral("    %1. [%2] %3\n")
                        .arg(n++)
                        .arg(step.value(QLatin1String("status")).toString(),
                             step.value(QLatin1String("title")).toString());
        }
    }
    return text;
}

} // namespace m1
