#include "store/SchemaMigrations.h"

#include "store/AuditRollups.h"

#include <QDateTime>
#include <QSqlDatabase>
#include <QSqlQuery>

namespace m1 {

namespace {

// Migration 1: the initial schema. Conventions: times are integer milliseconds since the epoch
// (UTC); *_day columns are the UTC day number (time / 86400000) so dashboards group by day with an
// integer column on both dialects; money is integer micro-dollars (NULL when unknown); flags are
// INTEGER 0/1 (PostgreSQL's BOOLEAN does not accept 0/1 literals); JSON is TEXT.
const char* const kMigration1[] = {
    R"(CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        agent TEXT NOT NULL DEFAULT '',
        goal TEXT NOT NULL DEFAULT '',
        constraints_json TEXT,
        model TEXT NOT NULL DEFAULT '',
        provider TEXT NOT NULL DEFAULT '',
        workspace TEXT NOT NULL DEFAULT '',
        dry_run INTEGER NOT NULL DEFAULT 0 CHECK (dry_run IN (0, 1)),
        plan_json TEXT,
        stop_reason TEXT,
        calls_proposed INTEGER NOT NULL DEFAULT 0,
        calls_approved INTEGER NOT NULL DEFAULT 0,
        calls_denied INTEGER NOT NULL DEFAULT 0,
        calls_executed INTEGER NOT NULL DEFAULT 0,
        calls_failed INTEGER NOT NULL DEFAULT 0,
        steps INTEGER NOT NULL DEFAULT 0,
        input_tokens BIGINT NOT NULL DEFAULT 0,
        output_tokens BIGINT NOT NULL DEFAULT 0,
        cache_write_tokens BIGINT NOT NULL DEFAULT 0,
        cache_read_tokens BIGINT NOT NULL DEFAULT 0,
        cost_micros BIGINT,
        cost_complete INTEGER NOT NULL DEFAULT 1 CHECK (cost_complete IN (0, 1)),
        started_at BIGINT NOT NULL,
        started_day INTEGER NOT NULL,
        completed_at BIGINT,
        completed_day INTEGER,
        duration_ms BIGINT
    ))",
    "CREATE INDEX runs_agent_started ON runs (agent, started_at)",
    "CREATE INDEX runs_started ON runs (started_at)",
    "CREATE INDEX runs_day_model ON runs (started_day, model)",
    "CREATE INDEX runs_model_started ON runs (model, started_at)",
    "CREATE INDEX runs_stop_reason ON runs (stop_reason, started_at)",
    "CREATE INDEX runs_completed ON runs (completed_at)",

