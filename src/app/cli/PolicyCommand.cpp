#include "cli/Cli.h"
#include "cli/Services.h"

#include "model/PolicyDecision.h"

namespace m1::cli {

namespace {

int policyCheck(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    const QCommandLineOption workspaceOpt(QStringLiteral("workspace"),
                                          Cli::tr("The workspace folder the call is confined to."),
                                          QStringLiteral("DIR"));
    const QCommandLineOption rulesOpt(
        QStringLiteral("rules"),
        Cli::tr("Rules file ({\"allow\":[],\"ask\":[],\"deny\":[]}). Default: the user's "
                "policy.json in the config folder, if any."),
        QStringLiteral("FILE"));
    const QCommandLineOption toolOpt(QStringLiteral("tool"), Cli::tr("Tool name."),
                                     QStringLiteral("NAME"));
    const QCommandLineOption argsOpt(QStringLiteral("args"),
                                     Cli::tr("The call's arguments as a JSON object."),
                                     QStringLiteral("JSON"));
    const QCommandLineOption runOpt(QStringLiteral("run"), Cli::tr("Run id (for limits)."),
                                    QStringLiteral("ID"));
    const QCommandLineOption callsOpt(QStringLiteral("tool-calls"),
                                      Cli::tr("Tool calls already made in the run (default 0)."),
                                      QStringLiteral("N"));
    const QCommandLineOption stepsOpt(QStringLiteral("steps"),
                                      Cli::tr("Steps already taken in the run (default 0)."),
                                      QStringLiteral("N"));
    const QCommandLineOption elapsedOpt(QStringLiteral("elapsed"),
                                        Cli::tr("Seconds the run has lasted (default 0)."),
                                        QStringLiteral("S"));
    const QCommandLineOption jsonOpt(
        QStringLiteral("json"),
        Cli::tr("Print {\"decision\":\"allow|ask|deny\",\"reason\":\"...\", ...}."));
    parser.addOptions({workspaceOpt, rulesOpt, toolOpt, argsOpt, runOpt, callsOpt, stepsOpt,
                       elapsedOpt, jsonOpt});
    int exitCode = kOk;
    if (!cli.parse(parser, args, QStringLiteral("policy check"),
                   Cli::tr("Asks the policy engine about one proposed tool call.\n"
                           "Exit status: 0 allow, 4 ask (a person must approve), 3 deny, "
                           "1 error, 2 usage."),
                   0, &exitCode))
        return exitCode;
    if (!parser.isSet(toolOpt) || !parser.isSet(argsOpt))
        return cli.error(kUsage, Cli::tr("--tool and --args are required (see: m1ctl policy "
                                         "check --help)"));

    auto context = Services::callContext(cli, parser.value(workspaceOpt), parser.value(rulesOpt),
                                         parser.value(argsOpt), &exitCode);
    if (!context)
        return exitCode;
    const Settings& settings = context->settings;
    const Workspace& workspace = context->workspace;

    RunState state;
    state.runId = parser.value(runOpt);
    auto readCount = [&](const QCommandLineOption& opt, auto& target) {
        if (!parser.isSet(opt))
            return true;
        bool ok = false;
        const qlonglong value = parser.value(opt).toLongLong(&ok);
        if (!ok || value < 0)
            return false;
        target = static_cast<std::remove_reference_t<decltype(target)>>(value);
        return true;
    };
    if (!readCount(callsOpt, state.toolCallsSoFar) || !readCount(stepsOpt, state.stepsSoFar) ||
        !readCount(elapsedOpt, state.elapsedSeconds))
        return cli.error(kUsage,
                         Cli::tr("--tool-calls, --steps and --elapsed take a whole number >= 0"));

    const ToolRegistry registry = ToolRegistry::withBuiltins();
    const PolicyEngine engine(registry, workspace, settings.policy, context->rules);
    const ToolCall call{QString(), state.runId, parser.value(toolOpt), context->arguments};
    const PolicyDecision decision = engine.evaluate(call, state);

    if (parser.isSet(jsonOpt))
        cli.printJson(decision.toJson());
    else
        cli.out() << decisionKindToString(decision.kind) << ": " << decision.reason << Qt::endl;
    switch (decision.kind) {
    case PolicyDecision::Kind::Allow:
        return kOk;
    case PolicyDecision::Kind::Ask:
        return kAsk;
    case PolicyDecision::Kind::Deny:
        return kRefused;
    }
    return kRefused;
}

int policyValidate(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    cli.addPositional(parser, QStringLiteral("FILE"), Cli::tr("The rules file to check."));
    int exitCode = kOk;
    if (!cli.parse(parser, args, QStringLiteral("policy validate"),
                   Cli::tr("Checks a rules file without using it. Exit status 0 when every rule "
                           "is valid, 1 otherwise (the first problem is named with its line)."),
                   1, &exitCode))
        return exitCode;
    if (parser.positionalArguments().isEmpty())
        return cli.error(kUsage, Cli::tr("FILE is required (see: m1ctl policy validate --help)"));
    const auto rules = PolicyRules::loadFile(parser.positionalArguments().first());
    if (!rules)
        return cli.error(kError, rules.error());
    cli.out() << Cli::tr("%1: %2, all valid")
                     .arg(parser.positionalArguments().first(),
                          Cli::counted(QT_TR_NOOP("%n rule(s)"), rules->rules().size()))
              << Qt::endl;
    return kOk;
}

} // namespace

int runPolicy(Cli& cli, const QStringList& args) {
    return cli.dispatch(
        QStringLiteral("policy"), args,
        {
            {QStringLiteral("check"), Cli::tr("ask the policy engine about one proposed tool call"),
             &policyCheck},
            {QStringLiteral("validate"), Cli::tr("check a rules file"), &policyValidate},
        },
        Cli::Database::None);
}

} // namespace m1::cli
