#pragma once

#include "monitoring/HistogramLayout.h"
#include "monitoring/HistogramSnapshot.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

#include <atomic>
#include <memory>
#include <shared_mutex>
#include <vector>

namespace m1 {

// Counters, gauges and histograms with labels, thread-safe. A family (name, help, label names) is
// registered once; each distinct set of label values is a series, created on first use and never
// removed. Recording goes through handles: resolve the label values once (a hash look-up under a
// shared lock), then each record is one or a few relaxed atomic operations. Handles stay valid as
// long as the registry lives.
//
// A family holds at most maxSeriesPerFamily series: label values come partly from outside (tool
// names proposed by the model, model ids), so beyond the cap every new label set shares one series
// whose labels all read "_overflow" instead of growing without bound.
class MetricsRegistry {
public:
    enum class Type { Counter, Gauge, Histogram };

    struct Series {
        QStringList labelValues;
        QByteArray renderedLabels; // {a="x",b="y"} escaped once, for the exposition
        std::atomic<quint64> counter{0};
        std::atomic<double> gauge{0};
        // Histogram only
        std::unique_ptr<std::atomic<quint64>[]> buckets;
        std::atomic<quint64> count{0};
        std::atomic<double> sum{0};
        std::atomic<double> min{0};
        std::atomic<double> max{0};
    };

    struct Family {
        QString name;
        QString help;
        Type type = Type::Counter;
        QStringList labelNames;
        const HistogramLayout* layout = nullptr;
        QList<double> exposedBounds; // histogram `le` values, each a layout boundary
        QList<int> exposedBuckets;   // the layout bucket of each exposed bound

        mutable std::shared_mutex mutex;
        QHash<QStringList, Series*> index;
        std::vector<std::unique_ptr<Series>> series; // creation order
        Series* overflow = nullptr;
    };

    class Counter {
    public:
        Counter() = default;
        void inc(quint64 n = 1) const {
            if (m_series)
                m_series->counter.fetch_add(n, std::memory_order_relaxed);
        }
        quint64 value() const {
            return m_series ? m_series->counter.load(std::memory_order_relaxed) : 0;
        }
        bool isValid() const { return m_series != nullptr; }

    private:
        friend class MetricsRegistry;
        explicit Counter(Series* series) : m_series(series) {}
        Series* m_series = nullptr;
    };

    class Gauge {
    public:
        Gauge() = default;
        void set(double v) const {
            if (m_series)
                m_series->gauge.store(v, std::memory_order_relaxed);
        }
        void add(double v) const {
            if (m_series)
                m_series->gauge.fetch_add(v, std::memory_order_relaxed);
        }
        double value() const {
            return m_series ? m_series->gauge.load(std::memory_order_relaxed) : 0;
        }
        bool isValid() const { return m_series != nullptr; }

    private:
        friend class MetricsRegistry;
        explicit Gauge(Series* series) : m_series(series) {}
        Series* m_series = nullptr;
    };

    class Histogram {
    public:
        Histogram() = default;
        // NaN is ignored; negative values land in the lowest bucket.
        void observe(double value) const;
        HistogramSnapshot snapshot() const;
        bool isValid() const { return m_series != nullptr; }

    private:
        friend class MetricsRegistry;
        Histogram(Series* series, const HistogramLayout* layout)
            : m_series(series), m_layout(layout) {}
        Series* m_series = nullptr;
        const HistogramLayout* m_layout = nullptr;
    };

    // A registered family; resolves label values to series handles.
    class FamilyHandle {
    public:
        FamilyHandle() = default;
        // values.size() must equal the family's label count (else an invalid handle).
        Counter counter(const QStringList& values = {}) const;
        Gauge gauge(const QStringList& values = {}) const;
        Histogram histogram(const QStringList& values = {}) const;
        // Merge of every series of a histogram family.
        HistogramSnapshot mergedSnapshot() const;
        bool isValid() const { return m_family != nullptr; }

    private:
        friend class MetricsRegistry;
        FamilyHandle(MetricsRegistry* registry, Family* family)
            : m_registry(registry), m_family(family) {}
        MetricsRegistry* m_registry = nullptr;
        Family* m_family = nullptr;
    };

    static constexpr int kDefaultMaxSeriesPerFamily = 20000;

    explicit MetricsRegistry(int maxSeriesPerFamily = kDefaultMaxSeriesPerFamily);
    ~MetricsRegistry();
    MetricsRegistry(const MetricsRegistry&) = delete;
    MetricsRegistry& operator=(const MetricsRegistry&) = delete;

    // Names follow Prometheus rules ([a-zA-Z_:][a-zA-Z0-9_:]*); counters end in _total.
    // Registering an existing name returns the existing family if the type and labels match,
    // else an invalid handle.
    FamilyHandle counterFamily(const QString& name, const QString& help,
                               const QStringList& labelNames = {});
    FamilyHandle gaugeFamily(const QString& name, const QString& help,
                             const QStringList& labelNames = {});
    // exposedBounds: the `le` values published (each must be a boundary of the layout; others
    // are dropped). Empty: the Prometheus default set from 5 ms to 10 s plus 30 s to 300 s.
    FamilyHandle histogramFamily(const QString& name, const QString& help,
                                 const QStringList& labelNames = {},
                                 const HistogramLayout& layout = HistogramLayout::latencySeconds(),
                                 const QList<double>& exposedBounds = {});
    FamilyHandle family(const QString& name) const;

    // Reading, for the exposition: fn(family) for each family in registration order, holding the
    // family's shared lock while fn runs.
    template <typename Fn>
    void forEachFamily(Fn&& fn) const {
        std::shared_lock lock(m_familiesMutex);
        for (const auto& f : m_families) {
            std::shared_lock seriesLock(f->mutex);
            fn(*f);
        }
    }
    static HistogramSnapshot snapshotOf(const HistogramLayout* layout, const Series& series);

    static bool isValidMetricName(const QString& name);
    static bool isValidLabelName(const QString& name);

private:
    FamilyHandle addFamily(const QString& name, const QString& help, Type type,
                           const QStringList& labelNames, const HistogramLayout* layout,
                           const QList<double>& exposedBounds);
    Series* resolve(Family& family, const QStringList& values);
    Series* createSeries(Family& family, const QStringList& values);

    int m_maxSeries;
    mutable std::shared_mutex m_familiesMutex;
    std::vector<std::unique_ptr<Family>> m_families;
    QHash<QString, Family*> m_byName;
};

} // namespace m1
