#include "Bench.h"

#include <QElapsedTimer>

#include <algorithm>
#include <vector>

namespace m1::bench {

namespace {
double percentile(std::vector<double> values, double p) {
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    const auto index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
    return values[std::min(index, values.size() - 1)];
}
} // namespace

Result measureNs(const QString& name, int samples, int iterationsPerSample,
                 const std::function<void(int)>& fn) {
    fn(std::max(1, iterationsPerSample / 10)); // warm-up
    std::vector<double> perOp;
    perOp.reserve(static_cast<size_t>(samples));
    for (int s = 0; s < samples; ++s) {
        QElapsedTimer timer;
        timer.start();
        fn(iterationsPerSample);
        perOp.push_back(static_cast<double>(timer.nsecsElapsed()) / iterationsPerSample);
    }
    Result r;
    r.name = name;
    r.unit = QStringLiteral("ns");
    r.n = static_cast<qint64>(samples) * iterationsPerSample;
    r.p50 = percentile(perOp, 0.50);
    r.p99 = percentile(perOp, 0.99);
    return r;
}

Result measureEachNs(const QString& name, int n, const std::function<void()>& fn) {
    for (int i = 0; i < std::min(n / 10 + 1, 1000); ++i)
        fn();
    std::vector<double> each;
    each.reserve(static_cast<size_t>(n));
    QElapsedTimer timer;
    for (int i = 0; i < n; ++i) {
        timer.start();
        fn();
        each.push_back(static_cast<double>(timer.nsecsElapsed()));
    }
    Result r;
    r.name = name;
    r.unit = QStringLiteral("ns");
    r.n = n;
    r.p50 = percentile(each, 0.50);
    r.p99 = percentile(each, 0.99);
    return r;
}

QList<Benchmark>& registry() {
    static QList<Benchmark> benchmarks;
    return benchmarks;
}

Registrar::Registrar(const char* name, std::function<QList<Result>()> fn) {
    registry().append(Benchmark{QString::fromUtf8(name), std::move(fn)});
}

} // namespace m1::bench
