#include "cli/Services.h"

#include "config/SecretStore.h"

#include <QFileInfo>

namespace m1::cli {

Result<Settings> Services::settings() {
    return Settings::load();
}

Result<TokenService> Services::tokenService(const Settings& settings) {
    const auto secret = SecretStore::jwtSecret();
    if (!secret)
        return std::unexpected(secret.error());
    TokenService::Options options;
    options.defaultTtlSeconds = settings.tokenTtlSeconds;
    return TokenService::create(*secret, options);
}

Result<std::unique_ptr<TokenLedger>> Services::ledger(const QString& database) {
    return TokenLedger::open(database);
}

Result<std::unique_ptr<AuditStore>> Services::store(const QString& database) {
    return AuditStore::open(database);
}

Result<std::unique_ptr<AuditStore>> Services::existingStore(const QString& database) {
    const auto config = StoreConfig::fromLocation(database);
    if (!config)
        return std::unexpected(config.error());
    if (config->dialect.isSqlite() && !QFileInfo::exists(config->sqlitePath))
        return fail(QStringLiteral("store.missing"),
                    tr("There is no audit database at %1 yet (nothing was recorded); pass --db "
                       "PATH_OR_URL to read another one.")
                        .arg(config->sqlitePath));
    return AuditStore::open(*config);
}

Result<Workspace> Services::workspace(const QString& dir) {
    if (dir.isEmpty())
        return fail(QStringLiteral("cli.usage"),
                    tr("--workspace DIR is required: the folder the tools are confined to."));
    return Workspace::open(dir);
}

Result<PolicyRules> Services::rules(const Settings& settings, const QString& rulesOption) {
    if (!rulesOption.isEmpty())
        return PolicyRules::loadFile(rulesOption);
    const QString userFile = settings.effectivePolicyFile();
    if (QFileInfo::exists(userFile))
        return PolicyRules::loadFile(userFile);
    return PolicyRules();
}

} // namespace m1::cli
