#include "store/StoreConfig.h"

#include <QDir>
#include <QStandardPaths>
#include <QUrl>
#include <QUrlQuery>

namespace m1 {

QString StoreConfig::defaultSqlitePath() {
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
        .filePath(QStringLiteral("audit.sqlite"));
}

Result<StoreConfig> StoreConfig::fromLocation(const QString& location) {
    StoreConfig config;
    const QString trimmed = location.trimmed();
    const bool isPostgres = trimmed.startsWith(QLatin1String("postgresql://")) ||
                            trimmed.startsWith(QLatin1String("postgres://"));
    if (!isPostgres) {
        if (trimmed.contains(QLatin1String("://")))
            return fail(QStringLiteral("store.location"),
                        tr("The audit store location \"%1\" is neither a file path nor a "
                           "postgresql:// URL.")
                            .arg(trimmed));
        config.dialect = SqlDialect(SqlDialect::Kind::Sqlite);
        config.sqlitePath = QDir::cleanPath(
            QDir::current().absoluteFilePath(trimmed.isEmpty() ? defaultSqlitePath() : trimmed));
        return config;
    }
    const QUrl url(trimmed, QUrl::StrictMode);
    if (!url.isValid() || url.host().isEmpty())
        return fail(QStringLiteral("store.location"),
                    tr("The PostgreSQL URL is not valid; expected "
                       "postgresql://user:password@host:port/database."));
    config.dialect = SqlDialect(SqlDialect::Kind::Postgres);
    config.host = url.host();
    config.port = url.port(5432);
    config.user = url.userName(QUrl::FullyDecoded);
    config.password = url.password(QUrl::FullyDecoded);
    config.database = url.path(QUrl::FullyDecoded).mid(1);
    if (config.database.isEmpty() || config.database.contains(QLatin1Char('/')))
        return fail(QStringLiteral("store.location"),
                    tr("The PostgreSQL URL names no database; expected "
                       "postgresql://user:password@host:port/database."));
    QStringList options{QStringLiteral("connect_timeout=10")};
    const QUrlQuery query(url);
    for (const auto& [key, value] : query.queryItems(QUrl::FullyDecoded)) {
        static const QStringList allowed{QStringLiteral("sslmode"),
                                         QStringLiteral("connect_timeout"),
                                         QStringLiteral("application_name")};
        // A value with ';' or '=' would smuggle another option into the QPSQL option string.
        if (!allowed.contains(key) || value.contains(QLatin1Char(';')) ||
            value.contains(QLatin1Char('=')) || value.contains(QLatin1Char(' ')))
            return fail(QStringLiteral("store.location"),
                        tr("The PostgreSQL URL option \"%1\" is not supported (supported: %2).")
                            .arg(key, allowed.join(QLatin1String(", "))));
        if (key == QLatin1String("connect_timeout"))
            options.removeFirst();
        options.append(key + QLatin1Char('=') + value);
    }
    config.postgresOptions = options.join(QLatin1Char(';'));
    return config;
}

QString StoreConfig::displayName() const {
    if (dialect.isSqlite())
        return sqlitePath;
    return QStringLiteral("postgresql://%1@%2:%3/%4").arg(user, host).arg(port).arg(database);
}

} // namespace m1
