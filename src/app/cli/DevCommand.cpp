#include "cli/Cli.h"
#include "cli/Services.h"

#include "llm/ModelCatalog.h"
#include "store/AuditSeeder.h"

#include <QElapsedTimer>

namespace m1::cli {

namespace {

int devSeed(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    const QCommandLineOption runsOpt(QStringLiteral("runs"), Cli::tr("Runs to add."),
                                     QStringLiteral("N"));
    const QCommandLineOption callsOpt(QStringLiteral("calls-per-run"),
                                      Cli::tr("Tool calls per run (0 to 100000)."),
                                      QStringLiteral("M"));
    const QCommandLineOption seedOpt(QStringLiteral("seed"),
                                     Cli::tr("Random seed (default 1); the same seed gives the "
                                             "same history for the same day."),
                                     QStringLiteral("S"));
    const QCommandLineOption jsonOpt(QStringLiteral("json"), Cli::tr("Print the counts as JSON."));
    parser.addOptions({runsOpt, callsOpt, seedOpt, jsonOpt});
    int exitCode = kOk;
    if (!cli.parse(parser, args, QStringLiteral("dev seed"),
                   Cli::tr("Fills the audit store with synthetic history for benchmarks, "
                           "screenshots and manual testing: several agents and models, every "
                           "call status and stop reason, costs from a fixed price table, spread "
                           "over the last 90 days. Seeded runs are marked in their run.started "
                           "events and the hash chain stays valid. Never point it at a real "
                           "audit trail.\n"
                           "Exit status: 0 seeded, 1 error (database), 2 usage."),
                   0, &exitCode))
        return exitCode;
    if (!parser.isSet(runsOpt) || !parser.isSet(callsOpt))
        return cli.error(kUsage, Cli::tr("--runs and --calls-per-run are required (see: m1ctl "
                                         "dev seed --help)"));
    AuditSeeder::Options options;
    bool ok = false;
    options.runs = parser.value(runsOpt).toLongLong(&ok);
    if (!ok || options.runs < 0)
        return cli.error(kUsage, Cli::tr("--runs must be a whole number >= 0"));
    options.callsPerRun = parser.value(callsOpt).toInt(&ok);
    if (!ok || options.callsPerRun < 0 || options.callsPerRun > 100000)
        return cli.error(kUsage,
                         Cli::tr("--calls-per-run must be a whole number from 0 to 100000"));
    if (parser.isSet(seedOpt)) {
        options.seed = parser.value(seedOpt).toUInt(&ok);
        if (!ok)
            return cli.error(kUsage, Cli::tr("--seed must be a whole number >= 0"));
    }
    // Models from the catalog the application offers: the default first (the most used), then
    // the current ones.
    if (const auto catalog = ModelCatalog::load()) {
        options.models.append(catalog->defaultModel());
        for (const ModelInfo& model : catalog->models()) {
            if (model.status == QLatin1String("current") && !options.models.contains(model.id))
                options.models.append(model.id);
        }
    }

    const auto store = Services::store(cli.database());
    if (!store)
        return cli.error(kError, store.error());
    QElapsedTimer timer;
    timer.start();
    const auto report = AuditSeeder::seed(**store, options);
    if (!report)
        return cli.error(kError, report.error());
    const qint64 elapsed = timer.elapsed();
    if (parser.isSet(jsonOpt)) {
        cli.printJson({{QStringLiteral("runs"), report->runs},
                       {QStringLiteral("toolCalls"), report->toolCalls},
                       {QStringLiteral("apiCalls"), report->apiCalls},
                       {QStringLiteral("events"), report->events},
                       {QStringLiteral("elapsedMs"), elapsed}});
        return kOk;
    }
    cli.out() << Cli::tr("seeded %1 runs, %2 tool calls, %3 API calls, %4 audit events in %5 ms")
                     .arg(report->runs)
                     .arg(report->toolCalls)
                     .arg(report->apiCalls)
                     .arg(report->events)
                     .arg(elapsed)
              << Qt::endl;
    return kOk;
}

} // namespace

int runDev(Cli& cli, const QStringList& args) {
    const QString sub = args.value(0);
    if (sub == QLatin1String("seed"))
        return devSeed(cli, args.mid(1));
    if (sub.isEmpty() || sub == QLatin1String("--help") || sub == QLatin1String("-h")) {
        cli.out() << Cli::tr("Usage: m1ctl [--db PATH_OR_URL] dev seed [options]\n\n"
                             "  seed  fill the audit store with synthetic history\n\n"
                             "Run m1ctl dev seed --help for the options.\n");
        return sub.isEmpty() ? kUsage : kOk;
    }
    return cli.error(kUsage,
                     Cli::tr("unknown command \"dev %1\" (see: m1ctl dev --help)").arg(sub));
}

} // namespace m1::cli
