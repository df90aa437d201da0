#pragma once

#include "store/StoreConfig.h"
#include "util/Error.h"

#include <QCoreApplication>
#include <QSqlDatabase>
#include <QString>

#include <memory>

namespace m1 {

// One QtSql connection to the audit store, opened with every check the store relies on, and
// removed again when this object is destroyed. A connection belongs to the thread that opened
// it: create and destroy a StoreConnection on the same thread. Holds only the connection name,
// never a QSqlDatabase, so no handle can leak to another thread.
class StoreConnection {
    Q_DECLARE_TR_FUNCTIONS(StoreConnection)

public:
    enum class Schema {
        Migrate,       // bring the schema to the latest version (refused when read-only)
        RequireLatest, // fail with store.schema_old / store.schema_newer unless it is current
    };

    // SQLite: refuses a symlink (store.symlink), checks the file header (store.corrupt), creates
    // the folder 0700 and the file 0600, sets and reads back journal_mode=wal, synchronous=FULL,
    // busy_timeout and foreign_keys=ON. PostgreSQL: synchronous_commit=on, lock_timeout = busy
    // timeout. Then the schema (store.schema_newer before anything is written).
    static Result<std::unique_ptr<StoreConnection>> open(const StoreConfig& config,
                                                         const QString& purpose, Schema schema);

    ~StoreConnection();
    StoreConnection(const StoreConnection&) = delete;
    StoreConnection& operator=(const StoreConnection&) = delete;

    const QString& name() const { return m_name; }
    QSqlDatabase database() const { return QSqlDatabase::database(m_name, false); }
    const StoreConfig& config() const { return m_config; }
    const SqlDialect& dialect() const { return m_config.dialect; }

    // SQLite only: the value of a pragma on this connection (empty on failure).
    QString pragma(const QString& name) const;

private:
    StoreConnection(QString name, StoreConfig config);
    Status openSqlite();
    Status openPostgres();
    Status checkSqlitePragmas();

    QString m_name;
    StoreConfig m_config;
    bool m_immutable = false; // read-only SQLite opened without a WAL index (see openSqlite)
    // SQLite: the file's device and inode while this connection counts among the process's open
    // connections to it (see openSqlite).
    bool m_registered = false;
    quint64 m_device = 0;
    quint64 m_inode = 0;
};

} // namespace m1
