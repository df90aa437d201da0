#pragma once

#include "store/AuditChain.h"
#include "store/AuditRetention.h"
#include "store/AuditWriter.h"
#include "store/StoreConfig.h"
#include "store/StoreConnection.h"
#include "util/Error.h"

#include <QCoreApplication>
#include <QString>

#include <memory>

namespace m1 {

// The audit store as the rest of the program sees it: open (with every check and the
// migrations), the writer, verification, retention and the token ledger. An AuditStore holds one
// connection for the thread that opened it (the ledger, verify, prune and the read side run on
// it); the writer has its own thread and connection.
class AuditStore {
    Q_DECLARE_TR_FUNCTIONS(AuditStore)

public:
    enum class JtiState { Unknown, Consumed, Revoked };

    // location: a file path (SQLite), a postgresql:// or postgres:// URL, or empty for
    // StoreConfig::defaultSqlitePath(). Errors: store.location, store.open, store.symlink,
    // store.corrupt, store.readonly, store.busy, store.schema_newer, store.schema_old (read-only
    // and not current), store.migrate.
    static Result<std::unique_ptr<AuditStore>> open(const QString& location,
                                                    const StoreConfig& options = {});
    // Uses config as given (location already resolved).
    static Result<std::unique_ptr<AuditStore>> open(const StoreConfig& config);

    const StoreConfig& config() const { return m_connection->config(); }
    // For read-side queries on the opening thread.
    QString connectionName() const { return m_connection->name(); }
    const SqlDialect& dialect() const { return m_connection->dialect(); }

    // A new writer thread with its own connection, configured like this store.
    Result<std::unique_ptr<AuditWriter>> startWriter() const;

    Result<AuditChain::VerifyReport> verify() const;
    // Removes runs completed more than olderThanDays ago (see AuditRetention).
    Result<AuditRetention::Report> prune(int olderThanDays, bool dryRun, qint64 nowMs = -1) const;
    // SQLite: PRAGMA integrity_check ("ok" when sound); PostgreSQL: "ok" (the server checks).
    Result<QString> integrityCheck() const;

    // The token ledger (same table as TokenLedger), on this store's connection, synchronous.
    // consumeJti: atomic across processes and hosts (primary key); "token.consumed" /
    // "token.revoked" when it was already, "ledger.write" (with the store code in the message)
    // on a database failure: fail closed, do not run the tool.
    Status consumeJti(const QString& jti, qint64 expiresAt);
    // Idempotent: revoking a consumed or revoked jti succeeds and keeps its first state.
    Status revokeJti(const QString& jti, qint64 expiresAt);
    Result<JtiState> jtiState(const QString& jti) const;
    // Deletes ledger rows whose token expired before olderThanMs (an expired token fails
    // verification anyway). Returns how many went.
    Result<qint64> purgeExpiredJtis(qint64 olderThanMs);

private:
    explicit AuditStore(std::unique_ptr<StoreConnection> connection);
    Status recordJti(const QString& jti, qint64 expiresAt, const QString& state);

    std::unique_ptr<StoreConnection> m_connection;
};

} // namespace m1