    R"(CREATE TABLE tool_calls (
        id {ID},
        run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
        request_id TEXT NOT NULL,
        step INTEGER NOT NULL DEFAULT 0,
        tool_name TEXT NOT NULL,
        scope TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL CHECK (status IN ('proposed', 'approved', 'denied', 'executed',
                                               'failed', 'expired', 'cancelled')),
        args_proposed_json TEXT NOT NULL,
        args_edited_json TEXT,
        args_executed_json TEXT,
        output TEXT,
        output_size BIGINT,
        output_sha256 TEXT,
        output_truncated INTEGER NOT NULL DEFAULT 0 CHECK (output_truncated IN (0, 1)),
        error TEXT,
        policy_decision TEXT CHECK (policy_decision IN ('allow', 'ask', 'deny')),
        policy_reason TEXT,
        policy_code TEXT,
        policy_source TEXT,
        policy_rule TEXT,
        policy_rule_file TEXT,
        approver_kind TEXT CHECK (approver_kind IN ('person', 'rule', 'token', 'auto')),
        approver TEXT,
        decision_reason TEXT,
        token_jti TEXT,
        proposed_at BIGINT NOT NULL,
        proposed_day INTEGER NOT NULL,
        policy_checked_at BIGINT,
        decided_at BIGINT,
        executed_at BIGINT,
        exec_duration_ms BIGINT,
        updated_at BIGINT NOT NULL,
        UNIQUE (run_id, request_id)
    ))",
    "CREATE INDEX tool_calls_tool ON tool_calls (tool_name, proposed_at)",
    "CREATE INDEX tool_calls_status ON tool_calls (status, proposed_at)",
    "CREATE INDEX tool_calls_day ON tool_calls (proposed_day, status)",
    "CREATE INDEX tool_calls_proposed ON tool_calls (proposed_at)",
    "CREATE INDEX tool_calls_jti ON tool_calls (token_jti)",

    R"(CREATE TABLE api_calls (
        id {ID},
        run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
        model TEXT NOT NULL DEFAULT '',
        request_id TEXT,
        attempt INTEGER NOT NULL DEFAULT 1,
        input_tokens BIGINT NOT NULL DEFAULT 0,
        output_tokens BIGINT NOT NULL DEFAULT 0,
        cache_write_tokens BIGINT NOT NULL DEFAULT 0,
        cache_read_tokens BIGINT NOT NULL DEFAULT 0,
        cost_micros BIGINT,
        latency_ms BIGINT,
        http_status INTEGER,
        error_type TEXT,
        at BIGINT NOT NULL,
        day INTEGER NOT NULL
    ))",
    "CREATE INDEX api_calls_run ON api_calls (run_id, at)",
    "CREATE INDEX api_calls_day_model ON api_calls (day, model)",
    "CREATE INDEX api_calls_at ON api_calls (at)",

    R"(CREATE TABLE alerts (
        alert_id TEXT PRIMARY KEY,
        raised_at BIGINT NOT NULL,
        raised_day INTEGER NOT NULL,
        category TEXT NOT NULL,
        level TEXT NOT NULL CHECK (level IN ('info', 'warning', 'critical')),
        message TEXT NOT NULL,
        run_id TEXT,
        details_json TEXT,
        resolved_at BIGINT,
        resolution_note TEXT
    ))",
    "CREATE INDEX alerts_raised ON alerts (raised_at)",
    "CREATE INDEX alerts_run ON alerts (run_id)",
    "CREATE INDEX alerts_open ON alerts (resolved_at, level)",

    // Append-only: one row per transition, hash-chained (see AuditChain). The projections above
    // are updated in the same transaction as the event row.
    R"(CREATE TABLE audit_events (
        seq BIGINT PRIMARY KEY,
        at BIGINT NOT NULL,
        kind TEXT NOT NULL,
        run_id TEXT,
        request_id TEXT,
        payload_json TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    ))",
    "CREATE INDEX audit_events_run ON audit_events (run_id, seq)",
    "CREATE INDEX audit_events_at ON audit_events (at)",

    // One row: the end of the chain. Writers lock it (PostgreSQL: FOR UPDATE) before appending,
    // and verify compares the walk with it, which is how an emptied or cut table is noticed.
    R"(CREATE TABLE chain_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        last_seq BIGINT NOT NULL,
        last_hash TEXT NOT NULL,
        updated_at BIGINT NOT NULL
    ))",
    "INSERT INTO chain_head (id, last_seq, last_hash, updated_at) VALUES (1, 0, "
    "'0000000000000000000000000000000000000000000000000000000000000000', 0)",

    // One row once the store was pruned: where the kept chain starts.
    R"(CREATE TABLE chain_anchor (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        first_seq BIGINT NOT NULL,
        prev_hash TEXT NOT NULL,
        pruned_at BIGINT NOT NULL,
        pruned_events BIGINT NOT NULL
    ))",

    // The same definition as the standalone TokenLedger file, so the ledger can move here.
    R"(CREATE TABLE token_ledger (
        jti TEXT PRIMARY KEY,
        state TEXT NOT NULL CHECK (state IN ('consumed', 'revoked')),
        expires_at BIGINT NOT NULL,
        recorded_at BIGINT NOT NULL
    ))",
    "CREATE INDEX token_ledger_expires ON token_ledger (expires_at)",
};

