// m1ctl alerts list | resolve: the alerts in the audit store.
#include "cli/Cli.h"
#include "cli/Services.h"

#include "monitoring/AlertManager.h"
#include "store/AuditStore.h"

#include <QCommandLineParser>
#include <QDateTime>
#include <QJsonArray>

namespace m1::cli {

namespace {

QString timeText(qint64 ms) {
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC)
        .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

int runList(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    const QCommandLineOption open(QStringLiteral("open"), Cli::tr("Only alerts not resolved yet."));
    const QCommandLineOption category(
        QStringLiteral("category"),
        Cli::tr("Only this category: policy_violation, execution_error, high_error_rate, "
                "approval_denied, token_expired, cost_threshold, performance."),
        QStringLiteral("C"));
    const QCommandLineOption level(QStringLiteral("level"),
                                   Cli::tr("Only this level: info, warning, critical."),
                                   QStringLiteral("L"));
    const QCommandLineOption run(QStringLiteral("run"), Cli::tr("Only alerts about this run."),
                                 QStringLiteral("RUN_ID"));
    const QCommandLineOption limit(QStringLiteral("limit"),
                                   Cli::tr("At most N alerts, newest first (default 100)."),
                                   QStringLiteral("N"), QStringLiteral("100"));
    const QCommandLineOption json(QStringLiteral("json"), Cli::tr("One JSON object on stdout."));
    parser.addOptions({open, category, level, run, limit, json});
    int exitCode = kOk;
    if (!cli.parse(
            parser, args, QStringLiteral("alerts list"),
            Cli::tr(
                "List the alerts in the audit store, newest first.\n"
                "Exit status: 0 listed, 1 the store cannot be read (no audit database at --db), "
                "2 usage."),
            0, &exitCode))
        return exitCode;

    AlertFilter filter;
    filter.openOnly = parser.isSet(open);
    filter.runId = parser.value(run);
    if (parser.isSet(category)) {
        filter.category = Alert::categoryFromName(parser.value(category));
        if (!filter.category)
            return cli.error(kUsage,
                             Cli::tr("unknown category \"%1\" (see: m1ctl alerts list --help)")
                                 .arg(parser.value(category)));
    }
    if (parser.isSet(level)) {
        filter.level = Alert::levelFromName(parser.value(level));
        if (!filter.level)
            return cli.error(kUsage, Cli::tr("unknown level \"%1\": info, warning or critical")
                                         .arg(parser.value(level)));
    }
    bool ok = false;
    filter.limit = parser.value(limit).toInt(&ok);
    if (!ok || filter.limit < 1)
        return cli.error(kUsage, Cli::tr("--limit must be a positive number"));

    auto store = Services::readStore(cli.database());
    if (!store)
        return cli.error(kError, store.error());
    const AlertRepository repository((*store)->connectionName());
    auto alerts = repository.list(filter);
    if (!alerts)
        return cli.error(kError, alerts.error());

    if (parser.isSet(json)) {
        QJsonArray items;
        for (const Alert& a : std::as_const(*alerts))
            items.append(a.toJson());
        cli.printJson({{QStringLiteral("alerts"), items}});
        return kOk;
    }
    if (alerts->isEmpty()) {
        cli.out() << Cli::tr("No alerts.") << Qt::endl;
        return kOk;
    }
    for (const Alert& a : std::as_const(*alerts)) {
        // One line per alert whatever the message holds (it may quote tool output).
        QString message = a.message;
        message.replace(QLatin1Char('\n'), QLatin1Char(' '))
            .replace(QLatin1Char('\r'), QLatin1Char(' '));
        cli.out() << a.id << "  " << timeText(a.raisedAt) << "  "
                  << Alert::levelName(a.level).leftJustified(8) << ' '
                  << Alert::categoryName(a.category).leftJustified(16) << ' '
                  << (a.isOpen() ? Cli::tr("open") : Cli::tr("resolved")).leftJustified(8) << ' '
                  << message << '\n';
    }
    cli.out().flush();
    return kOk;
}

int runResolve(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    const QCommandLineOption note(QStringLiteral("note"), Cli::tr("Why it is resolved."),
                                  QStringLiteral("T"));
    parser.addOption(note);
    cli.addPositional(parser, QStringLiteral("ID"), Cli::tr("The alert's id."));
    int exitCode = kOk;
    if (!cli.parse(parser, args, QStringLiteral("alerts resolve"),
                   Cli::tr("Mark an open alert as resolved, with an optional note.\n"
                           "Exit status: 0 resolved, 1 unknown or already resolved alert or a "
                           "store error, 2 usage."),
                   1, &exitCode))
        return exitCode;
    const QString id = parser.positionalArguments().value(0);
    if (id.isEmpty())
        return cli.error(kUsage, Cli::tr("alerts resolve needs the alert's ID"));

    auto store = Services::existingStore(cli.database());
    if (!store)
        return cli.error(kError, store.error());
    auto writer = (*store)->startWriter();
    if (!writer)
        return cli.error(kError, writer.error());
    AlertManager alerts(writer->get(), (*store)->connectionName());
    if (auto s = alerts.resolve(id, parser.value(note)); !s)
        return cli.error(kError, s.error());
    if (auto s = alerts.flush(30000); !s)
        return cli.error(kError, s.error());
    cli.out() << Cli::tr("Resolved %1.").arg(id) << Qt::endl;
    return kOk;
}

} // namespace

int runAlerts(Cli& cli, const QStringList& args) {
    return cli.dispatch(QStringLiteral("alerts"), args,
                        {
                            {QStringLiteral("list"),
                             Cli::tr("list alerts (--open, --category, --level, --run)"), &runList},
                            {QStringLiteral("resolve"),
                             Cli::tr("mark an open alert as resolved (ID, --note)"), &runResolve},
                        },
                        Cli::Database::Optional);
}

} // namespace m1::cli
