#pragma once

#include "util/Error.h"

#include <QCoreApplication>
#include <QSqlError>
#include <QString>

namespace m1 {

// Everything that differs between SQLite and PostgreSQL lives here, so that the rest of the store
// writes one SQL text for both. Both dialects accept BIGINT, TEXT, CHECK constraints and
// "INSERT ... ON CONFLICT (...) DO UPDATE/NOTHING", which keeps this class small.
class SqlDialect {
    Q_DECLARE_TR_FUNCTIONS(SqlDialect)

public:
    enum class Kind { Sqlite, Postgres };

    SqlDialect() = default;
    explicit SqlDialect(Kind kind) : m_kind(kind) {}

    Kind kind() const { return m_kind; }
    bool isSqlite() const { return m_kind == Kind::Sqlite; }
    QString driverName() const;

    // Column type of a surrogate key that the database numbers itself.
    QString autoIncrementPrimaryKey() const;
    // Expands the placeholders used in migration SQL: {ID}.
    QString expand(QString sql) const;

    // Opens a write transaction that holds the write lock from its first statement. SQLite:
    // BEGIN IMMEDIATE (a DEFERRED BEGIN can fail with SQLITE_BUSY when it upgrades to a writer,
    // after work was done); PostgreSQL: BEGIN, then lockChainHeadSuffix() on the chain head row.
    QString beginWrite() const;
    // Appended to the SELECT of the chain head inside a write transaction. SQLite needs nothing:
    // BEGIN IMMEDIATE already serialises writers.
    QString lockChainHeadSuffix() const;
    // Serialises migrations between processes (PostgreSQL: a transaction-scoped advisory lock).
    // Empty for SQLite, where BEGIN IMMEDIATE does it.
    QString migrationLock() const;

    // Maps a driver error to a stable store code: store.busy, store.full, store.readonly,
    // store.corrupt, store.open (cannot open), store.conflict (unique key), else fallbackCode.
    QString classify(const QSqlError& error, const QString& fallbackCode) const;
    // A failure with the classified code and a message that says what to do about it.
    Error toError(const QSqlError& error, const QString& fallbackCode, const QString& what) const;

private:
    Kind m_kind = Kind::Sqlite;
};

} // namespace m1
