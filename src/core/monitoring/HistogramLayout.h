#pragma once

#include <QByteArray>
#include <QList>

#include <vector>

namespace m1 {

// Fixed log-linear bucket boundaries shared by every histogram of one family: each decade from
// 10^minExponent to 10^maxExponent is split into 90 linear steps (m × 10^(k-1), m = 11..100), so
// a bucket starting at m × 10^(k-1) is 1/m of its lower bound wide: at most 10% at the start of a
// decade, about 1% near its end. Buckets are upper-inclusive like Prometheus' `le`:
// bucket 0 holds x <= 10^minExponent (and zero or negative values), bucket i holds
// B[i-1] < x <= B[i], the last one x > 10^maxExponent. Memory is bounded: (90 × decades + 2)
// counters per series, whatever is observed.
class HistogramLayout {
public:
    HistogramLayout(int minExponent, int maxExponent);

    // Seconds from 1 µs to 10 000 s: tool and API latencies.
    static const HistogramLayout& latencySeconds();

    int bucketCount() const { return int(m_bounds.size()) + 1; }
    // Upper bound of bucket i (i < bucketCount() - 1).
    double upperBound(int bucket) const { return m_bounds[size_t(bucket)]; }
    // Lower bound of bucket i (i > 0).
    double lowerBound(int bucket) const { return m_bounds[size_t(bucket) - 1]; }
    int bucketFor(double value) const;
    // The bucket whose upper bound equals `bound` exactly, or -1.
    int bucketWithUpperBound(double bound) const;

private:
    int m_minExponent;
    int m_maxExponent;
    std::vector<double> m_bounds; // ascending, the upper bounds of buckets 0 .. n-1
};

} // namespace m1
