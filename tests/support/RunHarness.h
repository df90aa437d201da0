#pragma once

#include "llm/ModelProvider.h"
#include "monitoring/AlertManager.h"
#include "monitoring/CostTracker.h"
#include "monitoring/MetricsRegistry.h"
#include "monitoring/Telemetry.h"
#include "policy/PolicyEngine.h"
#include "run/PricingCostEstimator.h"
#include "run/RunController.h"
#include "store/AuditStore.h"
#include "tokens/TokenService.h"
#include "tools/ToolRegistry.h"

#include <QTemporaryDir>

#include <memory>
#include <optional>

namespace m1::test {

// Everything a RunController needs, in a temporary folder: workspace, audit store with its
// writer, token service and ledger, registry, policy. For the run-loop tests and the bench.
class RunHarness {
public:
    RunHarness();
    ~RunHarness();

    // Creates the folders, the store and the services; false (with a message) on failure.
    bool init(QString* error);
    // Rules as JSON ({"allow":[...],"ask":[...],"deny":[...]}); rebuilds the policy engine.
    bool setRules(const QByteArray& json, QString* error = nullptr);

    RunController::Services services(ModelProvider* provider, ApprovalGate* gate);
    RunConfig config(const QString& goal) const;
    // Starts the run and spins the event loop until it finished (or timeoutMs passed).
    bool runToEnd(RunController& run, int timeoutMs = 30000);

    // Direct SQL on the store file (its own connection).
    qint64 scalar(const QString& sql) const;
    QStringList column(const QString& sql) const;

    QTemporaryDir dir;
    QString workspaceDir;
    QString dbPath;
    QString ledgerPath;
    std::optional<Workspace> workspace;
    ToolRegistry registry;
    PolicyConfig policyConfig;
    std::unique_ptr<PolicyEngine> policy;
    std::optional<TokenService> tokens;
    std::unique_ptr<AuditStore> store;
    std::unique_ptr<AuditWriter> writer;
    // The shipped price list; this harness's own metrics and alerts (on the run's writer), so
    // tests can count what a run reported.
    CostTracker tracker;
    PricingCostEstimator costs{tracker};
    MetricsRegistry metrics;
    Telemetry telemetry{&metrics};
    std::unique_ptr<AlertManager> alerts;

private:
    QString m_connection;
};

} // namespace m1::test
