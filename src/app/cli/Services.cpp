#include "cli/Services.h"

#include "cli/Cli.h"
#include "config/SecretStore.h"
#include "monitoring/JsonLogger.h"
#include "monitoring/SecretRedactor.h"

#include <QFileInfo>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>

namespace m1::cli {

namespace {

enum class Open { Create, MustExist, ReadOnly };

Result<std::unique_ptr<AuditStore>> openStore(const QString& database, Open mode) {
    auto config = StoreConfig::fromLocation(database);
    if (!config)
        return std::unexpected(config.error());
    if (mode != Open::Create && config->dialect.isSqlite() &&
        !QFileInfo::exists(config->sqlitePath))
        return fail(QStringLiteral("store.missing"),
                    Services::tr("There is no audit database at %1 yet (nothing was recorded); "
                                 "pass --db PATH_OR_URL to read another one.")
                        .arg(config->sqlitePath));
    // Tool output, arguments and notes can carry a key the model or a person pasted.
    SecretRedactor::global().addSecretsFromEnvironment();
    config->textFilter = SecretRedactor::global().textFilter();
    if (mode != Open::ReadOnly)
        return AuditStore::open(*config);
    // A read changes nothing and works where the file or its folder cannot be written.
    config->readOnly = true;
    auto store = AuditStore::open(*config);
    if (!store && store.error().code == QLatin1String("store.schema_old")) {
        // Written by an older version: brought up to date once (a write), then read.
        config->readOnly = false;
        auto migrated = AuditStore::open(*config);
        if (migrated)
            return migrated;
    }
    return store;
}

} // namespace

Result<Settings> Services::settings() {
    return Settings::load();
}

Result<TokenService> Services::tokenService(const Settings& settings) {
    const auto secret = SecretStore::jwtSecret();
    if (!secret)
        return std::unexpected(secret.error());
    SecretRedactor::global().addSecret(*secret);
    TokenService::Options options;
    options.defaultTtlSeconds = settings.tokenTtlSeconds;
    return TokenService::create(*secret, options);
}

Result<std::unique_ptr<TokenLedger>> Services::ledger(const QString& database) {
    return TokenLedger::open(database);
}

Result<std::unique_ptr<AuditStore>> Services::store(const QString& database) {
    return openStore(database, Open::Create);
}

Result<std::unique_ptr<AuditStore>> Services::existingStore(const QString& database) {
    return openStore(database, Open::MustExist);
}

Result<std::unique_ptr<AuditStore>> Services::readStore(const QString& database) {
    return openStore(database, Open::ReadOnly);
}

Result<bool> Services::runExists(const AuditStore& store, const QString& runId) {
    QSqlQuery q(QSqlDatabase::database(store.connectionName(), false));
    q.prepare(QStringLiteral("SELECT 1 FROM runs WHERE run_id = ?"));
    q.bindValue(0, runId);
    if (!q.exec())
        return std::unexpected(store.dialect().toError(q.lastError(), QStringLiteral("store.read"),
                                                       tr("Looking up run %1").arg(runId)));
    return q.next();
}

Status Services::checkRunToken(const TokenService& tokens, const QString& token, int position,
                               const QString& runId, const QString& database) {
    if (runId.isEmpty())
        return fail(QStringLiteral("token.run"),
                    tr("--token #%1 cannot match this run: a run started without --run-id gets a "
                       "new id. Mint the token with --run ID and start the run with --run-id ID.")
                        .arg(position));
    auto ledger = TokenLedger::open(database);
    if (!ledger)
        return std::unexpected(ledger.error());
    TokenService::Expectation expectation;
    expectation.runId = runId;
    const auto claims = tokens.verify(token, expectation, ledger->get());
    if (!claims)
        // The refusal names its code (and the token's id when the signature held), never the
        // token itself.
        return fail(claims.error().code,
                    claims.error().code == QLatin1String("token.run")
                        ? tr("--token #%1: %2; it was minted for another run, not %3: mint it "
                             "with --run %3.")
                              .arg(position)
                              .arg(claims.error().message, runId)
                        : tr("--token #%1: %2").arg(position).arg(claims.error().message));
    return {};
}

Status Services::checkEnvironment() {
    const QString settingsFile = qEnvironmentVariable("M1_SETTINGS");
    if (!settingsFile.isEmpty() && !QFileInfo::exists(settingsFile))
        return fail(QStringLiteral("config.missing"),
                    tr("M1_SETTINGS names the settings file %1, which does not exist "
                       "(config.missing). Fix the path, or unset M1_SETTINGS to use the default "
                       "settings file.")
                        .arg(settingsFile));
    if (const Status level = JsonLogger::checkEnvironmentLevel(); !level)
        return level;
    return {};
}

void Services::startLogging() {
    SecretRedactor::global().addSecretsFromEnvironment();
    // Settings errors are reported by the command that needs them; logging starts regardless.
    const auto loaded = Settings::load();
    JsonLogger::installFromSettings(loaded ? loaded->monitoring : MonitoringSettings());
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
