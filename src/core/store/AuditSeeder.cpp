#include "store/AuditSeeder.h"

#include "store/AuditChain.h"
#include "store/AuditEvent.h"
#include "store/AuditRollups.h"
#include "store/AuditStore.h"
#include "util/Sha256.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QSqlError>
#include <QSqlQuery>

#include <array>
#include <memory>
#include <random>

namespace m1 {

namespace {

constexpr qint64 kMsPerDay = 86400000;

struct Family {
    const char* name;
    qint64 inputMicrosPerToken; // = USD per million tokens
    qint64 outputMicrosPerToken;
};

constexpr std::array<Family, 4> kPrices{{
    {"opus", 15, 75},
    {"sonnet", 3, 15},
    {"haiku", 1, 5},
    {"fable", 5, 25},
}};

struct ToolKind {
    const char* name;
    const char* scope;
    qint64 typicalMs;
};

constexpr std::array<ToolKind, 7> kTools{{
    {"read_file", "read", 4},
    {"list_directory", "read", 3},
    {"search_files", "read", 40},
    {"write_file", "write", 8},
    {"edit_file", "write", 10},
    {"run_command", "execute", 2500},
    {"read_file", "read", 4},
}};

const char* const kAgents[] = {"code-fixer", "doc-writer", "test-runner",
                               "refactorer", "reviewer",   "release-bot"};

const char* const kGoals[] = {
    "fix the failing test in src/%1",
    "update the documentation of %1",
    "add unit tests for %1",
    "refactor %1 into smaller functions",
    "review the changes to %1 and list the risks",
    "bump the version and write the changelog for %1",
    "find why %1 is slow, \"profile\" it, and fix it",
};

const char* const kModules[] = {"parser", "network", "store", "ui/history", "policy",
                                "tokens", "cli",     "llm",   "run",        "monitoring"};

const char* const kDefaultModels[] = {"claude-sonnet-4-6", "claude-opus-4-8", "claude-haiku-4-5",
                                      "claude-sonnet-5-5", "claude-mythos-5-1"};

// Stop reasons of finished runs with their weight (per 100).
struct Weighted {
    const char* value;
    int weight;
};
constexpr std::array<Weighted, 11> kStopReasons{{
    {"completed", 70},
    {"api_error", 5},
    {"audit_failed", 1},
    {"user_cancelled", 6},
    {"max_steps", 5},
    {"max_tool_calls", 4},
    {"max_runtime", 3},
    {"budget_exceeded", 2},
    {"max_tokens", 2},
    {"context_exhausted", 1},
    {"provider_refused", 1},
}};
constexpr std::array<Weighted, 5> kStatuses{{
    {"executed", 74},
    {"failed", 8},
    {"denied", 12},
    {"expired", 3},
    {"cancelled", 3},
}};
constexpr std::array<Weighted, 4> kApprovers{{
    {"auto", 50},
    {"rule", 20},
    {"person", 25},
    {"token", 5},
}};

template <size_t N>
const char* pick(const std::array<Weighted, N>& table, quint64 roll) {
    int r = static_cast<int>(roll % 100);
    for (const Weighted& w : table) {
        if (r < w.weight)
            return w.value;
        r -= w.weight;
    }
    return table.front().value;
}

QVariant nullText() {
    return QVariant(QMetaType::fromType<QString>());
}

QVariant nullInt() {
    return QVariant(QMetaType::fromType<qint64>());
}

// Arguments of the shape each tool takes (canonical JSON: keys sorted, no spaces).
QString seededArguments(const char* tool, int call) {
    const QLatin1String name(tool);
    if (name == QLatin1String("run_command"))
        return QStringLiteral("{\"argv\":[\"make\",\"test-%1\"]}").arg(call);
    if (name == QLatin1String("list_directory"))
        return QStringLiteral("{\"path\":\"src\"}");
    if (name == QLatin1String("search_files"))
        return QStringLiteral("{\"pattern\":\"TODO %1\"}").arg(call);
    if (name == QLatin1String("write_file"))
        return QStringLiteral("{\"content\":\"// part %1\\n\",\"path\":\"src/%1.cpp\"}").arg(call);
    if (name == QLatin1String("edit_file"))
        return QStringLiteral(
                   "{\"new_string\":\"fixed\",\"old_string\":\"broken\",\"path\":\"src/%1.cpp\"}")
            .arg(call);
    return QStringLiteral("{\"path\":\"src/%1.cpp\"}").arg(call);
}

QString compact(const QJsonObject& object) {
    return QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact));
}

