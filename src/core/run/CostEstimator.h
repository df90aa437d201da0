#pragma once

#include "llm/TokenUsage.h"

#include <QString>

#include <optional>

namespace m1 {

// What the run loop asks to turn live usage into money for the per-run budget. An interface so
// the monitoring cost tracker (with its user-editable pricing file) can replace the small
// built-in table without touching the run loop.
class CostEstimator {
public:
    virtual ~CostEstimator() = default;
    // Micro-dollars (1 USD = 1 000 000) for one API call, or nothing when the model has no
    // known price: unknown is never free.
    virtual std::optional<qint64> costMicros(const QString& model,
                                             const TokenUsage& usage) const = 0;
};

} // namespace m1
