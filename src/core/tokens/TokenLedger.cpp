#include "tokens/TokenLedger.h"

#include <QAtomicInteger>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace m1 {

namespace {

constexpr int kBusyTimeoutMs = 5000;

QString nextConnectionName() {
    static QAtomicInteger<quint64> counter;
    return QStringLiteral("m1-token-ledger-%1-%2")
        .arg(QCoreApplication::applicationPid())
        .arg(counter.fetchAndAddRelaxed(1));
}

QSqlDatabase connection(const QString& name) {
    return QSqlDatabase::database(name, false);
}

// Creates the file 0600 before SQLite sees it: SQLite would create it with the umask's mode, and
// it gives the -wal and -shm files the same mode as the database file.
bool ensurePrivateFile(const QString& path) {
    const QByteArray native = QFile::encodeName(path);
    const int fd = ::open(native.constData(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return false;
    const bool ok = ::fchmod(fd, 0600) == 0;
    ::close(fd);
    return ok;
}

} // namespace

TokenLedger::TokenLedger(QString connectionName) : m_connectionName(std::move(connectionName)) {}

TokenLedger::~TokenLedger() {
    {
        QSqlDatabase db = connection(m_connectionName);
        if (db.isValid())
            db.close();
    }
    QSqlDatabase::removeDatabase(m_connectionName);
}

QString TokenLedger::defaultPath() {
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
           QStringLiteral("/tokens.sqlite");
}

Result<std::unique_ptr<TokenLedger>> TokenLedger::open(const QString& path) {
    const QFileInfo info(path);
    const QString folder = info.absolutePath();
    if (!QDir().mkpath(folder) || ::chmod(QFile::encodeName(folder).constData(), 0700) != 0)
        return fail(QStringLiteral("ledger.open"),
                    tr("Cannot create the private folder %1 for the token ledger.").arg(folder));
    if (!ensurePrivateFile(info.absoluteFilePath()))
        return fail(QStringLiteral("ledger.open"),
                    tr("Cannot create the token ledger file %1 (a symbolic link is refused).")
                        .arg(info.absoluteFilePath()));

    const QString name = nextConnectionName();
    // Constructed before the database so that its destructor removes the connection on every
    // error path below.
    std::unique_ptr<TokenLedger> ledger(new TokenLedger(name));
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(info.absoluteFilePath());
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(kBusyTimeoutMs));
        if (!db.open())
            return fail(QStringLiteral("ledger.open"),
                        tr("Cannot open the token ledger %1: %2")
                            .arg(info.absoluteFilePath(), db.lastError().text()));

        QSqlQuery query(db);
        if (!query.exec(QStringLiteral("PRAGMA journal_mode=WAL")) || !query.next() ||
            query.value(0).toString().compare(QLatin1String("wal"), Qt::CaseInsensitive) != 0)
            return fail(QStringLiteral("ledger.open"),
                        tr("The token ledger %1 cannot use write-ahead logging (is it on a network "
                           "file system?).")
                            .arg(info.absoluteFilePath()));
        query.finish();
        // FULL: in WAL mode only this makes a committed consume survive a power loss.
        const QStringList pragmas = {QStringLiteral("PRAGMA synchronous=FULL"),
                                     QStringLiteral("PRAGMA busy_timeout=%1").arg(kBusyTimeoutMs)};
        for (const QString& pragma : pragmas) {
            if (!query.exec(pragma))
                return fail(
                    QStringLiteral("ledger.open"),
                    tr("Cannot configure the token ledger: %1").arg(query.lastError().text()));
            query.finish();
        }
        if (!query.exec(
                QStringLiteral("CREATE TABLE IF NOT EXISTS token_ledger ("
                               "jti TEXT PRIMARY KEY NOT NULL, "
                               "state TEXT NOT NULL CHECK(state IN ('consumed','revoked')), "
                               "expires_at INTEGER NOT NULL, "
                               "recorded_at INTEGER NOT NULL)")))
            return fail(QStringLiteral("ledger.schema"),
                        tr("Cannot create the token ledger table in %1: %2")
                            .arg(info.absoluteFilePath(), query.lastError().text()));
    }
    return ledger;
}

