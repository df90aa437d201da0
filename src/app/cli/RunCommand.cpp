#include "cli/Cli.h"
#include "cli/InterruptHandler.h"
#include "cli/Services.h"

#include "config/SecretStore.h"
#include "llm/ClaudeProvider.h"
#include "llm/ModelCatalog.h"
#include "llm/ReplayProvider.h"
#include "monitoring/AlertManager.h"
#include "monitoring/BudgetGuard.h"
#include "monitoring/CostReport.h"
#include "monitoring/CostTracker.h"
#include "monitoring/SecretRedactor.h"
#include "monitoring/Telemetry.h"
#include "run/AgentProfiles.h"
#include "run/AutoApprovalGate.h"
#include "run/DemoWorkspace.h"
#include "run/PricingCostEstimator.h"
#include "run/RunController.h"
#include "run/TerminalApprovalGate.h"
#include "store/AuditStore.h"
#include "store/AuditWriter.h"

#include <QDateTime>
#include <QEventLoop>
#include <QFile>
#include <QJsonDocument>
#include <QProcessEnvironment>

#include <openssl/rand.h>
#include <termios.h>

namespace m1::cli {

namespace {

// Exit statuses of `m1ctl run` (also in --help and docs/cli.md).
enum RunExit {
    kRunCompleted = 0,
    kRunRefused = 3,   // the model refused (provider_refused)
    kRunLimit = 6,     // max_steps, max_tool_calls, max_runtime, budget_exceeded
    kRunTruncated = 7, // max_tokens, context_exhausted
    kRunCancelled = 8, // user_cancelled
    kRunApiError = 9,  // api_error (the provider failed; the code is in the report)
    kRunAudit = 10,    // audit_failed: the audit store refused a write, nothing more ran
};

int exitFor(const QString& stopReason) {
    if (stopReason == QLatin1String("completed"))
        return kRunCompleted;
    if (stopReason == QLatin1String("provider_refused"))
        return kRunRefused;
    if (stopReason == QLatin1String("max_steps") || stopReason == QLatin1String("max_tool_calls") ||
        stopReason == QLatin1String("max_runtime") ||
        stopReason == QLatin1String("budget_exceeded"))
        return kRunLimit;
    if (stopReason == QLatin1String("max_tokens") ||
        stopReason == QLatin1String("context_exhausted"))
        return kRunTruncated;
    if (stopReason == QLatin1String("user_cancelled"))
        return kRunCancelled;
    if (stopReason == QLatin1String("audit_failed"))
        return kRunAudit;
    return kRunApiError;
}

QString compact(const QJsonObject& o) {
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

} // namespace

int runRun(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    const QCommandLineOption goalOpt(QStringLiteral("goal"), Cli::tr("What the agent should do."),
                                     QStringLiteral("TEXT"));
    const QCommandLineOption workspaceOpt(
        QStringLiteral("workspace"),
        Cli::tr("The folder the tools are confined to (default with the replay provider: the "
                "demo workspace, reset to its starting files)."),
        QStringLiteral("DIR"));
    const QCommandLineOption agentOpt(QStringLiteral("agent"),
                                      Cli::tr("Agent profile (default: orchestrator)."),
                                      QStringLiteral("NAME"));
    const QCommandLineOption modelOpt(
        QStringLiteral("model"),
        Cli::tr("Model id (with the replay provider: the transcript's model, the only one "
                "accepted)."),
        QStringLiteral("ID"));
    const QCommandLineOption providerOpt(
        QStringLiteral("provider"),
        Cli::tr("claude or replay (default: claude when an API key is configured, else replay)."),
        QStringLiteral("NAME"));
    const QCommandLineOption transcriptOpt(
        QStringLiteral("transcript"),
        Cli::tr("Recorded transcript for the replay provider (default: the built-in demo)."),
        QStringLiteral("FILE"));
    const QCommandLineOption dryRunOpt(
        QStringLiteral("dry-run"),
        Cli::tr("Policy, approvals, tokens and audit as usual, but no tool runs."));
    const QCommandLineOption autoOpt(
        QStringLiteral("auto-approve"),
        Cli::tr("Approve proposals up to this scope without asking: none, read, write or "
                "execute (deny rules still win)."),
        QStringLiteral("SCOPE"));
    const QCommandLineOption tokenOpt(
        QStringLiteral("token"),
        Cli::tr("Pre-authorised approval token (repeatable): a proposal it covers exactly runs "
                "without a prompt. Mint it for this run's --run-id; a token that is malformed, "
                "expired, spent or for another run is refused at start (usage error)."),
        QStringLiteral("TOKEN"));
    const QCommandLineOption runIdOpt(
        QStringLiteral("run-id"),
        Cli::tr("Run id to use (so tokens can be minted for the run in advance); it must be new "
                "to the audit store."),
        QStringLiteral("ID"));
    const QCommandLineOption stepsOpt(QStringLiteral("max-steps"), Cli::tr("Model turns at most."),
                                      QStringLiteral("N"));
    const QCommandLineOption callsOpt(QStringLiteral("max-tool-calls"),
                                      Cli::tr("Tool calls at most."), QStringLiteral("N"));
    const QCommandLineOption runtimeOpt(QStringLiteral("max-runtime"), Cli::tr("Seconds at most."),
                                        QStringLiteral("S"));
    const QCommandLineOption budgetOpt(
        QStringLiteral("budget"), Cli::tr("Cost limit for the run in USD."), QStringLiteral("USD"));
    const QCommandLineOption paceOpt(
        QStringLiteral("replay-pace"),
        Cli::tr("Milliseconds between streamed pieces of the replay (default 30)."),
        QStringLiteral("MS"));
    const QCommandLineOption jsonOpt(QStringLiteral("json"),
                                     Cli::tr("Print the final report as one JSON object on "
                                             "standard output (the live stream goes to standard "
                                             "error)."));
    parser.addOptions({goalOpt, workspaceOpt, agentOpt, modelOpt, providerOpt, transcriptOpt,
                       dryRunOpt, autoOpt, tokenOpt, runIdOpt, stepsOpt, callsOpt, runtimeOpt,
                       budgetOpt, paceOpt, jsonOpt});
    int exitCode = kOk;
    if (!cli.parse(
            parser, args, QStringLiteral("run"),
            Cli::tr("Runs an agent on a goal: the model proposes tool calls, the policy and you "
                    "decide, approved calls run with a single-use token, everything is audited.\n"
                    "Without a terminal, a call that needs approval is denied unless --token or "
                    "--auto-approve covers it.\n"
                    "The replay provider bills nothing: its API calls are recorded with cost 0 "
                    "and no budget applies to it or counts it.\n"
                    "Exit status: 0 completed; 3 the model refused (provider_refused); 6 a limit "
                    "stopped the run (max_steps, max_tool_calls, max_runtime, budget_exceeded), or "
                    "no run started because the day's or month's budget is used up; "
                    "7 the answer was cut (max_tokens, context_exhausted); 8 cancelled (Ctrl-C or "
                    "SIGTERM; a second one quits at once with 130 or 143 and leaves the run "
                    "unfinished); 9 the model API failed (api_error); 10 the audit store refused "
                    "a write (audit_failed, nothing more ran); 1 could not start; 2 usage (also: "
                    "the --run-id exists already, a --token that cannot be used).\n"
                    "On a terminal, a full or read-only audit store pauses the run and asks: "
                    "audit storage full: [r]etry / [c]ancel. Without a terminal the run ends as "
                    "audit_failed (exit status 10)."),
            0, &exitCode))
        return exitCode;
    if (!parser.isSet(goalOpt) || parser.value(goalOpt).trimmed().isEmpty())
        return cli.error(kUsage, Cli::tr("--goal is required (see: m1ctl run --help)"));
    const bool json = parser.isSet(jsonOpt);
    QTextStream& live = json ? cli.err() : cli.out();

    auto intOption = [&](const QCommandLineOption& o, int fallback, int* value) -> bool {
        if (!parser.isSet(o)) {
            *value = fallback;
            return true;
        }
        bool ok = false;
        *value = parser.value(o).toInt(&ok);
        return ok && *value > 0;
    };

    const auto settings = Services::settings();
    if (!settings)
        return cli.error(kError, settings.error());
    const auto profiles = AgentProfiles::load();
    if (!profiles)
        return cli.error(kError, profiles.error());
    const QString agentName =
        parser.isSet(agentOpt) ? parser.value(agentOpt) : profiles->defaultName();
    const auto agent = profiles->find(agentName);
    if (!agent)
        return cli.error(kUsage, Cli::tr("unknown agent \"%1\" (profiles: the built-in ones and "
                                         "%2)")
                                     .arg(agentName, AgentProfiles::userFilePath()));

    RunLimits limits = agent->limits;
    if (!intOption(stepsOpt, limits.maxSteps, &limits.maxSteps) ||
        !intOption(callsOpt, limits.maxToolCalls, &limits.maxToolCalls) ||
        !intOption(runtimeOpt, limits.maxRuntimeSeconds, &limits.maxRuntimeSeconds))
        return cli.error(kUsage, Cli::tr("--max-steps, --max-tool-calls and --max-runtime take "
                                         "a positive whole number"));
    if (parser.isSet(budgetOpt)) {
        bool ok = false;
        limits.budgetUsd = parser.value(budgetOpt).toDouble(&ok);
        if (!ok || limits.budgetUsd <= 0)
            return cli.error(kUsage, Cli::tr("--budget takes a positive amount in USD"));
    }
    std::optional<Scope> autoScope;
    if (parser.isSet(autoOpt) && parser.value(autoOpt) != QLatin1String("none")) {
        autoScope = scopeFromString(parser.value(autoOpt));
        if (!autoScope)
            return cli.error(kUsage, Cli::tr("--auto-approve takes none, read, write or execute"));
    }
    int pace = 30;
    if (parser.isSet(paceOpt)) {
        bool ok = false;
        pace = parser.value(paceOpt).toInt(&ok);
        if (!ok || pace < 0)
            return cli.error(kUsage, Cli::tr("--replay-pace takes milliseconds (0 or more)"));
    }

    // Provider: as asked, or Claude when a key is available, else the offline replay.
    QString providerName = parser.value(providerOpt);
    QString apiKey;
    if (providerName.isEmpty() || providerName == QLatin1String("claude")) {
        const auto key = SecretStore::apiKey();
        if (key) {
            apiKey = *key;
            SecretRedactor::global().addSecret(apiKey);
        }
        if (providerName.isEmpty()) {
            providerName = key ? QStringLiteral("claude") : QStringLiteral("replay");
            if (!key)
                live << Cli::tr("No API key configured (ANTHROPIC_API_KEY or the keychain: m1ctl "
                                "secret set-api-key): using the offline replay provider, which "
                                "plays a recorded transcript.")
                     << Qt::endl;
        } else if (!key) {
            return cli.error(
                kError,
                Error{key.error().code,
                      Cli::tr("--provider claude needs an API key: %1").arg(key.error().message)});
        }
    }
    if (providerName != QLatin1String("claude") && providerName != QLatin1String("replay"))
        return cli.error(kUsage, Cli::tr("--provider takes claude or replay"));
    const bool replay = providerName == QLatin1String("replay");

    std::optional<ReplayProvider::Transcript> transcript;
    if (replay) {
        const QString path = parser.isSet(transcriptOpt) ? parser.value(transcriptOpt)
                                                         : DemoWorkspace::demoTranscript();
        auto loaded = ReplayProvider::load(path);
        if (!loaded)
            return cli.error(kError, loaded.error());
        transcript = *loaded;
    }

    QString workspaceDir = parser.value(workspaceOpt);
    if (workspaceDir.isEmpty() && replay) {
        const auto demo = DemoWorkspace::prepare();
        if (!demo)
            return cli.error(kError, demo.error());
        workspaceDir = *demo;
        live << Cli::tr("Demo workspace (reset to its starting files): %1").arg(workspaceDir)
             << Qt::endl;
    }
    const auto workspace = Services::workspace(workspaceDir);
    if (!workspace)
        return cli.error(workspace.error().code == QLatin1String("cli.usage") ? kUsage : kError,
                         workspace.error());

    const auto catalog = ModelCatalog::load();
    if (!catalog)
        return cli.error(kError, catalog.error());
    QString model = parser.value(modelOpt);
    // A replay plays what one model said: the run is recorded with that model, never another.
    if (replay && !model.isEmpty() && model != transcript->model)
        return cli.error(kUsage, Cli::tr("--model %1 does not apply to the replay provider: the "
                                         "transcript was recorded with %2 (leave out --model, or "
                                         "use --provider claude)")
                                     .arg(model, transcript->model));
    if (model.isEmpty())
        model = replay ? transcript->model
                       : (agent->model.isEmpty() ? catalog->defaultModel() : agent->model);
    const auto modelInfo = catalog->find(model);
    if (!replay && !modelInfo)
        return cli.error(
            kUsage,
            Cli::tr("unknown model \"%1\" (see %2)").arg(model, ModelCatalog::userFilePath()));

    const auto rules = Services::rules(*settings, QString());
    if (!rules)
        return cli.error(kError, rules.error());
    PolicyConfig policyConfig = settings->policy;
    policyConfig.maxStepsPerRun = limits.maxSteps;
    policyConfig.maxToolCallsPerRun = limits.maxToolCalls;
    policyConfig.maxRuntimeSeconds = limits.maxRuntimeSeconds;
    const ToolRegistry registry = ToolRegistry::withBuiltins();
    const PolicyEngine policy(registry, *workspace, policyConfig, *rules);

    auto tokens = Services::tokenService(*settings);
    if (!tokens && replay && !parser.isSet(tokenOpt)) {
        const QString why = tokens.error().code;
        // No keychain (a fresh headless machine): the demo still runs. Its tokens are minted and
        // spent within this process, so a one-time random secret serves; nothing can be
        // pre-authorised against it.
        QByteArray secret(32, '\0');
        if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), int(secret.size())) != 1)
            return cli.error(kError, tokens.error());
        TokenService::Options options;
        options.defaultTtlSeconds = settings->tokenTtlSeconds;
        tokens = TokenService::create(secret, options);
        live << Cli::tr("No JWT secret available (%1): this replay run signs its approval tokens "
                        "with a one-time secret held in memory.")
                    .arg(why)
             << Qt::endl;
    }
    if (!tokens)
        return cli.error(kError, tokens.error());

    const auto store = Services::store(cli.database());
    if (!store)
        return cli.error(kError, store.error());
    if (parser.isSet(runIdOpt)) {
        // Refused before anything is recorded: a second run must not borrow the first one's id.
        const auto taken = Services::runExists(**store, parser.value(runIdOpt));
        if (!taken)
            return cli.error(kError, taken.error());
        if (*taken)
            return cli.error(kUsage, Cli::tr("run id %1 already exists in the audit store; choose "
                                             "another --run-id")
                                         .arg(parser.value(runIdOpt)));
    }

    // Day and month budgets: spending so far comes from the audit trail, in the same exact
    // micro-dollars the calls are stored with. A replay costs nothing, so none applies to it.
    const MonitoringSettings& monitoring = settings->monitoring;
    BudgetGuard::Limits budgets;
    if (!replay) {
        budgets.dayMicros = monitoring.dailyBudgetMicros;
        budgets.monthMicros = monitoring.monthlyBudgetMicros;
    }
    budgets.warningFraction = monitoring.budgetWarningFraction;
    budgets.onExceed =
        monitoring.stopOnBudgetExceeded ? BudgetGuard::OnExceed::Stop : BudgetGuard::OnExceed::Ask;
    qint64 spentToday = 0;
    qint64 spentThisMonth = 0;
    if (budgets.dayMicros || budgets.monthMicros) {
        const QDate today = QDateTime::currentDateTimeUtc().date();
        const CostReport report((*store)->connectionName());
        const qint64 end = CostReport::startOfDayMs(today.addDays(1));
        const auto day = report.spentMicros(CostReport::startOfDayMs(today), end);
        const auto month = report.spentMicros(
            CostReport::startOfDayMs(QDate(today.year(), today.month(), 1)), end);
        if (!day)
            return cli.error(kError, day.error());
        if (!month)
            return cli.error(kError, month.error());
        spentToday = *day;
        spentThisMonth = *month;
    }
    auto writer = (*store)->startWriter();
    if (!writer)
        return cli.error(kError, writer.error());
    AlertManager alerts(writer->get(), (*store)->connectionName());
    alerts.setTelemetry(&Telemetry::global());
    {
        BudgetGuard guard(budgets, &alerts);
        guard.setSpentBefore(spentToday, spentThisMonth);
        const BudgetGuard::Verdict verdict = guard.checkBeforeRun();
        if (verdict.decision != BudgetGuard::Decision::Allow) {
            alerts.flush();
            return cli.error(kRunLimit, Error{QStringLiteral("budget.used_up"), verdict.reason});
        }
    }

    const auto pricing = PricingTable::load();
    if (!pricing)
        return cli.error(kError, pricing.error());
    CostTracker tracker(*pricing, &alerts);
    const PricingCostEstimator costs(tracker);

    std::unique_ptr<ModelProvider> provider;
    if (replay) {
        ReplayProvider::Options options;
        options.pacingMs = pace;
        provider = std::make_unique<ReplayProvider>(*transcript, options);
    } else {
        ClaudeProvider::Options options;
        const QString base = settings->effectiveBaseUrl();
        if (!base.isEmpty())
            options.baseUrl = QUrl(base);
        if (auto ok = ClaudeProvider::checkBaseUrl(options.baseUrl); !ok)
            return cli.error(kError, ok.error());
        provider = std::make_unique<ClaudeProvider>(apiKey.toUtf8(), options);
    }

    // Approvals: pre-authorised tokens and auto-approve first, then the person at the terminal.
    std::unique_ptr<TerminalApprovalGate> terminal = TerminalApprovalGate::open();
    AutoApprovalGate::Options gateOptions;
    gateOptions.autoApproveUpTo = autoScope;
    gateOptions.tokenService = &*tokens;
    for (QString token : parser.values(tokenOpt)) {
        if (token == QLatin1String("-"))
            token = QString::fromUtf8(cli.readStdin(100 * 1024)).trimmed();
        // A token that can never cover a call is a mistake to report now, not a silent prompt
        // or denial later.
        if (const Status usable =
                Services::checkRunToken(*tokens, token, int(gateOptions.tokens.size()) + 1,
                                        parser.value(runIdOpt), cli.database());
            !usable)
            return cli.error(usable.error().code.startsWith(QLatin1String("token.")) ? kUsage
                                                                                     : kError,
                             usable.error());
        gateOptions.tokens.append(token);
    }
    gateOptions.fallback = terminal.get();
    AutoApprovalGate gate(gateOptions);
    if (!terminal && !autoScope && gateOptions.tokens.isEmpty())
        live << Cli::tr("No terminal to ask: calls that need approval are denied (use --token or "
                        "--auto-approve to allow some).")
             << Qt::endl;

    RunConfig config;
    config.runId = parser.value(runIdOpt);
    config.goal = parser.value(goalOpt);
    config.agent = *agent;
    config.model = model;
    config.provider = providerName;
    config.dryRun = parser.isSet(dryRunOpt);
    config.limits = limits;
    config.maxTokens = agent->maxTokens;
    config.contextShare = agent->contextShare;
    if (modelInfo)
        config.contextWindow = modelInfo->contextWindow;

    RunController::Services services;
    services.registry = &registry;
    services.workspace = &*workspace;
    services.policy = &policy;
    services.tokens = &*tokens;
    // The ledger of the audit store given with --db, like tool exec and token revoke.
    services.openLedger = [database = cli.database()] { return TokenLedger::open(database); };
    services.audit = writer->get();
    services.provider = provider.get();
    services.gate = &gate;
    services.costs = &costs;
    services.alerts = &alerts;
    services.monitoring = &monitoring;
    services.budgets = budgets;
    services.spentToday = spentToday;
    services.spentThisMonth = spentThisMonth;
    // Someone at the terminal can free space and choose: a full or read-only audit store
    // pauses the run. Without a terminal nobody can answer: the run ends as audit_failed.
    services.pauseOnAuditFailure = terminal != nullptr;
    if (terminal)
        // Between turns nothing else waits on the terminal, so a plain blocking question is
        // enough here.
        services.askBudget = [&live](const QString& reason, std::function<void(bool)> answer) {
            live << Cli::tr("Budget: %1 Send the next turn anyway? [y/N] ").arg(reason);
            live.flush();
            QFile tty(QStringLiteral("/dev/tty"));
            bool yes = false;
            if (tty.open(QIODevice::ReadOnly)) {
                const QByteArray line = tty.readLine(64).trimmed().toLower();
                yes = line == "y" || line == "yes";
            }
            answer(yes);
        };
    RunController run(services, config);

    bool midLine = false;
    auto endLine = [&] {
        if (midLine)
            live << '\n';
        midLine = false;
    };
    QObject::connect(&run, &RunController::started, [&](const QString& id) {
        live << Cli::tr("Run %1: agent %2, model %3 (%4)%5")
                    .arg(id, agent->name, model, providerName,
                         config.dryRun ? Cli::tr(", dry run: no tool will run") : QString())
             << Qt::endl;
        live << Cli::tr("Goal: %1").arg(config.goal) << Qt::endl;
    });
    QObject::connect(&run, &RunController::turnStarted, [&](int step) {
        endLine();
        live << Cli::tr("\n--- step %1").arg(step) << Qt::endl;
    });
    QObject::connect(&run, &RunController::attemptStarted, [&](int attempt) {
        if (attempt > 1) {
            endLine();
            live << Cli::tr("(retrying, attempt %1; output above is void)").arg(attempt)
                 << Qt::endl;
        }
    });
    QObject::connect(&run, &RunController::textDelta, [&](const QString& text) {
        live << TerminalApprovalGate::visible(text);
        live.flush();
        midLine = !text.endsWith(QLatin1Char('\n'));
    });
    QObject::connect(
        &run, &RunController::proposalAdded,
        [&](const QString& id, const QString& tool, const QString& scope,
            const QJsonObject& arguments) {
            endLine();
            live << Cli::tr("> proposal %1: %2 (%3) %4")
                        .arg(id, tool, scope,
                             TerminalApprovalGate::visible(compact(arguments)).left(400))
                 << Qt::endl;
        });
    QObject::connect(
        &run, &RunController::proposalDecided,
        [&](const QString& id, const QString& status, const QString& kind, const QString& reason) {
            // With the call id: the proposals of one message are asked together, so this line
            // may follow the prompt for another one. "none": nobody could decide (no terminal,
            // no covering token or auto-approve).
            const QString who = kind == QLatin1String("none") ? Cli::tr("no approver") : kind;
            live << Cli::tr("  %1 %2%3: %4")
                        .arg(id, status,
                             who.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(who),
                             TerminalApprovalGate::visible(reason))
                 << Qt::endl;
        });
    QObject::connect(&run, &RunController::proposalExecuted,
                     [&](const QString& id, const QString& status, const QString& output) {
                         // A terminal may be recorded or shared: no key shown there either.
                         const QString masked = SecretRedactor::global().redact(output);
                         QString shown = TerminalApprovalGate::visible(masked.left(300));
                         if (masked.size() > 300)
                             shown += QStringLiteral("…");
                         live << Cli::tr("  %1 %2: %3").arg(id, status, shown) << Qt::endl;
                     });
    QObject::connect(&run, &RunController::planUpdated, [&](const QJsonArray& steps) {
        live << Cli::tr("  plan:") << Qt::endl;
        int n = 1;
        for (const QJsonValue& v : steps)
            live << QStringLiteral("    %1. [%2] %3")
                        .arg(n++)
                        .arg(v.toObject().value(QLatin1String("status")).toString(),
                             TerminalApprovalGate::visible(
                                 v.toObject().value(QLatin1String("title")).toString()))
                 << Qt::endl;
    });
    QObject::connect(&run, &RunController::apiAttempt, [&](const ApiAttempt& attempt) {
        if (!attempt.succeeded()) {
            endLine();
            live << Cli::tr("  API attempt %1 failed: %2")
                        .arg(attempt.attempt)
                        .arg(attempt.error.toString())
                 << Qt::endl;
        }
    });

    // Paused on the audit (only with a terminal): nothing runs until the person answers. Queued,
    // so the question is asked outside the controller's own call. The read blocks on purpose:
    // nothing of the run can happen meanwhile, and an approval prompt still open for a later
    // call of the message cannot take the answer (its reader waits in the event loop). Ctrl-C
    // is acted on after the answer; a second one quits at once, as always.
    QObject::connect(
        &run, &RunController::auditPaused, &run,
        [&](const QString& code, const QString& message) {
            if (!run.isPausedOnAudit())
                return;
            endLine();
            const bool readOnly = code == QLatin1String("store.readonly");
            live << Cli::tr("The audit store refused a write (%1): %2").arg(code, message)
                 << Qt::endl;
            live << Cli::tr("Nothing runs until it is recorded. %1")
                        .arg(readOnly ? Cli::tr("Make the database and its folder writable, "
                                                "then retry.")
                                      : Cli::tr("Free disk space, then retry."))
                 << Qt::endl;
            QFile tty(QStringLiteral("/dev/tty"));
            const bool canRead = tty.open(QIODevice::ReadOnly);
            // Typed ahead before the question was shown: not an answer to it.
            if (canRead)
                ::tcflush(tty.handle(), TCIFLUSH);
            for (;;) {
                live << (readOnly ? Cli::tr("audit storage read-only: [r]etry / [c]ancel ")
                                  : Cli::tr("audit storage full: [r]etry / [c]ancel "));
                live.flush();
                const QByteArray line = canRead ? tty.readLine(64) : QByteArray();
                const QByteArray answer = line.trimmed().toLower();
                if (answer == "r" || answer == "retry") {
                    live << Cli::tr("Retrying the refused audit write.") << Qt::endl;
                    run.resume();
                    return;
                }
                if (line.isEmpty() || answer == "c" || answer == "cancel") {
                    if (line.isEmpty())
                        live << '\n';
                    live << Cli::tr("Cancelling the run.") << Qt::endl;
                    run.cancel();
                    return;
                }
            }
        },
        Qt::QueuedConnection);

    QEventLoop loop;
    QObject::connect(&run, &RunController::finished, &loop, &QEventLoop::quit);
    // Ctrl-C or SIGTERM: the run stops as user_cancelled with its audit records (exit 8); a
    // second one quits at once (128 + the signal), leaving the run unfinished in the trail.
    const auto interrupt = InterruptHandler::install(
        Cli::tr("\nm1ctl: stopping the run (it ends as cancelled and is recorded); press Ctrl-C "
                "again to quit at once.\n")
            .toLocal8Bit(),
        Cli::tr("\nm1ctl: quitting at once; the run stays unfinished (running) in the audit "
                "trail.\n")
            .toLocal8Bit());
    if (interrupt)
        QObject::connect(interrupt.get(), &InterruptHandler::interrupted, &run,
                         [&run] { run.cancel(); });
    run.start();
    if (!run.isFinished())
        loop.exec();
    endLine();
    // Alerts are written asynchronously: they must be in the store before m1ctl exits.
    if (const Status flushed = alerts.flush(); !flushed)
        live << Cli::tr("Some alerts could not be recorded: %1").arg(flushed.error().message)
             << Qt::endl;

    const RunReport& report = run.report();
    if (report.stopReason == QLatin1String("audit_failed")) {
        const AuditWriter::Failure failure =
            AuditWriter::failureOf(Error{report.errorCode, report.errorMessage});
        if (!terminal && (failure == AuditWriter::Failure::StorageFull ||
                          failure == AuditWriter::Failure::ReadOnly))
            live << Cli::tr("The audit store refused a write (%1), so the run stopped before "
                            "anything more ran. Without a terminal nobody can choose retry or "
                            "cancel, so the run was not paused: it ends as audit_failed (exit "
                            "status 10). Free space or fix the permissions and run it again.")
                        .arg(report.errorCode)
                 << Qt::endl;
        else
            live << Cli::tr("The audit store refused a write (%1), so the run stopped before "
                            "anything more ran (exit status 10).")
                        .arg(report.errorCode)
                 << Qt::endl;
    }
    if (json) {
        cli.printJson(report.toJson());
    } else {
        cli.out() << '\n' << report.toText();
        cli.out().flush();
    }
    return exitFor(report.stopReason);
}

} // namespace m1::cli
