#include "store/AuditWriterWorker.h"

#include "store/AuditRollups.h"
#include "util/Sha256.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlError>
#include <QVariant>

namespace m1 {

namespace {

constexpr qint64 kMsPerDay = 86400000;

QVariant text(const QString& value) {
    return value.isEmpty() ? QVariant(QMetaType::fromType<QString>()) : QVariant(value);
}

QVariant nullableInteger(const QJsonValue& value) {
    return value.isDouble() ? QVariant(value.toInteger()) : QVariant(QMetaType::fromType<qint64>());
}

QVariant nullableFlag(const QJsonValue& value) {
    return value.isBool() ? QVariant(value.toBool() ? 1 : 0) : QVariant(QMetaType::fromType<int>());
}

QString json(const QJsonValue& value) {
    if (value.isObject())
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
    if (value.isArray())
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
    if (value.isNull() || value.isUndefined())
        return {};
    // A scalar plan or similar: wrap it so the column always holds a JSON document.
    return QString::fromUtf8(QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact));
}

qint64 integer(const QJsonObject& data, const char* key) {
    return data.value(QLatin1String(key)).toInteger();
}

QString string(const QJsonObject& data, const char* key) {
    return data.value(QLatin1String(key)).toString();
}

} // namespace

AuditWriterWorker::AuditWriterWorker(StoreConfig config) : m_config(std::move(config)) {}

AuditWriterWorker::~AuditWriterWorker() {
    closeConnection();
}

Status AuditWriterWorker::openConnection() {
    closeConnection();
    auto connection = StoreConnection::open(m_config, QStringLiteral("writer"),
                                            StoreConnection::Schema::RequireLatest);
    if (!connection)
        return std::unexpected(connection.error());
    m_connection = std::move(*connection);
    m_chain = std::make_unique<AuditChain>(m_connection->name(), m_config.dialect);
    return {};
}

void AuditWriterWorker::closeConnection() {
    // Statements first: they refer to the connection that is removed next.
    m_statements.clear();
    m_failedStatement.reset();
    m_chain.reset();
    m_connection.reset();
}

QSqlQuery* AuditWriterWorker::statement(const QString& sql) {
    auto it = m_statements.find(sql);
    if (it != m_statements.end())
        return it->second.get();
    auto query = std::make_unique<QSqlQuery>(m_connection->database());
    if (!query->prepare(sql)) {
        // Not cached: the cause may pass (a lock while reading the schema); exec() reports it.
        m_failedStatement = std::move(query);
        return nullptr;
    }
    return m_statements.emplace(sql, std::move(query)).first->second.get();
}

Status AuditWriterWorker::exec(QSqlQuery* query, const QString& what) {
    if (!query) {
        const QSqlError error = m_failedStatement ? m_failedStatement->lastError() : QSqlError();
        return std::unexpected(
            m_config.dialect.toError(error, QStringLiteral("store.write"), what));
    }
    if (!query->exec())
        return std::unexpected(
            m_config.dialect.toError(query->lastError(), QStringLiteral("store.write"), what));
    return {};
}

Status AuditWriterWorker::execOne(QSqlQuery* query, const AuditEvent& event,
                                  const QString& transition) {
    if (const Status done = exec(query, transition); !done)
        return done;
    if (query->numRowsAffected() != 1)
        return fail(QStringLiteral("store.transition"),
                    tr("%1 was refused: %2 \"%3\" of run \"%4\" is unknown or not in a state that "
                       "allows it.")
                        .arg(transition,
                             event.kind == AuditEvent::Kind::AlertResolved ? tr("alert")
                                                                           : tr("the tool call"),
                             event.requestId, event.runId));
    return {};
}

QJsonValue AuditWriterWorker::filtered(const QJsonValue& value) const {
    if (value.isString())
        return m_config.textFilter(value.toString());
    if (value.isArray()) {
        QJsonArray out;
        for (const QJsonValue& item : value.toArray())
            out.append(filtered(item));
        return out;
    }
    if (value.isObject()) {
        QJsonObject out;
        const QJsonObject in = value.toObject();
        for (auto it = in.begin(); it != in.end(); ++it)
            out.insert(it.key(), filtered(it.value()));
        return out;
    }
    return value;
}

