#include "cli/Services.h"

#include "cli/Cli.h"
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
    // A rules file the settings name explicitly must exist: if it went missing, running with no
    // rules would silently drop every deny rule. Only the default file may be absent, and then
    // nothing at its path may exist at all (a dangling link is an error too).
    const QFileInfo info(userFile);
    if (!settings.policyFile.isEmpty() || info.exists() || info.isSymLink())
        return PolicyRules::loadFile(userFile);
    return PolicyRules();
}

std::optional<CallContext> Services::callContext(Cli& cli, const QString& workspaceDir,
                                                 const QString& rulesOption,
                                                 const QString& argsJson, int* exitCode) {
    const auto settings = Services::settings();
    if (!settings) {
        *exitCode = cli.error(kError, settings.error());
        return std::nullopt;
    }
    const auto workspace = Services::workspace(workspaceDir);
    if (!workspace) {
        *exitCode =
            cli.error(workspace.error().code == QLatin1String("cli.usage") ? kUsage : kError,
                      workspace.error());
        return std::nullopt;
    }
    const auto rules = Services::rules(*settings, rulesOption);
    if (!rules) {
        *exitCode = cli.error(kError, rules.error());
        return std::nullopt;
    }
    const auto arguments = cli.parseJsonObject(argsJson, QStringLiteral("args"));
    if (!arguments) {
        *exitCode = cli.error(kUsage, arguments.error());
        return std::nullopt;
    }
    return CallContext{*settings, *workspace, *rules, *arguments};
}

} // namespace m1::cli
