#include "cli/Cli.h"
#include "cli/DateArgument.h"
#include "cli/Services.h"

#include "monitoring/HistoryMetrics.h"
#include "monitoring/MetricsExporter.h"
#include "monitoring/MetricsRegistry.h"
#include "monitoring/Telemetry.h"
#include "store/AuditQueries.h"
#include "store/CostCsvWriter.h"

#include <QDate>
#include <QJsonArray>

namespace m1::cli {

namespace {

template <typename T>
QJsonArray jsonArray(const QList<T>& items) {
    QJsonArray array;
    for (const T& item : items)
        array.append(item.toJson());
    return array;
}

QString percent(double rate) {
    return QStringLiteral("%1%").arg(rate * 100.0, 0, 'f', 1);
}

QString ms(const std::optional<qint64>& value) {
    return value ? QStringLiteral("%1 ms").arg(*value) : QStringLiteral("-");
}

QString usd(qint64 micros) {
    return QLatin1Char('$') + CostCsvWriter::usd(micros);
}

QString day(qint64 number) {
    return QDate(1970, 1, 1).addDays(number).toString(Qt::ISODate);
}

} // namespace

int runMetrics(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    const QCommandLineOption fromOpt(QStringLiteral("from"),
                                     Cli::tr("Start (YYYY-MM-DD, UTC time, or Nd for N days ago)."),
                                     QStringLiteral("DATE"));
    const QCommandLineOption toOpt(QStringLiteral("to"), Cli::tr("End (a day is included whole)."),
                                   QStringLiteral("DATE"));
    const QCommandLineOption intervalOpt(QStringLiteral("interval"),
                                         Cli::tr("Error-rate buckets: hour, day (default) or "
                                                 "week."),
                                         QStringLiteral("INTERVAL"));
    const QCommandLineOption jsonOpt(QStringLiteral("json"),
                                     Cli::tr("Print every dashboard as one JSON object."));
    const QCommandLineOption prometheusOpt(
        QStringLiteral("prometheus"),
        Cli::tr("Print the Prometheus text exposition instead: this process's metrics and the "
                "totals derived from the audit store."));
    parser.addOptions({fromOpt, toOpt, intervalOpt, jsonOpt, prometheusOpt});
    int exitCode = kOk;
    if (!cli.parse(parser, args, QStringLiteral("metrics"),
                   Cli::tr("Prints the dashboards from the audit store: runs by stop reason with "
                           "completion and error rates and duration percentiles, tool statistics, "
                           "agents, approvals, prompts and the approval rate per scope, error rate "
                           "per interval, cost by model and by day, "
                           "tokens by day and a projection of this month's cost. Percentiles are "
                           "exact (nearest rank).\n"
                           "Exit status: 0 printed, 1 error (database), 2 usage."),
                   0, &exitCode))
        return exitCode;
    if (parser.isSet(jsonOpt) && parser.isSet(prometheusOpt))
        return cli.error(kUsage, Cli::tr("--json and --prometheus are two different outputs: "
                                         "choose one"));
    const auto parsedRange = DateArgument::range(parser, fromOpt, toOpt);
    if (!parsedRange)
        return cli.error(kUsage, parsedRange.error());
    const AuditQueries::TimeRange range = *parsedRange;
    AuditQueries::Interval interval = AuditQueries::Interval::Day;
    if (parser.isSet(intervalOpt)) {
        const auto parsed = AuditQueries::intervalFromName(parser.value(intervalOpt));
        if (!parsed)
            return cli.error(kUsage, Cli::tr("--interval must be hour, day or week, not \"%1\"")
                                         .arg(parser.value(intervalOpt)));
        interval = *parsed;
    }

    const auto store = Services::readStore(cli.database());
    if (!store)
        return cli.error(kError, store.error());
    if (parser.isSet(prometheusOpt)) {
        // A short-lived m1ctl has few live metrics of its own; the history is what a scrape of
        // the file wants (the same families as the GUI's /metrics endpoint).
        MetricsRegistry history;
        if (const Status collected = HistoryMetrics((*store)->connectionName()).collect(history);
            !collected)
            return cli.error(kError, collected.error());
        cli.out() << MetricsExporter::prometheusText(Telemetry::global().registry(), &history);
        cli.out().flush();
        return kOk;
    }
    const AuditQueries queries(**store);
    const auto runs = queries.runMetrics(range);
    if (!runs)
        return cli.error(kError, runs.error());
    const auto tools = queries.toolStats(range);
    if (!tools)
        return cli.error(kError, tools.error());
    const auto agents = queries.agentSummary(range);
    if (!agents)
        return cli.error(kError, agents.error());
    const auto approvals = queries.approvalMetrics(range);
    if (!approvals)
        return cli.error(kError, approvals.error());
    const auto scopes = queries.approvalsByScope(range);
    if (!scopes)
        return cli.error(kError, scopes.error());
    const auto errors = queries.errorRate(interval, range);
    if (!errors)
        return cli.error(kError, errors.error());
    const auto costs = queries.costByModelDay(range);
    if (!costs)
        return cli.error(kError, costs.error());
    const auto tokens = queries.tokensByDay(range);
    if (!tokens)
        return cli.error(kError, tokens.error());
    const auto projection = queries.monthlyProjection();
    if (!projection)
        return cli.error(kError, projection.error());
    const QList<AuditQueries::CostRow> byModel = AuditQueries::sumByModel(*costs);
    const QList<AuditQueries::CostRow> byDay = AuditQueries::sumByDay(*costs);

    if (parser.isSet(jsonOpt)) {
        QJsonObject rangeJson{
            {QStringLiteral("fromMs"), range.fromMs ? QJsonValue(*range.fromMs) : QJsonValue()},
            {QStringLiteral("toMs"), range.toMs ? QJsonValue(*range.toMs) : QJsonValue()}};
        cli.printJson(
            {{QStringLiteral("range"), rangeJson},
             {QStringLiteral("runs"), runs->toJson()},
             {QStringLiteral("tools"), jsonArray(*tools)},
             {QStringLiteral("agents"), jsonArray(*agents)},
             {QStringLiteral("approvals"), approvals->toJson()},
             {QStringLiteral("approvalsByScope"), jsonArray(*scopes)},
             {QStringLiteral("errorRate"),
              QJsonObject{{QStringLiteral("interval"), AuditQueries::intervalName(interval)},
                          {QStringLiteral("points"), jsonArray(*errors)}}},
             {QStringLiteral("costByModel"), jsonArray(byModel)},
             {QStringLiteral("costByDay"), jsonArray(byDay)},
             {QStringLiteral("costByModelDay"), jsonArray(*costs)},
             {QStringLiteral("tokensByDay"), jsonArray(*tokens)},
             {QStringLiteral("projection"), projection->toJson()}});
        return kOk;
    }

    QTextStream& out = cli.out();
    out << Cli::tr("Runs: %1 (%2 finished, %3 running); completed %4, errors %5")
               .arg(runs->runs)
               .arg(runs->finished)
               .arg(runs->running)
               .arg(percent(runs->completionRate), percent(runs->errorRate))
        << '\n';
    for (auto it = runs->byStopReason.begin(); it != runs->byStopReason.end(); ++it)
        out << "  " << it.key().leftJustified(18) << ' ' << it.value() << '\n';
    out << Cli::tr("  duration p50 %1, p95 %2, p99 %3")
               .arg(ms(runs->durationMs.p50), ms(runs->durationMs.p95), ms(runs->durationMs.p99))
        << "\n\n";

    out << Cli::tr("Tools") << '\n';
    for (const auto& t : *tools)
        out << "  " << t.tool.leftJustified(18) << ' '
            << Cli::tr("%1, %2 executed, %3 failed, %4 denied, success %5, p50 %6, p95 %7")
                   .arg(Cli::counted(QT_TR_NOOP("%n call(s)"), t.calls))
                   .arg(t.executed)
                   .arg(t.failed)
                   .arg(t.denied)
                   .arg(percent(t.successRate), ms(t.durationMs.p50), ms(t.durationMs.p95))
            << '\n';
    out << '\n' << Cli::tr("Agents") << '\n';
    for (const auto& a : *agents)
        out << "  " << a.agent.leftJustified(18) << ' '
            << Cli::tr("%1, %2 completed, %3, %4, %5")
                   .arg(Cli::counted(QT_TR_NOOP("%n run(s)"), a.runs))
                   .arg(a.completed)
                   .arg(Cli::counted(QT_TR_NOOP("%n error(s)"), a.errors),
                        Cli::counted(QT_TR_NOOP("%n call(s)"), a.callsProposed), usd(a.costMicros))
            << '\n';
    out << '\n'
        << Cli::tr("Approvals: %1 approved (%2 auto), %3 denied, median time to decide %4")
               .arg(approvals->approved)
               .arg(approvals->autoApproved)
               .arg(approvals->denied)
               .arg(ms(approvals->medianDecideMs))
        << '\n';
    for (const auto& k : approvals->byApproverKind)
        out << "  " << k.kind.leftJustified(18) << ' '
            << Cli::tr("%1 approved, %2 denied, median %3")
                   .arg(k.approved)
                   .arg(k.denied)
                   .arg(ms(k.decideMs.p50))
            << '\n';
    if (approvals->deniedNoApprover > 0)
        out << "  " << Cli::tr("no approver").leftJustified(18) << ' '
            << Cli::tr("%1 denied: no terminal, token or auto-approve could decide")
                   .arg(approvals->deniedNoApprover)
            << '\n';
    out << '\n'
        << Cli::tr("Prompts by scope (the policy asked; approval rate = approved by a person / "
                   "decided or expired)")
        << '\n';
    for (const auto& s : *scopes)
        out << "  " << s.scope.leftJustified(18) << ' '
            << Cli::tr("%1 prompts: %2 approved, %3 denied, %4 expired, %5 otherwise; approval "
                       "rate %6, median time to decide %7, %8 of %9 with the whole arguments "
                       "seen, %10 decided with \"all\"")
                   .arg(s.prompts)
                   .arg(s.approved)
                   .arg(s.denied)
                   .arg(s.expired)
                   .arg(s.otherwise)
                   .arg(percent(s.approvalRate), ms(s.decisionMs.p50))
                   .arg(s.seenWhole)
                   .arg(s.seenKnown)
                   .arg(s.inBatch)
            << '\n';
    out << '\n' << Cli::tr("Error rate per %1").arg(AuditQueries::intervalName(interval)) << '\n';
    for (const auto& p : *errors)
        out << "  " << DateArgument::format(p.bucketStartMs) << "  "
            << Cli::tr("tools %1 of %2 failed (%3), API %4 of %5 (%6)")
                   .arg(p.toolFailures)
                   .arg(p.toolRuns)
                   .arg(percent(p.toolErrorRate()))
                   .arg(p.apiErrors)
                   .arg(p.apiCalls)
                   .arg(percent(p.apiErrorRate()))
            << '\n';
    out << '\n' << Cli::tr("Cost by model") << '\n';
    for (const auto& c : byModel)
        out << "  " << c.model.leftJustified(24) << ' ' << usd(c.costMicros)
            << Cli::tr(" (%1)").arg(Cli::counted(QT_TR_NOOP("%n API call(s)"), c.apiCalls)) << '\n';
    out << '\n' << Cli::tr("Cost and tokens by day") << '\n';
    for (int i = 0; i < byDay.size() && i < tokens->size(); ++i)
        out << "  " << day(byDay.at(i).day) << "  " << usd(byDay.at(i).costMicros).leftJustified(16)
            << Cli::tr("%1 in, %2 out, %3 cache write, %4 cache read")
                   .arg(tokens->at(i).inputTokens)
                   .arg(tokens->at(i).outputTokens)
                   .arg(tokens->at(i).cacheWriteTokens)
                   .arg(tokens->at(i).cacheReadTokens)
            << '\n';
    out << '\n'
        << Cli::tr("This month: %1 so far (today included), projected %2 (average day over "
                   "the last 30 days and today so far: %3)")
               .arg(usd(projection->monthToDateMicros), usd(projection->projectedMonthMicros),
                    usd(projection->dailyAverageMicros))
        << '\n';
    out.flush();
    return kOk;
}

} // namespace m1::cli
