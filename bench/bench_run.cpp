#include "Bench.h"

#include "llm/ReplayProvider.h"
#include "monitoring/CostTracker.h"
#include "policy/PolicyEngine.h"
#include "run/PricingCostEstimator.h"
#include "run/RunController.h"
#include "store/AuditStore.h"
#include "tokens/TokenLedger.h"
#include "tokens/TokenService.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>

#include <algorithm>

using namespace m1::bench;

namespace {

// One step = one instant model turn proposing update_plan (a tool with no work) + policy +
// token + executor on the worker (ledger open + consume) + the audit commits: api call,
// proposed, policy and approved in one, executed and plan in the other. Model time is zero
// (in-process replay, no pacing); tool time is the tool's own few microseconds, so the figure
// is the loop's own cost per step. The token ledger lives in the audit database, as in the
// desktop and m1ctl (a separate file would add a WAL checkpoint per step when its only
// connection closes).
QList<Result> runStepOverhead() {
    constexpr int kSteps = 40;
    constexpr int kRuns = 5;
    QTemporaryDir dir;
    auto store = m1::AuditStore::open(dir.filePath(QStringLiteral("audit.sqlite")));
    if (!store)
        return {};
    auto writer = (*store)->startWriter();
    if (!writer)
        return {};
    const auto workspace = m1::Workspace::open(dir.path());
    const m1::ToolRegistry registry = m1::ToolRegistry::withBuiltins();
    const m1::PolicyEngine policy(registry, *workspace, m1::PolicyConfig{}, m1::PolicyRules{});
    const auto tokens =
        m1::TokenService::create(QByteArrayLiteral("bench-secret-0123456789abcdef-0123456789ab"));
    m1::CostTracker tracker(m1::PricingTable::builtin().value_or(m1::PricingTable()));
    const m1::PricingCostEstimator costs(tracker);
    const QString ledgerPath = dir.filePath(QStringLiteral("audit.sqlite"));

    QList<qint64> perStep;
    for (int r = 0; r < kRuns; ++r) {
        QJsonArray turns;
        for (int s = 0; s < kSteps; ++s)
            turns.append(QJsonObject{
                {QStringLiteral("content"),
                 QJsonArray{QJsonObject{
                     {QStringLiteral("type"), QStringLiteral("tool_use")},
                     {QStringLiteral("id"), QStringLiteral("toolu_b%1_%2").arg(r).arg(s)},
                     {QStringLiteral("name"), QStringLiteral("update_plan")},
                     {QStringLiteral("input"),
                      QJsonObject{{QStringLiteral("steps"),
                                   QJsonArray{QJsonObject{
                                       {QStringLiteral("title"), QStringLiteral("step %1").arg(s)},
                                       {QStringLiteral("status"), QStringLiteral("done")}}}}}}}}},
                {QStringLiteral("stop_reason"), QStringLiteral("tool_use")},
                {QStringLiteral("usage"), QJsonObject{{QStringLiteral("input_tokens"), 1000},
                                                      {QStringLiteral("output_tokens"), 20}}}});
        turns.append(QJsonObject{{QStringLiteral("content"), QJsonArray{}},
                                 {QStringLiteral("stop_reason"), QStringLiteral("end_turn")}});
        const auto transcript = m1::ReplayProvider::parse(
            QJsonDocument(QJsonObject{{QStringLiteral("turns"), turns}}).toJson(),
            QStringLiteral("bench"));
        m1::ReplayProvider provider(*transcript, {});
        m1::RunController::Services services;
        services.registry = &registry;
        services.workspace = &*workspace;
        services.policy = &policy;
        services.tokens = &*tokens;
        services.openLedger = [ledgerPath] { return m1::TokenLedger::open(ledgerPath); };
        services.audit = writer->get();
        services.provider = &provider;
        services.costs = &costs;
        m1::RunConfig config;
        config.goal = QStringLiteral("bench");
        config.model = QStringLiteral("claude-sonnet-4-6");
        config.limits.maxSteps = kSteps + 5;
        config.limits.maxToolCalls = kSteps + 5;
        m1::RunController run(services, config);
        QElapsedTimer clock;
        qint64 last = 0;
        QObject::connect(&run, &m1::RunController::turnStarted, [&](int step) {
            const qint64 now = clock.nsecsElapsed();
            if (step > 1)
                perStep.append(now - last);
            last = now;
        });
        QEventLoop loop;
        QObject::connect(&run, &m1::RunController::finished, &loop, &QEventLoop::quit);
        clock.start();
        run.start();
        if (!run.isFinished())
            loop.exec();
    }
    std::sort(perStep.begin(), perStep.end());
    Result result;
    result.name = QStringLiteral("run_step_overhead");
    result.unit = QStringLiteral("ns");
    result.n = perStep.size();
    if (!perStep.isEmpty()) {
        result.p50 = double(perStep.at(perStep.size() / 2));
        result.p99 = double(perStep.at(qMin(perStep.size() - 1, perStep.size() * 99 / 100)));
    }
    result.target = QStringLiteral("report (per step, 2 acknowledged audit commits included)");
    return {result};
}

} // namespace

M1_BENCHMARK("run_step_overhead", runStepOverhead);
