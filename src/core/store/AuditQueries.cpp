#include "store/AuditQueries.h"

#include "store/AuditRollups.h"
#include "store/AuditStore.h"

#include <QDate>
#include <QDateTime>
#include <QJsonArray>
#include <QSqlError>
#include <QUrl>

#include <algorithm>

namespace m1 {

namespace {

constexpr qint64 kMsPerHour = 3600000;
constexpr qint64 kMsPerDay = 86400000;
constexpr int kMaxPageSize = 10000;

// Floor division: bucket numbers of times before 1970 must not round towards zero.
qint64 floorDiv(qint64 a, qint64 b) {
    qint64 q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        --q;
    return q;
}

std::optional<qint64> optionalInt(const QVariant& value) {
    if (value.isNull())
        return std::nullopt;
    return value.toLongLong();
}

QJsonValue jsonOf(const std::optional<qint64>& value) {
    return value ? QJsonValue(*value) : QJsonValue(QJsonValue::Null);
}

QJsonValue jsonText(const QString& value) {
    return value.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(value);
}

double ratio(qint64 part, qint64 whole) {
    return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

// Appends "AND column >= ? AND column < ?" for the set ends of range.
void addRange(QString& sql, QVariantList& binds, const QString& column,
              const AuditQueries::TimeRange& range) {
    if (range.fromMs) {
        sql += QStringLiteral(" AND %1 >= ?").arg(column);
        binds.append(*range.fromMs);
    }
    if (range.toMs) {
        sql += QStringLiteral(" AND %1 < ?").arg(column);
        binds.append(*range.toMs);
    }
}

// The same for a UTC day-number column: the days that overlap the range.
void addDayRange(QString& sql, QVariantList& binds, const QString& column,
                 const AuditQueries::TimeRange& range) {
    if (range.fromMs) {
        sql += QStringLiteral(" AND %1 >= ?").arg(column);
        binds.append(floorDiv(*range.fromMs, kMsPerDay));
    }
    if (range.toMs) {
        sql += QStringLiteral(" AND %1 < ?").arg(column);
        binds.append(floorDiv(*range.toMs + kMsPerDay - 1, kMsPerDay));
    }
}

void bindAll(QSqlQuery& query, const QVariantList& binds) {
    for (int i = 0; i < binds.size(); ++i)
        query.bindValue(i, binds.at(i));
}

// LIKE pattern for "contains text", with ! as the escape character.
QString containsPattern(const QString& text) {
    QString escaped;
    escaped.reserve(text.size() + 2);
    for (const QChar c : text.toLower()) {
        if (c == QLatin1Char('%') || c == QLatin1Char('_') || c == QLatin1Char('!'))
            escaped.append(QLatin1Char('!'));
        escaped.append(c);
    }
    return QLatin1Char('%') + escaped + QLatin1Char('%');
}

const QString kRunColumns = QStringLiteral(
    "run_id, agent, goal, model, provider, workspace, dry_run, stop_reason, calls_proposed, "
    "calls_approved, calls_denied, calls_executed, calls_failed, steps, input_tokens, "
    "output_tokens, cache_write_tokens, cache_read_tokens, cost_micros, cost_complete, "
    "started_at, completed_at, duration_ms");

AuditQueries::RunSummary runFrom(const QSqlQuery& q) {
    AuditQueries::RunSummary r;
    r.runId = q.value(0).toString();
    r.agent = q.value(1).toString();
    r.goal = q.value(2).toString();
    r.model = q.value(3).toString();
    r.provider = q.value(4).toString();
    r.workspace = q.value(5).toString();
    r.dryRun = q.value(6).toLongLong() != 0;
    r.stopReason = q.value(7).toString();
    r.callsProposed = q.value(8).toLongLong();
    r.callsApproved = q.value(9).toLongLong();
    r.callsDenied = q.value(10).toLongLong();
    r.callsExecuted = q.value(11).toLongLong();
    r.callsFailed = q.value(12).toLongLong();
    r.steps = q.value(13).toLongLong();
    r.inputTokens = q.value(14).toLongLong();
    r.outputTokens = q.value(15).toLongLong();
    r.cacheWriteTokens = q.value(16).toLongLong();
    r.cacheReadTokens = q.value(17).toLongLong();
    r.costMicros = optionalInt(q.value(18));
    r.costComplete = q.value(19).toLongLong() != 0;
    r.startedAt = q.value(20).toLongLong();
    r.completedAt = optionalInt(q.value(21));
    r.durationMs = optionalInt(q.value(22));
    return r;
}

AuditQueries::CostRow costRowFrom(const QSqlQuery& q) {
    AuditQueries::CostRow row;
    row.day = q.value(0).toLongLong();
    row.model = q.value(1).toString();
    row.runs = q.value(2).toLongLong();
    row.apiCalls = q.value(3).toLongLong();
    row.inputTokens = q.value(4).toLongLong();
    row.outputTokens = q.value(5).toLongLong();
    row.cacheWriteTokens = q.value(6).toLongLong();
    row.cacheReadTokens = q.value(7).toLongLong();
    row.costMicros = q.value(8).toLongLong();
    row.unpricedCalls = q.value(9).toLongLong();
    return row;
}

QString dayText(qint64 day) {
    return QDate(1970, 1, 1).addDays(day).toString(Qt::ISODate);
}

} // namespace

// ---- value types ------------------------------------------------------------------------------

namespace {

// The sort keys: their names (the CLI's --sort), SQL expressions (each matched by an index of
// migration 5, or of migration 1 for agent and model) and whether the key is text.
struct SortKey {
    AuditQueries::HistorySort sort;
    const char* name;
    const char* expr;
    bool text;
};

constexpr SortKey kSortKeys[] = {
    {AuditQueries::HistorySort::Started, "started", "started_at", false},
    {AuditQueries::HistorySort::Agent, "agent", "agent", true},
    {AuditQueries::HistorySort::Model, "model", "model", true},
    {AuditQueries::HistorySort::StopReason, "stop-reason", "coalesce(stop_reason, 'running')",
     true},
    {AuditQueries::HistorySort::Steps, "steps", "steps", false},
    {AuditQueries::HistorySort::Calls, "calls", "calls_proposed", false},
    {AuditQueries::HistorySort::Tokens, "tokens", "input_tokens + output_tokens", false},
    {AuditQueries::HistorySort::Cost, "cost", "coalesce(cost_micros, -1)", false},
    {AuditQueries::HistorySort::Duration, "duration", "coalesce(duration_ms, -1)", false},
};

const SortKey& sortKey(AuditQueries::HistorySort sort) {
    for (const SortKey& key : kSortKeys) {
        if (key.sort == sort)
            return key;
    }
    return kSortKeys[0];
}

} // namespace

QString AuditQueries::historySortName(HistorySort sort) {
    return QString::fromLatin1(sortKey(sort).name);
}

std::optional<AuditQueries::HistorySort> AuditQueries::historySortFromName(const QString& name) {
    for (const SortKey& key : kSortKeys) {
        if (name == QLatin1String(key.name))
            return key.sort;
    }
    return std::nullopt;
}

QString AuditQueries::HistoryCursor::toString() const {
    const QString position = QStringLiteral("%1:%2").arg(startedAt).arg(runId);
    if (key.isNull())
        return position;
    return QString::fromLatin1(QUrl::toPercentEncoding(key.toString())) + QLatin1Char('@') +
           position;
}

std::optional<AuditQueries::HistoryCursor>
AuditQueries::HistoryCursor::fromString(const QString& text) {
    const qsizetype colon = text.indexOf(QLatin1Char(':'));
    // A percent-encoded key has neither '@' nor ':'; a run id may have both.
    const qsizetype at = text.left(std::max<qsizetype>(colon, 0)).indexOf(QLatin1Char('@'));
    const qsizetype begin = at >= 0 ? at + 1 : 0;
    if (colon <= begin || colon + 1 >= text.size())
        return std::nullopt;
    bool ok = false;
    const qint64 started = text.mid(begin, colon - begin).toLongLong(&ok);
    if (!ok)
        return std::nullopt;
    HistoryCursor cursor{started, text.mid(colon + 1), {}};
    if (at >= 0)
        cursor.key = QUrl::fromPercentEncoding(text.left(at).toLatin1());
    return cursor;
}

QJsonObject AuditQueries::RunSummary::toJson() const {
    return {{QStringLiteral("runId"), runId},
            {QStringLiteral("agent"), agent},
            {QStringLiteral("goal"), goal},
            {QStringLiteral("model"), model},
            {QStringLiteral("provider"), provider},
            {QStringLiteral("workspace"), workspace},
            {QStringLiteral("dryRun"), dryRun},
            {QStringLiteral("stopReason"), jsonText(stopReason)},
            {QStringLiteral("callsProposed"), callsProposed},
            {QStringLiteral("callsApproved"), callsApproved},
            {QStringLiteral("callsDenied"), callsDenied},
            {QStringLiteral("callsExecuted"), callsExecuted},
            {QStringLiteral("callsFailed"), callsFailed},
            {QStringLiteral("steps"), steps},
            {QStringLiteral("inputTokens"), inputTokens},
            {QStringLiteral("outputTokens"), outputTokens},
            {QStringLiteral("cacheWriteTokens"), cacheWriteTokens},
            {QStringLiteral("cacheReadTokens"), cacheReadTokens},
            {QStringLiteral("costMicros"), jsonOf(costMicros)},
            {QStringLiteral("costComplete"), costComplete},
            {QStringLiteral("startedAt"), startedAt},
            {QStringLiteral("completedAt"), jsonOf(completedAt)},
            {QStringLiteral("durationMs"), jsonOf(durationMs)}};
}

QJsonObject AuditQueries::ToolCallRecord::toJson() const {
    return {{QStringLiteral("id"), id},
            {QStringLiteral("requestId"), requestId},
            {QStringLiteral("step"), step},
            {QStringLiteral("tool"), toolName},
            {QStringLiteral("scope"), scope},
            {QStringLiteral("status"), status},
            {QStringLiteral("argsProposed"), jsonText(argsProposedJson)},
            {QStringLiteral("argsEdited"), jsonText(argsEditedJson)},
            {QStringLiteral("argsExecuted"), jsonText(argsExecutedJson)},
            {QStringLiteral("output"), jsonText(output)},
            {QStringLiteral("outputSize"), jsonOf(outputSize)},
            {QStringLiteral("outputSha256"), jsonText(outputSha256)},
            {QStringLiteral("outputTruncated"), outputTruncated},
            {QStringLiteral("error"), jsonText(error)},
            {QStringLiteral("policyDecision"), jsonText(policyDecision)},
            {QStringLiteral("policyReason"), jsonText(policyReason)},
            {QStringLiteral("policyCode"), jsonText(policyCode)},
            {QStringLiteral("policySource"), jsonText(policySource)},
            {QStringLiteral("policyRule"), jsonText(policyRule)},
            {QStringLiteral("policyRuleFile"), jsonText(policyRuleFile)},
            {QStringLiteral("approverKind"), jsonText(approverKind)},
            {QStringLiteral("approver"), jsonText(approver)},
            {QStringLiteral("decisionReason"), jsonText(decisionReason)},
            {QStringLiteral("tokenJti"), jsonText(tokenJti)},
            {QStringLiteral("proposedAt"), proposedAt},
            {QStringLiteral("policyCheckedAt"), jsonOf(policyCheckedAt)},
            {QStringLiteral("decidedAt"), jsonOf(decidedAt)},
            {QStringLiteral("executedAt"), jsonOf(executedAt)},
            {QStringLiteral("execDurationMs"), jsonOf(execDurationMs)},
            {QStringLiteral("decisionMs"), jsonOf(decisionMs)},
            {QStringLiteral("argsSeenWhole"),
             argsSeenWhole ? QJsonValue(*argsSeenWhole) : QJsonValue()},
            {QStringLiteral("decidedInBatch"),
             decidedInBatch ? QJsonValue(*decidedInBatch) : QJsonValue()},
            {QStringLiteral("decidedBy"), jsonText(decidedBy)}};
}

QJsonObject AuditQueries::ApiCallRecord::toJson() const {
    return {{QStringLiteral("id"), id},
            {QStringLiteral("model"), model},
            {QStringLiteral("requestId"), jsonText(requestId)},
            {QStringLiteral("attempt"), attempt},
            {QStringLiteral("inputTokens"), inputTokens},
            {QStringLiteral("outputTokens"), outputTokens},
            {QStringLiteral("cacheWriteTokens"), cacheWriteTokens},
            {QStringLiteral("cacheReadTokens"), cacheReadTokens},
            {QStringLiteral("costMicros"), jsonOf(costMicros)},
            {QStringLiteral("latencyMs"), jsonOf(latencyMs)},
            {QStringLiteral("httpStatus"), jsonOf(httpStatus)},
            {QStringLiteral("errorType"), jsonText(errorType)},
            {QStringLiteral("at"), at}};
}

QJsonObject AuditQueries::RunDetail::toJson() const {
    QJsonObject o = run.toJson();
    o.insert(QStringLiteral("constraints"), jsonText(constraintsJson));
    o.insert(QStringLiteral("plan"), jsonText(planJson));
    QJsonArray calls;
    for (const ToolCallRecord& call : toolCalls)
        calls.append(call.toJson());
    QJsonArray apis;
    for (const ApiCallRecord& api : apiCalls)
        apis.append(api.toJson());
    o.insert(QStringLiteral("toolCalls"), calls);
    o.insert(QStringLiteral("apiCalls"), apis);
    return o;
}

QJsonObject AuditQueries::Percentiles::toJson() const {
    return {{QStringLiteral("n"), n},
            {QStringLiteral("p50"), jsonOf(p50)},
            {QStringLiteral("p95"), jsonOf(p95)},
            {QStringLiteral("p99"), jsonOf(p99)}};
}

QJsonObject AuditQueries::RunMetrics::toJson() const {
    QJsonObject reasons;
    for (auto it = byStopReason.begin(); it != byStopReason.end(); ++it)
        reasons.insert(it.key(), it.value());
    return {{QStringLiteral("runs"), runs},
            {QStringLiteral("finished"), finished},
            {QStringLiteral("running"), running},
            {QStringLiteral("byStopReason"), reasons},
            {QStringLiteral("completionRate"), completionRate},
            {QStringLiteral("errorRate"), errorRate},
            {QStringLiteral("durationMs"), durationMs.toJson()}};
}

QJsonObject AuditQueries::ToolStat::toJson() const {
    return {{QStringLiteral("tool"), tool},
            {QStringLiteral("calls"), calls},
            {QStringLiteral("executed"), executed},
            {QStringLiteral("failed"), failed},
            {QStringLiteral("denied"), denied},
            {QStringLiteral("successRate"), successRate},
            {QStringLiteral("durationMs"), durationMs.toJson()}};
}

QJsonObject AuditQueries::AgentSummary::toJson() const {
    return {{QStringLiteral("agent"), agent},
            {QStringLiteral("runs"), runs},
            {QStringLiteral("finished"), finished},
            {QStringLiteral("completed"), completed},
            {QStringLiteral("errors"), errors},
            {QStringLiteral("callsProposed"), callsProposed},
            {QStringLiteral("callsExecuted"), callsExecuted},
            {QStringLiteral("callsFailed"), callsFailed},
            {QStringLiteral("callsDenied"), callsDenied},
            {QStringLiteral("inputTokens"), inputTokens},
            {QStringLiteral("outputTokens"), outputTokens},
            {QStringLiteral("costMicros"), costMicros},
            {QStringLiteral("lastStartedAt"), lastStartedAt}};
}

QJsonObject AuditQueries::ApproverStat::toJson() const {
    return {{QStringLiteral("kind"), kind},
            {QStringLiteral("approved"), approved},
            {QStringLiteral("denied"), denied},
            {QStringLiteral("decideMs"), decideMs.toJson()}};
}

QJsonObject AuditQueries::ApprovalMetrics::toJson() const {
    QJsonArray kinds;
    for (const ApproverStat& stat : byApproverKind)
        kinds.append(stat.toJson());
    return {{QStringLiteral("decided"), decided},
            {QStringLiteral("approved"), approved},
            {QStringLiteral("denied"), denied},
            {QStringLiteral("autoApproved"), autoApproved},
            {QStringLiteral("deniedNoApprover"), deniedNoApprover},
            {QStringLiteral("byApproverKind"), kinds},
            {QStringLiteral("medianDecideMs"), jsonOf(medianDecideMs)}};
}

QJsonObject AuditQueries::ScopeApprovalStat::toJson() const {
    return {{QStringLiteral("scope"), scope},
            {QStringLiteral("prompts"), prompts},
            {QStringLiteral("approved"), approved},
            {QStringLiteral("denied"), denied},
            {QStringLiteral("expired"), expired},
            {QStringLiteral("otherwise"), otherwise},
            {QStringLiteral("inBatch"), inBatch},
            {QStringLiteral("seenWhole"), seenWhole},
            {QStringLiteral("seenKnown"), seenKnown},
            {QStringLiteral("approvalRate"), approvalRate},
            {QStringLiteral("decisionMs"), decisionMs.toJson()}};
}

double AuditQueries::ErrorRatePoint::toolErrorRate() const {
    return ratio(toolFailures, toolRuns);
}

double AuditQueries::ErrorRatePoint::apiErrorRate() const {
    return ratio(apiErrors, apiCalls);
}

QJsonObject AuditQueries::ErrorRatePoint::toJson() const {
    return {{QStringLiteral("start"),
             QDateTime::fromMSecsSinceEpoch(bucketStartMs, Qt::UTC).toString(Qt::ISODate)},
            {QStringLiteral("startMs"), bucketStartMs},
            {QStringLiteral("toolRuns"), toolRuns},
            {QStringLiteral("toolFailures"), toolFailures},
            {QStringLiteral("toolErrorRate"), toolErrorRate()},
            {QStringLiteral("apiCalls"), apiCalls},
            {QStringLiteral("apiErrors"), apiErrors},
            {QStringLiteral("apiErrorRate"), apiErrorRate()}};
}

QJsonObject AuditQueries::CostRow::toJson() const {
    QJsonObject o{{QStringLiteral("runs"), runs},
                  {QStringLiteral("apiCalls"), apiCalls},
                  {QStringLiteral("inputTokens"), inputTokens},
                  {QStringLiteral("outputTokens"), outputTokens},
                  {QStringLiteral("cacheWriteTokens"), cacheWriteTokens},
                  {QStringLiteral("cacheReadTokens"), cacheReadTokens},
                  {QStringLiteral("costMicros"), costMicros},
                  {QStringLiteral("unpricedCalls"), unpricedCalls}};
    if (day != 0 || model.isEmpty())
        o.insert(QStringLiteral("date"), dayText(day));
    if (!model.isEmpty())
        o.insert(QStringLiteral("model"), model);
    return o;
}

QJsonObject AuditQueries::LatencyDay::toJson() const {
    return {{QStringLiteral("date"), dayText(day)},
            {QStringLiteral("latencyMs"), latencyMs.toJson()}};
}

QJsonObject AuditQueries::TokenDay::toJson() const {
    return {{QStringLiteral("date"), dayText(day)},
            {QStringLiteral("inputTokens"), inputTokens},
            {QStringLiteral("outputTokens"), outputTokens},
            {QStringLiteral("cacheWriteTokens"), cacheWriteTokens},
            {QStringLiteral("cacheReadTokens"), cacheReadTokens}};
}

QJsonObject AuditQueries::MonthlyProjection::toJson() const {
    return {{QStringLiteral("last30DaysMicros"), last30DaysMicros},
            {QStringLiteral("dailyAverageMicros"), dailyAverageMicros},
            {QStringLiteral("monthToDateMicros"), monthToDateMicros},
            {QStringLiteral("todayMicros"), todayMicros},
            {QStringLiteral("remainingDays"), remainingDays},
            {QStringLiteral("projectedMonthMicros"), projectedMonthMicros}};
}

QString AuditQueries::intervalName(Interval interval) {
    switch (interval) {
    case Interval::Hour:
        return QStringLiteral("hour");
    case Interval::Day:
        return QStringLiteral("day");
    case Interval::Week:
        return QStringLiteral("week");
    }
    return {};
}

std::optional<AuditQueries::Interval> AuditQueries::intervalFromName(const QString& name) {
    for (Interval i : {Interval::Hour, Interval::Day, Interval::Week}) {
        if (intervalName(i) == name)
            return i;
    }
    return std::nullopt;
}

qint64 AuditQueries::bucketStartMs(Interval interval, qint64 bucket) {
    switch (interval) {
    case Interval::Hour:
        return bucket * kMsPerHour;
    case Interval::Day:
        return bucket * kMsPerDay;
    case Interval::Week:
        // Week w holds the days d with (d + 3) / 7 = w; day 0 (1970-01-01) was a Thursday, so
        // w starts on Monday, day 7w - 3.
        return (bucket * 7 - 3) * kMsPerDay;
    }
    return 0;
}

// ---- opening ----------------------------------------------------------------------------------

AuditQueries::AuditQueries(std::unique_ptr<StoreConnection> own)
    : m_own(std::move(own)), m_connectionName(m_own->name()), m_dialect(m_own->dialect()) {}

AuditQueries::AuditQueries(const AuditStore& store)
    : m_connectionName(store.connectionName()), m_dialect(store.dialect()) {}

AuditQueries::~AuditQueries() = default;

Result<std::unique_ptr<AuditQueries>> AuditQueries::open(const StoreConfig& config) {
    auto connection = StoreConnection::open(config, QStringLiteral("reader"),
                                            StoreConnection::Schema::RequireLatest);
    if (!connection)
        return std::unexpected(connection.error());
    return std::unique_ptr<AuditQueries>(new AuditQueries(std::move(*connection)));
}

Error AuditQueries::readError(const QSqlQuery& query, const QString& what) const {
    return m_dialect.toError(query.lastError(), QStringLiteral("store.read"), what);
}

// ---- history ----------------------------------------------------------------------------------

Result<AuditQueries::HistoryPage> AuditQueries::history(const HistoryFilter& filter,
                                                        int limit) const {
    return history(filter, limit, HistoryCursor());
}

Result<AuditQueries::HistoryPage> AuditQueries::history(const HistoryFilter& filter, int limit,
                                                        const HistoryCursor& after) const {
    if (limit < 1 || limit > kMaxPageSize)
        return fail(QStringLiteral("history.limit"),
                    tr("A history page holds 1 to %1 runs, not %2.").arg(kMaxPageSize).arg(limit));
    const SortKey& key = sortKey(filter.sort);
    const bool byStart = filter.sort == HistorySort::Started;
    const QString expr = QString::fromLatin1(key.expr);
    // The sort key as one more column, for the cursor.
    QString sql = QStringLiteral("SELECT %1%2 FROM runs WHERE 1 = 1")
                      .arg(kRunColumns, byStart ? QString() : QStringLiteral(", ") + expr);
    QVariantList binds;
    if (!filter.agent.isEmpty()) {
        sql += QStringLiteral(" AND agent = ?");
        binds.append(filter.agent);
    }
    if (filter.stopReason == QLatin1String("running")) {
        sql += QStringLiteral(" AND stop_reason IS NULL");
    } else if (!filter.stopReason.isEmpty()) {
        sql += QStringLiteral(" AND stop_reason = ?");
        binds.append(filter.stopReason);
    }
    if (!filter.model.isEmpty()) {
        sql += QStringLiteral(" AND model = ?");
        binds.append(filter.model);
    }
    if (!filter.search.isEmpty()) {
        sql += QStringLiteral(" AND lower(goal) LIKE ? ESCAPE '!'");
        binds.append(containsPattern(filter.search));
    }
    addRange(sql, binds, QStringLiteral("started_at"), filter.started);
    // Keyset pagination: the page after a row is what sorts after it, so a page stays the same
    // when newer runs arrive, and a deep page costs what the first does (an index seek: the
    // leading "key <= ?" bounds the index range, the rest breaks the ties).
    const QString before = filter.descending ? QStringLiteral("<") : QStringLiteral(">");
    const QString upTo = before + QLatin1Char('=');
    if (after.isValid()) {
        const QString ties =
            QStringLiteral("(started_at %1 ? OR (started_at = ? AND run_id %1 ?))").arg(before);
        if (byStart) {
            sql += QStringLiteral(" AND started_at %1 ? AND %2").arg(upTo, ties);
            binds << after.startedAt;
        } else {
            if (after.key.isNull())
                return fail(QStringLiteral("history.cursor"),
                            tr("This cursor belongs to another order of the history."));
            const QVariant value =
                key.text ? QVariant(after.key.toString()) : QVariant(after.key.toLongLong());
            sql += QStringLiteral(" AND %1 %2 ? AND (%1 %3 ? OR (%1 = ? AND %4))")
                       .arg(expr, upTo, before, ties);
            binds << value << value << value;
        }
        binds << after.startedAt << after.startedAt << after.runId;
    }
    const QString direction = filter.descending ? QStringLiteral("DESC") : QStringLiteral("ASC");
    sql += byStart
               ? QStringLiteral(" ORDER BY started_at %1, run_id %1").arg(direction)
               : QStringLiteral(" ORDER BY %1 %2, started_at %2, run_id %2").arg(expr, direction);
    sql += QStringLiteral(" LIMIT %1").arg(limit + 1);

    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.setForwardOnly(true);
    if (!query.prepare(sql))
        return std::unexpected(readError(query, tr("Preparing the history query")));
    bindAll(query, binds);
    if (!query.exec())
        return std::unexpected(readError(query, tr("Reading the history")));
    HistoryPage page;
    QVariant lastKey;
    while (query.next()) {
        if (page.runs.size() == limit) {
            page.hasMore = true;
            break;
        }
        page.runs.append(runFrom(query));
        if (!byStart)
            lastKey = key.text ? QVariant(query.value(23).toString())
                               : QVariant(query.value(23).toLongLong());
    }
    query.finish();
    if (page.hasMore && !page.runs.isEmpty())
        page.next = HistoryCursor{page.runs.last().startedAt, page.runs.last().runId, lastKey};
    return page;
}

Result<AuditQueries::RunDetail> AuditQueries::run(const QString& runId) const {
    const QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    QSqlQuery query(db);
    query.setForwardOnly(true);
    query.prepare(
        QStringLiteral("SELECT %1, constraints_json, plan_json FROM runs WHERE run_id = ?")
            .arg(kRunColumns));
    query.bindValue(0, runId);
    if (!query.exec())
        return std::unexpected(readError(query, tr("Reading run \"%1\"").arg(runId)));
    if (!query.next())
        return fail(QStringLiteral("history.not_found"),
                    tr("There is no run \"%1\" in the audit store.").arg(runId));
    RunDetail detail;
    detail.run = runFrom(query);
    detail.constraintsJson = query.value(23).toString();
    detail.planJson = query.value(24).toString();
    query.finish();

    query.prepare(QStringLiteral(
        "SELECT id, request_id, step, tool_name, scope, status, args_proposed_json, "
        "args_edited_json, args_executed_json, output, output_size, output_sha256, "
        "output_truncated, error, policy_decision, policy_reason, policy_code, policy_source, "
        "policy_rule, policy_rule_file, approver_kind, approver, decision_reason, token_jti, "
        "proposed_at, policy_checked_at, decided_at, executed_at, exec_duration_ms, "
        "decision_ms, args_seen_whole, decided_in_batch, decided_by FROM tool_calls WHERE "
        "run_id = ? ORDER BY proposed_at, id"));
    query.bindValue(0, runId);
    if (!query.exec())
        return std::unexpected(
            readError(query, tr("Reading the tool calls of run \"%1\"").arg(runId)));
    while (query.next()) {
        ToolCallRecord c;
        c.id = query.value(0).toLongLong();
        c.requestId = query.value(1).toString();
        c.step = query.value(2).toLongLong();
        c.toolName = query.value(3).toString();
        c.scope = query.value(4).toString();
        c.status = query.value(5).toString();
        c.argsProposedJson = query.value(6).toString();
        c.argsEditedJson = query.value(7).toString();
        c.argsExecutedJson = query.value(8).toString();
        c.output = query.value(9).toString();
        c.outputSize = optionalInt(query.value(10));
        c.outputSha256 = query.value(11).toString();
        c.outputTruncated = query.value(12).toLongLong() != 0;
        c.error = query.value(13).toString();
        c.policyDecision = query.value(14).toString();
        c.policyReason = query.value(15).toString();
        c.policyCode = query.value(16).toString();
        c.policySource = query.value(17).toString();
        c.policyRule = query.value(18).toString();
        c.policyRuleFile = query.value(19).toString();
        c.approverKind = query.value(20).toString();
        c.approver = query.value(21).toString();
        c.decisionReason = query.value(22).toString();
        c.tokenJti = query.value(23).toString();
        c.proposedAt = query.value(24).toLongLong();
        c.policyCheckedAt = optionalInt(query.value(25));
        c.decidedAt = optionalInt(query.value(26));
        c.executedAt = optionalInt(query.value(27));
        c.execDurationMs = optionalInt(query.value(28));
        c.decisionMs = optionalInt(query.value(29));
        if (const auto seen = optionalInt(query.value(30)))
            c.argsSeenWhole = *seen != 0;
        if (const auto batch = optionalInt(query.value(31)))
            c.decidedInBatch = *batch != 0;
        c.decidedBy = query.value(32).toString();
        detail.toolCalls.append(c);
    }
    query.finish();

    query.prepare(QStringLiteral(
        "SELECT id, model, request_id, attempt, input_tokens, output_tokens, cache_write_tokens, "
        "cache_read_tokens, cost_micros, latency_ms, http_status, error_type, at FROM api_calls "
        "WHERE run_id = ? ORDER BY at, id"));
    query.bindValue(0, runId);
    if (!query.exec())
        return std::unexpected(
            readError(query, tr("Reading the API calls of run \"%1\"").arg(runId)));
    while (query.next()) {
        ApiCallRecord a;
        a.id = query.value(0).toLongLong();
        a.model = query.value(1).toString();
        a.requestId = query.value(2).toString();
        a.attempt = query.value(3).toLongLong();
        a.inputTokens = query.value(4).toLongLong();
        a.outputTokens = query.value(5).toLongLong();
        a.cacheWriteTokens = query.value(6).toLongLong();
        a.cacheReadTokens = query.value(7).toLongLong();
        a.costMicros = optionalInt(query.value(8));
        a.latencyMs = optionalInt(query.value(9));
        a.httpStatus = optionalInt(query.value(10));
        a.errorType = query.value(11).toString();
        a.at = query.value(12).toLongLong();
        detail.apiCalls.append(a);
    }
    query.finish();
    return detail;
}

// ---- dashboards -------------------------------------------------------------------------------

Result<QMap<QString, AuditQueries::Percentiles>>
AuditQueries::percentiles(const QString& innerSql, const QVariantList& binds) const {
    // innerSql yields (k, v). Nearest rank: rank(p) = ceil(p * n / 100) = (p * n + 99) / 100 in
    // integer arithmetic, the same on both dialects.
    const QString sql =
        QStringLiteral("SELECT k, v, rn, n FROM (SELECT k, v, row_number() OVER (PARTITION BY k "
                       "ORDER BY v) AS "
                       "rn, count(*) OVER (PARTITION BY k) AS n FROM (%1) AS s) AS t WHERE rn = "
                       "(50 * n + 99) / "
                       "100 OR rn = (95 * n + 99) / 100 OR rn = (99 * n + 99) / 100")
            .arg(innerSql);
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.setForwardOnly(true);
    if (!query.prepare(sql))
        return std::unexpected(readError(query, tr("Preparing a percentile query")));
    bindAll(query, binds);
    if (!query.exec())
        return std::unexpected(readError(query, tr("Computing percentiles")));
    QMap<QString, Percentiles> result;
    while (query.next()) {
        const QString key = query.value(0).toString();
        const qint64 value = query.value(1).toLongLong();
        const qint64 rank = query.value(2).toLongLong();
        const qint64 n = query.value(3).toLongLong();
        Percentiles& p = result[key];
        p.n = n;
        if (rank == (50 * n + 99) / 100)
            p.p50 = value;
        if (rank == (95 * n + 99) / 100)
            p.p95 = value;
        if (rank == (99 * n + 99) / 100)
            p.p99 = value;
    }
    query.finish();
    return result;
}

Result<std::optional<AuditQueries::Percentiles>>
AuditQueries::fromHistogram(const QMap<int, qint64>& histogram, const Probe& probe,
                            const QStringList& groups, const TimeRange& range) const {
    Percentiles result;
    for (auto it = histogram.begin(); it != histogram.end(); ++it)
        result.n += it.value();
    if (result.n <= 0)
        return std::optional<Percentiles>(Percentiles{});
    const auto valueAt = [&](qint64 rank) -> Result<std::optional<qint64>> {
        qint64 before = 0;
        for (auto it = histogram.begin(); it != histogram.end(); ++it) {
            if (before + it.value() < rank) {
                before += it.value();
                continue;
            }
            const int bucket = it.key();
            QString sql = QStringLiteral("SELECT %1 FROM %2 WHERE %3")
                              .arg(probe.valueExpr, probe.table, probe.filter);
            QVariantList binds;
            if (!probe.groupColumn.isEmpty())
                sql += QStringLiteral(" AND %1 = ?").arg(probe.groupColumn);
            // Bucket 0 also holds the negative values: no lower bound there.
            if (bucket > 0) {
                sql += QStringLiteral(" AND %1 >= ?").arg(probe.valueExpr);
                binds.append(AuditRollups::bucketLow(bucket));
            }
            sql += QStringLiteral(" AND %1 < ?").arg(probe.valueExpr);
            binds.append(AuditRollups::bucketHigh(bucket));
            addRange(sql, binds, probe.timeColumn, range);
            sql += QStringLiteral(" ORDER BY %1").arg(probe.valueExpr);
            const qint64 offset = rank - before - 1;
            // One group: the value at the offset, read in index order. Several: an index range
            // per group would lose the order across groups (and a planner would rather scan the
            // time range), so each group's values in the bucket are read and merged here.
            const bool one = groups.size() <= 1;
            if (one)
                sql += QStringLiteral(" LIMIT 1 OFFSET %1").arg(offset);
            QList<qint64> values;
            for (const QString& group : one ? QStringList{groups.value(0)} : groups) {
                QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
                query.setForwardOnly(true);
                if (!query.prepare(sql))
                    return std::unexpected(readError(query, tr("Preparing a percentile probe")));
                int i = 0;
                if (!probe.groupColumn.isEmpty())
                    query.bindValue(i++, group);
                for (const QVariant& bind : binds)
                    query.bindValue(i++, bind);
                if (!query.exec())
                    return std::unexpected(readError(query, tr("Computing percentiles")));
                while (query.next())
                    values.append(query.value(0).toLongLong());
                query.finish();
            }
            if (one)
                return values.isEmpty() ? std::optional<qint64>() : std::optional(values.first());
            std::sort(values.begin(), values.end());
            if (offset >= values.size())
                return std::optional<qint64>();
            return std::optional(values.at(offset));
        }
        return std::optional<qint64>();
    };
    const qint64 n = result.n;
    for (const auto& [p, out] :
         {std::pair{50, &result.p50}, std::pair{95, &result.p95}, std::pair{99, &result.p99}}) {
        const auto value = valueAt((p * n + 99) / 100);
        if (!value)
            return std::unexpected(value.error());
        if (!*value)
            return std::optional<Percentiles>();
        *out = **value;
    }
    return std::optional<Percentiles>(result);
}

Result<AuditQueries::RunMetrics> AuditQueries::runMetrics(const TimeRange& range) const {
    QString where = QStringLiteral(" WHERE 1 = 1");
    QVariantList binds;
    addRange(where, binds, QStringLiteral("started_at"), range);
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.setForwardOnly(true);
    query.prepare(
        QStringLiteral("SELECT stop_reason, count(*) FROM runs%1 GROUP BY stop_reason").arg(where));
    bindAll(query, binds);
    if (!query.exec())
        return std::unexpected(readError(query, tr("Reading the run metrics")));
    RunMetrics metrics;
    while (query.next()) {
        const qint64 count = query.value(1).toLongLong();
        metrics.runs += count;
        if (query.value(0).isNull()) {
            metrics.running += count;
        } else {
            metrics.finished += count;
            metrics.byStopReason[query.value(0).toString()] += count;
        }
    }
    query.finish();
    // The stop reasons RunController records: a limit or a cancel is neither done nor an error.
    metrics.completionRate =
        ratio(metrics.byStopReason.value(QStringLiteral("completed")), metrics.finished);
    metrics.errorRate = ratio(metrics.byStopReason.value(QStringLiteral("api_error")) +
                                  metrics.byStopReason.value(QStringLiteral("audit_failed")),
                              metrics.finished);

    const auto rows =
        AuditRollups::read(QSqlDatabase::database(m_connectionName, false), m_dialect,
                           AuditRollups::RunDuration, range.fromMs, range.toMs, false);
    if (!rows)
        return std::unexpected(rows.error());
    QMap<int, qint64> histogram;
    for (const AuditRollups::Row& row : *rows)
        histogram[row.keys.at(0).toInt()] += row.values.at(0);
    const auto exact =
        fromHistogram(histogram,
                      {QStringLiteral("runs"), QStringLiteral("duration_ms"), QString(),
                       QStringLiteral("duration_ms IS NOT NULL"), QStringLiteral("started_at")},
                      {}, range);
    if (!exact)
        return std::unexpected(exact.error());
    if (*exact) {
        metrics.durationMs = **exact;
        return metrics;
    }
    const auto durations =
        percentiles(QStringLiteral("SELECT CAST('' AS TEXT) AS k, duration_ms AS v FROM runs%1 AND "
                                   "duration_ms IS NOT NULL")
                        .arg(where),
                    binds);
    if (!durations)
        return std::unexpected(durations.error());
    metrics.durationMs = durations->value(QString());
    return metrics;
}

Result<QList<AuditQueries::ToolStat>> AuditQueries::toolStats(const TimeRange& range) const {
    const QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    const auto counts =
        AuditRollups::read(db, m_dialect, AuditRollups::ToolDay, range.fromMs, range.toMs, false);
    if (!counts)
        return std::unexpected(counts.error());
    QMap<QString, ToolStat> byTool;
    for (const AuditRollups::Row& row : *counts) {
        if (row.values.at(0) == 0)
            continue;
        ToolStat& stat = byTool[row.keys.at(0).toString()];
        stat.tool = row.keys.at(0).toString();
        stat.calls += row.values.at(0);
        stat.executed += row.values.at(1);
        stat.failed += row.values.at(2);
        stat.denied += row.values.at(3);
    }
    const auto buckets = AuditRollups::read(db, m_dialect, AuditRollups::ToolDuration, range.fromMs,
                                            range.toMs, false);
    if (!buckets)
        return std::unexpected(buckets.error());
    QMap<QString, QMap<int, qint64>> histograms;
    for (const AuditRollups::Row& row : *buckets)
        histograms[row.keys.at(0).toString()][row.keys.at(1).toInt()] += row.values.at(0);
    const Probe probe{QStringLiteral("tool_calls"), QStringLiteral("exec_duration_ms"),
                      QStringLiteral("tool_name"),
                      QStringLiteral("status IN ('executed', 'failed')"),
                      QStringLiteral("proposed_at")};
    std::optional<QMap<QString, Percentiles>> sorted; // the fallback, computed once if needed
    QList<ToolStat> result;
    for (ToolStat& stat : byTool) {
        stat.successRate = ratio(stat.executed, stat.executed + stat.failed);
        const auto exact = fromHistogram(histograms.value(stat.tool), probe, {stat.tool}, range);
        if (!exact)
            return std::unexpected(exact.error());
        if (*exact) {
            stat.durationMs = **exact;
        } else {
            if (!sorted) {
                QString where = QStringLiteral(" WHERE 1 = 1");
                QVariantList binds;
                addRange(where, binds, QStringLiteral("proposed_at"), range);
                auto all = percentiles(
                    QStringLiteral("SELECT tool_name AS k, exec_duration_ms AS v FROM "
                                   "tool_calls%1 AND status IN ('executed', 'failed') AND "
                                   "exec_duration_ms IS NOT NULL")
                        .arg(where),
                    binds);
                if (!all)
                    return std::unexpected(all.error());
                sorted = std::move(*all);
            }
            stat.durationMs = sorted->value(stat.tool);
        }
        result.append(stat);
    }
    return result;
}

Result<QList<AuditQueries::AgentSummary>> AuditQueries::agentSummary(const TimeRange& range) const {
    QString sql = QStringLiteral(
        "SELECT agent, count(*), count(stop_reason), sum(CASE WHEN stop_reason = 'completed' THEN "
        "1 ELSE 0 END), sum(CASE WHEN stop_reason IN ('api_error', 'audit_failed') THEN 1 ELSE 0 "
        "END), "
        "sum(calls_proposed), sum(calls_executed), sum(calls_failed), sum(calls_denied), "
        "sum(input_tokens), sum(output_tokens), coalesce(sum(cost_micros), 0), max(started_at) "
        "FROM runs WHERE 1 = 1");
    QVariantList binds;
    addRange(sql, binds, QStringLiteral("started_at"), range);
    sql += QStringLiteral(" GROUP BY agent ORDER BY agent");
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.setForwardOnly(true);
    query.prepare(sql);
    bindAll(query, binds);
    if (!query.exec())
        return std::unexpected(readError(query, tr("Reading the agent summary")));
    QList<AgentSummary> result;
    while (query.next()) {
        AgentSummary a;
        a.agent = query.value(0).toString();
        a.runs = query.value(1).toLongLong();
        a.finished = query.value(2).toLongLong();
        a.completed = query.value(3).toLongLong();
        a.errors = query.value(4).toLongLong();
        a.callsProposed = query.value(5).toLongLong();
        a.callsExecuted = query.value(6).toLongLong();
        a.callsFailed = query.value(7).toLongLong();
        a.callsDenied = query.value(8).toLongLong();
        a.inputTokens = query.value(9).toLongLong();
        a.outputTokens = query.value(10).toLongLong();
        a.costMicros = query.value(11).toLongLong();
        a.lastStartedAt = query.value(12).toLongLong();
        result.append(a);
    }
    query.finish();
    return result;
}

Result<AuditQueries::ApprovalMetrics> AuditQueries::approvalMetrics(const TimeRange& range) const {
    // A decision is an approver kind on the row; status 'denied' is the only refusal (expired and
    // cancelled calls keep no approver kind unless they had been approved before).
    const QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    const auto counts = AuditRollups::read(db, m_dialect, AuditRollups::ApprovalDay, range.fromMs,
                                           range.toMs, false);
    if (!counts)
        return std::unexpected(counts.error());
    QMap<QString, ApproverStat> byKind; // kinds are ASCII: the same order as the SQL before
    for (const AuditRollups::Row& row : *counts) {
        if (row.values.at(0) == 0 && row.values.at(1) == 0)
            continue;
        ApproverStat& stat = byKind[row.keys.at(0).toString()];
        stat.kind = row.keys.at(0).toString();
        stat.approved += row.values.at(0);
        stat.denied += row.values.at(1);
    }
    const auto buckets = AuditRollups::read(db, m_dialect, AuditRollups::DecideTime, range.fromMs,
                                            range.toMs, false);
    if (!buckets)
        return std::unexpected(buckets.error());
    QMap<QString, QMap<int, qint64>> histograms;
    QMap<int, qint64> overall;
    for (const AuditRollups::Row& row : *buckets) {
        histograms[row.keys.at(0).toString()][row.keys.at(1).toInt()] += row.values.at(0);
        overall[row.keys.at(1).toInt()] += row.values.at(0);
    }
    const Probe probe{QStringLiteral("tool_calls"), QStringLiteral("decided_at - proposed_at"),
                      QStringLiteral("approver_kind"), QStringLiteral("decided_at IS NOT NULL"),
                      QStringLiteral("proposed_at")};

    ApprovalMetrics metrics;
    bool exact = true;
    for (ApproverStat& stat : byKind) {
        metrics.approved += stat.approved;
        metrics.denied += stat.denied;
        if (stat.kind == QLatin1String("auto"))
            metrics.autoApproved += stat.approved;
        const auto p = fromHistogram(histograms.value(stat.kind), probe, {stat.kind}, range);
        if (!p)
            return std::unexpected(p.error());
        exact = exact && p->has_value();
        if (*p)
            stat.decideMs = **p;
        metrics.byApproverKind.append(stat);
    }
    metrics.decided = metrics.approved + metrics.denied;
    // Every denial is in the tool rollup; those with an approver kind are counted above, so the
    // rest were denied because no one could decide (both rollups are per day: no row scan).
    const auto toolDays =
        AuditRollups::read(db, m_dialect, AuditRollups::ToolDay, range.fromMs, range.toMs, false);
    if (!toolDays)
        return std::unexpected(toolDays.error());
    qint64 allDenied = 0;
    for (const AuditRollups::Row& row : *toolDays)
        allDenied += row.values.at(3);
    metrics.deniedNoApprover = std::max<qint64>(0, allDenied - metrics.denied);
    const auto all = fromHistogram(overall, probe, byKind.keys(), range);
    if (!all)
        return std::unexpected(all.error());
    if (exact && *all) {
        metrics.medianDecideMs = (*all)->p50;
        return metrics;
    }

    QString decided = QStringLiteral(" WHERE approver_kind IS NOT NULL");
    QVariantList binds;
    addRange(decided, binds, QStringLiteral("proposed_at"), range);
    decided += QStringLiteral(" AND decided_at IS NOT NULL");
    const auto sortedByKind = percentiles(
        QStringLiteral("SELECT approver_kind AS k, decided_at - proposed_at AS v FROM tool_calls%1")
            .arg(decided),
        binds);
    if (!sortedByKind)
        return std::unexpected(sortedByKind.error());
    for (ApproverStat& stat : metrics.byApproverKind)
        stat.decideMs = sortedByKind->value(stat.kind);
    const auto sortedAll = percentiles(
        QStringLiteral("SELECT CAST('' AS TEXT) AS k, decided_at - proposed_at AS v FROM "
                       "tool_calls%1")
            .arg(decided),
        binds);
    if (!sortedAll)
        return std::unexpected(sortedAll.error());
    metrics.medianDecideMs = sortedAll->value(QString()).p50;
    return metrics;
}

Result<QList<AuditQueries::ScopeApprovalStat>>
AuditQueries::approvalsByScope(const TimeRange& range) const {
    // The prompts of the range from index entries only (tool_calls_prompts, migration 4): the
    // policy asked, then someone (or nobody) answered.
    QString where = QStringLiteral(" WHERE policy_decision = 'ask'");
    QVariantList binds;
    addRange(where, binds, QStringLiteral("proposed_at"), range);
    const QString person = QStringLiteral("approver_kind = 'person'");
    const auto when = [](const QString& condition) {
        return QStringLiteral("sum(CASE WHEN %1 THEN 1 ELSE 0 END)").arg(condition);
    };
    const QString sql =
        QStringLiteral("SELECT scope, count(*), %1, %2, %3, %4, %5, %6, %7 FROM tool_calls%8 GROUP "
                       "BY scope ORDER BY scope")
            .arg(when(person + QStringLiteral(" AND status <> 'denied'")),
                 when(person + QStringLiteral(" AND status = 'denied'")),
                 when(QStringLiteral("status = 'expired'")),
                 // Answered without a person, denials for want of an approver (no approver
                 // kind) included.
                 when(QStringLiteral("(approver_kind IS NOT NULL AND approver_kind <> 'person') "
                                     "OR (approver_kind IS NULL AND status = 'denied')")),
                 when(person + QStringLiteral(" AND decided_in_batch = 1")),
                 when(person + QStringLiteral(" AND args_seen_whole = 1")),
                 when(person + QStringLiteral(" AND args_seen_whole IS NOT NULL")), where);
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.setForwardOnly(true);
    if (!query.prepare(sql))
        return std::unexpected(readError(query, tr("Preparing the approval rate per scope")));
    bindAll(query, binds);
    if (!query.exec())
        return std::unexpected(readError(query, tr("Reading the approval rate per scope")));
    QList<ScopeApprovalStat> result;
    while (query.next()) {
        ScopeApprovalStat s;
        s.scope = query.value(0).toString();
        s.prompts = query.value(1).toLongLong();
        s.approved = query.value(2).toLongLong();
        s.denied = query.value(3).toLongLong();
        s.expired = query.value(4).toLongLong();
        s.otherwise = query.value(5).toLongLong();
        s.inBatch = query.value(6).toLongLong();
        s.seenWhole = query.value(7).toLongLong();
        s.seenKnown = query.value(8).toLongLong();
        const qint64 answered = s.approved + s.denied + s.expired;
        s.approvalRate = answered > 0 ? double(s.approved) / double(answered) : 0.0;
        result.append(s);
    }
    query.finish();
    // Scopes are ASCII words: the database's order is the same on both dialects.
    const auto times = percentiles(
        QStringLiteral("SELECT scope AS k, decision_ms AS v FROM tool_calls%1 AND %2 AND "
                       "decision_ms IS NOT NULL")
            .arg(where, person),
        binds);
    if (!times)
        return std::unexpected(times.error());
    for (ScopeApprovalStat& s : result)
        s.decisionMs = times->value(s.scope);
    return result;
}

Result<QList<AuditQueries::ErrorRatePoint>> AuditQueries::errorRate(Interval interval,
                                                                    const TimeRange& range) const {
    // Hours from the hourly rollups; days and weeks are sums of their hours.
    const auto bucketOf = [interval](qint64 hour) {
        switch (interval) {
        case Interval::Hour:
            return hour;
        case Interval::Day:
            return floorDiv(hour, 24);
        case Interval::Week:
            return floorDiv(floorDiv(hour, 24) + 3, 7);
        }
        return hour;
    };
    const QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    const auto tools =
        AuditRollups::read(db, m_dialect, AuditRollups::ToolHour, range.fromMs, range.toMs, true);
    if (!tools)
        return std::unexpected(tools.error());
    const auto apis =
        AuditRollups::read(db, m_dialect, AuditRollups::ApiHour, range.fromMs, range.toMs, true);
    if (!apis)
        return std::unexpected(apis.error());
    QMap<qint64, ErrorRatePoint> points;
    for (const AuditRollups::Row& row : *tools) {
        if (row.values.at(0) == 0)
            continue;
        ErrorRatePoint& p = points[bucketOf(row.keys.at(0).toLongLong())];
        p.toolRuns += row.values.at(0);
        p.toolFailures += row.values.at(1);
    }
    for (const AuditRollups::Row& row : *apis) {
        if (row.values.at(0) == 0)
            continue;
        ErrorRatePoint& p = points[bucketOf(row.keys.at(0).toLongLong())];
        p.apiCalls += row.values.at(0);
        p.apiErrors += row.values.at(1);
    }
    QList<ErrorRatePoint> result;
    for (auto it = points.begin(); it != points.end(); ++it) {
        it->bucketStartMs = bucketStartMs(interval, it.key());
        result.append(*it);
    }
    return result;
}

Status AuditQueries::forEachCostRow(const TimeRange& range,
                                    const std::function<bool(const CostRow&)>& callback) const {
    // Whole days, so the daily rollup answers alone.
    QString sql = QStringLiteral(
        "SELECT day, model, runs, api_calls, input_tokens, output_tokens, cache_write_tokens, "
        "cache_read_tokens, cost_micros, unpriced_calls FROM rollup_api_day WHERE api_calls > 0");
    QVariantList binds;
    addDayRange(sql, binds, QStringLiteral("day"), range);
    sql += QStringLiteral(" ORDER BY day");
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.setForwardOnly(true);
    query.prepare(sql);
    bindAll(query, binds);
    if (!query.exec())
        return std::unexpected(readError(query, tr("Reading the costs by day and model")));
    // Within a day the rows are put in code-point order of the model here: PostgreSQL sorts text
    // by its collation, SQLite by bytes, and the report must be the same from both. One day's
    // rows (one per model) is all that is held, so memory stays flat.
    QList<CostRow> day;
    bool stopped = false;
    const auto flush = [&] {
        std::sort(day.begin(), day.end(),
                  [](const CostRow& a, const CostRow& b) { return a.model < b.model; });
        for (const CostRow& row : std::as_const(day)) {
            if (!stopped && !callback(row))
                stopped = true;
        }
        day.clear();
    };
    while (!stopped && query.next()) {
        CostRow row = costRowFrom(query);
        if (!day.isEmpty() && day.front().day != row.day)
            flush();
        day.append(std::move(row));
    }
    query.finish();
    flush();
    return {};
}

Result<QList<AuditQueries::CostRow>> AuditQueries::costByModelDay(const TimeRange& range) const {
    QList<CostRow> rows;
    const Status done = forEachCostRow(range, [&rows](const CostRow& row) {
        rows.append(row);
        return true;
    });
    if (!done)
        return std::unexpected(done.error());
    return rows;
}

namespace {

void addInto(AuditQueries::CostRow& sum, const AuditQueries::CostRow& row) {
    sum.apiCalls += row.apiCalls;
    sum.inputTokens += row.inputTokens;
    sum.outputTokens += row.outputTokens;
    sum.cacheWriteTokens += row.cacheWriteTokens;
    sum.cacheReadTokens += row.cacheReadTokens;
    sum.costMicros += row.costMicros;
    sum.unpricedCalls += row.unpricedCalls;
    // Runs are distinct per day and model; a run spanning two rows is counted in each.
    sum.runs += row.runs;
}

} // namespace

QList<AuditQueries::CostRow> AuditQueries::sumByModel(const QList<CostRow>& rows) {
    QMap<QString, CostRow> byModel;
    for (const CostRow& row : rows) {
        CostRow& sum = byModel[row.model];
        sum.model = row.model;
        addInto(sum, row);
    }
    return byModel.values();
}

QList<AuditQueries::CostRow> AuditQueries::sumByDay(const QList<CostRow>& rows) {
    QMap<qint64, CostRow> byDay;
    for (const CostRow& row : rows) {
        CostRow& sum = byDay[row.day];
        sum.day = row.day;
        addInto(sum, row);
    }
    return byDay.values();
}

Result<QList<AuditQueries::TokenDay>> AuditQueries::tokensByDay(const TimeRange& range) const {
    QString sql = QStringLiteral("SELECT day, sum(input_tokens), sum(output_tokens), "
                                 "sum(cache_write_tokens), sum(cache_read_tokens) FROM "
                                 "rollup_api_day WHERE api_calls > 0");
    QVariantList binds;
    addDayRange(sql, binds, QStringLiteral("day"), range);
    sql += QStringLiteral(" GROUP BY day ORDER BY day");
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.setForwardOnly(true);
    query.prepare(sql);
    bindAll(query, binds);
    if (!query.exec())
        return std::unexpected(readError(query, tr("Reading the tokens by day")));
    QList<TokenDay> result;
    while (query.next()) {
        TokenDay d;
        d.day = query.value(0).toLongLong();
        d.inputTokens = query.value(1).toLongLong();
        d.outputTokens = query.value(2).toLongLong();
        d.cacheWriteTokens = query.value(3).toLongLong();
        d.cacheReadTokens = query.value(4).toLongLong();
        result.append(d);
    }
    query.finish();
    return result;
}

Result<QList<AuditQueries::LatencyDay>>
AuditQueries::apiLatencyByDay(const TimeRange& range) const {
    // Both reads stay inside the index api_calls (day, latency_ms, at): the counts scan the
    // range's entries, each probe walks one day's entries in latency order up to its rank.
    QString sql =
        QStringLiteral("SELECT day, count(*) FROM api_calls WHERE latency_ms IS NOT NULL");
    QVariantList binds;
    addDayRange(sql, binds, QStringLiteral("day"), range);
    addRange(sql, binds, QStringLiteral("at"), range);
    sql += QStringLiteral(" GROUP BY day ORDER BY day");
    const QSqlDatabase db = QSqlDatabase::database(m_connectionName, false);
    QSqlQuery query(db);
    query.setForwardOnly(true);
    query.prepare(sql);
    bindAll(query, binds);
    if (!query.exec())
        return std::unexpected(readError(query, tr("Reading the API calls by day")));
    QList<LatencyDay> days;
    while (query.next()) {
        LatencyDay d;
        d.day = query.value(0).toLongLong();
        d.latencyMs.n = query.value(1).toLongLong();
        days.append(d);
    }
    query.finish();

    QString probeSql =
        QStringLiteral("SELECT latency_ms FROM api_calls WHERE day = ? AND latency_ms IS NOT NULL");
    QVariantList rangeBinds;
    addRange(probeSql, rangeBinds, QStringLiteral("at"), range);
    probeSql += QStringLiteral(" ORDER BY latency_ms LIMIT 1 OFFSET ?");
    QSqlQuery probe(db);
    probe.setForwardOnly(true);
    if (!probe.prepare(probeSql))
        return std::unexpected(readError(probe, tr("Preparing a percentile probe")));
    for (LatencyDay& d : days) {
        const qint64 n = d.latencyMs.n;
        for (const auto& [p, out] :
             {std::pair{50, &d.latencyMs.p50}, std::pair{95, &d.latencyMs.p95},
              std::pair{99, &d.latencyMs.p99}}) {
            int i = 0;
            probe.bindValue(i++, d.day);
            for (const QVariant& bind : std::as_const(rangeBinds))
                probe.bindValue(i++, bind);
            probe.bindValue(i, (p * n + 99) / 100 - 1);
            if (!probe.exec())
                return std::unexpected(readError(probe, tr("Computing percentiles")));
            if (probe.next())
                *out = probe.value(0).toLongLong();
            probe.finish();
        }
    }
    return days;
}

Result<AuditQueries::MonthlyProjection> AuditQueries::monthlyProjection(qint64 nowMs) const {
    if (nowMs < 0)
        nowMs = QDateTime::currentMSecsSinceEpoch();
    const qint64 today = floorDiv(nowMs, kMsPerDay);
    const QDate date = QDate(1970, 1, 1).addDays(today);
    const qint64 monthStart = today - (date.day() - 1);
    const qint64 windowStart = today - 30;
    // The day rollup is updated with every API call, so today's rows hold today so far.
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.setForwardOnly(true);
    query.prepare(QStringLiteral(
        "SELECT coalesce(sum(CASE WHEN day >= ? AND day < ? THEN cost_micros ELSE 0 END), 0), "
        "coalesce(sum(CASE WHEN day >= ? THEN cost_micros ELSE 0 END), 0), "
        "coalesce(sum(CASE WHEN day = ? THEN cost_micros ELSE 0 END), 0) FROM rollup_api_day "
        "WHERE day >= ? AND day <= ?"));
    query.bindValue(0, windowStart);
    query.bindValue(1, today);
    query.bindValue(2, monthStart);
    query.bindValue(3, today);
    query.bindValue(4, std::min(windowStart, monthStart));
    query.bindValue(5, today);
    if (!query.exec() || !query.next())
        return std::unexpected(readError(query, tr("Reading the costs of the last 30 days")));
    MonthlyProjection p;
    p.last30DaysMicros = query.value(0).toLongLong();
    p.monthToDateMicros = query.value(1).toLongLong();
    p.todayMicros = query.value(2).toLongLong();
    query.finish();
    // The rate of the last 30 days up to now: the 30 whole days before today and today's hours
    // so far. The rest of the month (the rest of today included) is projected at that rate.
    const qint64 elapsedToday = nowMs - today * kMsPerDay;
    const qint64 windowMs = 30 * kMsPerDay + elapsedToday;
    p.dailyAverageMicros =
        qint64(__int128(p.last30DaysMicros + p.todayMicros) * kMsPerDay / windowMs);
    p.remainingDays = date.daysInMonth() - date.day() + 1;
    const qint64 monthEndMs = (monthStart + date.daysInMonth()) * kMsPerDay;
    p.projectedMonthMicros =
        p.monthToDateMicros +
        qint64(__int128(p.last30DaysMicros + p.todayMicros) * (monthEndMs - nowMs) / windowMs);
    return p;
}

} // namespace m1
