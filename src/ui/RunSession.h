#pragma once

#include "RunRequest.h"

#include "llm/ModelProvider.h"
#include "policy/PolicyEngine.h"
#include "run/RunController.h"
#include "tools/Workspace.h"
#include "util/Error.h"

#include <QCoreApplication>

#include <memory>

namespace m1 {

class AppContext;
class ApprovalGate;

// The objects of one run: workspace, policy engine (with the run's limits), model provider and
// the RunController. The controller lives on the UI thread: it never blocks (model turns are
// asynchronous, audit acknowledgements arrive through future watchers, tools run on a worker).
class RunSession {
    Q_DECLARE_TR_FUNCTIONS(RunSession)
public:
    // Errors carry a message that says what to do (no key, unknown model, workspace...).
    static Result<std::unique_ptr<RunSession>>
    create(const AppContext& context, const RunRequest& request, ApprovalGate* gate);
    ~RunSession();

    RunController& controller() { return *m_controller; }
    ModelProvider& provider() { return *m_provider; }
    const Workspace& workspace() const { return *m_workspace; }
    const PolicyEngine& policy() const { return *m_policy; }
    const RunConfig& config() const { return m_controller->config(); }
    QString providerName() const { return m_providerName; }

private:
    RunSession() = default;

    std::optional<Workspace> m_workspace;
    std::unique_ptr<PolicyEngine> m_policy;
    std::unique_ptr<ModelProvider> m_provider;
    std::unique_ptr<RunController> m_controller;
    QString m_providerName;
};

} // namespace m1
