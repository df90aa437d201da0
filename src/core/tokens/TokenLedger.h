#pragma once

#include "util/Error.h"

#include <QCoreApplication>
#include <QString>

#include <memory>

namespace m1 {

// Consumed and revoked token ids. Persistent: a consumed or revoked jti stays so across restarts.
// consume() is atomic: of two callers consuming the same jti (two processes on one file), exactly
// one succeeds. A connection belongs to the thread that opened the ledger.
class TokenLedger {
    Q_DECLARE_TR_FUNCTIONS(TokenLedger)

public:
    enum class State { Unknown, Consumed, Revoked };

    // Opens (creating if needed, 0600 in a 0700 folder) the SQLite ledger file.
    // Errors: "ledger.open", "ledger.schema".
    static Result<std::unique_ptr<TokenLedger>> open(const QString& path);
    // The default file: <AppDataLocation>/tokens.sqlite.
    static QString defaultPath();

    ~TokenLedger();
    TokenLedger(const TokenLedger&) = delete;
    TokenLedger& operator=(const TokenLedger&) = delete;

    Result<State> state(const QString& jti) const;
    // "token.consumed" if it was already consumed, "token.revoked" if revoked, "ledger.write" on a
    // database failure (fail closed: the caller must not run the tool).
    Status consume(const QString& jti, qint64 expiresAt);
    // Revoking an already consumed or revoked jti succeeds (idempotent).
    Status revoke(const QString& jti, qint64 expiresAt);

private:
    explicit TokenLedger(QString connectionName);
    QString m_connectionName;
};

} // namespace m1
