#include "run/PricingCostEstimator.h"

#include "monitoring/CostTracker.h"

namespace m1 {

std::optional<qint64> PricingCostEstimator::costMicros(const QString& model,
                                                       const TokenUsage& usage,
                                                       const QString& runId) const {
    return m_tracker.costMicros(model, usage, false, runId);
}

std::optional<qint64> PricingCostEstimator::turnEstimateMicros(const QString& model,
                                                               qint64 promptTokens,
                                                               qint64 maxTokens) const {
    return m_tracker.estimateTurnCost(model, promptTokens, 0, 0, maxTokens);
}

} // namespace m1
