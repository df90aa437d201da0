#pragma once

#include "run/CostEstimator.h"

#include <QList>

namespace m1 {

// The default CostEstimator: list prices per million tokens (claude-api.md §6, late 2026).
// Lookup: exact id, then the id without a -YYYYMMDD suffix, then the longest prefix.
class TableCostEstimator : public CostEstimator {
public:
    struct Price {
        QString id; // exact model id, or a prefix when `prefix` is set
        bool prefix = false;
        double input = 0;
        double output = 0;
        double cacheWrite5m = 0;
        double cacheWrite1h = 0;
        double cacheRead = 0;
    };

    TableCostEstimator(); // the built-in table
    explicit TableCostEstimator(QList<Price> prices);

    std::optional<qint64> costMicros(const QString& model, const TokenUsage& usage) const override;
    std::optional<Price> find(const QString& model) const;

private:
    QList<Price> m_prices;
};

} // namespace m1
