#include "DemoDataSeeder.h"

#include "model/PolicyDecision.h"
#include "store/AuditEvent.h"
#include "store/AuditWriter.h"

#include <QDateTime>
#include <QJsonArray>
#include <QRandomGenerator>

namespace m1 {

namespace {

constexpr qint64 kDayMs = 86400000;

struct ToolSample {
    const char* tool;
    const char* scope;
    const char* argKey;
    const char* argValue;
};

const ToolSample kTools[] = {
    {"read_file", "read", "path", "src/calc.py"},
    {"list_directory", "read", "path", "."},
    {"search_files", "read", "pattern", "TODO"},
    {"edit_file", "write", "path", "src/calc.py"},
    {"write_file", "write", "path", "notes/summary.md"},
    {"run_command", "execute", "argv", "pytest -q"},
};

const char* const kGoals[] = {
    "Fix the failing test in calc.py",
    "Summarise the open TODOs in src/",
    "Add a --verbose flag to the CLI",
    "Update the README's build section",
    "Find why the nightly job is slow",
    "Rename parse_args to parse_options everywhere",
};

} // namespace

Status DemoDataSeeder::seed(AuditWriter& writer, const Options& o) {
    QRandomGenerator rng(o.seed);
    const qint64 end = o.endMs > 0 ? o.endMs : QDateTime::currentMSecsSinceEpoch();
    const qint64 start = end - qint64(o.days) * kDayMs;
    const QStringList models{QStringLiteral("claude-sonnet-4-6"), QStringLiteral("claude-haiku-4-5")};
    const QStringList agents{QStringLiteral("orchestrator"), QStringLiteral("reviewer")};
    AuditWriter::Ticket last;
    for (int i = 0; i < o.runs; ++i) {
        const QString runId = QStringLiteral("run_seed%1%2")
                                  .arg(o.seed)
                                  .arg(i, 6, 10, QLatin1Char('0'));
        qint64 at = start + (qint64(i) * (end - start)) / std::max(1, o.runs) +
                    rng.bounded(600000);
        const QString model = models.at(rng.bounded(10) < 7 ? 0 : 1);
        AuditEvent::RunStart rs;
        rs.agent = agents.at(rng.bounded(4) == 0 ? 1 : 0);
        rs.goal = QString::fromLatin1(kGoals[rng.bounded(int(std::size(kGoals)))]);
        rs.model = model;
        rs.provider = QStringLiteral("claude");
        rs.workspace = QStringLiteral("/home/dev/project");
        last = writer.submit(AuditEvent::runStarted(runId, rs, at));
        AuditEvent::RunTotals totals;
        const int steps = o.detailed ? 1 + int(rng.bounded(4)) : 1;
        qint64 cost = 0;
        for (int step = 1; step <= steps; ++step) {
            AuditEvent::ApiCallInfo api;
            api.model = model;
            api.requestId = QStringLiteral("req_%1_%2").arg(i).arg(step);
            api.inputTokens = 800 + rng.bounded(4000);
            api.outputTokens = 50 + rng.bounded(900);
            api.cacheReadTokens = rng.bounded(3) == 0 ? rng.bounded(3000) : 0;
            api.costMicros = (api.inputTokens * 3 + api.outputTokens * 15 +
                              api.cacheReadTokens * 3 / 10) * (model.contains(QLatin1String("haiku")) ? 1 : 3) / 3;
            api.latencyMs = 600 + rng.bounded(5000);
            api.httpStatus = rng.bounded(25) == 0 ? 529 : 200;
            if (api.httpStatus != 200)
                api.errorType = QStringLiteral("overloaded_error");
            at += api.latencyMs;
            last = writer.submit(AuditEvent::apiCall(runId, api, at));
            cost += *api.costMicros;
            totals.inputTokens += api.inputTokens;
            totals.outputTokens += api.outputTokens;
            totals.cacheReadTokens += api.cacheReadTokens;
            totals.steps = step;
            if (!o.detailed)
                continue;
            const int calls = int(rng.bounded(3));
            for (int c = 0; c < calls; ++c) {
                const ToolSample& t = kTools[rng.bounded(int(std::size(kTools)))];
                const QString callId = QStringLiteral("toolu_%1_%2_%3").arg(i).arg(step).arg(c);
                QJsonObject args;
                if (QLatin1String(t.argKey) == QLatin1String("argv"))
                    args.insert(QStringLiteral("argv"),
                                QJsonArray::fromStringList(QString::fromLatin1(t.argValue).split(QLatin1Char(' '))));
                else
                    args.insert(QString::fromLatin1(t.argKey), QString::fromLatin1(t.argValue));
                ++totals.proposed;
                last = writer.submit(AuditEvent::callProposed(runId, callId, step,
                                                              QString::fromLatin1(t.tool),
                                                              QString::fromLatin1(t.scope), args, at));
                PolicyDecision d;
                const bool read = QLatin1String(t.scope) == QLatin1String("read");
                d.kind = read ? PolicyDecision::Kind::Allow : PolicyDecision::Kind::Ask;
                d.code = read ? QStringLiteral("policy.allow.scope") : QStringLiteral("policy.ask.scope");
                d.reason = read ? tr("Reads inside the workspace are allowed.")
                                : tr("%1 needs a person's approval.").arg(QString::fromLatin1(t.scope));
                at += 3;
                last = writer.submit(AuditEvent::policyChecked(runId, callId, d, at));
                const bool deny = !read && rng.bounded(5) == 0;
                at += read ? 2 : 1500 + rng.bounded(20000);
                if (deny) {
                    ++totals.denied;
                    last = writer.submit(AuditEvent::callDenied(runId, callId, QStringLiteral("person"),
                                                                QStringLiteral("gui"),
                                                                tr("not now"), at));
                    continue;
                }
                ++totals.approved;
                last = writer.submit(AuditEvent::callApproved(
                    runId, callId, read ? QStringLiteral("rule") : QStringLiteral("person"),
                    read ? QStringLiteral("policy") : QStringLiteral("gui"), QString(), {}, at));
                const qint64 duration = 5 + rng.bounded(QLatin1String(t.scope) == QLatin1String("execute") ? 4000 : 60);
                at += duration;
                if (rng.bounded(12) == 0) {
                    ++totals.failed;
                    last = writer.submit(AuditEvent::callFailed(runId, callId, args,
                                                                tr("exit status 1"),
                                                                QStringLiteral("1 failed"), duration, at));
                } else {
                    ++totals.executed;
                    last = writer.submit(AuditEvent::callExecuted(runId, callId, args,
                                                                  QStringLiteral("ok"), duration, at));
                }
            }
        }
        totals.costMicros = cost;
        const quint32 r = rng.bounded(20);
        totals.stopReason = r < 15   ? QStringLiteral("completed")
                            : r < 17 ? QStringLiteral("user_cancelled")
                            : r < 19 ? QStringLiteral("max_steps")
                                     : QStringLiteral("api_error");
        last = writer.submit(AuditEvent::runFinished(runId, totals, at + 200));
    }
    if (o.runs > 0) {
        const AuditAck ack = writer.waitForAck(last, 600000);
        if (!ack)
            return std::unexpected(ack.error());
    }
    return {};
}

} // namespace m1
