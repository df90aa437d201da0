#include "monitoring/CostTracker.h"

#include "monitoring/AlertManager.h"

#include <QJsonObject>

namespace m1 {

CostTracker::CostTracker(PricingTable table, AlertManager* alerts)
    : m_table(std::move(table)), m_alerts(alerts) {}

Status CostTracker::reload() {
    auto table = PricingTable::load();
    if (!table)
        return std::unexpected(table.error());
    setTable(*table);
    return {};
}

void CostTracker::setTable(const PricingTable& table) {
    QMutexLocker lock(&m_mutex);
    m_table = table;
}

PricingTable CostTracker::table() const {
    QMutexLocker lock(&m_mutex);
    return m_table;
}

CostTracker::Tokens CostTracker::tokensOf(const TokenUsage& usage) {
    Tokens t;
    t.input = usage.inputTokens;
    t.output = usage.outputTokens;
    t.cacheRead = usage.cacheReadInputTokens;
    t.cacheWrite1h = usage.cacheCreation1hInputTokens;
    // Whatever part of the cache writes the breakdown does not name is priced at the 5m rate.
    t.cacheWrite5m = qMax(usage.cacheCreation5mInputTokens,
                          usage.cacheCreationInputTokens - usage.cacheCreation1hInputTokens);
    return t;
}

qint64 CostTracker::costMicros(const PricingEntry& entry, const Tokens& tokens,
                               qint64 batchPartsPerMillion) {
    const TokenPrices& p =
        entry.aboveLimit && tokens.promptTokens() > *entry.aboveLimit ? entry.above : entry.prices;
    const __int128 pico = __int128(tokens.input) * p.input + __int128(tokens.output) * p.output +
                          __int128(tokens.cacheWrite5m) * p.cacheWrite5m +
                          __int128(tokens.cacheWrite1h) * p.cacheWrite1h +
                          __int128(tokens.cacheRead) * p.cacheRead;
    if (batchPartsPerMillion > 0)
        return qint64((pico * batchPartsPerMillion + 500000000000LL) / 1000000000000LL);
    return qint64((pico + 500000) / 1000000);
}

std::optional<PricingEntry> CostTracker::lookup(const QString& model, const QString& runId) {
    std::optional<PricingEntry> entry;
    {
        QMutexLocker lock(&m_mutex);
        entry = m_table.find(model);
    }
    if (entry && entry->priced)
        return entry;
    if (m_alerts)
        m_alerts->raise(Alert::Category::CostThreshold, Alert::Level::Warning,
                        tr("No price is known for the model \"%1\": its cost is unknown and "
                           "budgets cannot count it. Add it to %2.")
                            .arg(model, PricingTable::userFilePath()),
                        runId, QJsonObject{{QStringLiteral("model"), model}},
                        QStringLiteral("unpriced:") + model);
    return std::nullopt;
}

std::optional<qint64> CostTracker::costMicros(const QString& model, const TokenUsage& usage,
                                              bool batch, const QString& runId) {
    if (!usage.known)
        return std::nullopt;
    return costMicros(model, tokensOf(usage), batch, runId);
}

std::optional<qint64> CostTracker::costMicros(const QString& model, const Tokens& tokens,
                                              bool batch, const QString& runId) {
    const auto entry = lookup(model, runId);
    if (!entry)
        return std::nullopt;
    qint64 batchPpm = 0;
    if (batch) {
        QMutexLocker lock(&m_mutex);
        batchPpm = m_table.batchPartsPerMillion();
    }
    return costMicros(*entry, tokens, batchPpm);
}

std::optional<qint64> CostTracker::estimateTurnCost(const QString& model,
                                                    qint64 inputTokensEstimate,
                                                    qint64 cacheReadTokens, qint64 cacheWriteTokens,
                                                    qint64 maxTokens) {
    Tokens t;
    t.input = qMax<qint64>(0, inputTokensEstimate);
    t.cacheRead = qMax<qint64>(0, cacheReadTokens);
    t.cacheWrite5m = qMax<qint64>(0, cacheWriteTokens);
    t.output = qMax<qint64>(0, maxTokens);
    return costMicros(model, t);
}

qint64 CostTracker::monthlyProjection(qint64 spentThisMonthMicros, const QDate& today) {
    if (!today.isValid() || today.day() < 1)
        return spentThisMonthMicros;
    return qint64(__int128(spentThisMonthMicros) * today.daysInMonth() / today.day());
}

} // namespace m1