struct Statements {
    std::unique_ptr<QSqlQuery> run;
    std::unique_ptr<QSqlQuery> call;
    std::unique_ptr<QSqlQuery> api;
    std::unique_ptr<QSqlQuery> event;
};

} // namespace

std::optional<qint64> AuditSeeder::costMicros(const QString& model, qint64 inputTokens,
                                              qint64 outputTokens, qint64 cacheWriteTokens,
                                              qint64 cacheReadTokens) {
    for (const Family& family : kPrices) {
        if (!model.contains(QLatin1String(family.name)))
            continue;
        const qint64 in = family.inputMicrosPerToken;
        // In hundredths of a micro-dollar, so the 1.25x and 0.1x cache factors stay exact.
        const qint64 hundredths =
            100 * (inputTokens * in + outputTokens * family.outputMicrosPerToken) +
            cacheWriteTokens * in * 125 + cacheReadTokens * in * 10;
        return (hundredths + 50) / 100;
    }
    return std::nullopt;
}

Result<AuditSeeder::Report> AuditSeeder::seed(const AuditStore& store, const Options& options) {
    if (options.runs < 0 || options.callsPerRun < 0 || options.callsPerRun > 100000 ||
        options.runsPerCommit < 1 || options.spanDays < 1)
        return fail(QStringLiteral("seed.options"),
                    tr("Seeding needs a run count >= 0 and 0 to 100000 calls per run."));
    const QSqlDatabase db = QSqlDatabase::database(store.connectionName(), false);
    const SqlDialect& dialect = store.dialect();
    const qint64 now = options.nowMs < 0 ? QDateTime::currentMSecsSinceEpoch() : options.nowMs;
    QStringList models = options.models;
    if (models.isEmpty()) {
        for (const char* model : kDefaultModels)
            models.append(QString::fromLatin1(model));
    }

    // Synthetic history needs no power-loss durability, and a large page cache keeps the index
    // pages in memory between the big transactions: both only for this connection, restored
    // below. An application crash mid-seed still leaves a sound database (WAL).
    struct SqliteTuning {
        QSqlDatabase db;
        bool active = false;
        ~SqliteTuning() {
            if (!active)
                return;
            QSqlQuery q(db);
            q.exec(QStringLiteral("PRAGMA cache_size = -2000"));
            q.exec(QStringLiteral("PRAGMA synchronous = FULL"));
        }
    } tuning{db, dialect.isSqlite()};
    if (tuning.active) {
        QSqlQuery q(db);
        q.exec(QStringLiteral("PRAGMA synchronous = OFF"));
        q.exec(QStringLiteral("PRAGMA cache_size = -262144"));
    }

    Statements st;
    st.run = std::make_unique<QSqlQuery>(db);
    st.call = std::make_unique<QSqlQuery>(db);
    st.api = std::make_unique<QSqlQuery>(db);
    st.event = std::make_unique<QSqlQuery>(db);
    const auto sqlError = [&](const QSqlQuery& q, const QString& what) {
        QSqlQuery(db).exec(QStringLiteral("ROLLBACK"));
        return std::unexpected(dialect.toError(q.lastError(), QStringLiteral("store.write"), what));
    };
    if (!st.run->prepare(QStringLiteral(
            "INSERT INTO runs (run_id, agent, goal, constraints_json, model, provider, workspace, "
            "dry_run, stop_reason, calls_proposed, calls_approved, calls_denied, calls_executed, "
            "calls_failed, steps, input_tokens, output_tokens, cache_write_tokens, "
            "cache_read_tokens, cost_micros, cost_complete, started_at, started_day, "
            "completed_at, completed_day, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")))
        return sqlError(*st.run, tr("Preparing the seeded runs"));
    if (!st.call->prepare(QStringLiteral(
            "INSERT INTO tool_calls (run_id, request_id, step, tool_name, scope, status, "
            "args_proposed_json, args_executed_json, output, output_size, output_sha256, error, "
            "policy_decision, policy_reason, policy_source, approver_kind, approver, "
            "decision_reason, token_jti, proposed_at, proposed_day, policy_checked_at, "
            "decided_at, executed_at, exec_duration_ms, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")))
        return sqlError(*st.call, tr("Preparing the seeded tool calls"));
    if (!st.api->prepare(QStringLiteral(
            "INSERT INTO api_calls (run_id, model, request_id, attempt, input_tokens, "
            "output_tokens, cache_write_tokens, cache_read_tokens, cost_micros, latency_ms, "
            "http_status, error_type, at, day) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")))
        return sqlError(*st.api, tr("Preparing the seeded API calls"));
    if (!st.event->prepare(QStringLiteral(
            "INSERT INTO audit_events (seq, at, kind, run_id, request_id, payload_json, "
            "prev_hash, hash) VALUES (?, ?, ?, ?, NULL, ?, ?, ?)")))
        return sqlError(*st.event, tr("Preparing the seeded events"));

    // A few fixed outputs: their hashes are computed once.
    const QString outputs[] = {QStringLiteral("ok"),
                               QStringLiteral("3 files changed, 41 insertions(+), 7 deletions(-)"),
                               QStringLiteral("src/main.cpp:12: match\nsrc/util.cpp:40: match")};
    QString outputHashes[3];
    for (int i = 0; i < 3; ++i)
        outputHashes[i] = QString::fromLatin1(sha256Hex(outputs[i].toUtf8()));

    std::mt19937_64 rng(options.seed);
    Report report;
    QByteArray prevHash;
    qint64 seq = 0;
    const qint64 spanMs = options.spanDays * kMsPerDay;
    const qint64 first = now - spanMs;
    const qint64 spacing = options.runs > 0 ? std::max<qint64>(1, spanMs / options.runs) : 1;

    QString batchFirstRun;
    for (qint64 r = 0; r < options.runs; ++r) {
        if (r % options.runsPerCommit == 0) {
            QSqlQuery control(db);
            if (!control.exec(dialect.beginWrite()))
                return sqlError(control, tr("Starting a seed transaction"));
            if (!control.exec(QStringLiteral("SELECT last_seq, last_hash FROM chain_head WHERE id "
                                             "= 1") +
                              dialect.lockChainHeadSuffix()) ||
                !control.next())
                return sqlError(control, tr("Locking the audit chain"));
            seq = control.value(0).toLongLong();
            prevHash = control.value(1).toString().toLatin1();
        }

        const QString runId =
            QStringLiteral("seed%1-%2").arg(options.seed).arg(r, 8, 10, QLatin1Char('0'));
        if (r % options.runsPerCommit == 0)
            batchFirstRun = runId;
        const qint64 started = first + r * spacing + static_cast<qint64>(rng() % spacing);
        const quint64 roll = rng();
        // The last runs (the final hour) are partly still running.
        const bool running = started > now - 3600000 && roll % 3 == 0;
        const qint64 durationMs = 5000 + static_cast<qint64>(rng() % 900000);
        const QString agent = QString::fromLatin1(kAgents[rng() % std::size(kAgents)]);
        const QString model = models.at(static_cast<int>(
            std::min<quint64>(rng() % 100 < 45 ? 0 : rng() % models.size(), models.size() - 1)));
        const QString goal = QString::fromLatin1(kGoals[rng() % std::size(kGoals)])
                                 .arg(QString::fromLatin1(kModules[rng() % std::size(kModules)]));
        const QString stopReason =
            running ? QString() : QString::fromLatin1(pick(kStopReasons, rng()));
        const qint64 end = running ? now : started + durationMs;
        const int calls = options.callsPerRun;
        const int steps = std::max(1, (calls + 2) / 3);
        const qint64 gap = std::max<qint64>(1, (end - started) / (calls + steps + 2));

        AuditEvent::RunTotals totals;
        totals.stopReason = stopReason;
        totals.steps = steps;

        // API calls first in memory: their sums go into the run row, which must exist before
        // the call rows (foreign keys).
        struct Api {
            int attempt;
            qint64 in, out, cw, cr;
            std::optional<qint64> cost;
            qint64 latency;
            int status;
            const char* errorType;
            qint64 at;
        };
        QList<Api> apis;
        apis.reserve(steps + 2);
        for (int s = 0; s <= steps; ++s) {
            const qint64 at = started + (s * (end - started)) / (steps + 1);
            if (rng() % 100 < 3) {
                const bool overloaded = rng() % 2 == 0;
                apis.append({1, 0, 0, 0, 0, 0, 200 + static_cast<qint64>(rng() % 800),
                             overloaded ? 529 : 500, overloaded ? "overloaded_error" : "api_error",
                             at});
            }
            const qint64 in = 500 + static_cast<qint64>(rng() % 8000);
            const qint64 out = 50 + static_cast<qint64>(rng() % 2000);
            const qint64 cw = s == 0 ? static_cast<qint64>(rng() % 4000) : 0;
            const qint64 cr = s == 0 ? 0 : static_cast<qint64>(rng() % 12000);
            const int attempt = apis.isEmpty() || apis.last().status == 200 ? 1 : 2;
            apis.append({attempt, in, out, cw, cr, costMicros(model, in, out, cw, cr),
                         300 + static_cast<qint64>(rng() % 6000), 200, nullptr, at + 1});
        }
        for (const Api& a : apis) {
            totals.inputTokens += a.in;
            totals.outputTokens += a.out;
            totals.cacheWriteTokens += a.cw;
            totals.cacheReadTokens += a.cr;
            if (a.cost)
                totals.costMicros = totals.costMicros.value_or(0) + *a.cost;
            else if (a.status == 200)
                totals.costComplete = false;
        }

        struct Call {
            const ToolKind* tool;
            QString status;
            const char* approver;
            qint64 proposedAt;
            qint64 decideMs;
            qint64 execMs;
            int output;
        };
        QList<Call> callRows;
        callRows.reserve(calls);
        for (int c = 0; c < calls; ++c) {
            Call call;
            call.tool = &kTools[rng() % kTools.size()];
            call.proposedAt = started + (c + 1) * gap;
            call.status = QString::fromLatin1(pick(kStatuses, rng()));
            if (running && c == calls - 1)
                call.status = QStringLiteral("proposed");
            call.approver = pick(kApprovers, rng());
            const QLatin1String approver(call.approver);
            call.decideMs = approver == QLatin1String("person")
                                ? 2000 + static_cast<qint64>(rng() % 120000)
                                : static_cast<qint64>(rng() % 60);
            call.execMs = call.tool->typicalMs / 2 +
                          static_cast<qint64>(rng() % (call.tool->typicalMs * 3 + 1));
            call.output = static_cast<int>(rng() % 3);
            ++totals.proposed;
            if (call.status == QLatin1String("denied"))
                ++totals.denied;
            else if (call.status != QLatin1String("proposed") &&
                     call.status != QLatin1String("expired"))
                ++totals.approved;
            if (call.status == QLatin1String("executed"))
                ++totals.executed;
            if (call.status == QLatin1String("failed"))
                ++totals.failed;
            callRows.append(call);
        }

        AuditEvent::RunStart start;
        start.agent = agent;
        start.goal = goal;
        start.constraints = {{QStringLiteral("max_steps"), 50}};
        start.model = model;
        start.provider = QStringLiteral("claude");
        start.workspace = QStringLiteral("/home/dev/projects/%1").arg(agent);
        start.dryRun = rng() % 20 == 0;

        QSqlQuery& run = *st.run;
        int i = 0;
        run.bindValue(i++, runId);
        run.bindValue(i++, agent);
        run.bindValue(i++, goal);
        run.bindValue(i++, compact(start.constraints));
        run.bindValue(i++, model);
        run.bindValue(i++, start.provider);
        run.bindValue(i++, start.workspace);
        run.bindValue(i++, start.dryRun ? 1 : 0);
        run.bindValue(i++, running ? nullText() : QVariant(stopReason));
        for (qint64 v : {qint64(totals.proposed), qint64(totals.approved), qint64(totals.denied),
                         qint64(totals.executed), qint64(totals.failed), qint64(totals.steps),
                         totals.inputTokens, totals.outputTokens, totals.cacheWriteTokens,
                         totals.cacheReadTokens})
            run.bindValue(i++, v);
        run.bindValue(i++, totals.costMicros ? QVariant(*totals.costMicros) : nullInt());
        run.bindValue(i++, totals.costComplete ? 1 : 0);
        run.bindValue(i++, started);
        run.bindValue(i++, started / kMsPerDay);
        run.bindValue(i++, running ? nullInt() : QVariant(end));
        run.bindValue(i++, running ? nullInt() : QVariant(end / kMsPerDay));
        run.bindValue(i++, running ? nullInt() : QVariant(end - started));
        if (!run.exec())
            return sqlError(run, tr("Writing seeded run %1").arg(runId));

        for (int c = 0; c < callRows.size(); ++c) {
            const Call& call = callRows.at(c);
            const QString status = call.status;
            const bool decided =
                status != QLatin1String("proposed") && status != QLatin1String("expired");
            const bool ran =
                status == QLatin1String("executed") || status == QLatin1String("failed");
            const bool denied = status == QLatin1String("denied");
            const QString args = seededArguments(call.tool->name, c);
            const qint64 decidedAt = call.proposedAt + call.decideMs;
            QSqlQuery& q = *st.call;
            int k = 0;
            q.bindValue(k++, runId);
            q.bindValue(k++, QStringLiteral("toolu_%1").arg(c));
            q.bindValue(k++, c / 3 + 1);
            q.bindValue(k++, QString::fromLatin1(call.tool->name));
            q.bindValue(k++, QString::fromLatin1(call.tool->scope));
            q.bindValue(k++, status);
            q.bindValue(k++, args);
            q.bindValue(k++, ran ? QVariant(args) : nullText());
            q.bindValue(k++, ran ? QVariant(outputs[call.output]) : nullText());
            q.bindValue(k++, ran ? QVariant(qint64(outputs[call.output].size())) : nullInt());
            q.bindValue(k++, ran ? QVariant(outputHashes[call.output]) : nullText());
            q.bindValue(k++, status == QLatin1String("failed")
                                 ? QVariant(QStringLiteral("exit status 1"))
                                 : nullText());
            const bool personDecides = QLatin1String(call.approver) == QLatin1String("person");
            q.bindValue(k++, denied && !personDecides ? QStringLiteral("deny")
                             : personDecides          ? QStringLiteral("ask")
                                                      : QStringLiteral("allow"));
            q.bindValue(k++, QStringLiteral("seeded"));
            q.bindValue(k++, QStringLiteral("rule"));
            q.bindValue(k++, decided ? QVariant(QString::fromLatin1(call.approver)) : nullText());
            q.bindValue(k++,
                        decided && personDecides ? QVariant(QStringLiteral("dev")) : nullText());
            q.bindValue(k++, denied ? QVariant(QStringLiteral("not now")) : nullText());
            q.bindValue(k++, decided && !denied
                                 ? QVariant(QStringLiteral("%1-%2").arg(runId).arg(c))
                                 : nullText());
            q.bindValue(k++, call.proposedAt);
            q.bindValue(k++, call.proposedAt / kMsPerDay);
            q.bindValue(k++, call.proposedAt + 1);
            q.bindValue(k++, decided ? QVariant(decidedAt) : nullInt());
            q.bindValue(k++, ran ? QVariant(decidedAt + call.execMs) : nullInt());
            q.bindValue(k++, ran ? QVariant(call.execMs) : nullInt());
            q.bindValue(k++, ran ? decidedAt + call.execMs : decidedAt);
            if (!q.exec())
                return sqlError(q, tr("Writing a seeded tool call of run %1").arg(runId));
        }
        for (int a = 0; a < apis.size(); ++a) {
            const Api& api = apis.at(a);
            QSqlQuery& q = *st.api;
            int k = 0;
            q.bindValue(k++, runId);
            q.bindValue(k++, model);
            q.bindValue(k++, QStringLiteral("req_%1_%2").arg(runId).arg(a));
            q.bindValue(k++, api.attempt);
            for (qint64 v : {api.in, api.out, api.cw, api.cr})
                q.bindValue(k++, v);
            q.bindValue(k++, api.status != 200 ? QVariant(qint64(0))
                             : api.cost        ? QVariant(*api.cost)
                                               : nullInt());
            q.bindValue(k++, api.latency);
            q.bindValue(k++, api.status);
            q.bindValue(k++,
                        api.errorType ? QVariant(QString::fromLatin1(api.errorType)) : nullText());
            q.bindValue(k++, api.at);
            q.bindValue(k++, api.at / kMsPerDay);
            if (!q.exec())
                return sqlError(q, tr("Writing a seeded API call of run %1").arg(runId));
        }
        report.toolCalls += callRows.size();
        report.apiCalls += apis.size();

        // The chain: run.started (marked as seeded) and run.finished, hashed as the writer does.
        QList<AuditEvent> events;
        AuditEvent startEvent = AuditEvent::runStarted(runId, start, started);
        startEvent.data.insert(QStringLiteral("seeded"), true);
        events.append(startEvent);
        if (!running)
            events.append(AuditEvent::runFinished(runId, totals, end));
        for (const AuditEvent& event : events) {
            const QString kind = AuditEvent::kindName(event.kind);
            const QString payload = compact(event.data);
            ++seq;
            const QByteArray hash =
                AuditChain::computeHash(prevHash, seq, event.at, kind, runId, QString(), payload);
            QSqlQuery& q = *st.event;
            q.bindValue(0, seq);
            q.bindValue(1, event.at);
            q.bindValue(2, kind);
            q.bindValue(3, runId);
            q.bindValue(4, payload);
            q.bindValue(5, QString::fromLatin1(prevHash));
            q.bindValue(6, QString::fromLatin1(hash));
            if (!q.exec())
                return sqlError(q, tr("Writing a seeded audit event"));
            prevHash = hash;
            ++report.events;
        }
        ++report.runs;

        if ((r + 1) % options.runsPerCommit == 0 || r + 1 == options.runs) {
            // The batch's rows into the dashboard rollups, in its transaction. The zero-padded
            // ids of one seed sort in creation order, so the batch is one range of run ids.
            for (const QString& table : {QStringLiteral("runs"), QStringLiteral("tool_calls"),
                                         QStringLiteral("api_calls")}) {
                if (const Status rolled = AuditRollups::accumulate(
                        db, dialect, table, QStringLiteral("run_id >= ? AND run_id <= ?"),
                        {batchFirstRun, runId});
                    !rolled) {
                    QSqlQuery(db).exec(QStringLiteral("ROLLBACK"));
                    return std::unexpected(rolled.error());
                }
            }
            QSqlQuery control(db);
            control.prepare(QStringLiteral(
                "UPDATE chain_head SET last_seq = ?, last_hash = ?, updated_at = ? WHERE id = 1"));
            control.bindValue(0, seq);
            control.bindValue(1, QString::fromLatin1(prevHash));
            control.bindValue(2, now);
            if (!control.exec())
                return sqlError(control, tr("Advancing the audit chain"));
            if (!control.exec(QStringLiteral("COMMIT")))
                return sqlError(control, tr("Committing seeded history"));
            if (options.progress)
                options.progress(r + 1);
        }
    }
    return report;
}

} // namespace m1