// Migration 2: covering indexes for the dashboards (m1-bench query_*). Each holds every column
// its dashboard reads for a date range, so the range scan never visits the wide table rows
// (arguments, outputs, JSON) and the percentile window sorts only index entries.
const char* const kMigration2[] = {
    "CREATE INDEX runs_started_outcome ON runs (started_at, stop_reason, duration_ms)",
    "CREATE INDEX tool_calls_proposed_outcome ON tool_calls (proposed_at, tool_name, status, "
    "exec_duration_ms)",
    "CREATE INDEX tool_calls_proposed_decision ON tool_calls (proposed_at, approver_kind, status, "
    "decided_at)",
    "CREATE INDEX api_calls_day_usage ON api_calls (day, model, run_id, input_tokens, "
    "output_tokens, cache_write_tokens, cache_read_tokens, cost_micros)",
    "CREATE INDEX api_calls_at_error ON api_calls (at, error_type)",
};

// Migration 4: the evidence of each decision (SBX-27), for tuning the prompts: how long the person
// took, whether the whole argv / argument text was scrolled into view, whether it was decided with
// "approve all" / "deny all" of one message, and the login name of the person. NULL where no person
// was shown a prompt, and for rows written before this migration (nothing to recover them from).
// The index serves the approval rate per scope: the prompts (policy "ask") of a time range, read
// from index entries only.
const char* const kMigration4[] = {
    "ALTER TABLE tool_calls ADD COLUMN decision_ms BIGINT",
    "ALTER TABLE tool_calls ADD COLUMN args_seen_whole INTEGER CHECK (args_seen_whole IN (0, 1))",
    "ALTER TABLE tool_calls ADD COLUMN decided_in_batch INTEGER CHECK (decided_in_batch IN (0, "
    "1))",
    "ALTER TABLE tool_calls ADD COLUMN decided_by TEXT",
    "CREATE INDEX tool_calls_prompts ON tool_calls (policy_decision, proposed_at, scope, status, "
    "approver_kind, decision_ms, args_seen_whole, decided_in_batch)",
};

// Migration 5: an index for every column the history can be sorted by (AuditQueries::HistorySort;
// agent and model use the indexes of migration 1), each with started_at for the ties, so a sorted
// page is an index seek on 100 000 runs; the expressions are the ones the query orders by. And
// api_calls (day, latency_ms, at) for the API latency percentiles per day (counts and probes
// read only this index).
const char* const kMigration5[] = {
    "CREATE INDEX runs_sort_stop_reason ON runs ((coalesce(stop_reason, 'running')), started_at)",
    "CREATE INDEX runs_sort_steps ON runs (steps, started_at)",
    "CREATE INDEX runs_sort_calls ON runs (calls_proposed, started_at)",
    "CREATE INDEX runs_sort_tokens ON runs ((input_tokens + output_tokens), started_at)",
    "CREATE INDEX runs_sort_cost ON runs ((coalesce(cost_micros, -1)), started_at)",
    "CREATE INDEX runs_sort_duration ON runs ((coalesce(duration_ms, -1)), started_at)",
    "CREATE INDEX api_calls_day_latency ON api_calls (day, latency_ms, at)",
};

QStringList toList(const char* const* begin, const char* const* end, const SqlDialect& dialect) {
    QStringList result;
    for (auto it = begin; it != end; ++it)
        result.append(dialect.expand(QString::fromUtf8(*it)));
    return result;
}

} // namespace

int SchemaMigrations::latestVersion() {
    return 5;
}

QStringList SchemaMigrations::statements(int version, const SqlDialect& dialect) {
    switch (version) {
    case 1:
        return toList(std::begin(kMigration1), std::end(kMigration1), dialect);
    case 2:
        return toList(std::begin(kMigration2), std::end(kMigration2), dialect);
    case 3:
        // Migration 3: the dashboard rollups, their probe indexes and the backfill from the rows
        // already stored (see AuditRollups).
        return AuditRollups::migrationStatements(dialect);
    case 4:
        return toList(std::begin(kMigration4), std::end(kMigration4), dialect);
    case 5:
        return toList(std::begin(kMigration5), std::end(kMigration5), dialect);
    default:
        return {};
    }
}