Result<TokenLedger::State> TokenLedger::state(const QString& jti) const {
    QSqlDatabase db = connection(m_connectionName);
    QSqlQuery query(db);
    query.prepare(QStringLiteral("SELECT state FROM token_ledger WHERE jti = ?"));
    query.addBindValue(jti);
    if (!query.exec())
        return fail(QStringLiteral("ledger.read"),
                    tr("Cannot read the token ledger: %1").arg(query.lastError().text()));
    if (!query.next())
        return State::Unknown;
    const QString value = query.value(0).toString();
    if (value == QLatin1String("consumed"))
        return State::Consumed;
    if (value == QLatin1String("revoked"))
        return State::Revoked;
    // The CHECK constraint makes this unreachable unless the file was edited; fail closed.
    return State::Revoked;
}

namespace {

// Runs `body` inside BEGIN IMMEDIATE ... COMMIT. IMMEDIATE takes the write lock up front, so two
// writers queue on the busy timeout instead of one failing mid-transaction on a lock upgrade.
template <typename Body>
Status writeTransaction(const QString& connectionName, Body body) {
    QSqlDatabase db = connection(connectionName);
    QSqlQuery control(db);
    if (!control.exec(QStringLiteral("BEGIN IMMEDIATE")))
        return fail(QStringLiteral("ledger.write"),
                    TokenLedger::tr("Cannot lock the token ledger for writing: %1")
                        .arg(control.lastError().text()));
    control.finish();
    Status result = body(db);
    if (!result) {
        control.exec(QStringLiteral("ROLLBACK"));
        return result;
    }
    if (!control.exec(QStringLiteral("COMMIT"))) {
        const QString reason = control.lastError().text();
        control.exec(QStringLiteral("ROLLBACK"));
        return fail(QStringLiteral("ledger.write"),
                    TokenLedger::tr("Cannot commit to the token ledger: %1").arg(reason));
    }
    return {};
}

} // namespace

Status TokenLedger::consume(const QString& jti, qint64 expiresAt) {
    return writeTransaction(m_connectionName, [&](QSqlDatabase& db) -> Status {
        QSqlQuery query(db);
        query.prepare(QStringLiteral("SELECT state FROM token_ledger WHERE jti = ?"));
        query.addBindValue(jti);
        if (!query.exec())
            return fail(QStringLiteral("ledger.write"),
                        tr("Cannot read the token ledger: %1").arg(query.lastError().text()));
        if (query.next()) {
            const bool revoked = query.value(0).toString() == QLatin1String("revoked");
            query.finish();
            if (revoked)
                return fail(QStringLiteral("token.revoked"),
                            tr("Approval token %1 was revoked.").arg(jti));
            return fail(QStringLiteral("token.consumed"),
                        tr("Approval token %1 was already used; approve the call again.").arg(jti));
        }
        query.finish();
        // The primary key is the real guard: should another writer slip in, the INSERT fails.
        query.prepare(QStringLiteral("INSERT INTO token_ledger (jti, state, expires_at, "
                                     "recorded_at) VALUES (?, 'consumed', ?, ?)"));
        query.addBindValue(jti);
        query.addBindValue(expiresAt);
        query.addBindValue(QDateTime::currentSecsSinceEpoch());
        if (!query.exec())
            return fail(QStringLiteral("ledger.write"),
                        tr("Cannot record approval token %1 as used: %2")
                            .arg(jti, query.lastError().text()));
        return {};
    });
}

Status TokenLedger::revoke(const QString& jti, qint64 expiresAt) {
    return writeTransaction(m_connectionName, [&](QSqlDatabase& db) -> Status {
        QSqlQuery query(db);
        query.prepare(QStringLiteral("INSERT INTO token_ledger (jti, state, expires_at, "
                                     "recorded_at) VALUES (?, 'revoked', ?, ?) "
                                     "ON CONFLICT(jti) DO NOTHING"));
        query.addBindValue(jti);
        query.addBindValue(expiresAt);
        query.addBindValue(QDateTime::currentSecsSinceEpoch());
        if (!query.exec())
            return fail(QStringLiteral("ledger.write"),
                        tr("Cannot record approval token %1 as revoked: %2")
                            .arg(jti, query.lastError().text()));
        return {};
    });
}

} // namespace m1
