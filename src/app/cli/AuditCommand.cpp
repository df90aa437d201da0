#include "cli/Cli.h"
#include "cli/DateArgument.h"
#include "cli/Services.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>

namespace m1::cli {

namespace {

int auditVerify(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    const QCommandLineOption jsonOpt(QStringLiteral("json"),
                                     Cli::tr("Print {\"intact\":...,\"brokenAtSeq\":...,...}."));
    parser.addOption(jsonOpt);
    int exitCode = kOk;
    if (!cli.parse(parser, args, QStringLiteral("audit verify"),
                   Cli::tr("Verifies the audit trail: walks the hash chain from its start (or the "
                           "prune anchor) to its head, compares the tool_calls and runs rows with "
                           "what the events say and, for SQLite, runs the integrity check. "
                           "Reports the first broken position and the head hash (record it "
                           "elsewhere to detect a rollback of the whole file).\n"
                           "Exit status: 0 intact, 3 broken, changed or damaged (the first "
                           "broken row or changed table row is named; also a file that is not an "
                           "SQLite database, is cut short or empty), 1 error (could not check: no "
                           "database, connection), 2 usage."),
                   0, &exitCode))
        return exitCode;
    // A file that is not a database, or is cut short, is what verify exists to catch: status 3
    // like a broken chain, not 1 ("could not check").
    const auto failed = [&](const Error& e) {
        if (e.code != QLatin1String("store.corrupt"))
            return cli.error(kError, e);
        if (parser.isSet(jsonOpt)) {
            cli.printJson(
                {{QStringLiteral("intact"), false},
                 {QStringLiteral("damaged"), true},
                 {QStringLiteral("error"), QJsonObject{{QStringLiteral("code"), e.code},
                                                       {QStringLiteral("message"), e.message}}}});
            return int(kRefused);
        }
        return cli.error(kRefused,
                         Cli::tr("the audit database is damaged (%1): %2").arg(e.code, e.message));
    };
    const auto config = StoreConfig::fromLocation(cli.database());
    if (config && config->dialect.isSqlite() && QFileInfo::exists(config->sqlitePath) &&
        QFileInfo(config->sqlitePath).size() == 0)
        // SQLite would take an empty file for a new database and verify would find nothing
        // wrong with it: an audit file cut to nothing is damaged.
        return failed(Error{QStringLiteral("store.corrupt"),
                            Cli::tr("%1 is empty (0 bytes): it holds no audit trail; if it held "
                                    "one, it was truncated. It was not changed.")
                                .arg(config->sqlitePath)});
    const auto store = Services::readStore(cli.database());
    if (!store)
        return failed(store.error());
    const auto integrity = (*store)->integrityCheck();
    if (!integrity)
        return failed(integrity.error());
    const auto report = (*store)->verify();
    if (!report)
        return failed(report.error());
    const bool sound = *integrity == QLatin1String("ok");
    const bool projection = report->problem == QLatin1String("projection");
    if (parser.isSet(jsonOpt)) {
        QJsonArray findings;
        for (const ProjectionFinding& f : report->projectionFindings)
            findings.append(QJsonObject{
                {QStringLiteral("table"), f.table},
                {QStringLiteral("runId"), f.runId},
                {QStringLiteral("callId"), f.requestId.isEmpty() ? QJsonValue() : f.requestId},
                {QStringLiteral("problem"), f.problem},
                {QStringLiteral("column"), f.column.isEmpty() ? QJsonValue() : f.column},
                {QStringLiteral("stored"),
                 f.problem == QLatin1String("changed") ? f.stored : QJsonValue()},
                {QStringLiteral("expected"),
                 f.problem == QLatin1String("changed") ? f.expected : QJsonValue()},
                {QStringLiteral("seq"), f.seq < 0 ? QJsonValue() : QJsonValue(f.seq)},
                {QStringLiteral("message"), f.message}});
        cli.printJson({{QStringLiteral("intact"), report->intact && sound},
                       // The hash chain alone; "intact" also covers the tables and the file.
                       {QStringLiteral("chainIntact"), report->intact || projection},
                       {QStringLiteral("integrity"), *integrity},
                       {QStringLiteral("checkedEvents"), report->checkedEvents},
                       {QStringLiteral("firstSeq"), report->firstSeq},
                       {QStringLiteral("lastSeq"), report->lastSeq},
                       {QStringLiteral("lastHash"), report->lastHash},
                       {QStringLiteral("brokenAtSeq"), report->intact || report->brokenAtSeq < 0
                                                           ? QJsonValue()
                                                           : QJsonValue(report->brokenAtSeq)},
                       {QStringLiteral("problem"),
                        report->intact ? QJsonValue() : QJsonValue(report->problem)},
                       {QStringLiteral("message"), report->message},
                       {QStringLiteral("checkedRuns"), report->checkedRuns},
                       {QStringLiteral("checkedCalls"), report->checkedCalls},
                       {QStringLiteral("seededRuns"), report->seededRuns},
                       {QStringLiteral("findings"), findings},
                       {QStringLiteral("moreFindings"), report->moreProjectionFindings}});
        return report->intact && sound ? kOk : kRefused;
    }
    if (!sound)
        return cli.error(
            kRefused,
            Cli::tr("the audit database is damaged (integrity check: %1)").arg(*integrity));
    if (projection) {
        // The first finding is the error line; the others follow, one a line.
        const qint64 found = report->projectionFindings.size() + report->moreProjectionFindings;
        cli.error(kRefused,
                  Cli::tr("audit tables disagree with the audit chain (%1): %2")
                      .arg(QString::number(found), report->projectionFindings.first().message));
        for (qsizetype i = 1; i < report->projectionFindings.size(); ++i)
            cli.err() << "  " << report->projectionFindings.at(i).message << '\n';
        if (report->moreProjectionFindings > 0)
            cli.err() << "  " << Cli::tr("(and %1 more)").arg(report->moreProjectionFindings)
                      << '\n';
        cli.err().flush();
        return kRefused;
    }
    if (!report->intact)
        return cli.error(kRefused, Cli::tr("audit chain broken at event %1 (%2): %3")
                                       .arg(report->brokenAtSeq)
                                       .arg(report->problem, report->message));
    cli.out() << report->message << '\n'
              << Cli::tr("head hash: %1 (event %2)").arg(report->lastHash).arg(report->lastSeq)
              << Qt::endl;
    return kOk;
}

int auditPrune(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    const QCommandLineOption olderOpt(QStringLiteral("older-than"),
                                      Cli::tr("Remove runs completed more than DAYS days ago."),
                                      QStringLiteral("DAYS"));
    const QCommandLineOption dryOpt(QStringLiteral("dry-run"),
                                    Cli::tr("Only say what would be removed."));
    const QCommandLineOption jsonOpt(QStringLiteral("json"), Cli::tr("Print the counts as JSON."));
    parser.addOptions({olderOpt, dryOpt, jsonOpt});
    int exitCode = kOk;
    if (!cli.parse(parser, args, QStringLiteral("audit prune"),
                   Cli::tr("Removes old runs with their tool calls, API calls and audit events, "
                           "and old resolved alerts. The chain keeps an anchor and records the "
                           "prune as an event, so it still verifies. Runs whose events interleave "
                           "with newer runs are deferred to a later prune.\n"
                           "Exit status: 0 done (or dry run), 1 error, 2 usage."),
                   0, &exitCode))
        return exitCode;
    if (!parser.isSet(olderOpt))
        return cli.error(kUsage, Cli::tr("--older-than DAYS is required (see: m1ctl audit prune "
                                         "--help)"));
    bool ok = false;
    const int days = parser.value(olderOpt).toInt(&ok);
    if (!ok || days < 0)
        return cli.error(kUsage, Cli::tr("--older-than must be a whole number of days >= 0"));
    const auto store = Services::existingStore(cli.database());
    if (!store)
        return cli.error(kError, store.error());
    const bool dryRun = parser.isSet(dryOpt);
    const auto report = (*store)->prune(days, dryRun);
    if (!report)
        return cli.error(kError, report.error());
    if (parser.isSet(jsonOpt)) {
        cli.printJson({{QStringLiteral("dryRun"), dryRun},
                       {QStringLiteral("cutoffMs"), report->cutoff},
                       {QStringLiteral("runs"), report->runs},
                       {QStringLiteral("toolCalls"), report->toolCalls},
                       {QStringLiteral("apiCalls"), report->apiCalls},
                       {QStringLiteral("events"), report->events},
                       {QStringLiteral("alerts"), report->alerts},
                       {QStringLiteral("deferredRuns"), report->deferredRuns},
                       {QStringLiteral("oldestStartMs"), report->oldestStart},
                       {QStringLiteral("newestStartMs"), report->newestStart}});
        return kOk;
    }
    QTextStream& out = cli.out();
    out << (dryRun ? Cli::tr("Would remove") : Cli::tr("Removed"))
        << Cli::tr(" %1 completed before %2 UTC: %3, %4, %5, %6.")
               .arg(Cli::counted(QT_TR_NOOP("%n run(s)"), report->runs),
                    DateArgument::format(report->cutoff),
                    Cli::counted(QT_TR_NOOP("%n tool call(s)"), report->toolCalls),
                    Cli::counted(QT_TR_NOOP("%n API call(s)"), report->apiCalls),
                    Cli::counted(QT_TR_NOOP("%n audit event(s)"), report->events),
                    Cli::counted(QT_TR_NOOP("%n resolved alert(s)"), report->alerts))
        << '\n';
    if (report->runs > 0)
        out << Cli::tr("Those runs started between %1 and %2 UTC.")
                   .arg(DateArgument::format(report->oldestStart),
                        DateArgument::format(report->newestStart))
            << '\n';
    if (report->deferredRuns > 0)
        out << Cli::tr("%1 deferred: their events interleave with newer runs.")
                   .arg(Cli::counted(QT_TR_NOOP("%n old run(s)"), report->deferredRuns))
            << '\n';
    out.flush();
    return kOk;
}

} // namespace

int runAudit(Cli& cli, const QStringList& args) {
    return cli.dispatch(
        QStringLiteral("audit"), args,
        {
            {QStringLiteral("verify"),
             Cli::tr("check the hash chain and that the tables agree with it (exit 0 only when "
                     "intact)"),
             &auditVerify},
            {QStringLiteral("prune"), Cli::tr("remove old runs (--dry-run says what would go)"),
             &auditPrune},
        },
        Cli::Database::Optional);
}

} // namespace m1::cli
