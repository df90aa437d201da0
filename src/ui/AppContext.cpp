#include "AppContext.h"

#include "Background.h"

#include "config/SecretStore.h"
#include "monitoring/PricingTable.h"
#include "monitoring/SecretRedactor.h"

#include <QProcessEnvironment>
#include <QSettings>
#include <QThread>

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
    context->m_storeConfig = *storeConfig;
    context->m_database = options.database;
    // No writer and no read connection yet: openStore() gives it the writer; the alerts view
    // reads the stored alerts on a worker and merges them here.
    context->m_alerts = std::make_unique<AlertManager>();
    // The same prices as m1ctl run: resources/pricing.json plus the user's override.
    auto pricing = PricingTable::load();
    if (!pricing)
        return std::unexpected(pricing.error());
    context->m_costTracker = std::make_unique<CostTracker>(*pricing, context->m_alerts.get());
    context->m_costs = std::make_unique<PricingCostEstimator>(*context->m_costTracker);
    return context;
}

AppContext::~AppContext() = default;

void AppContext::openStore() {
    if (m_storeOpening || m_writer)
        return;
    m_storeOpening = true;
    m_storeError = {};
    if (m_storeOpenHeld) {
        m_storeOpenPending = true;
    } else {
        startStoreOpen();
    }
    emit storeOpening();
}

void AppContext::releaseStoreOpen() {
    m_storeOpenHeld = false;
    if (m_storeOpenPending) {
        m_storeOpenPending = false;
        startStoreOpen();
    }
}

void AppContext::startStoreOpen() {
    struct Opened {
        std::shared_ptr<AuditWriter> writer;
        Error error;
    };
    const StoreConfig config = m_storeConfig;
    QThread* ui = QThread::currentThread();
    runInBackground(
        this,
        [config, ui] {
            Opened opened;
            // Open with every check and the migrations, then close again on this thread: the
            // UI thread keeps no connection.
            auto store = AuditStore::open(config);
            if (!store) {
                opened.error = store.error();
                return opened;
            }
            auto writer = (*store)->startWriter();
            if (!writer) {
                opened.error = writer.error();
                return opened;
            }
            // Its signals and deleteLater belong to the UI thread's event loop.
            (*writer)->moveToThread(ui);
            opened.writer = std::move(*writer);
            return opened;
        },
        [this](const Opened& opened) {
            m_storeOpening = false;
            if (opened.writer) {
                m_writer = opened.writer;
                m_alerts->setWriter(m_writer.get());
            } else {
                m_storeError = opened.error;
            }
            emit storeOpened();
        });
}

QString AppContext::baseUrl() const {
    return m_settings.effectiveBaseUrl();
}

void AppContext::loadSecrets() {
    if (m_loading)
        return;
    m_loading = true;
    const bool skipApiKey = m_forceReplay;
    // The keychain may wait for an unlock prompt: never on the UI thread (SEC-02).
    runInBackground(
        this,
        [skipApiKey] {
            SecretLookup lookup;
            lookup.jwt = SecretStore::jwtSecret();
            if (!skipApiKey)
                lookup.apiKey = SecretStore::apiKey();
            else
                lookup.apiKey =
                    std::unexpected(Error{QStringLiteral("secret.not_found"), QString()});
            return lookup;
        },
        [this](const SecretLookup& found) {
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
}

} // namespace m1
