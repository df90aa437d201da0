#include "store/StoreConnection.h"

#include "store/SchemaMigrations.h"
#include "util/OpenDatabaseFiles.h"

#include <QAtomicInteger>
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QUrl>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace m1 {

namespace {

QAtomicInteger<quint64> g_connectionCounter;

QString errnoText() {
    return QString::fromLocal8Bit(std::strerror(errno));
}

// Creates the missing folders of path with mode 0700. Folders that exist are left alone: they may
// be shared (/tmp) and are not ours to tighten.
Status makeFolders(const QString& folder) {
    QStringList missing;
    QString current = QDir::cleanPath(folder);
    while (!current.isEmpty() && !QFileInfo::exists(current)) {
        missing.prepend(current);
        const QString parent = QFileInfo(current).path();
        if (parent == current)
            break;
        current = parent;
    }
    for (const QString& dir : std::as_const(missing)) {
        if (::mkdir(QFile::encodeName(dir).constData(), 0700) != 0 && errno != EEXIST)
            return fail(QStringLiteral("store.open"),
                        StoreConnection::tr("Cannot create the audit folder %1: %2. Make its "
                                            "parent folder writable, or give another database "
                                            "with --db PATH_OR_URL (or XDG_DATA_HOME).")
                            .arg(dir, errnoText()));
    }
    return {};
}

// Rejects files that are not SQLite databases, or are cut short, before SQLite sees them: SQLite
// would report some of these only on a later query, and a file that is not ours must never be
// "repaired" by a write.
Status checkSqliteHeader(const QString& path, qint64 size) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("store.open"),
                    StoreConnection::tr("Cannot read the audit database %1: %2")
                        .arg(path, file.errorString()));
    const QByteArray header = file.read(100);
    const auto corrupt = [&](const QString& reason) {
        return fail(QStringLiteral("store.corrupt"),
                    StoreConnection::tr("The audit database %1 cannot be used: %2. It was not "
                                        "changed; move it away (or restore a backup) to start a "
                                        "new audit file.")
                        .arg(path, reason));
    };
    if (header.size() < 100 || !header.startsWith(QByteArrayLiteral("SQLite format 3\0")))
        return corrupt(StoreConnection::tr("it is not an SQLite database (wrong file header)"));
    const auto byteAt = [&](int i) { return static_cast<quint32>(static_cast<uchar>(header[i])); };
    quint32 pageSize = (byteAt(16) << 8) | byteAt(17);
    if (pageSize == 1)
        pageSize = 65536;
    if (pageSize < 512 || (pageSize & (pageSize - 1)) != 0)
        return corrupt(StoreConnection::tr("the header names an impossible page size"));
    if (size % pageSize != 0)
        return corrupt(StoreConnection::tr("the file is cut short (%1 bytes is not a whole number "
                                           "of %2-byte pages)")
                           .arg(size)
                           .arg(pageSize));
    const auto be32 = [&](int i) {
        return (byteAt(i) << 24) | (byteAt(i + 1) << 16) | (byteAt(i + 2) << 8) | byteAt(i + 3);
    };
    const quint32 pageCount = be32(28);
    // The in-header size is valid only when "version-valid-for" matches the change counter.
    if (be32(92) == be32(24) && pageCount > 0 && static_cast<qint64>(pageCount) * pageSize > size)
        return corrupt(StoreConnection::tr("the file is cut short (%1 of %2 pages present)")
                           .arg(size / pageSize)
                           .arg(pageCount));
    return {};
}

} // namespace

StoreConnection::StoreConnection(QString name, StoreConfig config)
    : m_name(std::move(name)), m_config(std::move(config)) {}

StoreConnection::~StoreConnection() {
    // Closed and removed from OpenDatabaseFiles together (see openSqlite).
    QMutexLocker lock(m_registered ? &OpenDatabaseFiles::mutex() : nullptr);
    {
        QSqlDatabase db = QSqlDatabase::database(m_name, false);
        if (db.isValid())
            db.close();
    }
    QSqlDatabase::removeDatabase(m_name);
    if (m_registered)
        OpenDatabaseFiles::removeLocked(m_device, m_inode);
}

Result<std::unique_ptr<StoreConnection>>
StoreConnection::open(const StoreConfig& config, const QString& purpose, Schema schema) {
    const QString name = QStringLiteral("m1-store-%1-%2-%3")
                             .arg(purpose)
                             .arg(g_connectionCounter.fetchAndAddRelaxed(1))
                             .arg(reinterpret_cast<quintptr>(QThread::currentThread()), 0, 16);
    std::unique_ptr<StoreConnection> connection(new StoreConnection(name, config));
    const Status opened =
        config.dialect.isSqlite() ? connection->openSqlite() : connection->openPostgres();
    if (!opened)
        return std::unexpected(opened.error());

    auto version = SchemaMigrations::currentVersion(name, config.dialect);
    if (!version)
        return std::unexpected(version.error());
    if (*version > SchemaMigrations::latestVersion())
        return std::unexpected(SchemaMigrations::newerError(*version, config.displayName()));

    if (config.dialect.isSqlite()) {
        if (const Status pragmas = connection->checkSqlitePragmas(); !pragmas)
            return std::unexpected(pragmas.error());
    }

    if (schema == Schema::Migrate && !config.readOnly &&
        *version < SchemaMigrations::latestVersion()) {
        if (const Status migrated = SchemaMigrations::migrate(name, config.dialect); !migrated)
            return std::unexpected(migrated.error());
    } else if (const Status current =
                   SchemaMigrations::requireLatest(*version, config.displayName());
               !current) {
        return std::unexpected(current.error());
    }
    return connection;
}

