#include "RunSession.h"

#include "AppContext.h"

#include "llm/ClaudeProvider.h"
#include "llm/ReplayProvider.h"
#include "policy/PolicyRules.h"
#include "run/DemoWorkspace.h"
#include "tokens/TokenLedger.h"

#include <QFileInfo>

namespace m1 {

Result<std::unique_ptr<RunSession>>
RunSession::create(const AppContext& context, const RunRequest& request, ApprovalGate* gate) {
    if (request.goal.trimmed().isEmpty())
        return std::unexpected(Error{QStringLiteral("ui.no_goal"),
                                     tr("Write a goal first: what should the agent do?")});
    if (!context.tokens())
        return std::unexpected(Error{
            QStringLiteral("ui.no_token_service"),
            tr("Approval tokens cannot be issued: %1\nSet M1_JWT_SECRET (32 bytes or more) or "
               "unlock the keychain, then retry.")
                .arg(context.tokenError().message)});
    if (!context.isStoreOpen())
        return std::unexpected(Error{
            QStringLiteral("ui.no_store"),
            tr("The audit database is not open (%1), and nothing runs unrecorded. Fix it as the "
               "error dialog says, or choose another database in Settings, then retry.")
                .arg(context.storeError().code.isEmpty() ? tr("still opening")
                                                         : context.storeError().toString())});
    const auto agent = context.profiles().find(
        request.agent.isEmpty() ? context.profiles().defaultName() : request.agent);
    if (!agent)
        return std::unexpected(Error{QStringLiteral("ui.unknown_agent"),
                                     tr("Unknown agent profile \"%1\" (see %2).")
                                         .arg(request.agent, AgentProfiles::userFilePath())});

    std::unique_ptr<RunSession> session(new RunSession);
    QString providerName = request.provider;
    if (providerName.isEmpty())
        providerName = context.hasApiKey() && !context.forceReplay() ? QStringLiteral("claude")
                                                                     : QStringLiteral("replay");
    if (providerName == QLatin1String("claude") && !context.hasApiKey())
        return std::unexpected(
            Error{QStringLiteral("secret.not_found"),
                  tr("No API key for Claude. Enter one in Settings (stored in the keychain) or set "
                     "ANTHROPIC_API_KEY; without a key the offline replay runs instead.")});
    const bool replay = providerName == QLatin1String("replay");
    session->m_providerName = providerName;

    std::optional<ReplayProvider::Transcript> transcript;
    if (replay) {
        auto loaded = ReplayProvider::load(
            request.transcript.isEmpty() ? DemoWorkspace::demoTranscript() : request.transcript);
        if (!loaded)
            return std::unexpected(loaded.error());
        transcript = *loaded;
    }

    QString workspaceDir = request.workspace;
    if (workspaceDir.isEmpty()) {
        if (!replay)
            return std::unexpected(Error{QStringLiteral("ui.no_workspace"),
                                         tr("Choose the workspace folder the agent may work in.")});
        auto demo = DemoWorkspace::prepare();
        if (!demo)
            return std::unexpected(demo.error());
        workspaceDir = *demo;
    }
    auto workspace = Workspace::open(workspaceDir);
    if (!workspace)
        return std::unexpected(workspace.error());
    session->m_workspace = std::move(*workspace);

    // A replay plays what one model said: the run is recorded with that model, whatever the
    // model list shows.
    QString model = replay ? transcript->model : request.model;
    if (model.isEmpty())
        model = replay ? transcript->model
                       : (agent->model.isEmpty() ? context.catalog().defaultModel() : agent->model);
    const auto modelInfo = context.catalog().find(model);
    if (!replay && !modelInfo)
        return std::unexpected(Error{QStringLiteral("ui.unknown_model"),
                                     tr("Unknown model \"%1\" (the list is in %2).")
                                         .arg(model, ModelCatalog::userFilePath())});

    PolicyRules rules;
    const QString rulesFile = context.settings().effectivePolicyFile();
    if (QFileInfo::exists(rulesFile)) {
        auto loaded = PolicyRules::loadFile(rulesFile);
        if (!loaded)
            return std::unexpected(loaded.error());
        rules = *loaded;
    }
    PolicyConfig policyConfig = context.settings().policy;
    policyConfig.maxStepsPerRun = request.limits.maxSteps;
    policyConfig.maxToolCallsPerRun = request.limits.maxToolCalls;
    policyConfig.maxRuntimeSeconds = request.limits.maxRuntimeSeconds;
    session->m_policy = std::make_unique<PolicyEngine>(context.registry(), *session->m_workspace,
                                                       policyConfig, rules);

    if (replay) {
        ReplayProvider::Options options;
        options.pacingMs = request.replayPaceMs;
        session->m_provider = std::make_unique<ReplayProvider>(*transcript, options);
    } else {
        ClaudeProvider::Options options;
        if (!context.baseUrl().isEmpty())
            options.baseUrl = QUrl(context.baseUrl());
        if (auto ok = ClaudeProvider::checkBaseUrl(options.baseUrl); !ok)
            return std::unexpected(ok.error());
        session->m_provider =
            std::make_unique<ClaudeProvider>(context.apiKeyForProvider(), options);
    }

    RunConfig config;
    config.goal = request.goal;
    config.agent = *agent;
    config.model = model;
    config.provider = providerName;
    config.workspaceLabel = session->m_workspace->root();
    config.dryRun = request.dryRun;
    config.limits = request.limits;
    config.maxTokens = agent->maxTokens;
    config.contextShare = agent->contextShare;
    if (modelInfo)
        config.contextWindow = modelInfo->contextWindow;
    config.approvalTimeoutMs = context.approvalTimeoutMs();

    RunController::Services services;
    services.registry = &context.registry();
    services.workspace = &*session->m_workspace;
    services.policy = session->m_policy.get();
    services.tokens = context.tokens();
    const QString database = context.databaseLocation();
    services.openLedger = [database] { return TokenLedger::open(database); };
    services.audit = &context.writer();
    services.provider = session->m_provider.get();
    services.gate = gate;
    services.costs = &context.costs();
    // A person is at the window: a full or read-only audit store pauses the run (RunTab's
    // banner: Retry, Cancel) instead of ending it.
    services.pauseOnAuditFailure = true;
    session->m_controller = std::make_unique<RunController>(services, config);
    return session;
}

RunSession::~RunSession() {
    // The controller uses the provider and the policy: it goes first.
    m_controller.reset();
}

} // namespace m1
