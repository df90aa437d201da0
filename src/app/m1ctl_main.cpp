#include "cli/Cli.h"
#include "cli/Services.h"

#include "Version.h"
#include "util/AppIdentity.h"

#include <QCoreApplication>
#include <QHash>

namespace {

QString mainHelp() {
    return m1::cli::Cli::tr(
        "Usage: m1ctl [--db PATH_OR_URL] COMMAND [options]\n"
        "\n"
        "The command-line front end of M1 Agent Control: the agent proposes tool calls; the\n"
        "policy and a person decide; only a single-use approval token lets a tool run.\n"
        "\n"
        "Commands:\n"
        "  policy check      ask the policy engine about one proposed tool call\n"
        "  policy validate   check a rules file\n"
        "  token mint        mint an approval token for one exact call\n"
        "  token verify      verify a token (and the call it covers)\n"
        "  token revoke      revoke a token or jti for good\n"
        "  tool exec         run one tool call through policy and the tool executor\n"
        "  tool list         list the registered tools\n"
        "  run               run an agent on a goal (streams, asks, audits; see run --help)\n"
        "  secret status     where the JWT secret and API key come from\n"
        "  secret rotate-jwt | set-api-key | delete-api-key\n"
        "  history list      past runs, newest first, with filters and paging\n"
        "  history show      one run in full with its tool calls and API calls\n"
        "  export costs      the cost report per day and model as CSV\n"
        "  metrics           the dashboards: runs, tools, agents, approvals, errors, costs\n"
        "  audit verify      check the audit trail's hash chain\n"
        "  audit prune       remove old runs (--dry-run says what would go)\n"
        "  dev seed          fill a store with synthetic history (benchmarks, demos)\n"
        "  alerts list | resolve   list alerts (--open, --category, --level) or resolve one\n"
        "\n"
        "Options:\n"
        "  --db PATH_OR_URL  the audit database: an SQLite file or postgresql://user:pass@host/db\n"
        "                    (default: <data folder>/audit.sqlite); tokens, tool exec, history,\n"
        "                    export, metrics, audit and dev use it\n"
        "  -h, --help        this help; COMMAND --help shows a command's options\n"
        "  -v, --version     the version\n"
        "\n"
        "Exit statuses:\n"
        "  0  success (policy allows, token valid, tool succeeded)\n"
        "  1  error: could not do it (keychain, file, database)\n"
        "  2  usage: bad command line\n"
        "  3  refused: policy denies (e.g. a path outside the workspace), approval missing,\n"
        "     or token refused;\n"
        "     audit verify: the chain is broken or the database damaged\n"
        "  4  ask: the policy wants a person's approval (policy check)\n"
        "  5  the tool ran and reported failure (tool exec)\n"
        "  run: 0 completed, 3 model refused, 6 limit reached, 7 answer cut, 8 cancelled,\n"
        "       9 model API error, 10 audit store refused a write\n"
        "\n"
        "Environment:\n"
        "  M1_JWT_SECRET     JWT secret (at least 32 bytes) instead of the OS keychain\n"
        "  ANTHROPIC_API_KEY API key instead of the OS keychain\n"
        "  M1_SETTINGS       settings file (default: ~/.config/m1-agent-control/settings.json);\n"
        "                    when set, the file must exist\n"
        "  M1_LOG_LEVEL      log level: debug, info, warning or critical (over the settings)\n");
}

} // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    m1::initApplicationIdentity();
    m1::cli::Cli cli;

    QStringList args = QCoreApplication::arguments().mid(1);
    // Global options come before the command: m1ctl [--db PATH_OR_URL] COMMAND ...
    while (!args.isEmpty() && args.first().startsWith(QLatin1String("--db"))) {
        if (args.first() == QLatin1String("--db")) {
            if (args.size() < 2)
                return cli.error(m1::cli::kUsage, m1::cli::Cli::tr("--db needs PATH_OR_URL"));
            cli.setDatabase(args.at(1));
            args.remove(0, 2);
        } else if (args.first().startsWith(QLatin1String("--db="))) {
            cli.setDatabase(args.first().mid(5));
            args.removeFirst();
        } else {
            break;
        }
    }
    const QString command = args.value(0);
    m1::cli::Services::startLogging();
    if (command == QLatin1String("--version") || command == QLatin1String("-v") ||
        command == QLatin1String("version")) {
        cli.out() << "m1ctl " << m1::kVersion << Qt::endl;
        return m1::cli::kOk;
    }
    if (command.isEmpty() || command == QLatin1String("--help") || command == QLatin1String("-h") ||
        command == QLatin1String("help")) {
        cli.out() << mainHelp();
        cli.out().flush();
        return command.isEmpty() ? m1::cli::kUsage : m1::cli::kOk;
    }
    args.removeFirst();
    if (const m1::Status environment = m1::cli::Services::checkEnvironment(); !environment)
        return cli.error(m1::cli::kError, environment.error());
    using Handler = int (*)(m1::cli::Cli&, const QStringList&);
    static const QHash<QString, Handler> handlers{
        {QStringLiteral("policy"), &m1::cli::runPolicy},
        {QStringLiteral("token"), &m1::cli::runToken},
        {QStringLiteral("tool"), &m1::cli::runTool},
        {QStringLiteral("secret"), &m1::cli::runSecret},
        {QStringLiteral("history"), &m1::cli::runHistory},
        {QStringLiteral("export"), &m1::cli::runExport},
        {QStringLiteral("metrics"), &m1::cli::runMetrics},
        {QStringLiteral("audit"), &m1::cli::runAudit},
        {QStringLiteral("dev"), &m1::cli::runDev},
        {QStringLiteral("run"), &m1::cli::runRun},
        {QStringLiteral("alerts"), &m1::cli::runAlerts},
    };
    if (const auto it = handlers.constFind(command); it != handlers.constEnd())
        return (*it)(cli, args);
    return cli.error(m1::cli::kUsage,
                     m1::cli::Cli::tr("unknown command \"%1\" (see: m1ctl --help)").arg(command));
}
