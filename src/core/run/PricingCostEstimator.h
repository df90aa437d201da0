#pragma once

#include "run/CostEstimator.h"

namespace m1 {

class CostTracker;

// The run loop's prices from the CostTracker (resources/pricing.json plus the user's override),
// so the cost stored with each API call, the per-run budget and the day/month budgets all use
// the same exact micro-dollar arithmetic. An unknown model gives no cost and the tracker's
// cost_threshold alert.
class PricingCostEstimator : public CostEstimator {
public:
    explicit PricingCostEstimator(CostTracker& tracker) : m_tracker(tracker) {}

    std::optional<qint64> costMicros(const QString& model, const TokenUsage& usage,
                                     const QString& runId) const override;
    std::optional<qint64> turnEstimateMicros(const QString& model, qint64 promptTokens,
                                             qint64 maxTokens) const override;

private:
    CostTracker& m_tracker;
};

} // namespace m1
