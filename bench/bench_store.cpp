// Audit store benchmarks (names fixed by benchmarks.md). The read-side figures run on one store of
// 100,000 runs and 1,000,000 tool calls made by the seeder once per process in a temporary
// folder (store_seed_1m is that set-up); the dashboards are measured over the last 30 days (the
// dashboards' default view), with the whole 90 days as an extra figure.
#include "Bench.h"

#include "store/AuditQueries.h"
#include "store/AuditSeeder.h"
#include "store/AuditStore.h"
#include "store/CostCsvWriter.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTextStream>

#include <algorithm>
#include <memory>

using namespace m1;
using namespace m1::bench;

namespace {

// m1::Result (std::expected) and the harness's Result share a name.
using Result = m1::bench::Result;

constexpr qint64 kDay = 86400000;

QTextStream& err() {
    static QTextStream stream(stderr);
    return stream;
}

// Peak resident memory of this process so far (kB), from /proc/self/status.
qint64 vmHwmKb() {
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray& line : status.readAll().split('\n')) {
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

Result measureMs(const QString& name, int n, const std::function<void()>& fn) {
    Result r = measureEachNs(name, n, fn);
    r.unit = QStringLiteral("ms");
    r.p50 /= 1e6;
    r.p99 /= 1e6;
    r.target = QStringLiteral("p50 < 100 ms");
    return r;
}

double onceMs(const std::function<void()>& fn) {
    QElapsedTimer timer;
    timer.start();
    fn();
    return timer.nsecsElapsed() / 1e6;
}

// The 1M store, created on first use and kept for the process.
struct Fixture {
    QTemporaryDir dir;
    std::unique_ptr<AuditStore> store;
    std::unique_ptr<AuditQueries> queries;
    double seedMs = 0;
    QString run200;
    qint64 now = 0;
    bool ok = false;
};

Fixture& fixture() {
    static Fixture f;
    static bool made = false;
    if (made)
        return f;
    made = true;
    // Connections must go while QtSql is still there: before the application object does.
    qAddPostRoutine([] {
        fixture().queries.reset();
        fixture().store.reset();
    });
    f.now = QDateTime::currentMSecsSinceEpoch();
    auto opened = AuditStore::open(f.dir.filePath(QStringLiteral("audit.sqlite")));
    if (!opened) {
        err() << "store: " << opened.error().message << Qt::endl;
        return f;
    }
    f.store = std::move(*opened);
    AuditSeeder::Options options;
    options.runs = 100000;
    options.callsPerRun = 10;
    options.nowMs = f.now;
    options.progress = [](qint64 done) {
        if (done % 20000 == 0)
            err() << "  seeded " << done << " runs" << Qt::endl;
    };
    bool seeded = false;
    f.seedMs = onceMs([&] {
        const auto report = AuditSeeder::seed(*f.store, options);
        if (!report)
            err() << "seed: " << report.error().message << Qt::endl;
        seeded = report.has_value();
    });
    // One run with 200 calls, for history_show_200.
    AuditSeeder::Options big;
    big.runs = 1;
    big.callsPerRun = 200;
    big.seed = 2;
    big.nowMs = f.now;
    if (!seeded || !AuditSeeder::seed(*f.store, big))
        return f;
    f.run200 = QStringLiteral("seed2-00000000");
    // The planner's statistics, as a long-lived database would have them.
    QSqlQuery(QSqlDatabase::database(f.store->connectionName(), false))
        .exec(QStringLiteral("ANALYZE"));
    f.queries = std::make_unique<AuditQueries>(*f.store);
    f.ok = true;
    return f;
}

AuditQueries::TimeRange last30Days(const Fixture& f) {
    return {f.now - 30 * kDay, f.now};
}

QList<Result> storeSeed() {
    Fixture& f = fixture();
    Result r;
    r.name = QStringLiteral("store_seed_1m");
    r.unit = QStringLiteral("ms");
    r.n = 1;
    r.p50 = r.p99 = f.seedMs;
    r.target = QStringLiteral("well under 120000 ms");
    r.extra.insert(QStringLiteral("ok"), f.ok);
    return {r};
}

QList<Result> history() {
    Fixture& f = fixture();
    if (!f.ok)
        return {};
    const AuditQueries& q = *f.queries;
    QList<Result> results;
    results.append(measureMs(QStringLiteral("history_first_page"), 50,
                             [&] { doNotOptimize(q.history({}, 50)->runs.size()); }));
    AuditQueries::HistoryFilter filter;
    filter.agent = QStringLiteral("reviewer");
    filter.stopReason = QStringLiteral("completed");
    filter.search = QStringLiteral("parser");
    // A page deep in the history: the keyset cursor of a run half way back.
    AuditQueries::HistoryCursor deep{f.now - 45 * kDay, QStringLiteral("~")};
    Result filtered = measureMs(QStringLiteral("history_filtered_page"), 50,
                                [&] { doNotOptimize(q.history(filter, 50, deep)->runs.size()); });
    filtered.extra.insert(QStringLiteral("filter"),
                          QStringLiteral("agent + stop reason + goal text, 45 days back"));
    filtered.extra.insert(QStringLiteral("rows"), q.history(filter, 50, deep)->runs.size());
    results.append(filtered);
    Result show = measureMs(QStringLiteral("history_show_200"), 50,
                            [&] { doNotOptimize(q.run(f.run200)->toolCalls.size()); });
    show.extra.insert(QStringLiteral("toolCalls"), q.run(f.run200)->toolCalls.size());
    results.append(show);

    // Sorted in the store (a click on a column of the history): the most expensive runs first,
    // a page half way down that order, and the filtered page above ordered by duration.
    AuditQueries::HistoryFilter byCost;
    byCost.sort = AuditQueries::HistorySort::Cost;
    Result sorted = measureMs(QStringLiteral("history_sorted_first_page"), 50,
                              [&] { doNotOptimize(q.history(byCost, 50)->runs.size()); });
    AuditQueries::HistoryFilter byDuration;
    byDuration.sort = AuditQueries::HistorySort::Duration;
    byDuration.descending = false;
    sorted.extra.insert(QStringLiteral("sort"), QStringLiteral("cost, descending"));
    sorted.extra.insert(QStringLiteral("by_duration_ascending_ms"),
                        onceMs([&] { doNotOptimize(q.history(byDuration, 50)->runs.size()); }));
    results.append(sorted);
    QSqlQuery median(QSqlDatabase::database(f.store->connectionName(), false));
    median.exec(QStringLiteral("SELECT coalesce(cost_micros, -1) FROM runs ORDER BY 1 DESC LIMIT 1 "
                               "OFFSET 50000"));
    const qint64 midCost = median.next() ? median.value(0).toLongLong() : 0;
    median.finish();
    const AuditQueries::HistoryCursor half{f.now, QStringLiteral("~"), midCost};
    Result deepSorted = measureMs(QStringLiteral("history_sorted_deep_page"), 50,
                                  [&] { doNotOptimize(q.history(byCost, 50, half)->runs.size()); });
    deepSorted.extra.insert(QStringLiteral("rows"), q.history(byCost, 50, half)->runs.size());
    results.append(deepSorted);
    AuditQueries::HistoryFilter filteredByDuration = filter;
    filteredByDuration.sort = AuditQueries::HistorySort::Duration;
    Result sortedFiltered = measureMs(QStringLiteral("history_sorted_filtered_page"), 50, [&] {
        doNotOptimize(q.history(filteredByDuration, 50)->runs.size());
    });
    sortedFiltered.extra.insert(QStringLiteral("filter"),
                                QStringLiteral("agent + stop reason + goal text, by duration"));
    sortedFiltered.extra.insert(QStringLiteral("rows"),
                                q.history(filteredByDuration, 50)->runs.size());
    results.append(sortedFiltered);
    return results;
}

template <typename Fn>
Result dashboard(const QString& name, const Fixture& f, Fn fn) {
    Result r = measureMs(name, 10, [&] { fn(last30Days(f)); });
    r.extra.insert(QStringLiteral("range"), QStringLiteral("last 30 days"));
    r.extra.insert(QStringLiteral("all_90_days_ms"), onceMs([&] { fn({}); }));
    return r;
}

QList<Result> queries() {
    Fixture& f = fixture();
    if (!f.ok)
        return {};
    const AuditQueries& q = *f.queries;
    using Range = AuditQueries::TimeRange;
    return {
        dashboard(QStringLiteral("query_run_metrics"), f,
                  [&](const Range& r) { doNotOptimize(q.runMetrics(r)->runs); }),
        dashboard(QStringLiteral("query_tool_stats"), f,
                  [&](const Range& r) { doNotOptimize(q.toolStats(r)->size()); }),
        dashboard(QStringLiteral("query_agent_summary"), f,
                  [&](const Range& r) { doNotOptimize(q.agentSummary(r)->size()); }),
        dashboard(QStringLiteral("query_approval_metrics"), f,
                  [&](const Range& r) { doNotOptimize(q.approvalMetrics(r)->decided); }),
        dashboard(QStringLiteral("query_approvals_by_scope"), f,
                  [&](const Range& r) { doNotOptimize(q.approvalsByScope(r)->size()); }),
        dashboard(QStringLiteral("query_error_rate"), f,
                  [&](const Range& r) {
                      doNotOptimize(q.errorRate(AuditQueries::Interval::Day, r)->size());
                  }),
        dashboard(QStringLiteral("query_cost_by_model_day"), f,
                  [&](const Range& r) { doNotOptimize(q.costByModelDay(r)->size()); }),
    };
}

// A year of daily rows: its own store with runs over 365 days (about a hundred a day).
QList<Result> csvExport() {
    QTemporaryDir dir;
    auto store = AuditStore::open(dir.filePath(QStringLiteral("year.sqlite")));
    if (!store)
        return {};
    AuditSeeder::Options options;
    options.runs = 36500;
    options.callsPerRun = 2;
    options.spanDays = 365;
    if (!AuditSeeder::seed(**store, options))
        return {};
    const AuditQueries q(**store);
    const qint64 before = vmHwmKb();
    qint64 rows = 0;
    const QString path = dir.filePath(QStringLiteral("costs.csv"));
    Result r = measureEachNs(QStringLiteral("csv_export_year"), 10, [&] {
        QFile out(path);
        if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate))
            return;
        rows = CostCsvWriter::write(q, {}, out, true).value_or(-1);
    });
    r.unit = QStringLiteral("ms");
    r.p50 /= 1e6;
    r.p99 /= 1e6;
    r.target = QStringLiteral("p50 < 1000 ms");
    r.extra.insert(QStringLiteral("rows"), rows);
    r.extra.insert(QStringLiteral("bytes"), QFile(path).size());
    r.extra.insert(QStringLiteral("vmhwm_kb_before"), before);
    r.extra.insert(QStringLiteral("vmhwm_kb_after"), vmHwmKb());
    return {r};
}

