#include "store/AuditProjectionCheck.h"

#include "util/Sha256.h"

#include "store/AuditChain.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlError>
#include <QVariant>

#include <algorithm>

namespace m1 {

namespace {

// The compared tool_calls columns; kColumnNames spells them in the table's words.
enum Column : int {
    CallStatus,
    Step,
    ToolName,
    Scope,
    ArgsProposed,
    PolicyDecision,
    PolicyReason,
    PolicyCode,
    PolicySource,
    PolicyRule,
    PolicyRuleFile,
    ApproverKind,
    Approver,
    TokenJti,
    ArgsEdited,
    DecisionReason,
    DecisionMs,
    ArgsSeenWhole,
    DecidedInBatch,
    DecidedBy,
    ArgsExecuted,
    Output,
    OutputSize,
    OutputSha256,
    OutputTruncated,
    ErrorText,
    ExecDurationMs,
    ProposedAt,
    DecidedAt,
    ExecutedAt,
    ColumnCount
};

constexpr std::array<const char*, ColumnCount> kColumnNames{"status",
                                                            "step",
                                                            "tool_name",
                                                            "scope",
                                                            "args_proposed_json",
                                                            "policy_decision",
                                                            "policy_reason",
                                                            "policy_code",
                                                            "policy_source",
                                                            "policy_rule",
                                                            "policy_rule_file",
                                                            "approver_kind",
                                                            "approver",
                                                            "token_jti",
                                                            "args_edited_json",
                                                            "decision_reason",
                                                            "decision_ms",
                                                            "args_seen_whole",
                                                            "decided_in_batch",
                                                            "decided_by",
                                                            "args_executed_json",
                                                            "output",
                                                            "output_size",
                                                            "output_sha256",
                                                            "output_truncated",
                                                            "error",
                                                            "exec_duration_ms",
                                                            "proposed_at",
                                                            "decided_at",
                                                            "executed_at"};
static_assert(ColumnCount == AuditProjectionCheck::kCallColumns);

// calls_proposed, _approved, _denied, _executed, _failed
constexpr std::array<const char*, 5> kCountColumns{
    "calls_proposed", "calls_approved", "calls_denied", "calls_executed", "calls_failed"};

// Above this many folded calls of open runs, the largest open run is compared at the end from
// its own events instead (a few KiB per call: this keeps the fold to some tens of MiB).
constexpr qint64 kMaxPendingCalls = 20000;
constexpr int kShownChars = 80;
// Runs whose rows are read by one query: the statement is executed once per this many runs (the
// Qt driver's per-execution cost was most of the comparison's); unused places are bound to NULL.
constexpr int kBatchRuns = 64;

// As AuditWriterWorker writes JSON columns.
QString json(const QJsonValue& value) {
    if (value.isObject())
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
    if (value.isArray())
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
    if (value.isNull() || value.isUndefined())
        return {};
    return QString::fromUtf8(QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact));
}

QString string(const QJsonObject& data, const char* key) {
    return data.value(QLatin1String(key)).toString();
}

QString number(const QJsonObject& data, const char* key) {
    return QString::number(data.value(QLatin1String(key)).toInteger());
}

QString nullableNumber(const QJsonValue& value) {
    return value.isDouble() ? QString::number(value.toInteger()) : QString();
}

QString flag(const QJsonValue& value) {
    return value.isBool() ? QString::number(value.toBool() ? 1 : 0) : QString();
}

// The stored output is compared by digest: a run's outputs are not kept whole in memory.
QString digest(const QString& text) {
    return QString::fromLatin1(sha256Hex(text.toUtf8()));
}

// A column's value as compared: NULL and the empty text alike (the writer stores some empty
// texts as NULL and some as '', and a person sees no difference).
QString columnText(const QVariant& value) {
    return value.isNull() ? QString() : value.toString();
}

QString shown(const QString& value) {
    if (value.isEmpty())
        return AuditProjectionCheck::tr("(empty)");
    QString line = value;
    line.replace(QLatin1Char('\n'), QLatin1Char(' '));
    if (line.size() > kShownChars)
        line = line.left(kShownChars - 1) + QChar(0x2026);
    return QLatin1Char('\'') + line + QLatin1Char('\'');
}

} // namespace

