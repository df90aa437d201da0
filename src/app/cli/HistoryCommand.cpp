#include "cli/Cli.h"
#include "cli/DateArgument.h"
#include "cli/Services.h"

#include "run/RunReport.h"
#include "store/AuditQueries.h"
#include "store/CostCsvWriter.h"

#include <QJsonArray>

namespace m1::cli {

namespace {

QString cell(const QString& text, int width) {
    QString single = text;
    single.replace(QLatin1Char('\n'), QLatin1Char(' '));
    if (single.size() > width)
        single = single.left(width - 1) + QChar(0x2026);
    return single.leftJustified(width);
}

QString cost(const std::optional<qint64>& micros, bool complete) {
    if (!micros)
        return QStringLiteral("?");
    return QLatin1Char('$') + CostCsvWriter::usd(*micros) +
           (complete ? QString() : QStringLiteral("+?"));
}

int historyList(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    const QCommandLineOption limitOpt(QStringLiteral("limit"),
                                      Cli::tr("Runs per page, 1 to 10000 (default 20)."),
                                      QStringLiteral("N"));
    const QCommandLineOption agentOpt(QStringLiteral("agent"), Cli::tr("Only this agent."),
                                      QStringLiteral("A"));
    const QCommandLineOption stopOpt(QStringLiteral("stop-reason"),
                                     Cli::tr("Only runs that stopped for this reason (\"running\" "
                                             "for runs still going)."),
                                     QStringLiteral("R"));
    const QCommandLineOption modelOpt(QStringLiteral("model"), Cli::tr("Only this model."),
                                      QStringLiteral("M"));
    const QCommandLineOption sinceOpt(QStringLiteral("since"),
                                      Cli::tr("Runs started at or after DATE (YYYY-MM-DD, UTC "
                                              "time, or Nd for N days ago)."),
                                      QStringLiteral("DATE"));
    const QCommandLineOption untilOpt(QStringLiteral("until"),
                                      Cli::tr("Runs started before DATE (a day is included "
                                              "whole)."),
                                      QStringLiteral("DATE"));
    const QCommandLineOption searchOpt(QStringLiteral("search"),
                                       Cli::tr("Text in the goal (case-insensitive)."),
                                       QStringLiteral("TEXT"));
    const QCommandLineOption afterOpt(QStringLiteral("after"),
                                      Cli::tr("The next page: the cursor printed by the previous "
                                              "page."),
                                      QStringLiteral("CURSOR"));
    const QCommandLineOption sortOpt(
        QStringLiteral("sort"),
        Cli::tr("Order by KEY: started (default), agent, model, stop-reason, steps, calls, "
                "tokens, cost, duration. Largest first unless --ascending; ties by start time."),
        QStringLiteral("KEY"));
    const QCommandLineOption ascendingOpt(QStringLiteral("ascending"),
                                          Cli::tr("Smallest (oldest) first."));
    const QCommandLineOption jsonOpt(
        QStringLiteral("json"), Cli::tr("Print {\"runs\":[...],\"hasMore\":...,\"next\":...}."));
    parser.addOptions({limitOpt, agentOpt, stopOpt, modelOpt, sinceOpt, untilOpt, searchOpt,
                       sortOpt, ascendingOpt, afterOpt, jsonOpt});
    int exitCode = kOk;
    if (!cli.parse(parser, args, QStringLiteral("history list"),
                   Cli::tr("Lists runs from the audit store, newest first (or by --sort), one "
                           "page at a time.\n"
                           "Exit status: 0 listed (also when none match), 1 error (database), "
                           "2 usage."),
                   0, &exitCode))
        return exitCode;

    AuditQueries::HistoryFilter filter;
    filter.agent = parser.value(agentOpt);
    filter.stopReason = parser.value(stopOpt);
    if (parser.isSet(stopOpt) && filter.stopReason != QLatin1String("running") &&
        !RunReport::stopReasons().contains(filter.stopReason))
        return cli.error(kUsage, Cli::tr("unknown stop reason \"%1\"; one of: running, %2")
                                     .arg(filter.stopReason,
                                          RunReport::stopReasons().join(QStringLiteral(", "))));
    filter.model = parser.value(modelOpt);
    filter.search = parser.value(searchOpt);
    if (parser.isSet(sortOpt)) {
        const auto sort = AuditQueries::historySortFromName(parser.value(sortOpt));
        if (!sort)
            return cli.error(kUsage, Cli::tr("--sort takes started, agent, model, stop-reason, "
                                             "steps, calls, tokens, cost or duration"));
        filter.sort = *sort;
    }
    filter.descending = !parser.isSet(ascendingOpt);
    int limit = 20;
    if (parser.isSet(limitOpt)) {
        bool ok = false;
        limit = parser.value(limitOpt).toInt(&ok);
        if (!ok || limit < 1 || limit > 10000)
            return cli.error(kUsage, Cli::tr("--limit must be a whole number from 1 to 10000"));
    }
    const auto started = DateArgument::range(parser, sinceOpt, untilOpt);
    if (!started)
        return cli.error(kUsage, started.error());
    filter.started = *started;
    AuditQueries::HistoryCursor after;
    if (parser.isSet(afterOpt)) {
        const auto cursor = AuditQueries::HistoryCursor::fromString(parser.value(afterOpt));
        if (!cursor)
            return cli.error(kUsage, Cli::tr("--after must be a cursor printed by a previous page "
                                             "(STARTED_MS:RUN_ID, or KEY@STARTED_MS:RUN_ID when "
                                             "sorted)"));
        after = *cursor;
    }

    const auto store = Services::readStore(cli.database());
    if (!store)
        return cli.error(kError, store.error());
    const AuditQueries queries(**store);
    const auto page = queries.history(filter, limit, after);
    if (!page)
        return cli.error(kError, page.error());

    if (parser.isSet(jsonOpt)) {
        QJsonArray runs;
        for (const auto& run : page->runs)
            runs.append(run.toJson());
        cli.printJson({{QStringLiteral("runs"), runs},
                       {QStringLiteral("hasMore"), page->hasMore},
                       {QStringLiteral("next"),
                        page->hasMore ? QJsonValue(page->next.toString()) : QJsonValue()}});
        return kOk;
    }
    QTextStream& out = cli.out();
    if (page->runs.isEmpty()) {
        out << Cli::tr("no runs") << Qt::endl;
        return kOk;
    }
    out << cell(Cli::tr("started (UTC)"), 17) << "  " << cell(Cli::tr("run"), 22) << "  "
        << cell(Cli::tr("agent"), 14) << "  " << cell(Cli::tr("model"), 20) << "  "
        << cell(Cli::tr("stop reason"), 15) << "  " << cell(Cli::tr("calls"), 7) << "  "
        << cell(Cli::tr("cost"), 12) << "  " << Cli::tr("goal") << '\n';
    for (const auto& run : page->runs) {
        out << cell(DateArgument::format(run.startedAt), 17) << "  " << cell(run.runId, 22) << "  "
            << cell(run.agent, 14) << "  " << cell(run.model, 20) << "  "
            << cell(run.stopReason.isEmpty() ? Cli::tr("(running)") : run.stopReason, 15) << "  "
            << cell(QStringLiteral("%1/%2").arg(run.callsExecuted).arg(run.callsProposed), 7)
            << "  " << cell(cost(run.costMicros, run.costComplete), 12) << "  "
            << cell(run.goal, 60).trimmed() << '\n';
    }
    if (page->hasMore)
        out << Cli::tr("more: m1ctl history list --after %1 (with the same filters and order)")
                   .arg(page->next.toString())
            << '\n';
    out.flush();
    return kOk;
}

int historyShow(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    cli.addPositional(parser, QStringLiteral("RUN_ID"), Cli::tr("The run to show."));
    const QCommandLineOption jsonOpt(QStringLiteral("json"),
                                     Cli::tr("Print the run as one JSON object with its "
                                             "toolCalls and apiCalls in order."));
    parser.addOption(jsonOpt);
    int exitCode = kOk;
    if (!cli.parse(parser, args, QStringLiteral("history show"),
                   Cli::tr("Shows one run in full: what was asked, every tool call (proposal, "
                           "policy, decision, execution) and every API call, in order.\n"
                           "Exit status: 0 shown, 1 error (no such run, database), 2 usage."),
                   1, &exitCode))
        return exitCode;
    if (parser.positionalArguments().isEmpty())
        return cli.error(kUsage, Cli::tr("RUN_ID is required (see: m1ctl history show --help)"));
    const QString runId = parser.positionalArguments().first();

    const auto store = Services::readStore(cli.database());
    if (!store)
        return cli.error(kError, store.error());
    const AuditQueries queries(**store);
    const auto detail = queries.run(runId);
    if (!detail)
        return cli.error(kError, detail.error());
    if (parser.isSet(jsonOpt)) {
        cli.printJson(detail->toJson());
        return kOk;
    }
    const auto& run = detail->run;
    QTextStream& out = cli.out();
    out << Cli::tr("run         %1").arg(run.runId) << '\n';
    out << Cli::tr("agent       %1").arg(run.agent) << '\n';
    out << Cli::tr("goal        %1").arg(run.goal) << '\n';
    out << Cli::tr("model       %1 (%2)").arg(run.model, run.provider) << '\n';
    out << Cli::tr("workspace   %1%2")
               .arg(run.workspace, run.dryRun ? Cli::tr(" (dry run)") : QString())
        << '\n';
    out << Cli::tr("started     %1 UTC").arg(DateArgument::format(run.startedAt)) << '\n';
    if (run.completedAt)
        out << Cli::tr("finished    %1 UTC after %2 s: %3")
                   .arg(DateArgument::format(*run.completedAt))
                   .arg(run.durationMs.value_or(0) / 1000.0, 0, 'f', 1)
                   .arg(run.stopReason)
            << '\n';
    else
        out << Cli::tr("finished    (still running)") << '\n';
    out << Cli::tr("calls       %1 proposed, %2 approved, %3 denied, %4 executed, %5 failed")
               .arg(run.callsProposed)
               .arg(run.callsApproved)
               .arg(run.callsDenied)
               .arg(run.callsExecuted)
               .arg(run.callsFailed)
        << '\n';
    out << Cli::tr("tokens      %1 in, %2 out, %3 cache write, %4 cache read")
               .arg(run.inputTokens)
               .arg(run.outputTokens)
               .arg(run.cacheWriteTokens)
               .arg(run.cacheReadTokens)
        << '\n';
    out << Cli::tr("cost        %1").arg(cost(run.costMicros, run.costComplete)) << '\n';
    out << '\n' << Cli::tr("tool calls (%1)").arg(detail->toolCalls.size()) << '\n';
    for (const auto& call : detail->toolCalls) {
        out << "  " << DateArgument::format(call.proposedAt) << "  #" << call.step << "  "
            << call.toolName << "  " << call.status;
        if (!call.policyDecision.isEmpty())
            out << Cli::tr("  policy: %1").arg(call.policyDecision);
        if (!call.approverKind.isEmpty())
            out << Cli::tr("  by %1%2")
                       .arg(call.approverKind, call.approver.isEmpty()
                                                   ? QString()
                                                   : QStringLiteral(" (%1)").arg(call.approver));
        else if (call.status == QLatin1String("denied") &&
                 call.approver == QLatin1String("no approver"))
            // Denied without a decision: no terminal, token or auto-approve could answer.
            out << Cli::tr("  no one could approve");
        if (call.execDurationMs)
            out << Cli::tr("  %1 ms").arg(*call.execDurationMs);
        out << '\n' << "      " << call.argsProposedJson << '\n';
        // SBX-27: how the person decided (only where a person was prompted).
        QStringList evidence;
        if (call.decisionMs)
            evidence << Cli::tr("decided in %1 s").arg(*call.decisionMs / 1000.0, 0, 'f', 1);
        if (!call.decidedBy.isEmpty())
            evidence << Cli::tr("by %1").arg(call.decidedBy);
        if (call.argsSeenWhole)
            evidence << (*call.argsSeenWhole ? Cli::tr("whole arguments scrolled into view")
                                             : Cli::tr("not all arguments scrolled into view"));
        if (call.decidedInBatch && *call.decidedInBatch)
            evidence << Cli::tr("with \"all\" of the message");
        if (!evidence.isEmpty())
            out << "      " << evidence.join(QStringLiteral(", ")) << '\n';
        if (!call.error.isEmpty())
            out << "      " << Cli::tr("error: %1").arg(call.error) << '\n';
    }
    out << '\n' << Cli::tr("API calls (%1)").arg(detail->apiCalls.size()) << '\n';
    for (const auto& api : detail->apiCalls) {
        out << "  " << DateArgument::format(api.at) << "  " << api.model << "  #" << api.attempt
            << "  " << api.httpStatus.value_or(0) << "  "
            << Cli::tr("%1 in / %2 out").arg(api.inputTokens).arg(api.outputTokens) << "  "
            << cost(api.costMicros, true);
        if (!api.errorType.isEmpty())
            out << "  " << api.errorType;
        out << '\n';
    }
    out.flush();
    return kOk;
}

} // namespace

int runHistory(Cli& cli, const QStringList& args) {
    return cli.dispatch(
        QStringLiteral("history"), args,
        {
            {QStringLiteral("list"), Cli::tr("runs, newest first, with filters and paging"),
             &historyList},
            {QStringLiteral("show"), Cli::tr("one run in full with its tool calls and API calls"),
             &historyShow},
        },
        Cli::Database::Optional);
}

} // namespace m1::cli
