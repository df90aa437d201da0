#include "monitoring/HistogramLayout.h"

#include <algorithm>
#include <cmath>

namespace m1 {

namespace {

constexpr int kStepsPerDecade = 90;

// 10^n as a double, exact for the range used here (|n| <= 22).
double exactPowerOf10(int n) {
    double value = 1.0;
    for (int i = 0; i < n; ++i)
        value *= 10.0;
    return value;
}

// m × 10^e as the double nearest to the decimal number: integer times or divided by an exact
// power of ten, so `le` labels print as the short decimal ("0.25", not 0.2500000001).
double decimal(int m, int e) {
    return e >= 0 ? double(m) * exactPowerOf10(e) : double(m) / exactPowerOf10(-e);
}

} // namespace

HistogramLayout::HistogramLayout(int minExponent, int maxExponent)
    : m_minExponent(minExponent), m_maxExponent(std::max(maxExponent, minExponent + 1)) {
    m_bounds.reserve(size_t(kStepsPerDecade * (m_maxExponent - m_minExponent) + 1));
    m_bounds.push_back(decimal(1, m_minExponent));
    for (int k = m_minExponent; k < m_maxExponent; ++k)
        for (int m = 11; m <= 100; ++m)
            m_bounds.push_back(m == 100 ? decimal(1, k + 1) : decimal(m, k - 1));
}

const HistogramLayout& HistogramLayout::latencySeconds() {
    static const HistogramLayout layout(-6, 4);
    return layout;
}

int HistogramLayout::bucketFor(double value) const {
    const int last = int(m_bounds.size()); // the overflow bucket
    if (!(value > m_bounds.front()))
        return 0;
    if (value > m_bounds.back())
        return last;
    // A first guess from the logarithm, then exact comparisons against the table: rounding in
    // log10 or the division must not move a value that equals a boundary into the next bucket.
    const int exponent = int(std::floor(std::log10(value)));
    const double mantissa = value / std::pow(10.0, exponent - 1); // [10, 100)
    int bucket = (exponent - m_minExponent) * kStepsPerDecade + int(std::ceil(mantissa)) - 10;
    bucket = std::clamp(bucket, 1, last);
    while (bucket < last && value > m_bounds[size_t(bucket)])
        ++bucket;
    while (bucket > 0 && value <= m_bounds[size_t(bucket) - 1])
        --bucket;
    return bucket;
}

int HistogramLayout::bucketWithUpperBound(double bound) const {
    const auto it = std::lower_bound(m_bounds.begin(), m_bounds.end(), bound);
    if (it == m_bounds.end() || *it != bound)
        return -1;
    return int(it - m_bounds.begin());
}

} // namespace m1