AuditProjectionCheck::AuditProjectionCheck(const QString& connectionName, SqlDialect dialect,
                                           qint64 firstSeq)
    : m_connectionName(connectionName), m_dialect(dialect), m_firstSeq(firstSeq) {}

AuditProjectionCheck::~AuditProjectionCheck() = default;

Error AuditProjectionCheck::sqlError(const QSqlQuery& query, const QString& what) const {
    return m_dialect.toError(query.lastError(), QStringLiteral("store.read"), what);
}

Status AuditProjectionCheck::prepare(std::unique_ptr<QSqlQuery>& query, const QString& sql) {
    if (query)
        return {};
    query = std::make_unique<QSqlQuery>(QSqlDatabase::database(m_connectionName, false));
    query->setForwardOnly(true);
    if (!query->prepare(sql)) {
        const Error error = sqlError(*query, tr("Preparing the projection check"));
        query.reset();
        return std::unexpected(error);
    }
    return {};
}

void AuditProjectionCheck::addEvent(qint64 seq, qint64 at, const QString& kind,
                                    const QString& runId, const QString& requestId,
                                    const QByteArray& payload) {
    if (runId.isEmpty() || m_deferred.contains(runId))
        return;
    if (m_compared.contains(runId)) {
        // An event after the run was compared (nothing the program writes, but the chain allows
        // it): compare the run again at the end, from all its events.
        m_deferred.insert(runId);
        return;
    }
    auto it = m_open.find(runId);
    if (it == m_open.end())
        it = m_open.emplace(runId, RunState{}).first;
    const qsizetype callsBefore = it->second.calls.size();
    fold(it->second, seq, at, kind, requestId, payload);
    m_pendingCalls += it->second.calls.size() - callsBefore;
    if (kind == QLatin1String("run.finished"))
        m_ready.append(runId);
    if (m_pendingCalls > kMaxPendingCalls) {
        auto largest = m_open.end();
        for (auto open = m_open.begin(); open != m_open.end(); ++open) {
            if (!open->second.finished &&
                (largest == m_open.end() ||
                 open->second.calls.size() > largest->second.calls.size()))
                largest = open;
        }
        if (largest != m_open.end()) {
            m_pendingCalls -= largest->second.calls.size();
            m_deferred.insert(largest->first);
            m_open.erase(largest);
        }
    }
}