Status StoreConnection::openSqlite() {
    const QString path = m_config.sqlitePath;
    const QByteArray encoded = QFile::encodeName(path);
    // The header check, the open and the registration happen under OpenDatabaseFiles' mutex: the
    // check opens and closes the file, which must not happen while another connection of this
    // process has it open (it would drop that connection's locks).
    const QMutexLocker lock(&OpenDatabaseFiles::mutex());
    struct stat info {};
    bool exists = false;
    if (::lstat(encoded.constData(), &info) == 0) {
        exists = true;
        if (S_ISLNK(info.st_mode))
            return fail(QStringLiteral("store.symlink"),
                        tr("The audit database path %1 is a symbolic link; it is refused so that "
                           "the audit trail cannot be redirected. Configure the real path.")
                            .arg(path));
        if (!S_ISREG(info.st_mode))
            return fail(QStringLiteral("store.open"),
                        tr("The audit database path %1 is not a regular file.").arg(path));
    } else if (errno != ENOENT) {
        return fail(QStringLiteral("store.open"),
                    tr("Cannot inspect the audit database %1: %2").arg(path, errnoText()));
    }

    // Only the first connection of this process checks the header; the later ones find the file
    // as SQLite already read it.
    if (exists && info.st_size > 0 &&
        !OpenDatabaseFiles::containsLocked(static_cast<quint64>(info.st_dev),
                                           static_cast<quint64>(info.st_ino))) {
        if (const Status header = checkSqliteHeader(path, info.st_size); !header)
            return header;
    }
    if (!exists) {
        if (m_config.readOnly)
            return fail(QStringLiteral("store.open"),
                        tr("The audit database %1 does not exist (opened read-only).").arg(path));
        if (const Status folders = makeFolders(QFileInfo(path).path()); !folders)
            return folders;
        // Created here with 0600 so that no umask can make it readable by others; SQLite gives
        // the -wal and -shm files the database file's permissions.
        const int fd =
            ::open(encoded.constData(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST) {
            const QString code = (errno == EROFS || errno == EACCES)
                                     ? QStringLiteral("store.readonly")
                                     : QStringLiteral("store.open");
            return fail(code, tr("Cannot create the audit database %1: %2. Make its folder "
                                 "writable, or give another database with --db PATH_OR_URL.")
                                  .arg(path, errnoText()));
        }
        if (fd >= 0)
            ::close(fd);
    } else if (!m_config.readOnly && (info.st_mode & 077) != 0 && info.st_uid == ::geteuid()) {
        // An older or copied file readable by others: tool outputs in it may hold secrets.
        ::chmod(encoded.constData(), 0600);
    }

    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_name);
    const auto openAndProbe = [&](const QString& name, const QString& extraOptions) -> Status {
        db.close();
        db.setDatabaseName(name);
        QString options = QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(m_config.busyTimeoutMs);
        if (m_config.readOnly)
            options += QStringLiteral(";QSQLITE_OPEN_READONLY");
        db.setConnectOptions(options + extraOptions);
        if (!db.open())
            return std::unexpected(
                m_config.dialect.toError(db.lastError(), QStringLiteral("store.open"),
                                         tr("Opening the audit database %1").arg(path)));
        struct stat opened {};
        if (!m_registered && ::stat(encoded.constData(), &opened) == 0) {
            m_device = static_cast<quint64>(opened.st_dev);
            m_inode = static_cast<quint64>(opened.st_ino);
            m_registered = true;
            OpenDatabaseFiles::addLocked(m_device, m_inode);
        }
        // The first read makes SQLite parse the schema: a damaged file fails here, before any
        // write.
        QSqlQuery probe(db);
        if (!probe.exec(QStringLiteral("SELECT count(*) FROM sqlite_master")) || !probe.next())
            return std::unexpected(
                m_config.dialect.toError(probe.lastError(), QStringLiteral("store.open"),
                                         tr("Reading the audit database %1").arg(path)));
        return {};
    };
    const Status opened = openAndProbe(path, QString());
    if (opened || !m_config.readOnly || opened.error().code != QLatin1String("store.open"))
        return opened;
    // Read-only in a folder that cannot be written: SQLite cannot create the WAL index
    // (audit.sqlite-shm) a reader needs. With no -wal file there is nothing outside the database
    // file to read, so it is read as an immutable file (no WAL index, no locks). With a -wal
    // file, its contents would be missed: the error stands.
    if (QFileInfo::exists(path + QStringLiteral("-wal")) ||
        QFileInfo(QFileInfo(path).path()).isWritable())
        return opened;
    const QString uri =
        QStringLiteral("file:%1?immutable=1")
            .arg(QString::fromLatin1(QUrl::toPercentEncoding(path, QByteArrayLiteral("/"))));
    if (!openAndProbe(uri, QStringLiteral(";QSQLITE_OPEN_URI")))
        return opened;
    m_immutable = true;
    return {};
}

