#include "store/SqlDialect.h"

namespace m1 {

namespace {

// SQLite primary result codes (extended codes carry them in the low byte).
constexpr int kSqliteBusy = 5;
constexpr int kSqliteLocked = 6;
constexpr int kSqliteReadOnly = 8;
constexpr int kSqliteCorrupt = 11;
constexpr int kSqliteFull = 13;
constexpr int kSqliteCantOpen = 14;
constexpr int kSqliteConstraint = 19;
constexpr int kSqliteNotADb = 26;

} // namespace

QString SqlDialect::driverName() const {
    return isSqlite() ? QStringLiteral("QSQLITE") : QStringLiteral("QPSQL");
}

QString SqlDialect::autoIncrementPrimaryKey() const {
    return isSqlite() ? QStringLiteral("INTEGER PRIMARY KEY AUTOINCREMENT")
                      : QStringLiteral("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY");
}

QString SqlDialect::expand(QString sql) const {
    return sql.replace(QLatin1String("{ID}"), autoIncrementPrimaryKey());
}

QString SqlDialect::beginWrite() const {
    return isSqlite() ? QStringLiteral("BEGIN IMMEDIATE") : QStringLiteral("BEGIN");
}

QString SqlDialect::lockChainHeadSuffix() const {
    return isSqlite() ? QString() : QStringLiteral(" FOR UPDATE");
}

QString SqlDialect::migrationLock() const {
    // The constant is arbitrary but fixed: every M1 process takes the same lock.
    return isSqlite() ? QString() : QStringLiteral("SELECT pg_advisory_xact_lock(7741210301)");
}

QString SqlDialect::classify(const QSqlError& error, const QString& fallbackCode) const {
    const QString native = error.nativeErrorCode();
    if (isSqlite()) {
        bool ok = false;
        const int code = native.toInt(&ok) & 0xff;
        if (!ok)
            return fallbackCode;
        switch (code) {
        case kSqliteBusy:
        case kSqliteLocked:
            return QStringLiteral("store.busy");
        case kSqliteFull:
            return QStringLiteral("store.full");
        case kSqliteReadOnly:
            return QStringLiteral("store.readonly");
        case kSqliteCorrupt:
        case kSqliteNotADb:
            return QStringLiteral("store.corrupt");
        case kSqliteCantOpen:
            return QStringLiteral("store.open");
        case kSqliteConstraint:
            return QStringLiteral("store.conflict");
        default:
            return fallbackCode;
        }
    }
    // PostgreSQL SQLSTATE classes: 53 insufficient resources, 55P03 lock timeout, 40 rollback
    // (serialization failure, deadlock), 25006 read-only transaction, 23505 unique violation,
    // 08 connection failures, 57P01 admin shutdown (pg_terminate_backend).
    if (native == QLatin1String("53100") || native == QLatin1String("53200"))
        return QStringLiteral("store.full");
    if (native == QLatin1String("55P03") || native.startsWith(QLatin1String("40")) ||
        native == QLatin1String("57014"))
        return QStringLiteral("store.busy");
    if (native == QLatin1String("25006"))
        return QStringLiteral("store.readonly");
    if (native == QLatin1String("23505"))
        return QStringLiteral("store.conflict");
    if (native.startsWith(QLatin1String("08")) || native.startsWith(QLatin1String("57P")))
        return QStringLiteral("store.connection");
    if (native == QLatin1String("XX001") || native == QLatin1String("XX002"))
        return QStringLiteral("store.corrupt");
    return fallbackCode;
}

Error SqlDialect::toError(const QSqlError& error, const QString& fallbackCode,
                          const QString& what) const {
    const QString code = classify(error, fallbackCode);
    // Only a write can have written nothing; a read or an open must not claim it.
    const bool writing = fallbackCode == QLatin1String("store.write");
    QString advice;
    if (code == QLatin1String("store.busy"))
        advice = writing ? tr("the audit database is locked by another process for longer than "
                              "the busy timeout. Nothing was written; try again, or close the "
                              "other M1 instance.")
                         : tr("the audit database is locked by another process for longer than "
                              "the busy timeout; try again, or close the other M1 instance.");
    else if (code == QLatin1String("store.full"))
        advice = writing ? tr("the audit database has no room left (disk or size limit full). "
                              "Nothing was written; free space and retry. Tools stay blocked "
                              "until the audit works.")
                         : tr("the disk or the size limit of the audit database is full; free "
                              "space and retry.");
    else if (code == QLatin1String("store.readonly"))
        advice = writing ? tr("the audit database is read-only. Nothing was written; make the "
                              "file and its folder writable, or point the store at a writable "
                              "location.")
                         : tr("the audit database cannot be written here (the file, its folder "
                              "or the file system is read-only); make the file and its folder "
                              "writable, or point the store at a writable location.");
    else if (code == QLatin1String("store.open") && classify(error, QString()) == code)
        advice = tr("the audit database file cannot be opened; check that its folder exists and "
                    "that you may read and write the file and its folder.");
    else if (code == QLatin1String("store.corrupt"))
        advice = tr("the audit database is damaged. It was not changed; restore a backup or "
                    "start a new file elsewhere.");
    else if (code == QLatin1String("store.connection"))
        advice = tr("the connection to the database server was lost. Nothing from this step was "
                    "acknowledged; reconnect and retry.");
    // A known condition is said in words; the driver's own text ("attempt to write a readonly
    // database Unable to execute statement") only when nothing better is known.
    if (!advice.isEmpty())
        return Error{code, tr("%1 failed: %2").arg(what, advice)};
    QString detail = error.databaseText().trimmed();
    if (detail.isEmpty())
        detail = error.text().trimmed();
    return Error{code, tr("%1 failed: %2").arg(what, detail)};
}

} // namespace m1