void AuditProjectionCheck::fold(RunState& run, qint64 seq, qint64 at, const QString& kind,
                                const QString& requestId, const QByteArray& payload) {
    if (run.firstSeq < 0)
        run.firstSeq = seq;
    const bool callEvent = kind.startsWith(QLatin1String("call."));
    if (!callEvent && kind != QLatin1String("run.started") && kind != QLatin1String("run.finished"))
        return; // run.plan, api.call: nothing compared
    const QJsonObject d = QJsonDocument::fromJson(payload).object();
    const auto bump = [&](int counter) {
        if (run.counts)
            ++(*run.counts)[counter];
    };
    if (kind == QLatin1String("run.started")) {
        run.started = true;
        run.seeded = d.value(QLatin1String("seeded")).toBool();
        if (!run.seeded)
            run.counts = std::array<qint64, 5>{};
        return;
    }
    if (kind == QLatin1String("run.finished")) {
        run.finished = true;
        run.finishedSeq = seq;
        run.stopReason = string(d, "stop_reason");
        run.counts = std::array<qint64, 5>{};
        for (int i = 0; i < 5; ++i)
            (*run.counts)[i] = d.value(QLatin1String(kCountColumns[i]).mid(6)).toInteger();
        return;
    }
    if (requestId.isEmpty())
        return;
    CallState& call = run.calls[requestId];
    if (call.firstSeq < 0)
        call.firstSeq = seq;
    auto& v = call.values;
    const QString at_ = QString::number(at);
    if (kind == QLatin1String("call.proposed")) {
        call.proposed = true;
        v.fill(QString());
        v[CallStatus] = QStringLiteral("proposed");
        v[Step] = number(d, "step");
        v[ToolName] = string(d, "tool");
        v[Scope] = string(d, "scope");
        v[ArgsProposed] = json(d.value(QLatin1String("arguments")).toObject());
        v[OutputTruncated] = QStringLiteral("0");
        v[ProposedAt] = at_;
        bump(0);
    } else if (kind == QLatin1String("call.policy")) {
        v[PolicyDecision] = string(d, "decision");
        v[PolicyReason] = string(d, "reason");
        v[PolicyCode] = string(d, "code");
        v[PolicySource] = string(d, "source");
        v[PolicyRule] = string(d, "rule");
        v[PolicyRuleFile] = string(d, "rule_file");
    } else if (kind == QLatin1String("call.approved") || kind == QLatin1String("call.denied")) {
        const bool approved = kind == QLatin1String("call.approved");
        v[CallStatus] = approved ? QStringLiteral("approved") : QStringLiteral("denied");
        const QString approverKind = string(d, "approver_kind");
        v[ApproverKind] = approverKind == QLatin1String("none") ? QString() : approverKind;
        v[Approver] = string(d, "approver");
        v[TokenJti] = string(d, "jti");
        v[ArgsEdited] = d.contains(QLatin1String("edited_arguments"))
                            ? json(d.value(QLatin1String("edited_arguments")))
                            : QString();
        v[DecisionReason] = string(d, "reason");
        v[DecidedAt] = at_;
        v[DecisionMs] = nullableNumber(d.value(QLatin1String("decision_ms")));
        v[ArgsSeenWhole] = flag(d.value(QLatin1String("args_seen_whole")));
        v[DecidedInBatch] = flag(d.value(QLatin1String("batch")));
        v[DecidedBy] = string(d, "decided_by");
        bump(approved ? 1 : 2);
    } else if (kind == QLatin1String("call.executed") || kind == QLatin1String("call.failed")) {
        const bool executed = kind == QLatin1String("call.executed");
        v[CallStatus] = executed ? QStringLiteral("executed") : QStringLiteral("failed");
        v[ArgsExecuted] = json(d.value(QLatin1String("arguments")).toObject());
        v[Output] = digest(string(d, "output"));
        v[OutputSize] = number(d, "output_size");
        v[OutputSha256] = string(d, "output_sha256");
        v[OutputTruncated] = d.value(QLatin1String("output_truncated")).toBool()
                                 ? QStringLiteral("1")
                                 : QStringLiteral("0");
        v[ErrorText] = string(d, "error");
        v[ExecutedAt] = at_;
        v[ExecDurationMs] = number(d, "duration_ms");
        bump(executed ? 3 : 4);
    } else if (kind == QLatin1String("call.expired") || kind == QLatin1String("call.cancelled")) {
        v[CallStatus] = kind.mid(5);
        v[DecisionReason] = string(d, "reason");
        v[DecidedAt] = at_;
    }
}

Status AuditProjectionCheck::flush() {
    const QStringList ready = std::exchange(m_ready, {});
    Batch batch;
    batch.reserve(ready.size());
    for (const QString& runId : ready) {
        auto it = m_open.find(runId);
        if (it == m_open.end())
            continue; // deferred meanwhile
        m_pendingCalls -= it->second.calls.size();
        batch.emplace_back(runId, std::move(it->second));
        m_open.erase(it);
        m_compared.insert(runId, 0);
    }
    return compare(batch);
}

Status AuditProjectionCheck::finish() {
    if (const Status done = flush(); !done)
        return done;
    // Runs still open at the end of the chain (running, or ended without run.finished).
    Batch open;
    open.reserve(m_open.size());
    for (auto& [runId, run] : m_open) {
        open.emplace_back(runId, std::move(run));
        m_compared.insert(runId, 0);
    }
    m_open.clear();
    m_pendingCalls = 0;
    if (const Status done = compare(open); !done)
        return done;
    open.clear();
    for (const QString& runId : std::as_const(m_deferred)) {
        if (const Status done = recheck(runId); !done)
            return done;
    }
    return findRowsWithoutEvents();
}

