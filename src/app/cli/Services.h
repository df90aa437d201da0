#pragma once

#include "config/Settings.h"
#include "policy/PolicyEngine.h"
#include "policy/PolicyRules.h"
#include "store/AuditStore.h"
#include "tokens/TokenLedger.h"
#include "tokens/TokenService.h"
#include "tools/ToolRegistry.h"
#include "tools/Workspace.h"
#include "util/Error.h"

#include <QCoreApplication>

#include <QJsonObject>

#include <memory>
#include <optional>

namespace m1::cli {

class Cli;

// What a command about one proposed call needs.
struct CallContext {
    Settings settings;
    Workspace workspace;
    PolicyRules rules;
    QJsonObject arguments;
};

// Opens the core objects the commands share, each with an error a person can act on.
class Services {
    Q_DECLARE_TR_FUNCTIONS(Services)
public:
    static Result<Settings> settings();
    // The JWT secret (keychain or M1_JWT_SECRET) and the token lifetime from the settings.
    static Result<TokenService> tokenService(const Settings& settings);
    // The token ledger in the audit database given by --db ("" = the default audit database).
    static Result<std::unique_ptr<TokenLedger>> ledger(const QString& database);
    // The audit store given by --db, opened (and migrated) on this thread, with the secret
    // redactor as its text filter. Every store m1ctl opens comes from here.
    static Result<std::unique_ptr<AuditStore>> store(const QString& database);
    // The same for commands that only read: an SQLite file that does not exist yet is an error
    // ("store.missing") instead of a new empty database.
    static Result<std::unique_ptr<AuditStore>> existingStore(const QString& database);
    // Whether the store holds a run with this id (on the store's connection).
    static Result<bool> runExists(const AuditStore& store, const QString& runId);
    // A pre-authorised token for `m1ctl run` (the position-th --token): well formed, signed with
    // this secret, within its lifetime, minted for runId (the --run-id, "" when none was given,
    // which no token can match), and neither consumed nor revoked in the ledger at database. The
    // error never contains the token.
    static Status checkRunToken(const TokenService& tokens, const QString& token, int position,
                                const QString& runId, const QString& database);
    // The environment m1ctl reads: M1_SETTINGS, when set, must name a file that exists
    // ("config.missing"), and M1_LOG_LEVEL, when set, must name a level ("config.log_level").
    // A typo must not quietly fall back to the defaults.
    static Status checkEnvironment();
    // For commands that only read (history, export, metrics, audit verify, alerts list): the
    // store must exist and is opened read-only, so a read changes nothing and works on a file or
    // folder it cannot write. A store written by an older version is migrated first (a write).
    static Result<std::unique_ptr<AuditStore>> readStore(const QString& database);
    // The JSON-lines log (<AppDataLocation>/logs/m1.log unless the settings name another file),
    // level from the settings or M1_LOG_LEVEL, a readable copy on stderr only on a terminal;
    // the environment's secrets go to the redactor first. Called once at start.
    static void startLogging();
    static Result<Workspace> workspace(const QString& dir);
    // --rules FILE when given; else the user's rules file if it exists; else no rules.
    static Result<PolicyRules> rules(const Settings& settings, const QString& rulesOption);

    // Settings, workspace, rules and the --args object; on failure prints the error and sets
    // *exitCode (usage or error).
    static std::optional<CallContext> callContext(Cli& cli, const QString& workspaceDir,
                                                  const QString& rulesOption,
                                                  const QString& argsJson, int* exitCode);
};

} // namespace m1::cli
