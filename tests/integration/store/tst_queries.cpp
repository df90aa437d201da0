// The read side of the audit store over both backends (SQLite file, throwaway PostgreSQL): history
// paging and filters, one run in full, every dashboard against figures worked out by hand from a
// small dataset written through the AuditWriter, the CSV cost report (RFC 4180, formula
// neutralisation, parsed by Python's csv module, identical from both databases), queries on a
// thread of their own (SQL-10) and no reader left holding the WAL (SQL-09).
#include "PgTestServer.h"
#include "TestSupport.h"
#include "store/AuditQueries.h"
#include "store/AuditRollups.h"
#include "store/AuditSeeder.h"
#include "store/AuditStore.h"
#include "store/CostCsvWriter.h"
#include "store/SchemaMigrations.h"

#include <QBuffer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <algorithm>
#include <limits>
#include <memory>

using namespace m1;
using Queries = AuditQueries;

namespace {

constexpr qint64 kHour = 3600000;
constexpr qint64 kDay = 86400000;
// 2024-01-01 00:00 UTC, a Monday.
constexpr qint64 kD0 = 1704067200000;

const QString kFormulaModel = QStringLiteral("=HYPERLINK(\"http://x\",\"y\")");

AuditEvent::ApiCallInfo api(const QString& model, int attempt, qint64 in, qint64 out,
                            std::optional<qint64> cost, int status = 200,
                            const QString& errorType = {}, qint64 cacheWrite = 0,
                            qint64 cacheRead = 0) {
    AuditEvent::ApiCallInfo info;
    info.model = model;
    info.attempt = attempt;
    info.inputTokens = in;
    info.outputTokens = out;
    info.cacheWriteTokens = cacheWrite;
    info.cacheReadTokens = cacheRead;
    info.costMicros = cost;
    info.latencyMs = 100;
    info.httpStatus = status;
    info.errorType = errorType;
    return info;
}

AuditEvent::RunStart start(const QString& agent, const QString& model, const QString& goal) {
    AuditEvent::RunStart s;
    s.agent = agent;
    s.model = model;
    s.goal = goal;
    s.provider = QStringLiteral("replay");
    return s;
}

struct Totals {
    const char* stop;
    int proposed, approved, denied, executed, failed;
    qint64 in, out, cw, cr;
    std::optional<qint64> cost;
    bool complete;
};

AuditEvent::RunTotals totals(const Totals& t) {
    AuditEvent::RunTotals r;
    r.stopReason = QString::fromLatin1(t.stop);
    r.proposed = t.proposed;
    r.approved = t.approved;
    r.denied = t.denied;
    r.executed = t.executed;
    r.failed = t.failed;
    r.steps = t.proposed;
    r.inputTokens = t.in;
    r.outputTokens = t.out;
    r.cacheWriteTokens = t.cw;
    r.cacheReadTokens = t.cr;
    r.costMicros = t.cost;
    r.costComplete = t.complete;
    return r;
}

// The dataset whose figures the tests below expect (worked out by hand in each test).
QList<AuditEvent> dataset() {
    const QString ma = QStringLiteral("m-a");
    const QString mb = QStringLiteral("m-b");
    const qint64 r1 = kD0 + kHour;
    const qint64 r2 = kD0 + kDay + 2 * kHour;
    const qint64 r3 = kD0 + kDay + 3 * kHour;
    const qint64 r4 = kD0 + 2 * kDay + kHour;
    QList<AuditEvent> e;
    // r1: alpha, completed after 10 s; read executed (auto), write failed (person), command denied.
    e << AuditEvent::runStarted("r1", start("alpha", ma, "Fix the parser"), r1)
      << AuditEvent::apiCall("r1", api(ma, 1, 100, 10, 1000, 200, {}, 7, 0), r1 + 500)
      << AuditEvent::callProposed("r1", "c1", 1, "read_file", "read", {{"path", "a"}}, r1 + 1000)
      << AuditEvent::callApproved("r1", "c1", "auto", {}, "j1", {}, r1 + 1010)
      << AuditEvent::callExecuted("r1", "c1", {{"path", "a"}}, "text", 5, r1 + 1020)
      << AuditEvent::callProposed("r1", "c2", 2, "write_file", "write", {{"path", "b"}}, r1 + 2000)
      << AuditEvent::callApproved("r1", "c2", "person", "ann", "j2", {}, r1 + 5000)
      << AuditEvent::apiCall("r1", api(ma, 1, 200, 20, 2000, 200, {}, 0, 3), r1 + 2500)
      << AuditEvent::callFailed("r1", "c2", {{"path", "b"}}, "disk full", "", 15, r1 + 5020)
      << AuditEvent::callProposed("r1", "c3", 3, "run_command", "execute", {}, r1 + 3000)
      << AuditEvent::callDenied("r1", "c3", "person", "ann", "no", r1 + 4000)
      << AuditEvent::runFinished(
             "r1", totals({"completed", 3, 2, 1, 1, 1, 300, 30, 7, 3, 3000, true}), r1 + 10000);
    // r2: beta, api_error after 20 s; one API error then an unpriced retry.
    e << AuditEvent::runStarted("r2", start("beta", mb, "Write docs, then \"review\" 100%"), r2)
      << AuditEvent::apiCall("r2", api(mb, 1, 0, 0, 0, 529, "overloaded_error"), r2 + 100)
      << AuditEvent::apiCall("r2", api(mb, 2, 50, 5, std::nullopt), r2 + 200)
      << AuditEvent::callProposed("r2", "c1", 1, "read_file", "read", {}, r2 + 1000)
      << AuditEvent::callApproved("r2", "c1", "rule", "allow-reads", "j3", {}, r2 + 1020)
      << AuditEvent::callExecuted("r2", "c1", {}, "x", 7, r2 + 1030)
      << AuditEvent::runFinished("r2", totals({"api_error", 1, 1, 0, 1, 0, 50, 5, 0, 0, 0, false}),
                                 r2 + 20000);
    // r3: alpha on a model whose name is a spreadsheet formula; max_steps after 5 s.
    e << AuditEvent::runStarted("r3", start("alpha", kFormulaModel, "-danger goal"), r3)
      << AuditEvent::apiCall("r3", api(kFormulaModel, 1, 10, 1, 123456789), r3 + 100)
      << AuditEvent::callProposed("r3", "c1", 1, "read_file", "read", {}, r3 + 1000)
      << AuditEvent::callExpired("r3", "c1", "nobody answered", r3 + 2000)
      << AuditEvent::runFinished(
             "r3", totals({"max_steps", 1, 0, 0, 0, 0, 10, 1, 0, 0, 123456789, true}), r3 + 5000);
    // r4: alpha, still running.
    e << AuditEvent::runStarted("r4", start("alpha", ma, "Fix the lexer"), r4)
      << AuditEvent::apiCall("r4", api(ma, 1, 1000, 100, 500), r4 + 100)
      << AuditEvent::callProposed("r4", "c1", 1, "read_file", "read", {}, r4 + 1000)
      << AuditEvent::callApproved("r4", "c1", "token", {}, "j4", {}, r4 + 1100)
      << AuditEvent::callExecuted("r4", "c1", {}, "y", 9, r4 + 1110);
    return e;
}

// Every rollup table against its sums recomputed from the rows (rows of zeros ignored: a moved
// histogram count leaves one behind). Empty when they agree, else the first difference.
QString rollupMismatch(const QString& connection) {
    const QSqlDatabase db = QSqlDatabase::database(connection, false);
    for (int i = 0; i < AuditRollups::Count; ++i) {
        const AuditRollups::Def& d = AuditRollups::def(static_cast<AuditRollups::Id>(i));
        const auto sums = [&](const QString& sql) {
            QMap<QString, QString> out;
            QSqlQuery q(db);
            if (!q.exec(sql))
                out.insert(QStringLiteral("error"), q.lastError().text());
            const auto keys = d.keyColumns.size();
            while (q.next()) {
                QStringList key;
                QStringList values;
                bool zero = true;
                for (int k = 0; k < keys; ++k)
                    key.append(q.value(k).toString());
                for (int v = 0; v < d.valueColumns.size(); ++v) {
                    values.append(QString::number(q.value(keys + v).toLongLong()));
                    zero = zero && q.value(keys + v).toLongLong() == 0;
                }
                if (!zero)
                    out.insert(key.join(QLatin1Char('|')), values.join(QLatin1Char(',')));
            }
            return out;
        };
        const auto stored = sums(QStringLiteral("SELECT %1, %2 FROM %3")
                                     .arg(d.keyColumns.join(QStringLiteral(", ")),
                                          d.valueColumns.join(QStringLiteral(", ")), d.table));
        const auto recomputed = sums(AuditRollups::sourceSql(d, QStringLiteral("1 = 1")));
        if (stored != recomputed) {
            QString diff;
            for (auto it = recomputed.begin(); it != recomputed.end(); ++it) {
                if (stored.value(it.key()) != it.value())
                    diff += QStringLiteral(" %1: %2 vs %3;")
                                .arg(it.key(), stored.value(it.key()), it.value());
            }
            return QStringLiteral("%1 (stored %2 rows, rows give %3):%4")
                .arg(d.table)
                .arg(stored.size())
                .arg(recomputed.size())
                .arg(diff.left(400));
        }
    }
    return {};
}

// Nearest-rank percentile by sorting in C++: the reference for the index probes.
std::optional<qint64> nearestRank(QList<qint64> values, int p) {
    if (values.isEmpty())
        return std::nullopt;
    std::sort(values.begin(), values.end());
    return values.at((p * values.size() + 99) / 100 - 1);
}

QList<qint64> column(const QString& connection, const QString& sql, const QVariantList& binds) {
    QSqlQuery q(QSqlDatabase::database(connection, false));
    q.prepare(sql);
    for (int i = 0; i < binds.size(); ++i)
        q.bindValue(i, binds.at(i));
    QList<qint64> out;
    if (!q.exec())
        return out;
    while (q.next())
        out.append(q.value(0).toLongLong());
    return out;
}

// Back to schema version 4: without migration 5's indexes (the history's sort orders and the API
// latency).
void revertMigration5(QSqlQuery& sql) {
    for (const char* index :
         {"runs_sort_stop_reason", "runs_sort_steps", "runs_sort_calls", "runs_sort_tokens",
          "runs_sort_cost", "runs_sort_duration", "api_calls_day_latency"})
        QVERIFY2(sql.exec(QStringLiteral("DROP INDEX %1").arg(QLatin1String(index))),
                 qPrintable(sql.lastError().text()));
    QVERIFY(sql.exec(QStringLiteral("DELETE FROM schema_version WHERE version = 5")));
}

// Back to schema version 3: without migration 4's index and columns (SQLite >= 3.35 and
// PostgreSQL both drop columns).
void revertMigration4(QSqlQuery& sql) {
    QVERIFY(sql.exec(QStringLiteral("DROP INDEX tool_calls_prompts")));
    for (const char* column : {"decision_ms", "args_seen_whole", "decided_in_batch", "decided_by"})
        QVERIFY2(
            sql.exec(
                QStringLiteral("ALTER TABLE tool_calls DROP COLUMN %1").arg(QLatin1String(column))),
            qPrintable(sql.lastError().text()));
    QVERIFY(sql.exec(QStringLiteral("DELETE FROM schema_version WHERE version = 4")));
}

QStringList ids(const Queries::HistoryPage& page) {
    QStringList result;
    for (const auto& run : page.runs)
        result.append(run.runId);
    return result;
}

} // namespace

