#include "AppContext.h"

#include "config/SecretStore.h"
#include "monitoring/PricingTable.h"
#include "monitoring/SecretRedactor.h"

#include <QFutureWatcher>
#include <QProcessEnvironment>
#include <QSettings>
#include <QtConcurrent/QtConcurrentRun>

namespace m1 {

namespace {

struct SecretLookup {
    Result<QByteArray> jwt = std::unexpected(Error{});
    Result<QString> apiKey = std::unexpected(Error{});
};

} // namespace

Result<std::unique_ptr<AppContext>> AppContext::create(const Options& options) {
    std::unique_ptr<AppContext> context(new AppContext);
    context->m_forceReplay = options.forceReplay;
    context->m_approvalTimeoutMs =
        QSettings().value(QStringLiteral("approvals/timeoutSeconds"), 600).toInt() * 1000;
    auto settings = Settings::load();
    if (!settings)
        return std::unexpected(settings.error());
    context->m_settings = *settings;
    auto profiles = AgentProfiles::load();
    if (!profiles)
        return std::unexpected(profiles.error());
    context->m_profiles = *profiles;
    auto catalog = ModelCatalog::load();
    if (!catalog)
        return std::unexpected(catalog.error());
    context->m_catalog = *catalog;
    context->m_registry = ToolRegistry::withBuiltins();
    // Every text the GUI's runs store passes the secret redactor, as in m1ctl.
    auto storeConfig = StoreConfig::fromLocation(options.database);
    if (!storeConfig)
        return std::unexpected(storeConfig.error());
    SecretRedactor::global().addSecretsFromEnvironment();
    storeConfig->textFilter = SecretRedactor::global().textFilter();
    auto store = AuditStore::open(*storeConfig);
    if (!store)
        return std::unexpected(store.error());
    context->m_store = std::move(*store);
    context->m_database = options.database;
    auto writer = context->m_store->startWriter();
    if (!writer)
        return std::unexpected(writer.error());
    context->m_writer = std::move(*writer);
    context->m_alerts =
        std::make_unique<AlertManager>(context->m_writer.get(), context->m_store->connectionName());
    // The same prices as m1ctl run: resources/pricing.json plus the user's override.
    auto pricing = PricingTable::load();
    if (!pricing)
        return std::unexpected(pricing.error());
    context->m_costTracker = std::make_unique<CostTracker>(*pricing, context->m_alerts.get());
    context->m_costs = std::make_unique<PricingCostEstimator>(*context->m_costTracker);
    return context;
}

AppContext::~AppContext() = default;

QString AppContext::baseUrl() const {
    return m_settings.effectiveBaseUrl();
}

void AppContext::loadSecrets() {
    if (m_loading)
        return;
    m_loading = true;
    const bool skipApiKey = m_forceReplay;
    auto* watcher = new QFutureWatcher<SecretLookup>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher] {
        watcher->deleteLater();
        const SecretLookup found = watcher->result();
        m_loading = false;
        m_secretsLoaded = true;
        if (found.jwt)
            SecretRedactor::global().addSecret(*found.jwt);
        if (found.apiKey)
            SecretRedactor::global().addSecret(*found.apiKey);
        if (found.jwt) {
            TokenService::Options tokenOptions;
            tokenOptions.defaultTtlSeconds = m_settings.tokenTtlSeconds;
            auto tokens = TokenService::create(*found.jwt, tokenOptions);
            if (tokens) {
                m_tokens = std::move(*tokens);
                m_tokenError = {};
            } else {
                m_tokenError = tokens.error();
            }
        } else {
            m_tokenError = found.jwt.error();
        }
        if (found.apiKey) {
            m_apiKey = found.apiKey->toUtf8();
            m_apiKeyError = {};
        } else {
            m_apiKey.clear();
            m_apiKeyError = found.apiKey.error();
        }
        emit secretsLoaded();
    });
    // The keychain may wait for an unlock prompt: never on the UI thread (SEC-02).
    watcher->setFuture(QtConcurrent::run([skipApiKey] {
        SecretLookup lookup;
        lookup.jwt = SecretStore::jwtSecret();
        if (!skipApiKey)
            lookup.apiKey = SecretStore::apiKey();
        else
            lookup.apiKey = std::unexpected(Error{QStringLiteral("secret.not_found"), QString()});
        return lookup;
    }));
}

} // namespace m1