Status AuditProjectionCheck::recheck(const QString& runId) {
    // Compared before the late events came: forget what that comparison found.
    if (m_compared.contains(runId)) {
        const qsizetype listed = m_report.findings.size();
        m_report.findings.removeIf(
            [&](const ProjectionFinding& finding) { return finding.runId == runId; });
        const qint64 total = m_findingsPerRun.value(runId);
        m_report.moreFindings -= total - (listed - m_report.findings.size());
        m_findingsPerRun.remove(runId);
        --m_report.checkedRuns;
        m_report.checkedCalls -= m_compared.value(runId);
    }
    if (const Status prepared = prepare(
            m_runEvents, QStringLiteral("SELECT seq, at, kind, request_id, payload_json FROM "
                                        "audit_events WHERE run_id = ? AND seq >= ? ORDER BY seq"));
        !prepared)
        return prepared;
    m_runEvents->bindValue(0, runId);
    m_runEvents->bindValue(1, m_firstSeq);
    if (!m_runEvents->exec())
        return std::unexpected(
            sqlError(*m_runEvents, tr("Reading the events of run %1").arg(runId)));
    Batch batch(1);
    batch.front().first = runId;
    RunState& run = batch.front().second;
    while (m_runEvents->next())
        fold(run, m_runEvents->value(0).toLongLong(), m_runEvents->value(1).toLongLong(),
             m_runEvents->value(2).toString(), m_runEvents->value(3).toString(),
             m_runEvents->value(4).toString().toUtf8());
    m_runEvents->finish();
    return compare(batch);
}

void AuditProjectionCheck::addFinding(ProjectionFinding finding) {
    m_findingsPerRun[finding.runId] += 1;
    if (m_report.findings.size() < kMaxListedFindings)
        m_report.findings.append(std::move(finding));
    else
        ++m_report.moreFindings;
}

Status AuditProjectionCheck::compare(const Batch& runs) {
    if (runs.empty())
        return {};
    const auto placeholders = [] {
        QString list = QStringLiteral("?");
        for (int i = 1; i < kBatchRuns; ++i)
            list += QStringLiteral(", ?");
        return list;
    };
    if (m_runRow == nullptr) {
        QString sql = QStringLiteral("SELECT run_id, stop_reason");
        for (const char* column : kCountColumns)
            sql += QStringLiteral(", ") + QLatin1String(column);
        if (const Status prepared = prepare(m_runRow, sql +
                                                          QStringLiteral(" FROM runs WHERE run_id "
                                                                         "IN (") +
                                                          placeholders() + QLatin1Char(')'));
            !prepared)
            return prepared;
    }
    if (m_callRows == nullptr) {
        QString select = QStringLiteral("SELECT run_id, request_id");
        for (const char* column : kColumnNames)
            select += QStringLiteral(", ") + QLatin1String(column);
        if (const Status prepared = prepare(
                m_callRows, select + QStringLiteral(" FROM tool_calls WHERE run_id IN (") +
                                placeholders() + QStringLiteral(") ORDER BY run_id, request_id"));
            !prepared)
            return prepared;
    }
    const QVariant none(QMetaType::fromType<QString>());
    QHash<QString, RunRow> runRows;
    QHash<QString, QList<CallRow>> callRows;
    for (std::size_t from = 0; from < runs.size(); from += kBatchRuns) {
        const std::size_t to = std::min(runs.size(), from + kBatchRuns);
        const QString& firstRun = runs[from].first;
        runRows.clear();
        callRows.clear();
        bool anyCalls = false;
        for (std::size_t i = from; i < from + kBatchRuns; ++i) {
            const QVariant id = i < to ? QVariant(runs[i].first) : none;
            m_runRow->bindValue(int(i - from), id);
            // Seeded runs (and runs without a start) with no call events: no call rows compared.
            const bool withCalls = i < to && !(runs[i].second.calls.empty() &&
                                               (runs[i].second.seeded || !runs[i].second.started));
            anyCalls = anyCalls || withCalls;
            m_callRows->bindValue(int(i - from), withCalls ? id : none);
        }
        if (!m_runRow->exec())
            return std::unexpected(sqlError(*m_runRow, tr("Reading run %1").arg(firstRun)));
        while (m_runRow->next()) {
            RunRow& row = runRows[m_runRow->value(0).toString()];
            for (int c = 0; c < int(row.size()); ++c)
                row[c] = columnText(m_runRow->value(c + 1));
        }
        m_runRow->finish();
        if (anyCalls) {
            if (!m_callRows->exec())
                return std::unexpected(
                    sqlError(*m_callRows, tr("Reading the tool calls of run %1").arg(firstRun)));
            while (m_callRows->next()) {
                CallRow row;
                row.requestId = m_callRows->value(1).toString();
                for (int c = 0; c < ColumnCount; ++c)
                    row.values[c] = columnText(m_callRows->value(c + 2));
                callRows[m_callRows->value(0).toString()].append(std::move(row));
            }
            m_callRows->finish();
        }
        for (std::size_t i = from; i < to; ++i) {
            const auto& [runId, run] = runs[i];
            const auto row = runRows.constFind(runId);
            compare(runId, run, row == runRows.cend() ? nullptr : &*row, callRows.value(runId));
        }
    }
    return {};
}

