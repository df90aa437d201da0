#include "cli/Cli.h"
#include "cli/Services.h"

#include "model/PolicyDecision.h"
#include "tools/ToolExecutor.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QUuid>

namespace m1::cli {

namespace {

int toolExec(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    const QCommandLineOption workspaceOpt(QStringLiteral("workspace"),
                                          Cli::tr("The workspace folder the tool is confined to."),
                                          QStringLiteral("DIR"));
    const QCommandLineOption toolOpt(QStringLiteral("tool"), Cli::tr("Tool name."),
                                     QStringLiteral("NAME"));
    const QCommandLineOption argsOpt(QStringLiteral("args"),
                                     Cli::tr("The call's arguments as a JSON object."),
                                     QStringLiteral("JSON"));
    const QCommandLineOption tokenOpt(
        QStringLiteral("token"),
        Cli::tr("Approval token for this exact call (- reads it from standard input). Needed "
                "when the policy asks for approval."),
        QStringLiteral("TOKEN"));
    const QCommandLineOption rulesOpt(QStringLiteral("rules"),
                                      Cli::tr("Rules file (default: the user's policy.json)."),
                                      QStringLiteral("FILE"));
    const QCommandLineOption runOpt(QStringLiteral("run"),
                                    Cli::tr("Run id the token is bound to (default: none)."),
                                    QStringLiteral("ID"));
    const QCommandLineOption jsonOpt(QStringLiteral("json"),
                                     Cli::tr("Print the decision and the result as one JSON "
                                             "object."));
    parser.addOptions({workspaceOpt, toolOpt, argsOpt, tokenOpt, rulesOpt, runOpt, jsonOpt});
    int exitCode = kOk;
    if (!cli.parse(
            parser, args, QStringLiteral("tool exec"),
            Cli::tr("Runs one tool call through the policy and the tool executor.\n"
                    "A call the policy allows runs with a token minted for it; a call that needs "
                    "approval runs only with --token for exactly this call; a denied call never "
                    "runs. Each token runs one call, once.\n"
                    "Exit status: 0 the tool succeeded, 5 the tool ran and reported failure, "
                    "3 refused (policy denies, approval missing, token refused), 1 error "
                    "(e.g. a path outside the workspace, no keychain), 2 usage."),
            0, &exitCode))
        return exitCode;
    if (!parser.isSet(toolOpt) || !parser.isSet(argsOpt))
        return cli.error(kUsage,
                         Cli::tr("--tool and --args are required (see: m1ctl tool exec --help)"));

    auto context = Services::callContext(cli, parser.value(workspaceOpt), parser.value(rulesOpt),
                                         parser.value(argsOpt), &exitCode);
    if (!context)
        return exitCode;
    const Settings& settings = context->settings;
    const Workspace& workspace = context->workspace;

    const ToolRegistry registry = ToolRegistry::withBuiltins();
    const PolicyEngine engine(registry, workspace, settings.policy, context->rules);
    const ToolCall call{QStringLiteral("cli_%1").arg(QUuid::createUuid().toString(QUuid::Id128)),
                        parser.value(runOpt), parser.value(toolOpt), context->arguments};
    RunState state;
    state.runId = call.runId;
    const PolicyDecision decision = engine.evaluate(call, state);
    const bool json = parser.isSet(jsonOpt);
    QJsonObject report{{QStringLiteral("policy"), decision.toJson()}};

    auto refuse = [&](const QString& code, const QString& reason) -> int {
        if (json) {
            report.insert(QStringLiteral("executed"), false);
            report.insert(
                QStringLiteral("error"),
                QJsonObject{{QStringLiteral("code"), code}, {QStringLiteral("message"), reason}});
            cli.printJson(report);
            return kRefused;
        }
        return cli.error(kRefused, reason);
    };

    if (decision.isDeny())
        return refuse(decision.code, Cli::tr("denied by policy: %1").arg(decision.reason));

    const auto service = Services::tokenService(settings);
    if (!service)
        return cli.error(kError, service.error());

    QString token;
    QString approver;
    if (parser.isSet(tokenOpt)) {
        token = parser.value(tokenOpt);
        if (token == QLatin1String("-"))
            token = QString::fromUtf8(cli.readStdin(100 * 1024)).trimmed();
        approver = QStringLiteral("token");
    } else if (decision.isAllow()) {
        // The policy approved it: the policy's approval is a token like a person's.
        const auto minted = service->mint(call.toolName, registry.spec(call.toolName).value().scope,
                                          call.arguments, call.runId);
        if (!minted)
            return cli.error(kError, minted.error());
        token = *minted;
        approver = QStringLiteral("rule");
    } else {
        // A command the person can paste to approve exactly this call.
        QString argsJson =
            QString::fromUtf8(QJsonDocument(call.arguments).toJson(QJsonDocument::Compact));
        argsJson.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
        return refuse(QStringLiteral("approval.required"),
                      Cli::tr("approval required, nothing ran. %1 To approve exactly this call: "
                              "m1ctl token mint --tool %2 --scope %3 --args '%4', then pass the "
                              "token with --token.")
                          .arg(decision.reason, call.toolName,
                               scopeToString(registry.spec(call.toolName).value().scope),
                               argsJson));
    }

    const auto ledger = Services::ledger(cli.database());
    if (!ledger)
        return cli.error(kError, ledger.error());
    ToolExecutor executor(registry, workspace, *service, **ledger);
    executor.setPolicyGuard(&engine);
    const ToolExecutor::Outcome outcome = executor.execute(call, token);
    report.insert(QStringLiteral("approver"), approver);
    if (outcome.claims)
        report.insert(QStringLiteral("jti"), outcome.claims->jti);

    if (!outcome.result) {
        const Error& e = outcome.result.error();
        const bool refused = e.code.startsWith(QLatin1String("token.")) ||
                             e.code.startsWith(QLatin1String("tool.")) ||
                             e.code.startsWith(QLatin1String("schema.")) ||
                             e.code.startsWith(QLatin1String("policy."));
        if (refused && !outcome.tokenConsumed)
            return refuse(e.code, Cli::tr("refused, nothing ran: %1").arg(e.message));
        if (json) {
            report.insert(QStringLiteral("executed"), false);
            report.insert(QStringLiteral("error"),
                          QJsonObject{{QStringLiteral("code"), e.code},
                                      {QStringLiteral("message"), e.message}});
            cli.printJson(report);
            return kError;
        }
        return cli.error(kError,
                         Cli::tr("%1 failed (%2): %3").arg(call.toolName, e.code, e.message));
    }

    const ToolResult& result = *outcome.result;
    if (json) {
        report.insert(QStringLiteral("executed"), true);
        report.insert(QStringLiteral("result"),
                      QJsonObject{{QStringLiteral("isError"), result.isError},
                                  {QStringLiteral("output"), result.output},
                                  {QStringLiteral("details"), result.details}});
        cli.printJson(report);
    } else {
        cli.out() << result.output;
        if (!result.output.isEmpty() && !result.output.endsWith(QLatin1Char('\n')))
            cli.out() << '\n';
        cli.out().flush();
    }
    return result.isError ? kToolFailed : kOk;
}

int toolList(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    const QCommandLineOption jsonOpt(QStringLiteral("json"),
                                     Cli::tr("Print the tool definitions sent to the model."));
    parser.addOption(jsonOpt);
    int exitCode = kOk;
    if (!cli.parse(parser, args, QStringLiteral("tool list"),
                   Cli::tr("Lists the registered tools (the allowlist) with their scopes."), 0,
                   &exitCode))
        return exitCode;
    const ToolRegistry registry = ToolRegistry::withBuiltins();
    if (parser.isSet(jsonOpt)) {
        cli.printJson({{QStringLiteral("tools"), registry.modelDefinitions()}});
        return kOk;
    }
    for (const QString& name : registry.enabledNames()) {
        const auto spec = registry.spec(name);
        cli.out() << QStringLiteral("%1 %2 %3\n")
                         .arg(name, -16)
                         .arg(scopeToString(spec->scope), -8)
                         .arg(spec->description);
    }
    cli.out().flush();
    return kOk;
}

} // namespace

int runTool(Cli& cli, const QStringList& args) {
    const QString sub = args.value(0);
    if (sub == QLatin1String("exec"))
        return toolExec(cli, args.mid(1));
    if (sub == QLatin1String("list"))
        return toolList(cli, args.mid(1));
    if (sub.isEmpty() || sub == QLatin1String("--help") || sub == QLatin1String("-h")) {
        cli.out() << Cli::tr("Usage: m1ctl tool exec|list [options]\n\n"
                             "  exec  run one tool call through policy and the tool executor\n"
                             "  list  list the registered tools\n\n"
                             "Run m1ctl tool COMMAND --help for the options.\n");
        return sub.isEmpty() ? kUsage : kOk;
    }
    return cli.error(kUsage,
                     Cli::tr("unknown command \"tool %1\" (see: m1ctl tool --help)").arg(sub));
}

} // namespace m1::cli