class TstQueries : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<test::PgTestServer> m_pg;
    QTemporaryDir m_dir;
    QHash<QString, QString> m_locations; // backend -> location of the dataset
    QHash<QString, std::shared_ptr<AuditStore>> m_stores;
    QHash<QString, QByteArray> m_csv; // backend -> the report with totals
    int m_counter = 0;

    static void addBackends() {
        QTest::addColumn<QString>("backend");
        QTest::newRow("sqlite") << QStringLiteral("sqlite");
        QTest::newRow("postgres") << QStringLiteral("postgres");
    }

    QString freshLocation(const QString& backend) {
        ++m_counter;
        if (backend == QLatin1String("sqlite"))
            return m_dir.filePath(QStringLiteral("db%1/audit.sqlite").arg(m_counter));
        return m_pg->createDatabase(QStringLiteral("q%1").arg(m_counter));
    }

    // The store with the dataset, written once per backend through the AuditWriter.
    AuditStore* store(const QString& backend) {
        if (auto it = m_stores.find(backend); it != m_stores.end())
            return it->get();
        const QString where = freshLocation(backend);
        auto opened = AuditStore::open(where);
        if (!opened) {
            qWarning() << opened.error().message;
            return nullptr;
        }
        auto writer = (*opened)->startWriter();
        if (!writer)
            return nullptr;
        for (const AuditEvent& event : dataset()) {
            const AuditAck ack = (*writer)->write(event, 30000);
            if (!ack) {
                qWarning() << ack.error().code << ack.error().message;
                return nullptr;
            }
        }
        m_locations.insert(backend, where);
        std::shared_ptr<AuditStore> shared(std::move(*opened));
        m_stores.insert(backend, shared);
        return shared.get();
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_pg = std::make_unique<test::PgTestServer>();
        if (!m_pg->start())
            QFAIL(qPrintable(QStringLiteral("PostgreSQL test server: ") + m_pg->errorString()));
    }

    void historyPagingAndFilters_data() { addBackends(); }
    void historyPagingAndFilters() {
        QFETCH(QString, backend);
        AuditStore* s = store(backend);
        QVERIFY(s);
        const Queries q(*s);

        Queries::HistoryFilter all;
        QCOMPARE(ids(*q.history(all, 10)), (QStringList{"r4", "r3", "r2", "r1"}));

        Queries::HistoryFilter alpha;
        alpha.agent = QStringLiteral("alpha");
        const auto first = q.history(alpha, 2);
        QVERIFY(first);
        QCOMPARE(ids(*first), (QStringList{"r4", "r3"}));
        QVERIFY(first->hasMore);
        const auto second = q.history(alpha, 2, first->next);
        QCOMPARE(ids(*second), (QStringList{"r1"}));
        QVERIFY(!second->hasMore);
        // The cursor survives a round trip through text (the CLI's --after).
        const auto parsed = Queries::HistoryCursor::fromString(first->next.toString());
        QVERIFY(parsed);
        QCOMPARE(ids(*q.history(alpha, 2, *parsed)), (QStringList{"r1"}));

        Queries::HistoryFilter f;
        f.stopReason = QStringLiteral("completed");
        QCOMPARE(ids(*q.history(f, 10)), (QStringList{"r1"}));
        f.stopReason = QStringLiteral("running");
        QCOMPARE(ids(*q.history(f, 10)), (QStringList{"r4"}));
        f = {};
        f.model = QStringLiteral("m-b");
        QCOMPARE(ids(*q.history(f, 10)), (QStringList{"r2"}));
        f = {};
        f.search = QStringLiteral("FIX");
        QCOMPARE(ids(*q.history(f, 10)), (QStringList{"r4", "r1"}));
        f.search = QStringLiteral("\"review\" 100%");
        QCOMPARE(ids(*q.history(f, 10)), (QStringList{"r2"}));
        // LIKE wildcards in the text are literal.
        f.search = QStringLiteral("_");
        QCOMPARE(ids(*q.history(f, 10)), QStringList());
        f.search = QStringLiteral("0%");
        QCOMPARE(ids(*q.history(f, 10)), (QStringList{"r2"}));
        f = {};
        f.started.fromMs = kD0 + kDay;
        QCOMPARE(ids(*q.history(f, 10)), (QStringList{"r4", "r3", "r2"}));
        f.started.toMs = kD0 + 2 * kDay;
        QCOMPARE(ids(*q.history(f, 10)), (QStringList{"r3", "r2"}));
        f.agent = QStringLiteral("beta");
        QCOMPARE(ids(*q.history(f, 10)), (QStringList{"r2"}));

        QCOMPARE(q.history(all, 0).error().code, QStringLiteral("history.limit"));
    }

    // Keyset pages do not shift when newer runs arrive between two pages.
    void historyStableUnderInserts_data() { addBackends(); }
    void historyStableUnderInserts() {
        QFETCH(QString, backend);
        auto opened = AuditStore::open(freshLocation(backend));
        QVERIFY(opened);
        auto writer = (*opened)->startWriter();
        QVERIFY(writer);
        for (const AuditEvent& event : dataset())
            QVERIFY((*writer)->write(event, 30000));
        const Queries q(**opened);
        const auto first = q.history({}, 2);
        QCOMPARE(ids(*first), (QStringList{"r4", "r3"}));
        // Same start time as r4 and a larger id, and a newer run: both sort before the cursor.
        QVERIFY((*writer)->write(
            AuditEvent::runStarted("r9", start("x", "m", "g"), kD0 + 2 * kDay + kHour), 30000));
        QVERIFY((*writer)->write(AuditEvent::runStarted("r5", start("x", "m", "g"), kD0 + 5 * kDay),
                                 30000));
        QCOMPARE(ids(*q.history({}, 2, first->next)), (QStringList{"r2", "r1"}));
        QCOMPARE(ids(*q.history({}, 3)), (QStringList{"r5", "r9", "r4"}));
    }

    // Every order the history can be sorted by, both directions: walking the pages one run at a
    // time (every tie crosses a page boundary) gives the order worked out here from all runs,
    // unknown values as the smallest; the cursor survives its text form (keys with ':' and '@').
    void historySorted_data() { addBackends(); }
    void historySorted() {
        QFETCH(QString, backend);
        AuditStore* s = store(backend);
        QVERIFY(s);
        const Queries q(*s);
        const QList<Queries::RunSummary> all = q.history({}, 100)->runs;
        QCOMPARE(all.size(), 4);
        using Sort = Queries::HistorySort;
        const auto keyOf = [](Sort sort, const Queries::RunSummary& r) -> QVariant {
            switch (sort) {
            case Sort::Started:
                return r.startedAt;
            case Sort::Agent:
                return r.agent;
            case Sort::Model:
                return r.model;
            case Sort::StopReason:
                return r.stopReason.isEmpty() ? QStringLiteral("running") : r.stopReason;
            case Sort::Steps:
                return r.steps;
            case Sort::Calls:
                return r.callsProposed;
            case Sort::Tokens:
                return r.inputTokens + r.outputTokens;
            case Sort::Cost:
                return r.costMicros.value_or(-1);
            case Sort::Duration:
                return r.durationMs.value_or(-1);
            }
            return {};
        };
        const auto less = [](const QVariant& a, const QVariant& b) {
            return a.typeId() == QMetaType::QString ? a.toString() < b.toString()
                                                    : a.toLongLong() < b.toLongLong();
        };
        for (const char* sortName : {"started", "agent", "model", "stop-reason", "steps", "calls",
                                     "tokens", "cost", "duration"}) {
            const QString name = QString::fromLatin1(sortName);
            const auto sort = Queries::historySortFromName(name);
            QVERIFY2(sort, qPrintable(name));
            QCOMPARE(Queries::historySortName(*sort), name);
            for (const bool descending : {true, false}) {
                QList<Queries::RunSummary> expected = all;
                std::sort(expected.begin(), expected.end(),
                          [&](const Queries::RunSummary& a, const Queries::RunSummary& b) {
                              const QVariant ka = keyOf(*sort, a);
                              const QVariant kb = keyOf(*sort, b);
                              bool before;
                              if (less(ka, kb) || less(kb, ka))
                                  before = less(ka, kb);
                              else if (a.startedAt != b.startedAt)
                                  before = a.startedAt < b.startedAt;
                              else
                                  before = a.runId < b.runId;
                              return descending ? !before : before;
                          });
                QStringList want;
                for (const auto& r : expected)
                    want << r.runId;
                Queries::HistoryFilter f;
                f.sort = *sort;
                f.descending = descending;
                QStringList got;
                Queries::HistoryCursor cursor;
                for (int page = 0; page < 10; ++page) {
                    const auto one = q.history(f, 1, cursor);
                    QVERIFY2(one, qPrintable(one ? QString() : one.error().message));
                    got << ids(*one);
                    if (!one->hasMore)
                        break;
                    const auto parsed = Queries::HistoryCursor::fromString(one->next.toString());
                    QVERIFY(parsed);
                    cursor = *parsed;
                }
                QVERIFY2(got == want, qPrintable(QStringLiteral("%1 %2: got %3, want %4")
                                                     .arg(name, descending ? "desc" : "asc",
                                                          got.join(','), want.join(','))));
                QCOMPARE(ids(*q.history(f, 3)), want.mid(0, 3));
            }
        }
        // Worked out by hand: unknown costs and durations last when descending.
        Queries::HistoryFilter f;
        f.sort = Sort::Cost;
        QCOMPARE(ids(*q.history(f, 10)), (QStringList{"r3", "r1", "r4", "r2"}));
        f.sort = Sort::Duration;
        QCOMPARE(ids(*q.history(f, 10)), (QStringList{"r2", "r1", "r3", "r4"}));
        f.sort = Sort::StopReason;
        f.descending = false;
        QCOMPARE(ids(*q.history(f, 10)), (QStringList{"r2", "r1", "r3", "r4"}));
        // Ties on the agent go by start time, in the same direction.
        f.sort = Sort::Agent;
        QCOMPARE(ids(*q.history(f, 10)), (QStringList{"r1", "r3", "r4", "r2"}));
        // Filters and order combine.
        f.agent = QStringLiteral("alpha");
        f.sort = Sort::Tokens;
        f.descending = true;
        const auto first = q.history(f, 2);
        QCOMPARE(ids(*first), (QStringList{"r4", "r1"}));
        QCOMPARE(ids(*q.history(f, 2, first->next)), (QStringList{"r3"}));
        // A cursor of one order does not page another.
        Queries::HistoryFilter byCost;
        byCost.sort = Sort::Cost;
        const auto newest = q.history({}, 1);
        QCOMPARE(q.history(byCost, 1, newest->next).error().code, QStringLiteral("history.cursor"));
    }

    // Per day, exact nearest-rank percentiles of the API calls' latency; a range cut inside a
    // day counts only that part of it.
    void apiLatencyByDay_data() { addBackends(); }
    void apiLatencyByDay() {
        QFETCH(QString, backend);
        auto opened = AuditStore::open(freshLocation(backend));
        QVERIFY(opened);
        auto writer = (*opened)->startWriter();
        QVERIFY(writer);
        QVERIFY((*writer)->write(AuditEvent::runStarted("lat", start("a", "m", "g"), kD0), 30000));
        QList<qint64> afternoonLatencies;
        // Day 0: latencies 1..100 in a shuffled order, the first 40 before noon.
        for (int i = 0; i < 100; ++i) {
            const qint64 latency = (i * 37) % 100 + 1;
            AuditEvent::ApiCallInfo info = api("m", 1, 1, 1, 1);
            info.latencyMs = latency;
            const qint64 at = kD0 + (i < 40 ? kHour : 13 * kHour) + i;
            if (i >= 40)
                afternoonLatencies << latency; // inside the cut range below
            QVERIFY((*writer)->write(AuditEvent::apiCall("lat", info, at), 30000));
        }
        // Day 1: 30, 10, 20 (one of them an error: it counts, a timeout is latency too).
        for (const qint64 latency : {30, 10, 20}) {
            AuditEvent::ApiCallInfo info =
                api("m", 1, 1, 1, 1, latency == 10 ? 529 : 200,
                    latency == 10 ? QStringLiteral("overloaded_error") : QString());
            info.latencyMs = latency;
            QVERIFY(
                (*writer)->write(AuditEvent::apiCall("lat", info, kD0 + kDay + latency), 30000));
        }
        const Queries q(**opened);
        const auto days = q.apiLatencyByDay({kD0, kD0 + 3 * kDay});
        QVERIFY2(days, qPrintable(days ? QString() : days.error().message));
        QCOMPARE(days->size(), 2);
        QCOMPARE(days->at(0).day, kD0 / kDay);
        QCOMPARE(days->at(0).latencyMs.n, 100);
        QCOMPARE(*days->at(0).latencyMs.p50, 50);
        QCOMPARE(*days->at(0).latencyMs.p95, 95);
        QCOMPARE(*days->at(0).latencyMs.p99, 99);
        QCOMPARE(days->at(1).latencyMs.n, 3);
        QCOMPARE(*days->at(1).latencyMs.p50, 20);
        QCOMPARE(*days->at(1).latencyMs.p95, 30);
        QCOMPARE(days->at(1).toJson().value("date").toString(), QStringLiteral("2024-01-02"));
        // From noon of day 0: the 60 afternoon calls only.
        const auto afternoon = q.apiLatencyByDay({kD0 + 12 * kHour, kD0 + kDay});
        QVERIFY(afternoon);
        QCOMPARE(afternoon->size(), 1);
        QCOMPARE(afternoon->at(0).latencyMs.n, afternoonLatencies.size());
        QCOMPARE(afternoon->at(0).latencyMs.p50, nearestRank(afternoonLatencies, 50));
        QCOMPARE(afternoon->at(0).latencyMs.p95, nearestRank(afternoonLatencies, 95));
        QCOMPARE(afternoon->at(0).latencyMs.p99, nearestRank(afternoonLatencies, 99));
        QVERIFY(q.apiLatencyByDay({kD0 + 5 * kDay, {}})->isEmpty());
    }

    void showRunInOrder_data() { addBackends(); }
    void showRunInOrder() {
        QFETCH(QString, backend);
        AuditStore* s = store(backend);
        QVERIFY(s);
        const Queries q(*s);
        const auto detail = q.run(QStringLiteral("r1"));
        QVERIFY2(detail, qPrintable(detail ? QString() : detail.error().message));
        QCOMPARE(detail->run.agent, QStringLiteral("alpha"));
        QCOMPARE(detail->run.stopReason, QStringLiteral("completed"));
        QCOMPARE(*detail->run.durationMs, 10000);
        QCOMPARE(*detail->run.costMicros, 3000);
        QCOMPARE(detail->toolCalls.size(), 3);
        QCOMPARE(detail->toolCalls.at(0).requestId, QStringLiteral("c1"));
        QCOMPARE(detail->toolCalls.at(0).status, QStringLiteral("executed"));
        QCOMPARE(detail->toolCalls.at(0).output, QStringLiteral("text"));
        QCOMPARE(detail->toolCalls.at(1).status, QStringLiteral("failed"));
        QCOMPARE(detail->toolCalls.at(1).error, QStringLiteral("disk full"));
        QCOMPARE(detail->toolCalls.at(1).approver, QStringLiteral("ann"));
        QCOMPARE(detail->toolCalls.at(2).status, QStringLiteral("denied"));
        QCOMPARE(detail->toolCalls.at(2).decisionReason, QStringLiteral("no"));
        QCOMPARE(detail->apiCalls.size(), 2);
        QCOMPARE(detail->apiCalls.at(0).inputTokens, 100);
        QCOMPARE(detail->apiCalls.at(1).inputTokens, 200);
        const QJsonObject json = detail->toJson();
        QCOMPARE(json.value("toolCalls").toArray().size(), 3);
        QCOMPARE(json.value("apiCalls").toArray().at(1).toObject().value("cacheReadTokens").toInt(),
                 3);
        QCOMPARE(q.run(QStringLiteral("nope")).error().code, QStringLiteral("history.not_found"));
    }

    void runMetrics_data() { addBackends(); }
    void runMetrics() {
        QFETCH(QString, backend);
        AuditStore* s = store(backend);
        QVERIFY(s);
        const Queries q(*s);
        const auto m = q.runMetrics();
        QVERIFY2(m, qPrintable(m ? QString() : m.error().message));
        QCOMPARE(m->runs, 4);
        QCOMPARE(m->finished, 3);
        QCOMPARE(m->running, 1);
        QCOMPARE(m->byStopReason.value("completed"), 1);
        QCOMPARE(m->byStopReason.value("api_error"), 1);
        QCOMPARE(m->byStopReason.value("max_steps"), 1);
        QCOMPARE(m->completionRate, 1.0 / 3);
        QCOMPARE(m->errorRate, 1.0 / 3);
        // Durations 5000, 10000, 20000: nearest ranks 2, 3, 3.
        QCOMPARE(m->durationMs.n, 3);
        QCOMPARE(*m->durationMs.p50, 10000);
        QCOMPARE(*m->durationMs.p95, 20000);
        QCOMPARE(*m->durationMs.p99, 20000);

        const auto day1 = q.runMetrics({kD0 + kDay, kD0 + 2 * kDay});
        QCOMPARE(day1->runs, 2);
        QCOMPARE(day1->running, 0);
        QCOMPARE(day1->errorRate, 0.5);
        QCOMPARE(day1->completionRate, 0.0);
        QCOMPARE(*day1->durationMs.p50, 5000); // rank ceil(0.5 * 2) = 1
        QCOMPARE(*day1->durationMs.p95, 20000);

        const auto none = q.runMetrics({kD0 + 10 * kDay, {}});
        QCOMPARE(none->runs, 0);
        QVERIFY(!none->durationMs.p50);
    }

    void toolStats_data() { addBackends(); }
    void toolStats() {
        QFETCH(QString, backend);
        AuditStore* s = store(backend);
        QVERIFY(s);
        const auto stats = Queries(*s).toolStats();
        QVERIFY2(stats, qPrintable(stats ? QString() : stats.error().message));
        QCOMPARE(stats->size(), 3);
        const auto& read = stats->at(0);
        QCOMPARE(read.tool, QStringLiteral("read_file"));
        QCOMPARE(read.calls, 4);
        QCOMPARE(read.executed, 3);
        QCOMPARE(read.failed, 0);
        QCOMPARE(read.successRate, 1.0);
        QCOMPARE(read.durationMs.n, 3); // 5, 7, 9
        QCOMPARE(*read.durationMs.p50, 7);
        QCOMPARE(*read.durationMs.p95, 9);
        const auto& command = stats->at(1);
        QCOMPARE(command.tool, QStringLiteral("run_command"));
        QCOMPARE(command.denied, 1);
        QCOMPARE(command.successRate, 0.0);
        QVERIFY(!command.durationMs.p50);
        const auto& write = stats->at(2);
        QCOMPARE(write.failed, 1);
        QCOMPARE(write.successRate, 0.0);
        QCOMPARE(*write.durationMs.p99, 15);

        const auto day0 = Queries(*s).toolStats({kD0, kD0 + kDay});
        QCOMPARE(day0->at(0).calls, 1);
        QCOMPARE(*day0->at(0).durationMs.p50, 5);
    }

    void agentSummary_data() { addBackends(); }
    void agentSummary() {
        QFETCH(QString, backend);
        AuditStore* s = store(backend);
        QVERIFY(s);
        const auto agents = Queries(*s).agentSummary();
        QVERIFY2(agents, qPrintable(agents ? QString() : agents.error().message));
        QCOMPARE(agents->size(), 2);
        const auto& alpha = agents->at(0);
        QCOMPARE(alpha.agent, QStringLiteral("alpha"));
        QCOMPARE(alpha.runs, 3);
        QCOMPARE(alpha.finished, 2);
        QCOMPARE(alpha.completed, 1);
        QCOMPARE(alpha.errors, 0);
        QCOMPARE(alpha.callsProposed, 5);
        QCOMPARE(alpha.callsExecuted, 2);
        QCOMPARE(alpha.callsFailed, 1);
        QCOMPARE(alpha.callsDenied, 1);
        QCOMPARE(alpha.inputTokens, 1310);
        QCOMPARE(alpha.outputTokens, 131);
        QCOMPARE(alpha.costMicros, 123460289);
        QCOMPARE(alpha.lastStartedAt, kD0 + 2 * kDay + kHour);
        const auto& beta = agents->at(1);
        QCOMPARE(beta.runs, 1);
        QCOMPARE(beta.errors, 1);
        QCOMPARE(beta.costMicros, 0);
        QCOMPARE(Queries(*s).agentSummary({kD0 + 2 * kDay, {}})->size(), 1);
    }

    void approvalMetrics_data() { addBackends(); }
    void approvalMetrics() {
        QFETCH(QString, backend);
        AuditStore* s = store(backend);
        QVERIFY(s);
        const auto m = Queries(*s).approvalMetrics();
        QVERIFY2(m, qPrintable(m ? QString() : m.error().message));
        QCOMPARE(m->decided, 5);
        QCOMPARE(m->approved, 4);
        QCOMPARE(m->denied, 1);
        QCOMPARE(m->autoApproved, 1);
        QCOMPARE(m->byApproverKind.size(), 4);
        QCOMPARE(m->byApproverKind.at(0).kind, QStringLiteral("auto"));
        QCOMPARE(*m->byApproverKind.at(0).decideMs.p50, 10);
        const auto& person = m->byApproverKind.at(1);
        QCOMPARE(person.kind, QStringLiteral("person"));
        QCOMPARE(person.approved, 1);
        QCOMPARE(person.denied, 1);
        QCOMPARE(*person.decideMs.p50, 1000); // 1000 and 3000: rank 1
        QCOMPARE(m->byApproverKind.at(2).kind, QStringLiteral("rule"));
        QCOMPARE(*m->byApproverKind.at(3).decideMs.p50, 100);
        // 10, 20, 100, 1000, 3000: the median is rank 3.
        QCOMPARE(*m->medianDecideMs, 100);
    }

    void errorRate_data() { addBackends(); }
    void errorRate() {
        QFETCH(QString, backend);
        AuditStore* s = store(backend);
        QVERIFY(s);
        const Queries q(*s);
        const auto days = q.errorRate(Queries::Interval::Day);
        QVERIFY2(days, qPrintable(days ? QString() : days.error().message));
        QCOMPARE(days->size(), 3);
        QCOMPARE(days->at(0).bucketStartMs, kD0);
        QCOMPARE(days->at(0).toolRuns, 2);
        QCOMPARE(days->at(0).toolFailures, 1);
        QCOMPARE(days->at(0).toolErrorRate(), 0.5);
        QCOMPARE(days->at(0).apiCalls, 2);
        QCOMPARE(days->at(1).bucketStartMs, kD0 + kDay);
        QCOMPARE(days->at(1).toolRuns, 1);
        QCOMPARE(days->at(1).apiCalls, 3);
        QCOMPARE(days->at(1).apiErrors, 1);
        QCOMPARE(days->at(2).toolRuns, 1);

        const auto weeks = q.errorRate(Queries::Interval::Week);
        QCOMPARE(weeks->size(), 1);
        QCOMPARE(weeks->at(0).bucketStartMs, kD0); // Monday
        QCOMPARE(weeks->at(0).toolRuns, 4);
        QCOMPARE(weeks->at(0).apiErrors, 1);

        const auto hours = q.errorRate(Queries::Interval::Hour, {kD0, kD0 + kDay});
        QCOMPARE(hours->size(), 1);
        QCOMPARE(hours->at(0).bucketStartMs, kD0 + kHour);
    }

    void costsAndTokens_data() { addBackends(); }
    void costsAndTokens() {
        QFETCH(QString, backend);
        AuditStore* s = store(backend);
        QVERIFY(s);
        const Queries q(*s);
        const auto rows = q.costByModelDay();
        QVERIFY2(rows, qPrintable(rows ? QString() : rows.error().message));
        QCOMPARE(rows->size(), 4);
        QCOMPARE(rows->at(0).model, QStringLiteral("m-a"));
        QCOMPARE(rows->at(0).apiCalls, 2);
        QCOMPARE(rows->at(0).cacheWriteTokens, 7);
        QCOMPARE(rows->at(0).cacheReadTokens, 3);
        QCOMPARE(rows->at(0).costMicros, 3000);
        QCOMPARE(rows->at(1).model, kFormulaModel);
        QCOMPARE(rows->at(2).model, QStringLiteral("m-b"));
        QCOMPARE(rows->at(2).apiCalls, 2);
        QCOMPARE(rows->at(2).unpricedCalls, 1);
        QCOMPARE(rows->at(2).runs, 1);
        QCOMPARE(rows->at(3).day, (kD0 + 2 * kDay) / kDay);

        const auto byModel = Queries::sumByModel(*rows);
        QCOMPARE(byModel.size(), 3);
        QCOMPARE(byModel.at(1).model, QStringLiteral("m-a"));
        QCOMPARE(byModel.at(1).costMicros, 3500);
        const auto byDay = Queries::sumByDay(*rows);
        QCOMPARE(byDay.size(), 3);
        QCOMPARE(byDay.at(1).costMicros, 123456789);
        QCOMPARE(byDay.at(1).apiCalls, 3);

        const auto day1 = q.costByModelDay({kD0 + kDay, kD0 + 2 * kDay});
        QCOMPARE(day1->size(), 2);

        const auto tokens = q.tokensByDay();
        QCOMPARE(tokens->size(), 3);
        QCOMPARE(tokens->at(0).inputTokens, 300);
        QCOMPARE(tokens->at(1).inputTokens, 60);
        QCOMPARE(tokens->at(1).outputTokens, 6);
        QCOMPARE(tokens->at(2).outputTokens, 100);

        // Now 2024-01-03 12:00: the 30 days before today are days 0 and 1; today (day 2) has
        // spent 500 so far, and the month so far is all three days.
        const qint64 now = kD0 + 2 * kDay + 12 * kHour;
        const auto p = q.monthlyProjection(now);
        QVERIFY(p);
        QCOMPARE(p->last30DaysMicros, 123459789);
        QCOMPARE(p->todayMicros, 500);
        QCOMPARE(p->monthToDateMicros, 123460289);
        // The rate over 30.5 days (today's first 12 hours count); the 28.5 days left at it.
        QCOMPARE(p->dailyAverageMicros, qint64(123460289 / 30.5));
        QCOMPARE(p->remainingDays, 29);
        const qint64 window = 30 * kDay + 12 * kHour;
        QCOMPARE(p->projectedMonthMicros,
                 123460289 + qint64(__int128(123460289) * (kD0 + 31 * kDay - now) / window));

        // The first day of use: only today has costs. Month to date and the projection are
        // today's spending, never $0 (the bug: today was left out of both).
        const auto first = q.monthlyProjection(kD0 + 12 * kHour);
        QVERIFY(first);
        QCOMPARE(first->todayMicros, 3000);
        QCOMPARE(first->monthToDateMicros, 3000);
        QCOMPARE(first->last30DaysMicros, 0);
        QCOMPARE(first->projectedMonthMicros, 6000); // 30.5 days left at 3000 per 30.5 days
    }

    void csvCells_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QByteArray>("cell");
        QTest::newRow("plain") << QString("m-a") << QByteArray("m-a");
        QTest::newRow("empty") << QString("") << QByteArray("");
        QTest::newRow("comma") << QString("a,b") << QByteArray("\"a,b\"");
        QTest::newRow("quote") << QString("say \"hi\"") << QByteArray("\"say \"\"hi\"\"\"");
        QTest::newRow("newline") << QString("a\nb") << QByteArray("\"a\nb\"");
        QTest::newRow("equals") << QString("=1+2") << QByteArray("'=1+2");
        QTest::newRow("plus") << QString("+1") << QByteArray("'+1");
        QTest::newRow("minus") << QString("-1") << QByteArray("'-1");
        QTest::newRow("at") << QString("@SUM(A1)") << QByteArray("'@SUM(A1)");
        QTest::newRow("tab") << QString("\tx") << QByteArray("'\tx");
        QTest::newRow("cr") << QString("\rx") << QByteArray("\"'\rx\"");
        QTest::newRow("formula+quote")
            << QString("=HYPERLINK(\"a\",1)") << QByteArray("\"'=HYPERLINK(\"\"a\"\",1)\"");
        QTest::newRow("utf8") << QString::fromUtf8("mod\xc3\xa8le") << QByteArray("mod\xc3\xa8le");
        QTest::newRow("inner equals") << QString("a=b") << QByteArray("a=b");
    }
    void csvCells() {
        QFETCH(QString, text);
        QFETCH(QByteArray, cell);
        QCOMPARE(CostCsvWriter::cell(text), cell);
    }

    void csvMoney() {
        QCOMPARE(CostCsvWriter::usd(0), QStringLiteral("0.000000"));
        QCOMPARE(CostCsvWriter::usd(12345678), QStringLiteral("12.345678"));
        QCOMPARE(CostCsvWriter::usd(1), QStringLiteral("0.000001"));
        QCOMPARE(CostCsvWriter::usd(-1500000), QStringLiteral("-1.500000"));
        QCOMPARE(CostCsvWriter::usd(std::numeric_limits<qint64>::max()),
                 QStringLiteral("9223372036854.775807"));
        QCOMPARE(CostCsvWriter::usd(std::numeric_limits<qint64>::min()),
                 QStringLiteral("-9223372036854.775808"));
    }

    void csvReport_data() { addBackends(); }
    void csvReport() {
        QFETCH(QString, backend);
        AuditStore* s = store(backend);
        QVERIFY(s);
        const Queries q(*s);
        QBuffer buffer;
        QVERIFY(buffer.open(QIODevice::WriteOnly));
        const auto rows = CostCsvWriter::write(q, {}, buffer, true);
        QVERIFY2(rows, qPrintable(rows ? QString() : rows.error().message));
        QCOMPARE(*rows, 4);
        const QByteArray csv = buffer.data();
        const QByteArray expected =
            "date,model,runs,api_calls,input_tokens,output_tokens,cache_write_tokens,"
            "cache_read_tokens,cost_usd,unpriced_calls\r\n"
            "2024-01-01,m-a,1,2,300,30,7,3,0.003000,0\r\n"
            "2024-01-02,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",1,1,10,1,0,0,123.456789,0\r\n"
            "2024-01-02,m-b,1,2,50,5,0,0,0.000000,1\r\n"
            "2024-01-03,m-a,1,1,1000,100,0,0,0.000500,0\r\n"
            "total,,4,6,1360,136,7,3,123.460289,1\r\n";
        QCOMPARE(csv, expected);
        m_csv.insert(backend, csv);

        // Without totals and for one day only.
        QBuffer day;
        QVERIFY(day.open(QIODevice::WriteOnly));
        QCOMPARE(*CostCsvWriter::write(q, {kD0 + kDay, kD0 + 2 * kDay}, day, false), 2);
        QCOMPARE(day.data().count("\r\n"), 3);

        // Python's csv module (RFC 4180 dialect "excel") reads it back cell for cell.
        const QString file = m_dir.filePath(QStringLiteral("report-%1.csv").arg(backend));
        QVERIFY(test::writeFile(file, csv));
        const QString script = QStringLiteral(
            "import csv, json, sys\n"
            "with open(sys.argv[1], newline='', encoding='utf-8') as f:\n"
            "    raw = f.read()\n"
            "assert raw.count('\\r\\n') == 6 and raw.count('\\n') == 6, 'CRLF line ends'\n"
            "with open(sys.argv[1], newline='', encoding='utf-8') as f:\n"
            "    rows = list(csv.reader(f, strict=True))\n"
            "assert all(len(r) == 10 for r in rows), 'ten columns everywhere'\n"
            "print(json.dumps(rows))\n");
        const test::ProcessResult py = test::runProgram(QStringLiteral("/usr/bin/python3"),
                                                        {QStringLiteral("-c"), script, file});
        QVERIFY2(py.exitCode == 0, py.err.constData());
        const QJsonArray parsed = QJsonDocument::fromJson(py.out).array();
        QCOMPARE(parsed.size(), 6);
        QCOMPARE(parsed.at(0).toArray().at(8).toString(), QStringLiteral("cost_usd"));
        QCOMPARE(parsed.at(2).toArray().at(1).toString(), QStringLiteral("'") + kFormulaModel);
        QCOMPARE(parsed.at(2).toArray().at(8).toString(), QStringLiteral("123.456789"));
        QCOMPARE(parsed.at(5).toArray().at(0).toString(), QStringLiteral("total"));
    }

    // Runs after csvReport for both backends.
    void csvIdenticalAcrossBackends() {
        QVERIFY(m_csv.contains(QStringLiteral("sqlite")));
        QVERIFY(m_csv.contains(QStringLiteral("postgres")));
        QCOMPARE(m_csv.value(QStringLiteral("sqlite")), m_csv.value(QStringLiteral("postgres")));
    }

    // A reader on a thread of its own with its own connection, while the writer writes: it
    // reads, and its connection is gone when it is (SQL-10).
    void queriesOnWorkerThread_data() { addBackends(); }
    void queriesOnWorkerThread() {
        QFETCH(QString, backend);
        QVERIFY(store(backend));
        auto config = StoreConfig::fromLocation(m_locations.value(backend));
        QVERIFY(config);
        auto opened = AuditStore::open(*config);
        QVERIFY(opened);
        auto writer = (*opened)->startWriter();
        QVERIFY(writer);
        QAtomicInteger<int> pages;
        QAtomicInteger<int> errors;
        QString readerConnection;
        std::unique_ptr<QThread> reader(QThread::create([&] {
            auto queries = AuditQueries::open(*config);
            if (!queries) {
                errors.fetchAndAddRelaxed(1);
                return;
            }
            for (int i = 0; i < 20; ++i) {
                const auto page = (*queries)->history({}, 50);
                if (page && page->runs.size() >= 4)
                    pages.fetchAndAddRelaxed(1);
                else
                    errors.fetchAndAddRelaxed(1);
                if (!(*queries)->runMetrics())
                    errors.fetchAndAddRelaxed(1);
            }
            for (const QString& name : QSqlDatabase::connectionNames()) {
                if (name.contains(QLatin1String("reader")))
                    readerConnection = name;
            }
        }));
        reader->start();
        for (int i = 0; i < 20; ++i)
            QVERIFY((*writer)->write(AuditEvent::runStarted(QStringLiteral("t%1").arg(i),
                                                            start("thread", "m", "g"),
                                                            kD0 + 3 * kDay + i),
                                     30000));
        QVERIFY(reader->wait(60000));
        QCOMPARE(errors.loadRelaxed(), 0);
        QCOMPARE(pages.loadRelaxed(), 20);
        QVERIFY(!readerConnection.isEmpty());
        QVERIFY(!QSqlDatabase::connectionNames().contains(readerConnection));
    }

    // SQL-09: once a page is loaded no statement holds a read snapshot, so a checkpoint can
    // copy every frame back while the reader object is still alive.
    void pageDoesNotHoldTheWal() {
        const QString where = freshLocation(QStringLiteral("sqlite"));
        auto opened = AuditStore::open(where);
        QVERIFY(opened);
        auto writer = (*opened)->startWriter();
        QVERIFY(writer);
        for (const AuditEvent& event : dataset())
            QVERIFY((*writer)->write(event, 30000));
        auto config = StoreConfig::fromLocation(where);
        auto queries = AuditQueries::open(*config);
        QVERIFY(queries);
        QCOMPARE((*queries)->history({}, 10000)->runs.size(), 4);
        QVERIFY((*queries)->run(QStringLiteral("r1")));
        QVERIFY((*queries)->toolStats());
        QVERIFY((*writer)->write(AuditEvent::runStarted("late", start("x", "m", "g"), kD0), 30000));
        QSqlQuery checkpoint(QSqlDatabase::database((*opened)->connectionName(), false));
        QVERIFY(checkpoint.exec(QStringLiteral("PRAGMA wal_checkpoint(PASSIVE)")));
        QVERIFY(checkpoint.next());
        QCOMPARE(checkpoint.value(0).toInt(), 0);                           // not busy
        QCOMPARE(checkpoint.value(1).toInt(), checkpoint.value(2).toInt()); // every frame done
    }

    // The rollups written by the AuditWriter equal the sums over the rows.
    void rollupsFollowTheWriter_data() { addBackends(); }
    void rollupsFollowTheWriter() {
        QFETCH(QString, backend);
        AuditStore* s = store(backend);
        QVERIFY(s);
        const QString mismatch = rollupMismatch(s->connectionName());
        QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));
    }

    // Batches (AuditWriter::submit of several events, one transaction each) give the very chain
    // and projections that one event per transaction gives: same hashes, rollups still exact.
    void batchedWritesMatchSingleWrites_data() { addBackends(); }
    void batchedWritesMatchSingleWrites() {
        QFETCH(QString, backend);
        auto single = AuditStore::open(freshLocation(backend));
        QVERIFY(single);
        {
            auto writer = (*single)->startWriter();
            QVERIFY(writer);
            for (const AuditEvent& event : dataset())
                QVERIFY((*writer)->write(event, 30000));
        }
        auto opened = AuditStore::open(freshLocation(backend));
        QVERIFY(opened);
        auto writer = (*opened)->startWriter();
        QVERIFY(writer);
        const QList<AuditEvent> events = dataset();
        qint64 lastSeq = 0;
        int size = 1;
        for (qsizetype i = 0; i < events.size(); i += size, size = size % 5 + 1) {
            const AuditWriter::Ticket ticket = (*writer)->submit(events.mid(i, size));
            const AuditAck ack = (*writer)->waitForAck(ticket, 30000);
            QVERIFY2(ack, qPrintable(ack ? QString() : ack.error().message));
            QCOMPARE(*ack, qMin<qint64>(i + size, events.size()));
            lastSeq = *ack;
        }
        QCOMPARE(lastSeq, qint64(events.size()));
        const QString batched = (*opened)->connectionName();
        const QString mismatch = rollupMismatch(batched);
        QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));
        const auto report = (*opened)->verify();
        QVERIFY(report && report->intact);
        const auto one = [](const QString& connection, const QString& sql) {
            QSqlQuery q(QSqlDatabase::database(connection, false));
            QStringList rows;
            if (!q.exec(sql))
                return QStringList{q.lastError().text()};
            while (q.next()) {
                QStringList fields;
                for (int c = 0; c < q.record().count(); ++c)
                    fields.append(q.value(c).toString());
                rows.append(fields.join(QLatin1Char('|')));
            }
            return rows;
        };
        for (const char* sql :
             {"SELECT seq, hash FROM audit_events ORDER BY seq",
              "SELECT run_id, calls_proposed, calls_approved, calls_denied, calls_executed, "
              "calls_failed, input_tokens, cost_micros, stop_reason FROM runs ORDER BY run_id",
              "SELECT run_id, request_id, status, token_jti FROM tool_calls ORDER BY run_id, "
              "request_id",
              "SELECT day, model, runs, api_calls, cost_micros FROM rollup_api_day ORDER BY day, "
              "model"}) {
            const QString query = QString::fromLatin1(sql);
            QCOMPARE(one(batched, query), one((*single)->connectionName(), query));
        }
    }

    // A batch is one transaction: an event it cannot write takes the whole batch back.
    void batchIsAllOrNothing_data() { addBackends(); }
    void batchIsAllOrNothing() {
        QFETCH(QString, backend);
        auto opened = AuditStore::open(freshLocation(backend));
        QVERIFY(opened);
        auto writer = (*opened)->startWriter();
        QVERIFY(writer);
        const QString c = (*opened)->connectionName();
        QVERIFY((*writer)->write(AuditEvent::runStarted("b1", start("x", "m", "g"), kD0), 30000));
        const QList<AuditEvent> batch{
            AuditEvent::callProposed("b1", "c1", 1, "read_file", "read", {}, kD0 + 1),
            AuditEvent::callApproved("b1", "c1", "auto", {}, "jti-b1", {}, kD0 + 2),
            // Not approved: the transition is refused, and with it the two events before.
            AuditEvent::callExecuted("b1", "c2", {}, "out", 1, kD0 + 3)};
        const AuditAck ack = (*writer)->waitForAck((*writer)->submit(batch), 30000);
        QVERIFY(!ack);
        QCOMPARE(ack.error().code, QStringLiteral("store.transition"));
        // Not something a person can fix by freeing space: a run stops on it.
        QCOMPARE(AuditWriter::failureOf(ack.error()), AuditWriter::Failure::Other);
        QSqlQuery q(QSqlDatabase::database(c, false));
        QVERIFY(q.exec(QStringLiteral("SELECT (SELECT count(*) FROM audit_events), (SELECT "
                                      "last_seq FROM chain_head), (SELECT count(*) FROM "
                                      "tool_calls), (SELECT calls_proposed FROM runs)")));
        QVERIFY(q.next());
        QCOMPARE(q.value(0).toLongLong(), 1);
        QCOMPARE(q.value(1).toLongLong(), 1);
        QCOMPARE(q.value(2).toLongLong(), 0);
        QCOMPARE(q.value(3).toLongLong(), 0);
        q.finish();
        // The writer goes on: the same events without the bad one are written.
        QCOMPARE(*(*writer)->waitForAck((*writer)->submit(batch.first(2)), 30000), 3);
        const QString mismatch = rollupMismatch(c);
        QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));
        const auto report = (*opened)->verify();
        QVERIFY(report && report->intact);
        // An empty batch writes nothing and is acknowledged with 0.
        QCOMPARE(*(*writer)->waitForAck((*writer)->submit(QList<AuditEvent>{}), 30000), 0);
    }

    // The SQL bucket expression (backfill, partial days) is the C++ one (writer, probes).
    void rollupBuckets_data() { addBackends(); }
    void rollupBuckets() {
        QFETCH(QString, backend);
        AuditStore* s = store(backend);
        QVERIFY(s);
        QSqlQuery q(QSqlDatabase::database(s->connectionName(), false));
        QVERIFY(q.prepare(QStringLiteral("SELECT %1 FROM (SELECT CAST(? AS BIGINT) AS v) AS t")
                              .arg(AuditRollups::bucketSql(QStringLiteral("v")))));
        const qint64 values[] = {-5,
                                 0,
                                 1,
                                 31,
                                 32,
                                 33,
                                 63,
                                 64,
                                 100,
                                 1000,
                                 1023,
                                 1024,
                                 4321,
                                 2500000,
                                 3600000000,
                                 1LL << 40,
                                 (1LL << 62) + 7,
                                 std::numeric_limits<qint64>::max()};
        for (const qint64 v : values) {
            const int b = AuditRollups::bucket(v);
            QVERIFY(b >= 0);
            if (v >= 0) {
                QVERIFY(AuditRollups::bucketLow(b) <= v);
                QVERIFY(v < AuditRollups::bucketHigh(b) ||
                        AuditRollups::bucketHigh(b) == std::numeric_limits<qint64>::max());
            }
            if (v >= 32)
                QVERIFY(AuditRollups::bucketHigh(b) - AuditRollups::bucketLow(b) <=
                        AuditRollups::bucketLow(b) / 16 + 1);
            q.bindValue(0, v);
            QVERIFY2(q.exec() && q.next(), qPrintable(q.lastError().text()));
            QCOMPARE(q.value(0).toLongLong(), qint64(b));
        }
    }

    // Seeded history (rollups added per batch), then a prune (rollups recomputed before the
    // cutoff): the rollups still equal the rows, and the probed percentiles over a range that
    // starts and ends inside days equal a sort of the rows.
    void rollupsAfterSeedAndPrune_data() { addBackends(); }
    void rollupsAfterSeedAndPrune() {
        QFETCH(QString, backend);
        auto opened = AuditStore::open(freshLocation(backend));
        QVERIFY(opened);
        AuditStore& s = **opened;
        const QString c = s.connectionName();
        const qint64 now = kD0 + 20 * kDay + 5 * kHour;
        AuditSeeder::Options options;
        options.runs = 400;
        options.callsPerRun = 6;
        options.spanDays = 12;
        options.nowMs = now;
        options.runsPerCommit = 150;
        QVERIFY(AuditSeeder::seed(s, options));
        QString mismatch = rollupMismatch(c);
        QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));

        const auto checkAgainstRows = [&](const Queries::TimeRange& range) {
            const AuditQueries q(s);
            const auto tools = q.toolStats(range);
            QVERIFY(tools);
            QVERIFY(!tools->isEmpty());
            for (const auto& tool : *tools) {
                const auto values = column(
                    c,
                    QStringLiteral("SELECT exec_duration_ms FROM tool_calls WHERE tool_name = ? "
                                   "AND status IN ('executed', 'failed') AND proposed_at >= ? "
                                   "AND proposed_at < ?"),
                    {tool.tool, *range.fromMs, *range.toMs});
                QCOMPARE(tool.durationMs.n, qint64(values.size()));
                QCOMPARE(tool.durationMs.p50, nearestRank(values, 50));
                QCOMPARE(tool.durationMs.p95, nearestRank(values, 95));
                QCOMPARE(tool.durationMs.p99, nearestRank(values, 99));
            }
            const auto approvals = q.approvalMetrics(range);
            QVERIFY(approvals);
            const auto decide =
                column(c,
                       QStringLiteral("SELECT decided_at - proposed_at FROM tool_calls WHERE "
                                      "approver_kind IS NOT NULL AND decided_at IS NOT NULL AND "
                                      "proposed_at >= ? AND proposed_at < ?"),
                       {*range.fromMs, *range.toMs});
            QCOMPARE(approvals->medianDecideMs, nearestRank(decide, 50));
            for (const auto& kind : approvals->byApproverKind) {
                const auto values =
                    column(c,
                           QStringLiteral("SELECT decided_at - proposed_at FROM tool_calls WHERE "
                                          "approver_kind = ? AND decided_at IS NOT NULL AND "
                                          "proposed_at >= ? AND proposed_at < ?"),
                           {kind.kind, *range.fromMs, *range.toMs});
                QCOMPARE(kind.decideMs.p95, nearestRank(values, 95));
            }
            const auto metrics = q.runMetrics(range);
            QVERIFY(metrics);
            const auto durations = column(
                c,
                QStringLiteral("SELECT duration_ms FROM runs WHERE duration_ms IS NOT NULL AND "
                               "started_at >= ? AND started_at < ?"),
                {*range.fromMs, *range.toMs});
            QCOMPARE(metrics->durationMs.n, qint64(durations.size()));
            QCOMPARE(metrics->durationMs.p99, nearestRank(durations, 99));
            const auto hours = q.errorRate(Queries::Interval::Hour, range);
            QVERIFY(hours);
            qint64 runs = 0;
            for (const auto& point : *hours)
                runs += point.toolRuns;
            QCOMPARE(runs, qint64(column(c,
                                         QStringLiteral("SELECT 1 FROM tool_calls WHERE status "
                                                        "IN ('executed', 'failed') AND "
                                                        "proposed_at >= ? AND proposed_at < ?"),
                                         {*range.fromMs, *range.toMs})
                                      .size()));
        };
        checkAgainstRows({now - 7 * kDay - 123457, now - 1 * kDay + 7654321});
        checkAgainstRows({now - 3 * kDay + 1000, now - 3 * kDay + 5 * kHour});

        auto pruned = s.prune(6, false, now);
        QVERIFY2(pruned, qPrintable(pruned ? QString() : pruned.error().message));
        QVERIFY(pruned->runs > 0);
        mismatch = rollupMismatch(c);
        QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));
        checkAgainstRows({now - 9 * kDay - 3, now - 2 * kDay + 11});
    }

    // Migration 3 on a database of schema version 2 backfills the rollups from its rows.
    void migrationBackfillsRollups_data() { addBackends(); }
    void migrationBackfillsRollups() {
        QFETCH(QString, backend);
        const QString where = freshLocation(backend);
        QString before;
        {
            auto opened = AuditStore::open(where);
            QVERIFY(opened);
            {
                auto writer = (*opened)->startWriter();
                QVERIFY(writer);
                for (const AuditEvent& event : dataset())
                    QVERIFY((*writer)->write(event, 30000));
            }
            const AuditQueries q(**opened);
            before = QString::fromUtf8(
                QJsonDocument(q.approvalMetrics()->toJson()).toJson(QJsonDocument::Compact));
            // Back to version 2: no rollups, no probe indexes, no sort indexes.
            QSqlQuery sql(QSqlDatabase::database((*opened)->connectionName(), false));
            for (int i = 0; i < AuditRollups::Count; ++i)
                QVERIFY(
                    sql.exec(QStringLiteral("DROP TABLE %1")
                                 .arg(AuditRollups::def(static_cast<AuditRollups::Id>(i)).table)));
            for (const char* index : {"tool_calls_tool_duration", "tool_calls_kind_decide",
                                      "runs_duration", "runs_agent_summary"})
                QVERIFY(sql.exec(QStringLiteral("DROP INDEX %1").arg(QLatin1String(index))));
            revertMigration5(sql);
            revertMigration4(sql);
            QVERIFY(sql.exec(QStringLiteral("DELETE FROM schema_version WHERE version = 3")));
        }
        auto reopened = AuditStore::open(where);
        QVERIFY2(reopened, qPrintable(reopened ? QString() : reopened.error().message));
        const QString mismatch = rollupMismatch((*reopened)->connectionName());
        QVERIFY2(mismatch.isEmpty(), qPrintable(mismatch));
        const AuditQueries q(**reopened);
        QCOMPARE(QString::fromUtf8(
                     QJsonDocument(q.approvalMetrics()->toJson()).toJson(QJsonDocument::Compact)),
                 before);
        QCOMPARE(q.toolStats()->size(), 3);
    }

    // SBX-27: the prompts per scope with their evidence, figures worked out by hand.
    void approvalsByScope_data() { addBackends(); }
    void approvalsByScope() {
        QFETCH(QString, backend);
        auto opened = AuditStore::open(freshLocation(backend));
        QVERIFY2(opened, qPrintable(opened ? QString() : opened.error().message));
        auto writer = (*opened)->startWriter();
        QVERIFY(writer);
        const qint64 t = kD0 + 5 * kDay;
        const auto decision = [](const char* decision) {
            PolicyDecision d;
            d.kind = QLatin1String(decision) == QLatin1String("ask") ? PolicyDecision::Kind::Ask
                     : QLatin1String(decision) == QLatin1String("allow")
                         ? PolicyDecision::Kind::Allow
                         : PolicyDecision::Kind::Deny;
            d.reason = QStringLiteral("because");
            return d;
        };
        const auto evidence = [](qint64 ms, std::optional<bool> seen, bool batch) {
            AuditEvent::DecisionEvidence e;
            e.decisionMs = ms;
            e.argsSeenWhole = seen;
            e.inBatch = batch;
            e.decidedBy = QStringLiteral("ann");
            return e;
        };
        QList<AuditEvent> events;
        events << AuditEvent::runStarted("s1", start("alpha", "m", "scopes"), t);
        int n = 0;
        // One call: proposed, checked by the policy, then the given transition.
        const auto call = [&](const char* scope, const char* policy, AuditEvent decided) {
            const QString id = QStringLiteral("c%1").arg(++n);
            const qint64 at = t + n * 100;
            events << AuditEvent::callProposed("s1", id, 1, "tool", QLatin1String(scope), {}, at)
                   << AuditEvent::policyChecked("s1", id, decision(policy), at + 1);
            decided.requestId = id;
            decided.at = at + 2;
            events << decided;
        };
        const auto approved = [](const char* kind, std::optional<AuditEvent::DecisionEvidence> e) {
            AuditEvent a = AuditEvent::callApproved("s1", {}, QLatin1String(kind), {}, "j");
            if (e)
                a.addDecisionEvidence(*e);
            return a;
        };
        const auto denied = [](AuditEvent::DecisionEvidence e) {
            AuditEvent d = AuditEvent::callDenied("s1", {}, "person", "gui", "no");
            d.addDecisionEvidence(e);
            return d;
        };
        // execute: 2 approved by a person (4 s, whole seen, batch; 1 s, not seen), 1 denied
        // (3 s, seen), 1 expired, 1 auto-approved.
        call("execute", "ask", approved("person", evidence(4000, true, true)));
        call("execute", "ask", approved("person", evidence(1000, false, false)));
        call("execute", "ask", denied(evidence(3000, true, false)));
        call("execute", "ask", AuditEvent::callExpired("s1", {}, "nobody"));
        call("execute", "ask", approved("auto", std::nullopt));
        // write: 1 approved by a person without evidence (an older client); 1 allowed by a rule
        // (no prompt: not counted).
        call("write", "ask", approved("person", std::nullopt));
        call("write", "allow", approved("rule", std::nullopt));
        for (const AuditEvent& e : events) {
            const AuditAck ack = (*writer)->write(e, 30000);
            QVERIFY2(ack, qPrintable(ack ? QString() : ack.error().message));
        }
        const auto stats = Queries(**opened).approvalsByScope();
        QVERIFY2(stats, qPrintable(stats ? QString() : stats.error().message));
        QCOMPARE(stats->size(), 2);
        const auto& x = stats->at(0);
        QCOMPARE(x.scope, QStringLiteral("execute"));
        QCOMPARE(x.prompts, 5);
        QCOMPARE(x.approved, 2);
        QCOMPARE(x.denied, 1);
        QCOMPARE(x.expired, 1);
        QCOMPARE(x.otherwise, 1);
        QCOMPARE(x.inBatch, 1);
        QCOMPARE(x.seenWhole, 2);
        QCOMPARE(x.seenKnown, 3);
        QCOMPARE(x.approvalRate, 0.5);
        QCOMPARE(x.decisionMs.n, 3);
        QCOMPARE(*x.decisionMs.p50, 3000); // 1000, 3000, 4000
        const auto& w = stats->at(1);
        QCOMPARE(w.scope, QStringLiteral("write"));
        QCOMPARE(w.prompts, 1);
        QCOMPARE(w.approved, 1);
        QCOMPARE(w.approvalRate, 1.0);
        QCOMPARE(w.seenKnown, 0);
        QVERIFY(!w.decisionMs.p50);
        // A range that holds only the first three calls.
        const auto part = Queries(**opened).approvalsByScope({t, t + 350});
        QVERIFY(part);
        QCOMPARE(part->size(), 1);
        QCOMPARE(part->at(0).prompts, 3);
        // The evidence reaches the run's rows, NULL where nobody was prompted.
        const auto detail = Queries(**opened).run("s1");
        QVERIFY(detail);
        QCOMPARE(detail->toolCalls.at(0).decisionMs, std::optional<qint64>(4000));
        QCOMPARE(detail->toolCalls.at(0).argsSeenWhole, std::optional<bool>(true));
        QCOMPARE(detail->toolCalls.at(0).decidedInBatch, std::optional<bool>(true));
        QCOMPARE(detail->toolCalls.at(0).decidedBy, QStringLiteral("ann"));
        QCOMPARE(detail->toolCalls.at(1).argsSeenWhole, std::optional<bool>(false));
        QVERIFY(!detail->toolCalls.at(6).decisionMs);
        QVERIFY(!detail->toolCalls.at(6).argsSeenWhole);
        QVERIFY(!detail->toolCalls.at(6).decidedInBatch);
        QVERIFY(detail->toolCalls.at(6).decidedBy.isEmpty());
        QCOMPARE(detail->toolCalls.at(0).toJson().value("decisionMs").toInteger(), 4000);
    }

    // Migration 4 on a database of schema version 3: the evidence columns and their index
    // appear, the rows already there keep NULL (nothing to recover them from), new decisions
    // store theirs.
    void migration4AddsDecisionEvidence_data() { addBackends(); }
    void migration4AddsDecisionEvidence() {
        QFETCH(QString, backend);
        const QString where = freshLocation(backend);
        {
            auto opened = AuditStore::open(where);
            QVERIFY(opened);
            {
                auto writer = (*opened)->startWriter();
                QVERIFY(writer);
                for (const AuditEvent& event : dataset())
                    QVERIFY((*writer)->write(event, 30000));
            }
            QSqlQuery sql(QSqlDatabase::database((*opened)->connectionName(), false));
            revertMigration5(sql);
            revertMigration4(sql);
            QVERIFY(!sql.exec(QStringLiteral("SELECT decision_ms FROM tool_calls")));
        }
        auto reopened = AuditStore::open(where);
        QVERIFY2(reopened, qPrintable(reopened ? QString() : reopened.error().message));
        QSqlQuery sql(QSqlDatabase::database((*reopened)->connectionName(), false));
        QVERIFY(sql.exec(QStringLiteral("SELECT max(version) FROM schema_version")) && sql.next());
        QCOMPARE(sql.value(0).toInt(), SchemaMigrations::latestVersion());
        QVERIFY(sql.exec(QStringLiteral("SELECT count(*) FROM tool_calls WHERE decision_ms IS "
                                        "NULL AND args_seen_whole IS NULL AND decided_in_batch "
                                        "IS NULL AND decided_by IS NULL")) &&
                sql.next());
        QCOMPARE(sql.value(0).toInt(), 6); // every row of the dataset
        sql.finish();
        // The CHECK holds on both dialects.
        QVERIFY(!sql.exec(QStringLiteral("UPDATE tool_calls SET args_seen_whole = 2")));
        {
            auto writer = (*reopened)->startWriter();
            QVERIFY(writer);
            const qint64 at = kD0 + 3 * kDay;
            AuditEvent approved = AuditEvent::callApproved("r4", "c9", "person", "gui", "j9");
            approved.at = at + 2;
            AuditEvent::DecisionEvidence e;
            e.decisionMs = 777;
            e.argsSeenWhole = true;
            e.inBatch = false;
            e.decidedBy = QStringLiteral("bob");
            approved.addDecisionEvidence(e);
            QVERIFY((*writer)->write(
                AuditEvent::callProposed("r4", "c9", 2, "run_command", "execute", {}, at), 30000));
            QVERIFY((*writer)->write(AuditEvent::policyChecked(
                                         "r4", "c9",
                                         [] {
                                             PolicyDecision d;
                                             d.kind = PolicyDecision::Kind::Ask;
                                             return d;
                                         }(),
                                         at + 1),
                                     30000));
            const AuditAck ack = (*writer)->write(approved, 30000);
            QVERIFY2(ack, qPrintable(ack ? QString() : ack.error().message));
        }
        const auto detail = Queries(**reopened).run("r4");
        QVERIFY(detail);
        QCOMPARE(detail->toolCalls.size(), 2);
        QVERIFY(!detail->toolCalls.at(0).decisionMs);
        QCOMPARE(detail->toolCalls.at(1).decisionMs, std::optional<qint64>(777));
        QCOMPARE(detail->toolCalls.at(1).argsSeenWhole, std::optional<bool>(true));
        QCOMPARE(detail->toolCalls.at(1).decidedInBatch, std::optional<bool>(false));
        QCOMPARE(detail->toolCalls.at(1).decidedBy, QStringLiteral("bob"));
        const auto stats = Queries(**reopened).approvalsByScope();
        QVERIFY(stats);
        QCOMPARE(stats->size(), 1);
        QCOMPARE(stats->at(0).scope, QStringLiteral("execute"));
        QCOMPARE(stats->at(0).approved, 1);
        QCOMPARE(*stats->at(0).decisionMs.p50, 777);
        QVERIFY((*reopened)->verify()->intact);
    }

    void cleanupTestCase() {
        m_stores.clear();
        m_pg.reset();
    }
};

QTEST_GUILESS_MAIN(TstQueries)
#include "tst_queries.moc"
