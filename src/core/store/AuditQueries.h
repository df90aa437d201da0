#pragma once

#include "store/SqlDialect.h"
#include "store/StoreConfig.h"
#include "store/StoreConnection.h"
#include "util/Error.h"

#include <QCoreApplication>
#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QSqlQuery>
#include <QString>
#include <QVariant>

#include <functional>
#include <memory>
#include <optional>

namespace m1 {

class AuditStore;

// The read side of the audit store: history (keyset-paged), one run in full, the dashboards and
// the rows of the cost report. The one query API for the CLI and the GUI.
//
// Threads: an AuditQueries works on one connection and must be used on the thread that owns it.
// open() gives it its own connection (for a worker thread: open, query, destroy, all on that
// thread; every connection has a unique name and is removed by the destructor). The constructor
// over an AuditStore borrows the store's connection (same thread as the store).
//
// Every query is read to the end (or finish()ed) before its function returns: no statement stays
// open between calls, so a reader never holds the WAL back from a checkpoint (SQL-09).
//
// Percentiles are exact, nearest rank: pN is the value at rank ceil(N * n / 100) of the n values
// in ascending order. The dashboards read per-day (per-hour) rollups (AuditRollups) for whole
// days and the rows for the partial days at the ends of a range; a percentile's rank is located
// in a duration histogram bucket and its value read by an index probe. Should a probe miss (a
// rollup out of step), the value is picked with row_number() and count(*) window functions
// instead (SQLite >= 3.25 and PostgreSQL run the same SQL).
//
// Date ranges are half-open, [fromMs, toMs), in ms since the epoch (UTC); an unset end is open.
// Runs are placed by started_at, tool calls by proposed_at, API calls by at; the per-day figures
// (costs, tokens, the CSV report) use whole UTC days (the day of fromMs up to the day before
// toMs' day when toMs falls on midnight).
class AuditQueries {
    Q_DECLARE_TR_FUNCTIONS(AuditQueries)

public:
    struct TimeRange {
        std::optional<qint64> fromMs;
        std::optional<qint64> toMs;
    };

    // What the history is ordered by. Ties go by start time, then run id, in the same
    // direction, so the order is total and a keyset cursor stays exact. Unknown values sort as
    // the smallest (no stop reason as "running", no cost or duration as -1), the same on both
    // databases.
    enum class HistorySort {
        Started,    // started_at
        Agent,      // agent
        Model,      // model
        StopReason, // coalesce(stop_reason, 'running')
        Steps,      // steps
        Calls,      // calls_proposed
        Tokens,     // input_tokens + output_tokens
        Cost,       // coalesce(cost_micros, -1)
        Duration,   // coalesce(duration_ms, -1)
    };
    static QString historySortName(HistorySort sort);
    static std::optional<HistorySort> historySortFromName(const QString& name);

    struct HistoryFilter {
        QString agent;      // exact
        QString stopReason; // exact; "running" selects runs without a stop reason
        QString model;      // exact
        QString search;     // text in the goal, case-insensitive (ASCII on SQLite)
        TimeRange started;
        // The order of the pages (not a filter, but it travels with one: a cursor is only
        // valid for the filter and order that made it).
        HistorySort sort = HistorySort::Started;
        bool descending = true;
    };

    // Where the next page starts: after the run (key, startedAt, runId) in the page's order;
    // key is the last run's sort value (null when sorted by start time).
    struct HistoryCursor {
        qint64 startedAt = 0;
        QString runId;
        QVariant key = {};
        bool isValid() const { return !runId.isEmpty(); }
        // "startedAt:runId" (sorted by another column: "key@startedAt:runId", the key
        // percent-encoded), for a command line or a view's state.
        QString toString() const;
        static std::optional<HistoryCursor> fromString(const QString& text);
    };

