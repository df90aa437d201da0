#pragma once

#include "monitoring/HistogramLayout.h"

#include <QtGlobal>

#include <optional>
#include <vector>

namespace m1 {

// A copy of one histogram (or the merge of several with the same layout) at one moment.
//
// Percentiles: the estimator finds the bucket that holds the q-th rank (rank = q × count) and
// interpolates linearly inside it, clamped to the smallest and largest value observed. The
// estimate therefore lies in the same bucket as the true sample quantile: its relative error is
// at most the bucket's relative width, 1/m for a bucket starting at m × 10^k (m = 10..99), i.e.
// <= 10% and about 2% for values whose leading digits are 50 or more. Values below the layout's
// range report the smallest observed value's bucket bound; above it, the largest observed value.
class HistogramSnapshot {
public:
    explicit HistogramSnapshot(const HistogramLayout* layout = &HistogramLayout::latencySeconds());

    const HistogramLayout& layout() const { return *m_layout; }
    quint64 count() const { return m_count; }
    double sum() const { return m_sum; }
    double min() const { return m_min; }
    double max() const { return m_max; }
    const std::vector<quint64>& buckets() const { return m_buckets; }

    // Adds another snapshot with the same layout (ignored otherwise).
    void merge(const HistogramSnapshot& other);
    // Observations <= the upper bound of `bucket` (the Prometheus cumulative count).
    quint64 cumulativeCount(int bucket) const;
    // q in [0, 1]; empty when nothing was observed.
    std::optional<double> quantile(double q) const;

    // For MetricsRegistry, which fills snapshots from its atomics.
    void set(std::vector<quint64> buckets, quint64 count, double sum, double min, double max);

private:
    const HistogramLayout* m_layout;
    std::vector<quint64> m_buckets;
    quint64 m_count = 0;
    double m_sum = 0;
    double m_min = 0;
    double m_max = 0;
};

} // namespace m1
