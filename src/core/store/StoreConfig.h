#pragma once

#include "store/SqlDialect.h"
#include "util/Error.h"

#include <QCoreApplication>
#include <QString>

#include <functional>

namespace m1 {

// Where the audit store lives and how it behaves. Built from what the user configured: a file
// path (SQLite) or a postgresql:// URL.
class StoreConfig {
    Q_DECLARE_TR_FUNCTIONS(StoreConfig)

public:
    // Applied to every text the store writes (goal, arguments, outputs, errors, reasons, alert
    // messages...). The hook for the secret redactor; it runs on the writer's thread, so it must
    // be thread-safe. Empty: texts are stored as given.
    using TextFilter = std::function<QString(const QString&)>;

    // location: empty for defaultSqlitePath(), a path, or postgresql://user:pass@host:port/db
    // (also postgres://; query items sslmode, connect_timeout, application_name pass through).
    // "store.location" for a URL that cannot be used.
    static Result<StoreConfig> fromLocation(const QString& location);
    // <AppDataLocation>/audit.sqlite
    static QString defaultSqlitePath();

    // The path, or the URL without the password: safe for messages.
    QString displayName() const;

    SqlDialect dialect;
    QString sqlitePath;
    QString host;
    int port = 5432;
    QString database;
    QString user;
    QString password;
    QString postgresOptions; // "key=value;key=value" for QPSQL

    int busyTimeoutMs = 5000;
    bool readOnly = false;
    qint64 maxStoredOutputBytes = 64 * 1024;
    TextFilter textFilter;
};

} // namespace m1