    struct RunSummary {
        QString runId;
        QString agent;
        QString goal;
        QString model;
        QString provider;
        QString workspace;
        bool dryRun = false;
        QString stopReason; // empty while running
        qint64 callsProposed = 0;
        qint64 callsApproved = 0;
        qint64 callsDenied = 0;
        qint64 callsExecuted = 0;
        qint64 callsFailed = 0;
        qint64 steps = 0;
        qint64 inputTokens = 0;
        qint64 outputTokens = 0;
        qint64 cacheWriteTokens = 0;
        qint64 cacheReadTokens = 0;
        std::optional<qint64> costMicros;
        bool costComplete = true;
        qint64 startedAt = 0;
        std::optional<qint64> completedAt;
        std::optional<qint64> durationMs;
        QJsonObject toJson() const;
    };

    struct HistoryPage {
        QList<RunSummary> runs;
        bool hasMore = false;
        HistoryCursor next; // valid when hasMore
    };

    struct ToolCallRecord {
        qint64 id = 0;
        QString requestId;
        qint64 step = 0;
        QString toolName;
        QString scope;
        QString status;
        QString argsProposedJson;
        QString argsEditedJson;
        QString argsExecutedJson;
        QString output;
        std::optional<qint64> outputSize;
        QString outputSha256;
        bool outputTruncated = false;
        QString error;
        QString policyDecision;
        QString policyReason;
        QString policyCode;
        QString policySource;
        QString policyRule;
        QString policyRuleFile;
        QString approverKind;
        QString approver;
        QString decisionReason;
        QString tokenJti;
        qint64 proposedAt = 0;
        std::optional<qint64> policyCheckedAt;
        std::optional<qint64> decidedAt;
        std::optional<qint64> executedAt;
        std::optional<qint64> execDurationMs;
        // The evidence of the decision (schema 4, SBX-27); unset where no person was prompted.
        std::optional<qint64> decisionMs;
        std::optional<bool> argsSeenWhole;
        std::optional<bool> decidedInBatch;
        QString decidedBy;
        QJsonObject toJson() const;
    };

    struct ApiCallRecord {
        qint64 id = 0;
        QString model;
        QString requestId;
        qint64 attempt = 1;
        qint64 inputTokens = 0;
        qint64 outputTokens = 0;
        qint64 cacheWriteTokens = 0;
        qint64 cacheReadTokens = 0;
        std::optional<qint64> costMicros;
        std::optional<qint64> latencyMs;
        std::optional<qint64> httpStatus;
        QString errorType;
        qint64 at = 0;
        QJsonObject toJson() const;
    };

    struct RunDetail {
        RunSummary run;
        QString constraintsJson;
        QString planJson;
        QList<ToolCallRecord> toolCalls; // in proposal order
        QList<ApiCallRecord> apiCalls;   // in time order
        QJsonObject toJson() const;
    };

    struct Percentiles {
        qint64 n = 0;
        std::optional<qint64> p50;
        std::optional<qint64> p95;
        std::optional<qint64> p99;
        QJsonObject toJson() const;
    };

    // Runs started in the range. "Completed" is stop reason end_turn (the model finished the
    // task), "error" is stop reason error; rates are shares of the finished runs (0 when none).
    struct RunMetrics {
        qint64 runs = 0;
        qint64 finished = 0;
        qint64 running = 0;
        QMap<QString, qint64> byStopReason; // finished runs only
        double completionRate = 0;
        double errorRate = 0;
        Percentiles durationMs; // finished runs
        QJsonObject toJson() const;
    };

    // Tool calls proposed in the range, by tool. successRate = executed / (executed + failed).
    struct ToolStat {
        QString tool;
        qint64 calls = 0;
        qint64 executed = 0;
        qint64 failed = 0;
        qint64 denied = 0;
        double successRate = 0;
        Percentiles durationMs; // executed and failed calls
        QJsonObject toJson() const;
    };

    // Runs started in the range, by agent (sums of the runs' counters).
    struct AgentSummary {
        QString agent;
        qint64 runs = 0;
        qint64 finished = 0;
        qint64 completed = 0;
        qint64 errors = 0;
        qint64 callsProposed = 0;
        qint64 callsExecuted = 0;
        qint64 callsFailed = 0;
        qint64 callsDenied = 0;
        qint64 inputTokens = 0;
        qint64 outputTokens = 0;
        qint64 costMicros = 0; // known prices only
        qint64 lastStartedAt = 0;
        QJsonObject toJson() const;
    };