void AuditProjectionCheck::compare(const QString& runId, const RunState& run, const RunRow* row,
                                   const QList<CallRow>& callRows) {
    ++m_report.checkedRuns;
    // This run's findings, listed in the order of their events (rows without events last).
    QList<ProjectionFinding> found;
    const auto listFound = [&] {
        std::stable_sort(found.begin(), found.end(),
                         [](const ProjectionFinding& a, const ProjectionFinding& b) {
                             return quint64(a.seq) < quint64(b.seq);
                         });
        for (ProjectionFinding& finding : found)
            addFinding(std::move(finding));
    };
    if (run.seeded)
        ++m_report.seededRuns;
    const qint64 runSeq = run.finished ? run.finishedSeq : run.firstSeq;
    if (row == nullptr) {
        found.append(
            {QStringLiteral("runs"),
             runId,
             {},
             QStringLiteral("missing"),
             {},
             {},
             {},
             run.firstSeq,
             tr("Run %1 has events in the audit chain (from event %2) but no runs row: the "
                "row was removed outside M1 Agent Control.")
                 .arg(runId, QString::number(run.firstSeq))});
    } else {
        const auto differs = [&](const QString& column, const QString& stored,
                                 const QString& expected) {
            found.append(
                {QStringLiteral("runs"),
                 runId,
                 {},
                 QStringLiteral("changed"),
                 column,
                 stored,
                 expected,
                 runSeq,
                 tr("The runs row of run %1 says %2 %3, but its events (from event %4) say "
                    "%5: "
                    "the table was changed outside M1 Agent Control.")
                     .arg(runId, column, shown(stored), QString::number(runSeq), shown(expected))});
        };
        // A run still going has no stop reason; one whose run.finished lies before the kept chain
        // cannot be known.
        const QString& storedReason = (*row)[0];
        if ((run.finished || run.started) && storedReason != run.stopReason)
            differs(QStringLiteral("stop_reason"), storedReason, run.stopReason);
        if (run.counts) {
            for (int i = 0; i < 5; ++i) {
                const QString& stored = (*row)[i + 1];
                const QString expected = QString::number((*run.counts)[i]);
                if (stored != expected)
                    differs(QString::fromLatin1(kCountColumns[i]), stored, expected);
            }
        }
    }

    // Seeded runs: their call rows have no events. Nothing else to compare without call events.
    if (run.calls.empty() && (run.seeded || !run.started)) {
        listFound();
        return;
    }
    QSet<QString> seen;
    qint64 compared = 0;
    for (const CallRow& callRow : callRows) {
        const QString& requestId = callRow.requestId;
        const auto call = run.calls.find(requestId);
        if (call == run.calls.end() || !call->second.proposed) {
            // Rows of seeded runs have no events; a run whose start was pruned may have lost the
            // proposal of a call it still has a row for.
            if (run.started && !run.seeded && call == run.calls.end())
                found.append({QStringLiteral("tool_calls"),
                              runId,
                              requestId,
                              QStringLiteral("unrecorded"),
                              {},
                              {},
                              {},
                              -1,
                              tr("tool_calls row %1 of run %2 has no events in the audit chain: it "
                                 "was added outside M1 Agent Control.")
                                  .arg(requestId, runId)});
            continue;
        }
        seen.insert(requestId);
        ++compared;
        const CallState& expected = call->second;
        for (int c = 0; c < ColumnCount; ++c) {
            const QString& stored = callRow.values[c];
            const QString& want = expected.values[c];
            const bool differs =
                c == Output && !want.isEmpty() ? digest(stored) != want : stored != want;
            if (!differs)
                continue;
            const QString column = QString::fromLatin1(kColumnNames[c]);
            const QString said =
                c == Output ? tr("the output recorded there") : shown(expected.values[c]);
            found.append({QStringLiteral("tool_calls"), runId, requestId, QStringLiteral("changed"),
                          column, stored, c == Output ? QString() : expected.values[c],
                          expected.firstSeq,
                          tr("tool_calls row %1 of run %2 says %3 %4, but its events (from event "
                             "%5) say %6: the table was changed outside M1 Agent Control.")
                              .arg(requestId, runId, column, shown(stored),
                                   QString::number(expected.firstSeq), said)});
        }
    }
    for (const auto& [requestId, call] : run.calls) {
        if (!call.proposed || seen.contains(requestId))
            continue;
        found.append({QStringLiteral("tool_calls"),
                      runId,
                      requestId,
                      QStringLiteral("missing"),
                      {},
                      {},
                      {},
                      call.firstSeq,
                      tr("Run %1 has tool call %2 in its events (from event %3), but there is no "
                         "tool_calls row for it: the row was removed outside M1 Agent Control.")
                          .arg(runId, requestId, QString::number(call.firstSeq))});
    }
    listFound();
    m_report.checkedCalls += compared;
    m_compared.insert(runId, compared);
}