QJsonObject AuditWriterWorker::storedData(const AuditEvent& event) const {
    QJsonObject data = m_config.textFilter ? filtered(event.data).toObject() : event.data;
    if (event.kind == AuditEvent::Kind::CallExecuted ||
        event.kind == AuditEvent::Kind::CallFailed) {
        const QByteArray full = data.value(QLatin1String("output")).toString().toUtf8();
        QByteArray kept = full;
        const bool truncated = full.size() > m_config.maxStoredOutputBytes;
        if (truncated) {
            qsizetype cut = m_config.maxStoredOutputBytes;
            // Never split a UTF-8 sequence: back up to the start of the cut character.
            while (cut > 0 && (static_cast<uchar>(full[cut]) & 0xC0) == 0x80)
                --cut;
            kept = full.left(cut);
        }
        data.insert(QStringLiteral("output"), QString::fromUtf8(kept));
        data.insert(QStringLiteral("output_size"), static_cast<double>(full.size()));
        data.insert(QStringLiteral("output_sha256"), QString::fromLatin1(sha256Hex(full)));
        data.insert(QStringLiteral("output_truncated"), truncated);
    }
    return data;
}

void AuditWriterWorker::rollback() {
    if (m_connection)
        QSqlQuery(m_connection->database()).exec(QStringLiteral("ROLLBACK"));
}

Result<qint64> AuditWriterWorker::write(const QList<AuditEvent>& events) {
    if (events.isEmpty())
        return 0;
    if (!m_connection) {
        // The previous connection was lost (server restart, pg_terminate_backend): one new
        // attempt per submission, so a dead server means one quick error each, not a loop.
        if (const Status reopened = openConnection(); !reopened)
            return std::unexpected(reopened.error());
    }
    const auto failed = [&](const Error& error) -> Result<qint64> {
        rollback();
        if (error.code == QLatin1String("store.connection"))
            closeConnection();
        return std::unexpected(error);
    };
    // Transaction control is not prepared: PostgreSQL cannot PREPARE BEGIN or COMMIT.
    QSqlQuery control(m_connection->database());
    if (!control.exec(m_config.dialect.beginWrite()))
        return failed(m_config.dialect.toError(control.lastError(), QStringLiteral("store.write"),
                                               tr("Starting an audit write")));
    qint64 seq = 0;
    for (const AuditEvent& event : events) {
        const QJsonObject data = storedData(event);
        const QString payload =
            QString::fromUtf8(QJsonDocument(data).toJson(QJsonDocument::Compact));
        // The chain head is read inside this transaction, so each event links to the one
        // before it in the batch.
        auto appended = m_chain->append(event.at, AuditEvent::kindName(event.kind), event.runId,
                                        event.requestId, payload);
        if (!appended)
            return failed(appended.error());
        if (const Status projected = project(event, data); !projected)
            return failed(projected.error());
        seq = appended->seq;
    }
    if (!control.exec(QStringLiteral("COMMIT")))
        return failed(m_config.dialect.toError(control.lastError(), QStringLiteral("store.write"),
                                               tr("Committing an audit write")));
    return seq;
}