AuditEvent::ApiCallInfo apiInfo() {
    AuditEvent::ApiCallInfo info;
    info.model = QStringLiteral("claude-sonnet-4-6");
    info.inputTokens = 1200;
    info.outputTokens = 300;
    info.costMicros = 8100;
    info.latencyMs = 900;
    info.httpStatus = 200;
    return info;
}

// One acknowledged event through the AuditWriter (chain row + projection, own transaction,
// synchronous=FULL) against a raw prepared insert of a row of the same size in its own
// transaction with the same pragmas.
QList<Result> eventWrite() {
    constexpr int kEvents = 400;
    QTemporaryDir dir;
    QList<Result> results;
    {
        auto store = AuditStore::open(dir.filePath(QStringLiteral("events.sqlite")));
        if (!store)
            return {};
        auto writer = (*store)->startWriter();
        if (!writer)
            return {};
        AuditEvent::RunStart start;
        start.agent = QStringLiteral("bench");
        (*writer)->write(AuditEvent::runStarted(QStringLiteral("r"), start), 30000);
        const AuditEvent event = AuditEvent::apiCall(QStringLiteral("r"), apiInfo());
        Result r = measureEachNs(QStringLiteral("event_write_ack"), kEvents, [&] {
            doNotOptimize((*writer)->write(event, 30000).value_or(-1));
        });
        r.baseline = QStringLiteral("sqlite_raw_insert");
        r.target = QStringLiteral("ratio <= 1.43");
        results.append(r);
    }
    {
        const QString name = QStringLiteral("bench-raw-insert");
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
            db.setDatabaseName(dir.filePath(QStringLiteral("raw.sqlite")));
            db.open();
            QSqlQuery q(db);
            q.exec(QStringLiteral("PRAGMA journal_mode=WAL"));
            q.exec(QStringLiteral("PRAGMA synchronous=FULL"));
            q.exec(QStringLiteral("CREATE TABLE events (seq INTEGER PRIMARY KEY, at BIGINT, kind "
                                  "TEXT, run_id TEXT, payload_json TEXT, hash TEXT)"));
            QSqlQuery insert(db);
            insert.prepare(QStringLiteral("INSERT INTO events (at, kind, run_id, payload_json, "
                                          "hash) VALUES (?, ?, ?, ?, ?)"));
            const QString payload = QString(220, QLatin1Char('x'));
            const QString hash = QString(64, QLatin1Char('0'));
            Result r = measureEachNs(QStringLiteral("sqlite_raw_insert"), kEvents, [&] {
                q.exec(QStringLiteral("BEGIN IMMEDIATE"));
                insert.bindValue(0, QDateTime::currentMSecsSinceEpoch());
                insert.bindValue(1, QStringLiteral("api.call"));
                insert.bindValue(2, QStringLiteral("r"));
                insert.bindValue(3, payload);
                insert.bindValue(4, hash);
                insert.exec();
                q.exec(QStringLiteral("COMMIT"));
            });
            r.target = QStringLiteral("baseline of event_write_ack");
            results.append(r);
        }
        QSqlDatabase::removeDatabase(name);
    }
    return results;
}

} // namespace

M1_BENCHMARK("store_seed_1m", storeSeed);
M1_BENCHMARK("history", history);
M1_BENCHMARK("query", queries);
M1_BENCHMARK("csv_export_year", csvExport);
M1_BENCHMARK("event_write_ack", eventWrite);