Status AuditProjectionCheck::findRowsWithoutEvents() {
    // Rows of runs that have no event in the kept chain: a prune removes a run's rows with its
    // events, and every run the program records starts with run.started.
    const QString noEvents = QStringLiteral(
        "NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.run_id = %1.run_id AND e.seq >= %2)");
    QSqlQuery query(QSqlDatabase::database(m_connectionName, false));
    query.setForwardOnly(true);
    if (!query.exec(QStringLiteral("SELECT r.run_id FROM runs r WHERE ") +
                    noEvents.arg(QStringLiteral("r")).arg(m_firstSeq)))
        return std::unexpected(sqlError(query, tr("Looking for runs without events")));
    QStringList runs;
    while (query.next())
        runs.append(query.value(0).toString());
    query.finish();
    for (const QString& runId : std::as_const(runs))
        addFinding({QStringLiteral("runs"),
                    runId,
                    {},
                    QStringLiteral("unrecorded"),
                    {},
                    {},
                    {},
                    -1,
                    tr("The runs row of run %1 has no events in the audit chain: it was added "
                       "outside M1 Agent Control.")
                        .arg(runId)});
    if (!query.exec(QStringLiteral("SELECT t.run_id, t.request_id FROM tool_calls t WHERE ") +
                    noEvents.arg(QStringLiteral("t")).arg(m_firstSeq)))
        return std::unexpected(sqlError(query, tr("Looking for tool calls without events")));
    while (query.next()) {
        const QString runId = query.value(0).toString();
        const QString requestId = query.value(1).toString();
        addFinding({QStringLiteral("tool_calls"),
                    runId,
                    requestId,
                    QStringLiteral("unrecorded"),
                    {},
                    {},
                    {},
                    -1,
                    tr("tool_calls row %1 of run %2 has no events in the audit chain: it was "
                       "added outside M1 Agent Control.")
                        .arg(requestId, runId)});
    }
    query.finish();
    return {};
}

} // namespace m1
