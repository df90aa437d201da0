#pragma once

#include "llm/TokenUsage.h"

#include <QString>

#include <optional>

namespace m1 {

// What the run loop asks to turn live usage into money: the cost stored with each API call, the
// per-run budget and the money gate before each turn. An interface so the run loop does not
// depend on how prices are kept (PricingCostEstimator: the monitoring cost tracker).
class CostEstimator {
public:
    virtual ~CostEstimator() = default;
    // Micro-dollars (1 USD = 1 000 000) for one API call, or nothing when the model has no
    // known price: unknown is never free.
    virtual std::optional<qint64> costMicros(const QString& model, const TokenUsage& usage,
                                             const QString& runId) const = 0;
    // The most the next turn can cost: the prompt plus maxTokens of output. Nothing: unknown.
    virtual std::optional<qint64> turnEstimateMicros(const QString& model, qint64 promptTokens,
                                                     qint64 maxTokens) const = 0;
};

} // namespace m1