Status AuditWriterWorker::project(const AuditEvent& event, const QJsonObject& d) {
    using Kind = AuditEvent::Kind;
    const qint64 at = event.at;
    const qint64 day = at / kMsPerDay;
    const QString& runId = event.runId;
    const QString& requestId = event.requestId;
    const auto bindCall = [&](QSqlQuery* q, int from) {
        q->bindValue(from, runId);
        q->bindValue(from + 1, requestId);
    };
    const auto bumpRun = [&](const char* column) -> Status {
        QSqlQuery* q = statement(QStringLiteral("UPDATE runs SET %1 = %1 + 1 WHERE run_id = ?")
                                     .arg(QLatin1String(column)));
        if (q)
            q->bindValue(0, runId);
        return exec(q, tr("Counting a tool call"));
    };
    // The rollups over one tool call row: its old contribution out before a transition, the new
    // one in after it, in this transaction; so they stay exact whatever the transition changes.
    const auto rollCall = [&](bool negate) -> Status {
        for (const AuditRollups::Id id :
             {AuditRollups::ToolDay, AuditRollups::ToolDuration, AuditRollups::ApprovalDay,
              AuditRollups::DecideTime, AuditRollups::ToolHour}) {
            QSqlQuery* q = statement(AuditRollups::accumulateSql(
                AuditRollups::def(id), QStringLiteral("run_id = ? AND request_id = ?"), negate));
            if (q)
                bindCall(q, 0);
            if (const Status done = exec(q, tr("Updating the dashboard sums")); !done)
                return done;
        }
        return {};
    };
    const auto transition = [&](QSqlQuery* q, const QString& what) -> Status {
        if (const Status out = rollCall(true); !out)
            return out;
        if (const Status done = execOne(q, event, what); !done)
            return done;
        return rollCall(false);
    };

    switch (event.kind) {
    case Kind::RunStarted: {
        QSqlQuery* q = statement(QStringLiteral(
            "INSERT INTO runs (run_id, agent, goal, constraints_json, model, provider, workspace, "
            "dry_run, started_at, started_day) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
        if (q) {
            q->bindValue(0, runId);
            q->bindValue(1, string(d, "agent"));
            q->bindValue(2, string(d, "goal"));
            q->bindValue(3, text(json(d.value(QLatin1String("constraints")))));
            q->bindValue(4, string(d, "model"));
            q->bindValue(5, string(d, "provider"));
            q->bindValue(6, string(d, "workspace"));
            q->bindValue(7, d.value(QLatin1String("dry_run")).toBool() ? 1 : 0);
            q->bindValue(8, at);
            q->bindValue(9, day);
        }
        return exec(q, tr("Recording the start of run \"%1\"").arg(runId));
    }
    case Kind::PlanUpdated: {
        QSqlQuery* q = statement(QStringLiteral("UPDATE runs SET plan_json = ? WHERE run_id = ?"));
        if (q) {
            q->bindValue(0, text(json(d.value(QLatin1String("plan")))));
            q->bindValue(1, runId);
        }
        return execOne(q, event, tr("Updating the plan"));
    }
    case Kind::RunFinished: {
        QSqlQuery* q = statement(QStringLiteral(
            "UPDATE runs SET stop_reason = ?, calls_proposed = ?, calls_approved = ?, "
            "calls_denied = ?, calls_executed = ?, calls_failed = ?, steps = ?, input_tokens = ?, "
            "output_tokens = ?, cache_write_tokens = ?, cache_read_tokens = ?, cost_micros = ?, "
            "cost_complete = ?, completed_at = ?, completed_day = ?, duration_ms = ? - started_at "
            "WHERE run_id = ? AND completed_at IS NULL"));
        if (q) {
            q->bindValue(0, string(d, "stop_reason"));
            q->bindValue(1, integer(d, "proposed"));
            q->bindValue(2, integer(d, "approved"));
            q->bindValue(3, integer(d, "denied"));
            q->bindValue(4, integer(d, "executed"));
            q->bindValue(5, integer(d, "failed"));
            q->bindValue(6, integer(d, "steps"));
            q->bindValue(7, integer(d, "input_tokens"));
            q->bindValue(8, integer(d, "output_tokens"));
            q->bindValue(9, integer(d, "cache_write_tokens"));
            q->bindValue(10, integer(d, "cache_read_tokens"));
            q->bindValue(11, nullableInteger(d.value(QLatin1String("cost_micros"))));
            q->bindValue(12, d.value(QLatin1String("cost_complete")).toBool(true) ? 1 : 0);
            q->bindValue(13, at);
            q->bindValue(14, day);
            q->bindValue(15, at);
            q->bindValue(16, runId);
        }
        if (const Status done = exec(q, tr("Recording the end of run \"%1\"").arg(runId)); !done)
            return done;
        if (q->numRowsAffected() != 1)
            return fail(QStringLiteral("store.transition"),
                        tr("Run \"%1\" is unknown or already finished.").arg(runId));
        QSqlQuery* roll = statement(AuditRollups::accumulateSql(
            AuditRollups::def(AuditRollups::RunDuration), QStringLiteral("run_id = ?")));
        if (roll)
            roll->bindValue(0, runId);
        return exec(roll, tr("Updating the dashboard sums"));
    }
    case Kind::CallProposed: {
        QSqlQuery* q = statement(QStringLiteral(
            "INSERT INTO tool_calls (run_id, request_id, step, tool_name, scope, status, "
            "args_proposed_json, proposed_at, proposed_day, updated_at) VALUES (?, ?, ?, ?, ?, "
            "'proposed', ?, ?, ?, ?)"));
        if (q) {
            bindCall(q, 0);
            q->bindValue(2, integer(d, "step"));
            q->bindValue(3, string(d, "tool"));
            q->bindValue(4, string(d, "scope"));
            q->bindValue(5, json(d.value(QLatin1String("arguments")).toObject()));
            q->bindValue(6, at);
            q->bindValue(7, day);
            q->bindValue(8, at);
        }
        if (const Status done = exec(q, tr("Recording the proposal \"%1\"").arg(requestId)); !done)
            return done;
        if (const Status rolled = rollCall(false); !rolled)
            return rolled;
        return bumpRun("calls_proposed");
    }
    case Kind::PolicyChecked: {
        QSqlQuery* q = statement(QStringLiteral(
            "UPDATE tool_calls SET policy_decision = ?, policy_reason = ?, policy_code = ?, "
            "policy_source = ?, policy_rule = ?, policy_rule_file = ?, policy_checked_at = ?, "
            "updated_at = ? WHERE run_id = ? AND request_id = ? AND status = 'proposed'"));
        if (q) {
            q->bindValue(0, string(d, "decision"));
            q->bindValue(1, text(string(d, "reason")));
            q->bindValue(2, text(string(d, "code")));
            q->bindValue(3, text(string(d, "source")));
            q->bindValue(4, text(string(d, "rule")));
            q->bindValue(5, text(string(d, "rule_file")));
            q->bindValue(6, at);
            q->bindValue(7, at);
            bindCall(q, 8);
        }
        return execOne(q, event, tr("Recording the policy decision"));
    }
    case Kind::CallApproved:
    case Kind::CallDenied: {
        const bool approved = event.kind == Kind::CallApproved;
        QSqlQuery* q = statement(QStringLiteral(
            "UPDATE tool_calls SET status = ?, approver_kind = ?, approver = ?, token_jti = ?, "
            "args_edited_json = ?, decision_reason = ?, decided_at = ?, updated_at = ?, "
            "decision_ms = ?, args_seen_whole = ?, decided_in_batch = ?, decided_by = ? WHERE "
            "run_id = ? AND request_id = ? AND status = 'proposed'"));
        if (q) {
            q->bindValue(0, approved ? QStringLiteral("approved") : QStringLiteral("denied"));
            // "none" (no one could decide) is in the event; the column names only those who
            // decided (person, rule, token, auto), so such a denial keeps it NULL.
            const QString kind = string(d, "approver_kind");
            q->bindValue(1, text(kind == QLatin1String("none") ? QString() : kind));
            q->bindValue(2, text(string(d, "approver")));
            q->bindValue(3, text(string(d, "jti")));
            q->bindValue(4, d.contains(QLatin1String("edited_arguments"))
                                ? QVariant(json(d.value(QLatin1String("edited_arguments"))))
                                : QVariant(QMetaType::fromType<QString>()));
            q->bindValue(5, text(string(d, "reason")));
            q->bindValue(6, at);
            q->bindValue(7, at);
            q->bindValue(8, nullableInteger(d.value(QLatin1String("decision_ms"))));
            q->bindValue(9, nullableFlag(d.value(QLatin1String("args_seen_whole"))));
            q->bindValue(10, nullableFlag(d.value(QLatin1String("batch"))));
            q->bindValue(11, text(string(d, "decided_by")));
            bindCall(q, 12);
        }
        if (const Status done = transition(q, approved ? tr("Approval") : tr("Denial")); !done)
            return done;
        return bumpRun(approved ? "calls_approved" : "calls_denied");
    }
    case Kind::CallExecuted:
    case Kind::CallFailed: {
        const bool executed = event.kind == Kind::CallExecuted;
        QSqlQuery* q = statement(QStringLiteral(
            "UPDATE tool_calls SET status = ?, args_executed_json = ?, output = ?, output_size = "
            "?, "
            "output_sha256 = ?, output_truncated = ?, error = ?, executed_at = ?, "
            "exec_duration_ms = ?, updated_at = ? WHERE run_id = ? AND request_id = ? AND status "
            "= 'approved'"));
        if (q) {
            q->bindValue(0, executed ? QStringLiteral("executed") : QStringLiteral("failed"));
            q->bindValue(1, json(d.value(QLatin1String("arguments")).toObject()));
            q->bindValue(2, string(d, "output"));
            q->bindValue(3, integer(d, "output_size"));
            q->bindValue(4, string(d, "output_sha256"));
            q->bindValue(5, d.value(QLatin1String("output_truncated")).toBool() ? 1 : 0);
            q->bindValue(6, text(string(d, "error")));
            q->bindValue(7, at);
            q->bindValue(8, integer(d, "duration_ms"));
            q->bindValue(9, at);
            bindCall(q, 10);
        }
        if (const Status done = transition(q, executed ? tr("Recording the execution")
                                                       : tr("Recording the failure"));
            !done)
            return done;
        return bumpRun(executed ? "calls_executed" : "calls_failed");
    }
    case Kind::CallExpired:
    case Kind::CallCancelled: {
        QSqlQuery* q = statement(QStringLiteral(
            "UPDATE tool_calls SET status = ?, decision_reason = ?, decided_at = ?, updated_at = ? "
            "WHERE run_id = ? AND request_id = ? AND status IN ('proposed', 'approved')"));
        if (q) {
            q->bindValue(0, event.kind == Kind::CallExpired ? QStringLiteral("expired")
                                                            : QStringLiteral("cancelled"));
            q->bindValue(1, text(string(d, "reason")));
            q->bindValue(2, at);
            q->bindValue(3, at);
            bindCall(q, 4);
        }
        return transition(q, AuditEvent::kindName(event.kind));
    }
    case Kind::ApiCall: {
        // A run counts once per day and model in the cost rollup: only its first call there adds
        // it (asked before the insert, on the run's index).
        QSqlQuery* seen = statement(QStringLiteral(
            "SELECT count(*) FROM api_calls WHERE run_id = ? AND day = ? AND model = ?"));
        if (seen) {
            seen->bindValue(0, runId);
            seen->bindValue(1, day);
            seen->bindValue(2, string(d, "model"));
        }
        if (const Status done = exec(seen, tr("Recording an API call")); !done)
            return done;
        const bool newRun = seen->next() && seen->value(0).toLongLong() == 0;
        seen->finish();
        QSqlQuery* q = statement(QStringLiteral(
            "INSERT INTO api_calls (run_id, model, request_id, attempt, input_tokens, "
            "output_tokens, cache_write_tokens, cache_read_tokens, cost_micros, latency_ms, "
            "http_status, error_type, at, day) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
        const QJsonValue cost = d.value(QLatin1String("cost_micros"));
        if (q) {
            q->bindValue(0, runId);
            q->bindValue(1, string(d, "model"));
            q->bindValue(2, text(string(d, "request_id")));
            q->bindValue(3, integer(d, "attempt"));
            q->bindValue(4, integer(d, "input_tokens"));
            q->bindValue(5, integer(d, "output_tokens"));
            q->bindValue(6, integer(d, "cache_write_tokens"));
            q->bindValue(7, integer(d, "cache_read_tokens"));
            q->bindValue(8, nullableInteger(cost));
            q->bindValue(9, integer(d, "latency_ms"));
            q->bindValue(10, integer(d, "http_status"));
            q->bindValue(11, text(string(d, "error_type")));
            q->bindValue(12, at);
            q->bindValue(13, day);
        }
        if (const Status done = exec(q, tr("Recording an API call")); !done)
            return done;
        QSqlQuery* hour = statement(QStringLiteral(
            "INSERT INTO rollup_api_hour (hour_num, calls, errors) VALUES (?, 1, ?) ON CONFLICT "
            "(hour_num) DO UPDATE SET calls = rollup_api_hour.calls + 1, errors = "
            "rollup_api_hour.errors + excluded.errors"));
        if (hour) {
            hour->bindValue(0, at / 3600000);
            hour->bindValue(1, string(d, "error_type").isEmpty() ? 0 : 1);
        }
        if (const Status done = exec(hour, tr("Updating the dashboard sums")); !done)
            return done;
        QSqlQuery* usage = statement(QStringLiteral(
            "INSERT INTO rollup_api_day (day, model, runs, api_calls, input_tokens, output_tokens, "
            "cache_write_tokens, cache_read_tokens, cost_micros, unpriced_calls) VALUES (?, ?, ?, "
            "1, ?, ?, ?, ?, ?, ?) ON CONFLICT (day, model) DO UPDATE SET runs = "
            "rollup_api_day.runs + excluded.runs, api_calls = rollup_api_day.api_calls + 1, "
            "input_tokens = rollup_api_day.input_tokens + excluded.input_tokens, output_tokens = "
            "rollup_api_day.output_tokens + excluded.output_tokens, cache_write_tokens = "
            "rollup_api_day.cache_write_tokens + excluded.cache_write_tokens, cache_read_tokens = "
            "rollup_api_day.cache_read_tokens + excluded.cache_read_tokens, cost_micros = "
            "rollup_api_day.cost_micros + excluded.cost_micros, unpriced_calls = "
            "rollup_api_day.unpriced_calls + excluded.unpriced_calls"));
        if (usage) {
            int i = 0;
            usage->bindValue(i++, day);
            usage->bindValue(i++, string(d, "model"));
            usage->bindValue(i++, newRun ? 1 : 0);
            usage->bindValue(i++, integer(d, "input_tokens"));
            usage->bindValue(i++, integer(d, "output_tokens"));
            usage->bindValue(i++, integer(d, "cache_write_tokens"));
            usage->bindValue(i++, integer(d, "cache_read_tokens"));
            usage->bindValue(i++, cost.isDouble() ? cost.toInteger() : 0);
            usage->bindValue(i++, cost.isDouble() ? 0 : 1);
        }
        if (const Status done = exec(usage, tr("Updating the dashboard sums")); !done)
            return done;
        QSqlQuery* totals = statement(
            cost.isDouble()
                ? QStringLiteral("UPDATE runs SET input_tokens = input_tokens + ?, output_tokens = "
                                 "output_tokens + ?, cache_write_tokens = cache_write_tokens + ?, "
                                 "cache_read_tokens = cache_read_tokens + ?, cost_micros = "
                                 "coalesce(cost_micros, 0) + ? WHERE run_id = ?")
                : QStringLiteral("UPDATE runs SET input_tokens = input_tokens + ?, output_tokens = "
                                 "output_tokens + ?, cache_write_tokens = cache_write_tokens + ?, "
                                 "cache_read_tokens = cache_read_tokens + ?, cost_complete = 0 "
                                 "WHERE run_id = ?"));
        if (totals) {
            int i = 0;
            totals->bindValue(i++, integer(d, "input_tokens"));
            totals->bindValue(i++, integer(d, "output_tokens"));
            totals->bindValue(i++, integer(d, "cache_write_tokens"));
            totals->bindValue(i++, integer(d, "cache_read_tokens"));
            if (cost.isDouble())
                totals->bindValue(i++, cost.toInteger());
            totals->bindValue(i, runId);
        }
        return exec(totals, tr("Adding the API call to its run"));
    }
    case Kind::AlertRaised: {
        QSqlQuery* q = statement(QStringLiteral(
            "INSERT INTO alerts (alert_id, raised_at, raised_day, category, level, message, "
            "run_id, details_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
        if (q) {
            q->bindValue(0, requestId);
            q->bindValue(1, at);
            q->bindValue(2, day);
            q->bindValue(3, string(d, "category"));
            q->bindValue(4, string(d, "level"));
            q->bindValue(5, string(d, "message"));
            q->bindValue(6, text(string(d, "run_id")));
            q->bindValue(7, text(json(d.value(QLatin1String("details")))));
        }
        return exec(q, tr("Recording an alert"));
    }
    case Kind::AlertResolved: {
        QSqlQuery* q = statement(QStringLiteral(
            "UPDATE alerts SET resolved_at = ?, resolution_note = ? WHERE alert_id = ? AND "
            "resolved_at IS NULL"));
        if (q) {
            q->bindValue(0, at);
            q->bindValue(1, text(string(d, "note")));
            q->bindValue(2, requestId);
        }
        return execOne(q, event, tr("Resolving the alert"));
    }
    }
    return fail(QStringLiteral("store.write"), tr("Unknown audit event kind."));
}

Result<qint64> AuditWriterWorker::setSqliteMaxPageCount(qint64 pages) {
    if (!m_config.dialect.isSqlite())
        return fail(QStringLiteral("store.unsupported"),
                    tr("A page limit exists only for SQLite audit databases."));
    if (!m_connection)
        return fail(QStringLiteral("store.open"), tr("The audit writer has no connection."));
    QSqlQuery query(m_connection->database());
    if (!query.exec(QStringLiteral("PRAGMA max_page_count = %1").arg(pages)) || !query.next())
        return std::unexpected(m_config.dialect.toError(
            query.lastError(), QStringLiteral("store.write"), tr("Setting the page limit")));
    return query.value(0).toLongLong();
}

} // namespace m1