    struct ApproverStat {
        QString kind; // person, rule, token, auto
        qint64 approved = 0;
        qint64 denied = 0;
        Percentiles decideMs; // decided_at - proposed_at
        QJsonObject toJson() const;
    };

    // Decisions on tool calls proposed in the range. Approved = the call was approved (whatever
    // happened to it later); auto = approved by approver kind "auto".
    struct ApprovalMetrics {
        qint64 decided = 0;
        qint64 approved = 0;
        qint64 denied = 0;
        qint64 autoApproved = 0;
        // Calls that needed approval and were denied because no one could decide (no terminal,
        // no covering token or auto-approve): no approver kind, so not in the counts above.
        qint64 deniedNoApprover = 0;
        QList<ApproverStat> byApproverKind;
        std::optional<qint64> medianDecideMs; // over all decisions
        QJsonObject toJson() const;
    };

    // The prompts of one scope: tool calls proposed in the range that the policy asked about
    // (SBX-27: evidence for tuning the prompts, not a gate). approved / denied: by a person;
    // expired: nobody decided in time; otherwise: answered without a person (a pre-authorised
    // token, --auto-approve, a rule after an edit, no approver present). The rest were cancelled
    // while waiting. approvalRate = approved / (approved + denied + expired), 0 when none.
    struct ScopeApprovalStat {
        QString scope;
        qint64 prompts = 0;
        qint64 approved = 0;
        qint64 denied = 0;
        qint64 expired = 0;
        qint64 otherwise = 0;
        qint64 inBatch = 0;   // person decisions made with "approve all" / "deny all"
        qint64 seenWhole = 0; // person decisions with the whole arguments scrolled into view
        qint64 seenKnown = 0; // person decisions where that is known
        double approvalRate = 0;
        Percentiles decisionMs; // person decisions with a recorded time to decide
        QJsonObject toJson() const;
    };

    enum class Interval { Hour, Day, Week };
    static QString intervalName(Interval interval);
    static std::optional<Interval> intervalFromName(const QString& name);
    // Hours and days start at UTC midnight boundaries; weeks start on Monday 00:00 UTC.
    static qint64 bucketStartMs(Interval interval, qint64 bucket);

    // Per interval: tool calls that finished executing (executed or failed; placed by
    // proposed_at) and API calls (placed by at); an API error is a call with an error type.
    struct ErrorRatePoint {
        qint64 bucketStartMs = 0;
        qint64 toolRuns = 0;
        qint64 toolFailures = 0;
        qint64 apiCalls = 0;
        qint64 apiErrors = 0;
        double toolErrorRate() const;
        double apiErrorRate() const;
        QJsonObject toJson() const;
    };

    // One day and model of API usage; the cost report's row. costMicros sums the known prices;
    // unpricedCalls counts the calls without one.
    struct CostRow {
        qint64 day = 0; // UTC day number
        QString model;
        qint64 runs = 0;
        qint64 apiCalls = 0;
        qint64 inputTokens = 0;
        qint64 outputTokens = 0;
        qint64 cacheWriteTokens = 0;
        qint64 cacheReadTokens = 0;
        qint64 costMicros = 0;
        qint64 unpricedCalls = 0;
        QJsonObject toJson() const;
    };

    // One UTC day of API latency: nearest-rank percentiles of latency_ms over every attempt
    // that has one (failed attempts too: a timeout is what a slow API looks like).
    struct LatencyDay {
        qint64 day = 0;
        Percentiles latencyMs;
        QJsonObject toJson() const;
    };

    struct TokenDay {
        qint64 day = 0;
        qint64 inputTokens = 0;
        qint64 outputTokens = 0;
        qint64 cacheWriteTokens = 0;
        qint64 cacheReadTokens = 0;
        QJsonObject toJson() const;
    };

