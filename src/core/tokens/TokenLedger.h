#pragma once

#include "util/Error.h"

#include <QCoreApplication>
#include <QString>

#include <memory>

namespace m1 {

class AuditStore;

// Consumed and revoked token ids, kept in the audit store's token_ledger table (SQLite file or
// PostgreSQL), so that tokens, tool runs and their audit trail live in one database. Persistent:
// a consumed or revoked jti stays so across restarts. consume() is atomic across processes and
// hosts: the jti is the table's primary key, so of two consumers exactly one inserts the row.
// A ledger's connection belongs to the thread that opened it.
class TokenLedger {
    Q_DECLARE_TR_FUNCTIONS(TokenLedger)

public:
    enum class State { Unknown, Consumed, Revoked };

    // location: an audit database path (created 0600 in a 0700 folder if missing), a
    // postgresql:// URL, or empty for the default audit database. Opening migrates the schema
    // like AuditStore::open(). Errors: "ledger.open" (the store's reason in the message).
    static Result<std::unique_ptr<TokenLedger>> open(const QString& location);
    // The default audit database, <AppDataLocation>/audit.sqlite.
    static QString defaultPath();

    ~TokenLedger();
    TokenLedger(const TokenLedger&) = delete;
    TokenLedger& operator=(const TokenLedger&) = delete;

    Result<State> state(const QString& jti) const;
    // expiresAt: the token's exp (seconds since the epoch). "token.consumed" if it was already
    // consumed, "token.revoked" if revoked, "ledger.write" on a database failure (fail closed:
    // the caller must not run the tool).
    Status consume(const QString& jti, qint64 expiresAt);
    // Revoking an already consumed or revoked jti succeeds (idempotent).
    Status revoke(const QString& jti, qint64 expiresAt);

private:
    explicit TokenLedger(std::unique_ptr<AuditStore> store);
    std::unique_ptr<AuditStore> m_store;
};

} // namespace m1
