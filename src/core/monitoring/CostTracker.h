#pragma once

#include "llm/TokenUsage.h"
#include "monitoring/PricingTable.h"
#include "util/Error.h"

#include <QCoreApplication>
#include <QDate>
#include <QMutex>

#include <optional>

namespace m1 {

class AlertManager;

// The cost of API calls from their token counts and the price list.
//
// Exact arithmetic: prices are integer pico-dollars per token (PricingTable), so a call's cost is
// the integer sum  input·in + write5m·w5m + write1h·w1h + read·read + output·out  in
// pico-dollars (128-bit, no overflow), multiplied by the batch factor for Batch API calls, and
// rounded once, half up, to micro-dollars (the store's unit). Nothing is rounded per token kind,
// so the sum of a breakdown never drifts from the total by more than the final rounding.
//
// A model without a price gives std::nullopt ("unknown", never 0) and raises one cost_threshold
// alert per model through the AlertManager, if one is attached.
//
// Thread-safe; reload() swaps the table under a lock.
class CostTracker {
    Q_DECLARE_TR_FUNCTIONS(CostTracker)

public:
    struct Tokens {
        qint64 input = 0;
        qint64 output = 0;
        qint64 cacheWrite5m = 0;
        qint64 cacheWrite1h = 0;
        qint64 cacheRead = 0;
        qint64 promptTokens() const { return input + cacheWrite5m + cacheWrite1h + cacheRead; }
    };

    explicit CostTracker(PricingTable table = {}, AlertManager* alerts = nullptr);

    // Re-reads the shipped table and the user's file; keeps the old table on error.
    Status reload();
    void setTable(const PricingTable& table);
    PricingTable table() const;
    void setAlertManager(AlertManager* alerts) { m_alerts = alerts; }

    // Cache writes without a 5m/1h breakdown are priced at the 5-minute rate (claude-api.md §6).
    static Tokens tokensOf(const TokenUsage& usage);
    // batchPartsPerMillion 0: not a Batch API call.
    static qint64 costMicros(const PricingEntry& entry, const Tokens& tokens,
                             qint64 batchPartsPerMillion = 0);

    // Unknown model or unknown usage: nullopt.
    std::optional<qint64> costMicros(const QString& model, const TokenUsage& usage,
                                     bool batch = false, const QString& runId = {});
    std::optional<qint64> costMicros(const QString& model, const Tokens& tokens, bool batch = false,
                                     const QString& runId = {});
    // The money gate's figure before a model turn: the prompt (uncached input, cache reads and
    // cache writes at the 5-minute rate) plus max_tokens of output, at the tier the prompt size
    // selects. Unknown model: nullopt (and the alert).
    std::optional<qint64> estimateTurnCost(const QString& model, qint64 inputTokensEstimate,
                                           qint64 cacheReadTokens, qint64 cacheWriteTokens,
                                           qint64 maxTokens);
    // Spent so far this month, extrapolated linearly to the month's end.
    static qint64 monthlyProjection(qint64 spentThisMonthMicros, const QDate& today);

private:
    std::optional<PricingEntry> lookup(const QString& model, const QString& runId);

    mutable QMutex m_mutex;
    PricingTable m_table;
    AlertManager* m_alerts;
};

} // namespace m1
