#include "monitoring/MetricsRegistry.h"

#include <QRegularExpression>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

namespace m1 {

namespace {

// Prometheus text format 0.0.4: in label values, backslash, double quote and line feed are
// escaped; everything else (including other control characters) is passed as UTF-8.
QByteArray escapeLabelValue(const QString& value) {
    const QByteArray utf8 = value.toUtf8();
    QByteArray out;
    out.reserve(utf8.size() + 8);
    for (const char c : utf8) {
        switch (c) {
        case '\\':
            out += "\\\\";
            break;
        case '"':
            out += "\\\"";
            break;
        case '\n':
            out += "\\n";
            break;
        default:
            out += c;
        }
    }
    return out;
}

QByteArray renderLabels(const QStringList& names, const QStringList& values) {
    if (names.isEmpty())
        return {};
    QByteArray out("{");
    for (qsizetype i = 0; i < names.size(); ++i) {
        if (i > 0)
            out += ',';
        out += names.at(i).toUtf8();
        out += "=\"";
        out += escapeLabelValue(values.value(i));
        out += '"';
    }
    out += '}';
    return out;
}

void atomicMin(std::atomic<double>& target, double value) {
    double current = target.load(std::memory_order_relaxed);
    while (value < current &&
           !target.compare_exchange_weak(current, value, std::memory_order_relaxed)) {
    }
}

void atomicMax(std::atomic<double>& target, double value) {
    double current = target.load(std::memory_order_relaxed);
    while (value > current &&
           !target.compare_exchange_weak(current, value, std::memory_order_relaxed)) {
    }
}

const QList<double>& defaultExposedBounds() {
    static const QList<double> bounds{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                      2.5,   5,    10,    30,   60,  120,  300};
    return bounds;
}

} // namespace

MetricsRegistry::MetricsRegistry(int maxSeriesPerFamily)
    : m_maxSeries(std::max(1, maxSeriesPerFamily)) {}

MetricsRegistry::~MetricsRegistry() = default;

bool MetricsRegistry::isValidMetricName(const QString& name) {
    static const QRegularExpression pattern(QStringLiteral("^[a-zA-Z_:][a-zA-Z0-9_:]*$"));
    return pattern.match(name).hasMatch();
}

bool MetricsRegistry::isValidLabelName(const QString& name) {
    static const QRegularExpression pattern(QStringLiteral("^[a-zA-Z_][a-zA-Z0-9_]*$"));
    return pattern.match(name).hasMatch() && !name.startsWith(QLatin1String("__")) &&
           name != QLatin1String("le") && name != QLatin1String("quantile");
}

MetricsRegistry::FamilyHandle MetricsRegistry::counterFamily(const QString& name,
                                                             const QString& help,
                                                             const QStringList& labelNames) {
    return addFamily(name, help, Type::Counter, labelNames, nullptr, {});
}

MetricsRegistry::FamilyHandle MetricsRegistry::gaugeFamily(const QString& name, const QString& help,
                                                           const QStringList& labelNames) {
    return addFamily(name, help, Type::Gauge, labelNames, nullptr, {});
}

MetricsRegistry::FamilyHandle MetricsRegistry::histogramFamily(const QString& name,
                                                               const QString& help,
                                                               const QStringList& labelNames,
                                                               const HistogramLayout& layout,
                                                               const QList<double>& exposedBounds) {
    return addFamily(name, help, Type::Histogram, labelNames, &layout,
                     exposedBounds.isEmpty() ? defaultExposedBounds() : exposedBounds);
}

MetricsRegistry::FamilyHandle MetricsRegistry::family(const QString& name) const {
    std::shared_lock lock(m_familiesMutex);
    Family* f = m_byName.value(name);
    return f ? FamilyHandle(const_cast<MetricsRegistry*>(this), f) : FamilyHandle();
}

MetricsRegistry::FamilyHandle MetricsRegistry::addFamily(const QString& name, const QString& help,
                                                         Type type, const QStringList& labelNames,
                                                         const HistogramLayout* layout,
                                                         const QList<double>& exposedBounds) {
    if (!isValidMetricName(name))
        return {};
    for (const QString& label : labelNames)
        if (!isValidLabelName(label))
            return {};
    std::unique_lock lock(m_familiesMutex);
    if (Family* existing = m_byName.value(name)) {
        if (existing->type == type && existing->labelNames == labelNames &&
            existing->layout == layout)
            return FamilyHandle(this, existing);
        return {};
    }
    auto family = std::make_unique<Family>();
    family->name = name;
    family->help = help;
    family->type = type;
    family->labelNames = labelNames;
    family->layout = layout;
    if (layout) {
        QList<double> sorted = exposedBounds;
        std::sort(sorted.begin(), sorted.end());
        for (const double bound : sorted) {
            const int bucket = layout->bucketWithUpperBound(bound);
            if (bucket >= 0 && !family->exposedBuckets.contains(bucket)) {
                family->exposedBounds.append(bound);
                family->exposedBuckets.append(bucket);
            }
        }
    }
    Family* raw = family.get();
    m_families.push_back(std::move(family));
    m_byName.insert(name, raw);
    return FamilyHandle(this, raw);
}

MetricsRegistry::Series* MetricsRegistry::resolve(Family& family, const QStringList& values) {
    if (values.size() != family.labelNames.size())
        return nullptr;
    {
        std::shared_lock lock(family.mutex);
        if (Series* s = family.index.value(values))
            return s;
    }
    std::unique_lock lock(family.mutex);
    if (Series* s = family.index.value(values))
        return s;
    if (qsizetype(family.series.size()) >= m_maxSeries) {
        if (!family.overflow) {
            QStringList overflowValues;
            for (qsizetype i = 0; i < values.size(); ++i)
                overflowValues.append(QStringLiteral("_overflow"));
            family.overflow = createSeries(family, overflowValues);
        }
        return family.overflow;
    }
    Series* s = createSeries(family, values);
    family.index.insert(values, s);
    return s;
}

MetricsRegistry::Series* MetricsRegistry::createSeries(Family& family, const QStringList& values) {
    auto series = std::make_unique<Series>();
    series->labelValues = values;
    series->renderedLabels = renderLabels(family.labelNames, values);
    if (family.type == Type::Histogram) {
        const int n = family.layout->bucketCount();
        series->buckets = std::make_unique<std::atomic<quint64>[]>(size_t(n));
        for (int i = 0; i < n; ++i)
            series->buckets[size_t(i)].store(0, std::memory_order_relaxed);
        series->min.store(std::numeric_limits<double>::infinity());
        series->max.store(-std::numeric_limits<double>::infinity());
    }
    Series* raw = series.get();
    family.series.push_back(std::move(series));
    return raw;
}

MetricsRegistry::Counter MetricsRegistry::FamilyHandle::counter(const QStringList& values) const {
    if (!m_family || m_family->type != Type::Counter)
        return {};
    return Counter(m_registry->resolve(*m_family, values));
}

MetricsRegistry::Gauge MetricsRegistry::FamilyHandle::gauge(const QStringList& values) const {
    if (!m_family || m_family->type != Type::Gauge)
        return {};
    return Gauge(m_registry->resolve(*m_family, values));
}

MetricsRegistry::Histogram
MetricsRegistry::FamilyHandle::histogram(const QStringList& values) const {
    if (!m_family || m_family->type != Type::Histogram)
        return {};
    Series* s = m_registry->resolve(*m_family, values);
    return s ? Histogram(s, m_family->layout) : Histogram();
}

HistogramSnapshot MetricsRegistry::FamilyHandle::mergedSnapshot() const {
    if (!m_family || m_family->type != Type::Histogram)
        return HistogramSnapshot();
    HistogramSnapshot merged(m_family->layout);
    std::shared_lock lock(m_family->mutex);
    for (const auto& s : m_family->series)
        merged.merge(snapshotOf(m_family->layout, *s));
    return merged;
}

void MetricsRegistry::Histogram::observe(double value) const {
    if (!m_series || std::isnan(value))
        return;
    const int bucket = m_layout->bucketFor(value);
    m_series->buckets[size_t(bucket)].fetch_add(1, std::memory_order_relaxed);
    m_series->sum.fetch_add(value, std::memory_order_relaxed);
    atomicMin(m_series->min, value);
    atomicMax(m_series->max, value);
    // Last, so a reader that sees the count also sees (nearly always) the bucket.
    m_series->count.fetch_add(1, std::memory_order_release);
}

HistogramSnapshot MetricsRegistry::Histogram::snapshot() const {
    HistogramSnapshot snapshot(m_layout ? m_layout : &HistogramLayout::latencySeconds());
    if (!m_series)
        return snapshot;
    return snapshotOf(m_layout, *m_series);
}

HistogramSnapshot MetricsRegistry::snapshotOf(const HistogramLayout* layout, const Series& series) {
    HistogramSnapshot snapshot(layout);
    if (!series.buckets)
        return snapshot;
    const int n = layout->bucketCount();
    std::vector<quint64> buckets(static_cast<size_t>(n));
    quint64 total = 0;
    for (int i = 0; i < n; ++i) {
        buckets[size_t(i)] = series.buckets[size_t(i)].load(std::memory_order_relaxed);
        total += buckets[size_t(i)];
    }
    // The buckets are the truth for _count: a concurrent observe may have bumped a bucket but
    // not yet the count; using the bucket total keeps the exposition self-consistent.
    const double min = series.min.load(std::memory_order_relaxed);
    const double max = series.max.load(std::memory_order_relaxed);
    snapshot.set(std::move(buckets), total, series.sum.load(std::memory_order_relaxed),
                 total ? min : 0.0, total ? max : 0.0);
    return snapshot;
}

} // namespace m1