Status StoreConnection::checkSqlitePragmas() {
    QSqlDatabase db = database();
    QSqlQuery query(db);
    const QString path = m_config.sqlitePath;
    const auto run = [&](const QString& sql) -> Status {
        if (!query.exec(sql))
            return std::unexpected(m_config.dialect.toError(
                query.lastError(), QStringLiteral("store.open"),
                tr("Configuring the audit database %1 (%2)").arg(path, sql)));
        query.finish();
        return {};
    };
    if (!m_config.readOnly) {
        // WAL is a property of the file: once set it stays, so only the first opener switches.
        // The switch needs an exclusive lock and SQLite may answer SQLITE_BUSY at once instead of
        // waiting out the busy timeout, so several first openers of a new file (runs starting
        // together) retry for the length of the busy timeout before giving up.
        QDeadlineTimer deadline(std::max(m_config.busyTimeoutMs, 1000));
        for (;;) {
            QSqlQuery mode(db);
            const bool isWal =
                mode.exec(QStringLiteral("PRAGMA journal_mode")) && mode.next() &&
                mode.value(0).toString().compare(QLatin1String("wal"), Qt::CaseInsensitive) == 0;
            mode.finish();
            if (isWal)
                break;
            const Status wal = run(QStringLiteral("PRAGMA journal_mode=WAL"));
            if (wal)
                break;
            if (wal.error().code != QLatin1String("store.busy") || deadline.hasExpired())
                return wal;
            QThread::msleep(20);
        }
    }
    if (const Status s = run(QStringLiteral("PRAGMA synchronous=FULL")); !s)
        return s;
    if (const Status s = run(QStringLiteral("PRAGMA foreign_keys=ON")); !s)
        return s;

    // Qt only warns about connect options it does not understand, so what matters is read back.
    const struct {
        QString name;
        QString expected;
    } checks[] = {
        {QStringLiteral("journal_mode"), QStringLiteral("wal")},
        {QStringLiteral("synchronous"), QStringLiteral("2")},
        {QStringLiteral("foreign_keys"), QStringLiteral("1")},
        {QStringLiteral("busy_timeout"), QString::number(m_config.busyTimeoutMs)},
    };
    for (const auto& check : checks) {
        // An immutable file reports no WAL (it reads the database file alone); it is never
        // written, so the journal does not matter.
        if (m_immutable && check.name == QLatin1String("journal_mode"))
            continue;
        const QString actual = pragma(check.name);
        if (actual.compare(check.expected, Qt::CaseInsensitive) != 0) {
            const QString code = (m_config.readOnly && check.name == QLatin1String("journal_mode"))
                                     ? QStringLiteral("store.readonly")
                                     : QStringLiteral("store.open");
            return fail(code, tr("The audit database %1 has %2 = \"%3\" where \"%4\" is needed "
                                 "for durable, concurrent writes.")
                                  .arg(path, check.name, actual, check.expected));
        }
    }
    return {};
}

QString StoreConnection::pragma(const QString& name) const {
    QSqlQuery query(database());
    if (!query.exec(QStringLiteral("PRAGMA %1").arg(name)) || !query.next())
        return {};
    return query.value(0).toString();
}

Status StoreConnection::openPostgres() {
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), m_name);
    db.setHostName(m_config.host);
    db.setPort(m_config.port);
    db.setDatabaseName(m_config.database);
    db.setUserName(m_config.user);
    db.setPassword(m_config.password);
    db.setConnectOptions(m_config.postgresOptions);
    if (!db.open()) {
        // The driver's text may quote the connection string; keep only the server's reason.
        return fail(
            QStringLiteral("store.open"),
            tr("Cannot connect to the audit database %1: %2")
                .arg(m_config.displayName(), db.lastError().databaseText().trimmed().replace(
                                                 m_config.password, QStringLiteral("***"))));
    }
    QSqlQuery query(db);
    const QStringList session{
        QStringLiteral("SET synchronous_commit TO on"),
        QStringLiteral("SET lock_timeout TO %1").arg(m_config.busyTimeoutMs),
        m_config.readOnly ? QStringLiteral("SET default_transaction_read_only TO on")
                          : QStringLiteral("SET default_transaction_read_only TO off"),
    };
    for (const QString& sql : session) {
        if (!query.exec(sql))
            return std::unexpected(m_config.dialect.toError(
                query.lastError(), QStringLiteral("store.open"),
                tr("Configuring the connection to %1").arg(m_config.displayName())));
    }
    if (!query.exec(QStringLiteral("SHOW synchronous_commit")) || !query.next() ||
        query.value(0).toString() != QLatin1String("on"))
        return fail(QStringLiteral("store.open"),
                    tr("The audit database %1 does not confirm synchronous_commit = on.")
                        .arg(m_config.displayName()));
    return {};
}

} // namespace m1
