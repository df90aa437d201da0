#pragma once

#include "config/Settings.h"
#include "llm/ModelCatalog.h"
#include "monitoring/AlertManager.h"
#include "monitoring/CostTracker.h"
#include "run/AgentProfiles.h"
#include "run/PricingCostEstimator.h"
#include "store/AuditStore.h"
#include "store/AuditWriter.h"
#include "tokens/TokenService.h"
#include "tools/ToolRegistry.h"
#include "util/Error.h"

#include <QCoreApplication>
#include <QObject>

#include <memory>
#include <optional>

namespace m1 {

// What every window shares: settings, profiles, models, the tool registry, the audit store's
// configuration and writer, the alert manager, and the secrets (the JWT secret for approval
// tokens, whether an API key exists). Secrets are looked up on a worker thread because a keychain
// may wait for a person (SEC-02); the audit store is opened (checked, migrated) and its writer
// started on a worker because a database server may take seconds to answer and a migration
// longer. Until both secretsLoaded() and storeOpened() fired without error no run can start.
// The UI thread holds no database connection: every read opens its own on a worker
// (runInBackground).
class AppContext : public QObject {
    Q_OBJECT
public:
    struct Options {
        QString database;         // empty: the default audit database
        bool forceReplay = false; // screenshots and tests: never look for an API key
    };

    static Result<std::unique_ptr<AppContext>> create(const Options& options);
    ~AppContext() override;

    const Settings& settings() const { return m_settings; }
    void setSettings(const Settings& settings) { m_settings = settings; }
    const AgentProfiles& profiles() const { return m_profiles; }
    const ModelCatalog& catalog() const { return m_catalog; }
    const ToolRegistry& registry() const { return m_registry; }
    const CostEstimator& costs() const { return *m_costs; }
    // Only once isStoreOpen().
    AuditWriter& writer() const { return *m_writer; }
    AlertManager& alerts() const { return *m_alerts; }
    // Where the store is (resolved, with the secret redactor as its text filter): what worker
    // threads open their own connections with.
    const StoreConfig& storeConfig() const { return m_storeConfig; }
    // As given ("" = the default audit database).
    QString databaseLocation() const { return m_database; }
    QString databaseDisplayName() const { return m_storeConfig.displayName(); }

    // Opens the store (every check, the migrations) and starts its writer on a worker;
    // storeOpened() when done, successful or not (storeError() says why not). Again after a
    // failure: the person's retry. Nothing happens while an open is under way or once open.
    void openStore();
    // Holds back the work of openStore() until releaseStoreOpen(): isStoreOpening() is true at
    // once (the window says the store is opening), but the checks, migrations and writer start
    // only when released. The desktop releases it after the window's first paint, so the two do
    // not share the CPU of a small machine.
    void holdStoreOpen() { m_storeOpenHeld = true; }
    void releaseStoreOpen();
    bool isStoreOpen() const { return m_writer != nullptr; }
    bool isStoreOpening() const { return m_storeOpening; }
    // Empty code while opening or open.
    const Error& storeError() const { return m_storeError; }
    bool forceReplay() const { return m_forceReplay; }
    // How long a proposal may wait for a person before it expires (the ui setting; the run loop
    // enforces it).
    int approvalTimeoutMs() const { return m_approvalTimeoutMs; }
    void setApprovalTimeoutMs(int ms) { m_approvalTimeoutMs = ms; }

    // Starts the secret lookup on a worker (again after a failure: the person's retry).
    void loadSecrets();
    bool areSecretsLoaded() const { return m_secretsLoaded; }
    const TokenService* tokens() const { return m_tokens ? &*m_tokens : nullptr; }
    const Error& tokenError() const { return m_tokenError; }
    bool hasApiKey() const { return !m_apiKey.isEmpty(); }
    const Error& apiKeyError() const { return m_apiKeyError; }
    // Only for building a provider; never shown, logged or stored by the ui.
    QByteArray apiKeyForProvider() const { return m_apiKey; }
    QString baseUrl() const;

signals:
    void secretsLoaded();
    // openStore() began (isStoreOpening()), then ended (open, or storeError()).
    void storeOpening();
    void storeOpened();

private:
    void startStoreOpen();
    AppContext() = default;

    Settings m_settings;
    AgentProfiles m_profiles;
    ModelCatalog m_catalog;
    ToolRegistry m_registry;
    std::unique_ptr<CostTracker> m_costTracker;
    std::unique_ptr<PricingCostEstimator> m_costs;
    StoreConfig m_storeConfig;
    std::shared_ptr<AuditWriter> m_writer;
    std::unique_ptr<AlertManager> m_alerts;
    QString m_database;
    bool m_forceReplay = false;
    int m_approvalTimeoutMs = 600000;
    bool m_secretsLoaded = false;
    bool m_loading = false;
    bool m_storeOpening = false;
    bool m_storeOpenHeld = false;
    bool m_storeOpenPending = false; // openStore() came while held
    Error m_storeError;
    std::optional<TokenService> m_tokens;
    Error m_tokenError;
    QByteArray m_apiKey;
    Error m_apiKeyError;
};

} // namespace m1
