#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>

#include <functional>

// The m1-bench harness (conventions: docs/benchmarks.md). Each benchmark file registers its
// benchmarks with M1_BENCHMARK; a benchmark measures and returns its figures as Results.
namespace m1::bench {

struct Result {
    QString name;
    QString unit; // "ns" per operation, "ms" per whole operation, "MB/s" throughput
    qint64 n = 0; // operations or repetitions measured
    double p50 = 0;
    double p99 = 0;
    QString baseline;  // name of another benchmark of the same run, or empty
    QString target;    // the goal restated, e.g. "p99 < 10000 ns"
    QJsonObject extra; // any further figures (peak memory, ...)
};

// Runs fn(iterations) `samples` times; every sample is timed as a whole and divided by the
// iteration count, giving nanoseconds per operation; p50/p99 over all samples.
Result measureNs(const QString& name, int samples, int iterationsPerSample,
                 const std::function<void(int)>& fn);

// Times each call of fn individually in nanoseconds (for operations of a few microseconds or
// more); p50/p99 over `n` calls.
Result measureEachNs(const QString& name, int n, const std::function<void()>& fn);

struct Benchmark {
    QString name; // the group name shown by --list
    std::function<QList<Result>()> run;
};

QList<Benchmark>& registry();

struct Registrar {
    Registrar(const char* name, std::function<QList<Result>()> fn);
};

// Keeps a value alive so the optimiser cannot drop the computation that produced it.
template <typename T>
inline void doNotOptimize(const T& value) {
    asm volatile("" : : "r,m"(value) : "memory");
}

} // namespace m1::bench

#define M1_BENCH_CONCAT2(a, b) a##b
#define M1_BENCH_CONCAT(a, b) M1_BENCH_CONCAT2(a, b)
#define M1_BENCHMARK(name, fn)                                                                     \
    static ::m1::bench::Registrar M1_BENCH_CONCAT(m1BenchRegistrar, __LINE__)(name, fn)
