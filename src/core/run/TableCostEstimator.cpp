#include "run/TableCostEstimator.h"

#include <QRegularExpression>

#include <cmath>

namespace m1 {

namespace {

TableCostEstimator::Price price(const char* id, double in, double out, double read,
                                bool prefix = false) {
    // Cache writes follow the standard multipliers (1.25x for 5 minutes, 2x for an hour).
    return TableCostEstimator::Price{
        QString::fromLatin1(id), prefix, in, out, in * 1.25, in * 2.0, read};
}

} // namespace

TableCostEstimator::TableCostEstimator()
    : m_prices{
          price("claude-opus-5-5", 4, 20, 0.20),       price("claude-opus-5", 5, 25, 0.50),
          price("claude-opus-4-8", 5, 25, 0.50),       price("claude-opus-4-7", 5, 25, 0.50),
          price("claude-opus-4-6", 5, 25, 0.50),       price("claude-opus-4-5", 5, 25, 0.50),
          price("claude-sonnet-5-5", 2, 10, 0.20),     price("claude-sonnet-5", 2, 10, 0.20),
          price("claude-sonnet-4-6", 3, 15, 0.30),     price("claude-sonnet-4-5", 3, 15, 0.30),
          price("claude-haiku-5-5", 0.10, 0.50, 0.01), price("claude-haiku-4-5", 1, 5, 0.10),
          price("claude-fable-5-1", 10, 50, 0.25),     price("claude-mythos-5-1", 10, 50, 0.25),
          price("claude-fable-5", 10, 50, 1.00),       price("claude-mythos-5", 10, 50, 1.00)} {}

TableCostEstimator::TableCostEstimator(QList<Price> prices) : m_prices(std::move(prices)) {}

std::optional<TableCostEstimator::Price> TableCostEstimator::find(const QString& model) const {
    for (const Price& p : m_prices)
        if (!p.prefix && p.id == model)
            return p;
    static const QRegularExpression dated(QStringLiteral("-\\d{8}$"));
    QString undated = model;
    undated.remove(dated);
    if (undated != model)
        for (const Price& p : m_prices)
            if (!p.prefix && p.id == undated)
                return p;
    std::optional<Price> best;
    for (const Price& p : m_prices)
        if (p.prefix && model.startsWith(p.id) && (!best || p.id.size() > best->id.size()))
            best = p;
    return best;
}

std::optional<qint64> TableCostEstimator::costMicros(const QString& model,
                                                     const TokenUsage& usage) const {
    const auto p = find(model);
    if (!p || !usage.known)
        return std::nullopt;
    double write5m = double(usage.cacheCreation5mInputTokens);
    const double write1h = double(usage.cacheCreation1hInputTokens);
    // Without the 5m/1h split, all cache writes are priced at the 5-minute rate.
    if (write5m + write1h == 0)
        write5m = double(usage.cacheCreationInputTokens);
    const double dollarsTimesMillion = double(usage.inputTokens) * p->input +
                                       double(usage.outputTokens) * p->output +
                                       write5m * p->cacheWrite5m + write1h * p->cacheWrite1h +
                                       double(usage.cacheReadInputTokens) * p->cacheRead;
    // per-million prices times tokens = micro-dollars.
    return static_cast<qint64>(std::llround(dollarsTimesMillion));
}

} // namespace m1
