#include "cli/Cli.h"
#include "cli/Services.h"

#include "llm/ModelCatalog.h"
#include "store/AuditSeeder.h"

#include <QElapsedTimer>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>

namespace m1::cli {

namespace {

// A store that holds runs recorded by the application or m1ctl run is a real audit trail: never
// mixed with synthetic history. Seeded runs are the ones whose run.started event is marked
// "seeded": true (the compact JSON the writer and the seeder store; a goal quoting that text
// would be escaped, so it cannot fake the mark).
int checkSeedable(Cli& cli, const AuditStore& store, const AuditSeeder::Options& options) {
    QSqlQuery q(QSqlDatabase::database(store.connectionName(), false));
    if (!q.exec(QStringLiteral(
            "SELECT r.run_id FROM runs r WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE "
            "e.run_id = r.run_id AND e.kind = 'run.started' AND e.payload_json LIKE "
            "'%\"seeded\":true%') LIMIT 1")))
        return cli.error(kError,
                         store.dialect().toError(q.lastError(), QStringLiteral("store.read"),
                                                 Cli::tr("Looking for recorded runs")));
    if (q.next())
        return cli.error(kUsage,
                         Cli::tr("the audit store at %1 holds runs that were not seeded (e.g. "
                                 "%2): it is a real audit trail, and dev seed never writes into "
                                 "one. Name a new database with --db.")
                             .arg(store.config().displayName(), q.value(0).toString()));
    q.finish();
    if (options.runs == 0)
        return kOk;
    // Run ids are seed<S>-<n> from n = 0: the same seed again would collide on the first one.
    const QString first =
        QStringLiteral("seed%1-%2").arg(options.seed).arg(0, 8, 10, QLatin1Char('0'));
    const auto taken = Services::runExists(store, first);
    if (!taken)
        return cli.error(kError, taken.error());
    if (*taken)
        return cli.error(kUsage, Cli::tr("the audit store already holds the history of seed %1 "
                                         "(run %2): pass another --seed N to add more, or name a "
                                         "new database with --db")
                                     .arg(options.seed)
                                     .arg(first));
    return kOk;
}

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
                           "events and the hash chain stays valid.\n"
                           "Needs --db before the command (never the default audit trail) and "
                           "refuses a store that holds runs that were not seeded, or already "
                           "holds this --seed.\n"
                           "Exit status: 0 seeded, 1 error (database), 2 usage (also: no --db, a "
                           "real audit trail, the same seed again)."),
                   0, &exitCode))
        return exitCode;
    // Synthetic history in the real audit trail would be indistinguishable in every dashboard:
    // the database must be named on purpose.
    if (cli.database().isEmpty())
        return cli.error(kUsage, Cli::tr("dev seed needs --db PATH_OR_URL before the command, "
                                         "e.g. m1ctl --db /tmp/m1-demo.sqlite dev seed ...: it "
                                         "writes synthetic history and never goes into the "
                                         "default audit trail"));
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
    if (const int refused = checkSeedable(cli, **store, options); refused != kOk)
        return refused;
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
    cli.out() << Cli::tr("seeded %1, %2, %3, %4 in %5 ms")
                     .arg(Cli::counted(QT_TR_NOOP("%n run(s)"), report->runs),
                          Cli::counted(QT_TR_NOOP("%n tool call(s)"), report->toolCalls),
                          Cli::counted(QT_TR_NOOP("%n API call(s)"), report->apiCalls),
                          Cli::counted(QT_TR_NOOP("%n audit event(s)"), report->events))
                     .arg(elapsed)
              << Qt::endl;
    return kOk;
}

} // namespace

int runDev(Cli& cli, const QStringList& args) {
    return cli.dispatch(QStringLiteral("dev"), args,
                        {
                            {QStringLiteral("seed"),
                             Cli::tr("fill the audit store with synthetic history"), &devSeed},
                        },
                        Cli::Database::Required);
}

} // namespace m1::cli
