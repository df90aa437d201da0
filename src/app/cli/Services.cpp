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

Result<std::unique_ptr<TokenLedger>> Services::ledger() {
    return TokenLedger::open(TokenLedger::defaultPath());
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
