#include "monitoring/HistogramSnapshot.h"

#include <algorithm>

namespace m1 {

HistogramSnapshot::HistogramSnapshot(const HistogramLayout* layout)
    : m_layout(layout), m_buckets(size_t(layout->bucketCount()), 0) {}

void HistogramSnapshot::set(std::vector<quint64> buckets, quint64 count, double sum, double min,
                            double max) {
    m_buckets = std::move(buckets);
    m_buckets.resize(size_t(m_layout->bucketCount()), 0);
    m_count = count;
    m_sum = sum;
    m_min = min;
    m_max = max;
}

void HistogramSnapshot::merge(const HistogramSnapshot& other) {
    if (other.m_layout != m_layout || other.m_count == 0)
        return;
    for (size_t i = 0; i < m_buckets.size(); ++i)
        m_buckets[i] += other.m_buckets[i];
    if (m_count == 0) {
        m_min = other.m_min;
        m_max = other.m_max;
    } else {
        m_min = std::min(m_min, other.m_min);
        m_max = std::max(m_max, other.m_max);
    }
    m_count += other.m_count;
    m_sum += other.m_sum;
}

quint64 HistogramSnapshot::cumulativeCount(int bucket) const {
    quint64 total = 0;
    for (int i = 0; i <= bucket && i < int(m_buckets.size()); ++i)
        total += m_buckets[size_t(i)];
    return total;
}

std::optional<double> HistogramSnapshot::quantile(double q) const {
    if (m_count == 0)
        return std::nullopt;
    q = std::clamp(q, 0.0, 1.0);
    if (q == 0.0)
        return m_min;
    const double rank = q * double(m_count);
    const int last = int(m_buckets.size()) - 1;
    quint64 before = 0;
    for (int i = 0; i <= last; ++i) {
        const quint64 inBucket = m_buckets[size_t(i)];
        if (inBucket == 0 || double(before + inBucket) < rank) {
            before += inBucket;
            continue;
        }
        double lower = i == 0 ? m_min : m_layout->lowerBound(i);
        double upper = i == last ? m_max : m_layout->upperBound(i);
        lower = std::max(lower, m_min);
        upper = std::min(upper, m_max);
        if (upper < lower)
            upper = lower;
        const double fraction = (rank - double(before)) / double(inBucket);
        return lower + (upper - lower) * std::clamp(fraction, 0.0, 1.0);
    }
    return m_max;
}

} // namespace m1