Result<int> SchemaMigrations::currentVersion(const QString& connectionName,
                                             const SqlDialect& dialect) {
    QSqlDatabase db = QSqlDatabase::database(connectionName, false);
    QSqlQuery query(db);
    const QString exists =
        dialect.isSqlite()
            ? QStringLiteral("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
                             "'schema_version'")
            : QStringLiteral("SELECT count(*) FROM information_schema.tables WHERE table_schema "
                             "= current_schema() AND table_name = 'schema_version'");
    if (!query.exec(exists) || !query.next())
        return std::unexpected(
            dialect.toError(query.lastError(), QStringLiteral("store.open"),
                            tr("Reading the schema version of the audit database")));
    if (query.value(0).toInt() == 0)
        return 0;
    if (!query.exec(QStringLiteral("SELECT max(version) FROM schema_version")) || !query.next())
        return std::unexpected(
            dialect.toError(query.lastError(), QStringLiteral("store.open"),
                            tr("Reading the schema version of the audit database")));
    return query.value(0).toInt();
}

Error SchemaMigrations::newerError(int version, const QString& location) {
    return Error{QStringLiteral("store.schema_newer"),
                 tr("The audit database %1 was written by a newer M1 Agent Control (schema "
                    "version %2); this program knows up to version %3. It was not changed; update "
                    "M1 Agent Control or point the store at another file.")
                     .arg(location)
                     .arg(version)
                     .arg(latestVersion())};
}

Status SchemaMigrations::requireLatest(int version, const QString& location) {
    if (version > latestVersion())
        return std::unexpected(newerError(version, location));
    if (version < latestVersion())
        return fail(QStringLiteral("store.schema_old"),
                    tr("The audit database %1 has schema version %2 but this program needs %3; "
                       "open it read-write once so it can be upgraded.")
                        .arg(location)
                        .arg(version)
                        .arg(latestVersion()));
    return {};
}

Status SchemaMigrations::migrate(const QString& connectionName, const SqlDialect& dialect) {
    QSqlDatabase db = QSqlDatabase::database(connectionName, false);
    const QString location = db.databaseName();
    for (;;) {
        // Read outside a transaction first: a newer database must see no write at all.
        auto version = currentVersion(connectionName, dialect);
        if (!version)
            return std::unexpected(version.error());
        if (*version > latestVersion())
            return std::unexpected(newerError(*version, location));
        if (*version == latestVersion())
            return {};

        QSqlQuery query(db);
        auto failWith = [&](const QString& what) -> Status {
            const Error error =
                dialect.toError(query.lastError(), QStringLiteral("store.migrate"), what);
            QSqlQuery(db).exec(QStringLiteral("ROLLBACK"));
            return std::unexpected(error);
        };
        if (!query.exec(dialect.beginWrite()))
            return failWith(tr("Starting the schema upgrade"));
        if (const QString lock = dialect.migrationLock(); !lock.isEmpty() && !query.exec(lock))
            return failWith(tr("Locking the schema upgrade"));
        if (!query.exec(QStringLiteral("CREATE TABLE IF NOT EXISTS schema_version (version "
                                       "INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)")))
            return failWith(tr("Creating the schema_version table"));
        // Another process may have migrated while this one waited for the lock.
        if (!query.exec(QStringLiteral("SELECT coalesce(max(version), 0) FROM schema_version")) ||
            !query.next())
            return failWith(tr("Reading the schema version"));
        const int current = query.value(0).toInt();
        query.finish();
        if (current > latestVersion()) {
            QSqlQuery(db).exec(QStringLiteral("ROLLBACK"));
            return std::unexpected(newerError(current, location));
        }
        if (current < latestVersion()) {
            const int next = current + 1;
            for (const QString& statement : statements(next, dialect)) {
                if (!query.exec(statement))
                    return failWith(tr("Schema upgrade to version %1").arg(next));
            }
            query.prepare(
                QStringLiteral("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)"));
            query.addBindValue(next);
            query.addBindValue(QDateTime::currentMSecsSinceEpoch());
            if (!query.exec())
                return failWith(tr("Recording schema version %1").arg(next));
        }
        if (!query.exec(QStringLiteral("COMMIT")))
            return failWith(tr("Committing the schema upgrade"));
    }
}

} // namespace m1
