#include "cli/Cli.h"
#include "cli/DateArgument.h"
#include "cli/Services.h"

#include "store/AuditQueries.h"
#include "store/CostCsvWriter.h"

#include <QFile>
#include <QSaveFile>

#include <cstdio>

namespace m1::cli {

namespace {

int exportCosts(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    const QCommandLineOption fromOpt(QStringLiteral("from"),
                                     Cli::tr("First day (YYYY-MM-DD, UTC; or Nd for N days ago)."),
                                     QStringLiteral("DATE"));
    const QCommandLineOption toOpt(QStringLiteral("to"), Cli::tr("Last day, included."),
                                   QStringLiteral("DATE"));
    const QCommandLineOption outOpt(QStringLiteral("out"),
                                    Cli::tr("Write to FILE (replaced only once complete) instead "
                                            "of standard output."),
                                    QStringLiteral("FILE"));
    const QCommandLineOption totalsOpt(QStringLiteral("totals"),
                                       Cli::tr("End with a totals row (date \"total\")."));
    parser.addOptions({fromOpt, toOpt, outOpt, totalsOpt});
    int exitCode = kOk;
    if (!cli.parse(parser, args, QStringLiteral("export costs"),
                   Cli::tr("Writes the cost report as CSV (RFC 4180, UTF-8, CRLF): one row per "
                           "UTC day and model with runs, API calls, input / output / cache-write "
                           "/ cache-read tokens, cost_usd and unpriced_calls.\n"
                           "Exit status: 0 written, 1 error (database, file), 2 usage."),
                   0, &exitCode))
        return exitCode;
    const auto range = DateArgument::range(parser, fromOpt, toOpt);
    if (!range)
        return cli.error(kUsage, range.error());

    const auto store = Services::readStore(cli.database());
    if (!store)
        return cli.error(kError, store.error());
    const AuditQueries queries(**store);
    const bool totals = parser.isSet(totalsOpt);

    if (parser.isSet(outOpt)) {
        QSaveFile file(parser.value(outOpt));
        if (!file.open(QIODevice::WriteOnly))
            return cli.error(
                kError,
                Cli::tr("cannot write %1: %2").arg(parser.value(outOpt), file.errorString()));
        const auto rows = CostCsvWriter::write(queries, *range, file, totals);
        if (!rows) {
            file.cancelWriting();
            return cli.error(kError, rows.error());
        }
        if (!file.commit())
            return cli.error(
                kError,
                Cli::tr("cannot write %1: %2").arg(parser.value(outOpt), file.errorString()));
        cli.err() << Cli::tr("%1 written to %2")
                         .arg(Cli::counted(QT_TR_NOOP("%n row(s)"), *rows), parser.value(outOpt))
                  << Qt::endl;
        return kOk;
    }
    cli.out().flush();
    QFile out;
    if (!out.open(stdout, QIODevice::WriteOnly))
        return cli.error(kError, Cli::tr("cannot write to standard output"));
    const auto rows = CostCsvWriter::write(queries, *range, out, totals);
    out.flush();
    if (!rows)
        return cli.error(kError, rows.error());
    return kOk;
}

} // namespace

int runExport(Cli& cli, const QStringList& args) {
    return cli.dispatch(QStringLiteral("export"), args,
                        {
                            {QStringLiteral("costs"),
                             Cli::tr("the cost report per day and model as CSV"), &exportCosts},
                        },
                        Cli::Database::Optional);
}

} // namespace m1::cli