    // The current UTC calendar month: what was spent so far (today included) plus, for the time
    // left in the month, the average rate of the last 30 days up to now (the 30 whole days
    // before today and today's hours so far).
    struct MonthlyProjection {
        qint64 last30DaysMicros = 0;   // the 30 whole days before today
        qint64 dailyAverageMicros = 0; // the rate per day over those days and today so far
        qint64 monthToDateMicros = 0;  // this month so far, today included
        qint64 todayMicros = 0;        // today so far
        qint64 remainingDays = 0;      // today included
        qint64 projectedMonthMicros = 0;
        QJsonObject toJson() const;
    };

    // A connection of its own (SQLite: "reader" connection with the store's pragmas). The schema
    // must be current: open the store with AuditStore::open() once first, which migrates.
    static Result<std::unique_ptr<AuditQueries>> open(const StoreConfig& config);
    // On the store's connection, for use on the store's thread.
    explicit AuditQueries(const AuditStore& store);
    ~AuditQueries();
    AuditQueries(const AuditQueries&) = delete;
    AuditQueries& operator=(const AuditQueries&) = delete;

    // In filter's order (default: newest first, by started_at then run id, descending), keyset
    // paged: a page is what sorts after the cursor, so pages neither shift nor repeat when runs
    // are added. Every order has an index, so a first page costs an index seek. limit 1..10000.
    Result<HistoryPage> history(const HistoryFilter& filter, int limit) const;
    Result<HistoryPage> history(const HistoryFilter& filter, int limit,
                                const HistoryCursor& after) const;
    // "history.not_found" for an unknown run id.
    Result<RunDetail> run(const QString& runId) const;

    Result<RunMetrics> runMetrics(const TimeRange& range = {}) const;
    Result<QList<ToolStat>> toolStats(const TimeRange& range = {}) const;
    Result<QList<AgentSummary>> agentSummary(const TimeRange& range = {}) const;
    Result<ApprovalMetrics> approvalMetrics(const TimeRange& range = {}) const;
    // Ordered by scope.
    Result<QList<ScopeApprovalStat>> approvalsByScope(const TimeRange& range = {}) const;
    Result<QList<ErrorRatePoint>> errorRate(Interval interval, const TimeRange& range = {}) const;
    // Ordered by day, then model.
    Result<QList<CostRow>> costByModelDay(const TimeRange& range = {}) const;
    // The same rows, one at a time as the query yields them (the CSV export streams these);
    // the callback returns false to stop (its error is then returned by writers that own it).
    Status forEachCostRow(const TimeRange& range,
                          const std::function<bool(const CostRow&)>& callback) const;
    Result<QList<TokenDay>> tokensByDay(const TimeRange& range = {}) const;
    // Days with API calls in the range, ascending. Exact: per day, a count and one index probe
    // per percentile on api_calls (day, latency_ms, at).
    Result<QList<LatencyDay>> apiLatencyByDay(const TimeRange& range = {}) const;
    Result<MonthlyProjection> monthlyProjection(qint64 nowMs = -1) const;

    // Aggregations of costByModelDay's rows (day = 0 in byModel, model empty in byDay).
    static QList<CostRow> sumByModel(const QList<CostRow>& rows);
    static QList<CostRow> sumByDay(const QList<CostRow>& rows);

private:
    AuditQueries(std::unique_ptr<StoreConnection> own);

    Result<QMap<QString, Percentiles>> percentiles(const QString& innerSql,
                                                   const QVariantList& binds) const;
    // Where a percentile's value is read from: rows of table with value expr in index order
    // within the groups (groupColumn IN groups; no group when groupColumn is empty).
    struct Probe {
        QString table;
        QString valueExpr;
        QString groupColumn;
        QString filter;
        QString timeColumn;
    };
    // Exact nearest-rank percentiles from a histogram of rollup buckets (the bucket holding each
    // rank) and one index probe per percentile (the value at its offset in that bucket). Empty
    // when a probe finds no row (rollups out of step with the rows): the caller then sorts.
    Result<std::optional<Percentiles>> fromHistogram(const QMap<int, qint64>& histogram,
                                                     const Probe& probe, const QStringList& groups,
                                                     const TimeRange& range) const;
    Error readError(const QSqlQuery& query, const QString& what) const;

    std::unique_ptr<StoreConnection> m_own;
    QString m_connectionName;
    SqlDialect m_dialect;
};

} // namespace m1
