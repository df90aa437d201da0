// Opening the SQLite audit store and every way it can fail (SQL-01, SQL-04, SQL-05, SQL-12,
// SQL-13, SQL-17, FUZZ-09): each a clear error with a stable code, nothing half-written, nothing
// earlier lost.
#include "store/AuditStore.h"
#include "store/SchemaMigrations.h"

#include <QCryptographicHash>
#include <QFile>
#include <QRandomGenerator>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>
#include <unistd.h>

using namespace m1;

namespace {

QByteArray fileHash(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256);
}

int modeOf(const QString& path) {
    struct stat info {};
    if (::stat(QFile::encodeName(path).constData(), &info) != 0)
        return -1;
    return static_cast<int>(info.st_mode & 0777);
}

// A store with one run and one proposal, closed again (WAL checkpointed into the file).
bool makeStore(const QString& path) {
    auto store = AuditStore::open(path);
    if (!store)
        return false;
    auto writer = (*store)->startWriter();
    if (!writer)
        return false;
    return (*writer)->write(AuditEvent::runStarted("r", {})) &&
           (*writer)->write(AuditEvent::callProposed("r", "c", 1, "t", "read", {}));
}

qint64 scalar(const QString& connection, const QString& sql) {
    QSqlQuery query(QSqlDatabase::database(connection, false));
    if (!query.exec(sql) || !query.next())
        return -1;
    return query.value(0).toLongLong();
}

} // namespace

class TstStoreOpen : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    int m_counter = 0;
    QString freshPath() {
        return m_dir.filePath(QStringLiteral("s%1/sub/audit.sqlite").arg(++m_counter));
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void pragmasOnEveryConnection() {
        // SQL-01: read back, since Qt only warns about options it does not know.
        StoreConfig config = *StoreConfig::fromLocation(freshPath());
        config.busyTimeoutMs = 1234;
        auto store = AuditStore::open(config);
        QVERIFY2(store, qPrintable(store ? QString() : store.error().message));
        for (int i = 0; i < 2; ++i) {
            auto connection = StoreConnection::open(config, QStringLiteral("reader"),
                                                    StoreConnection::Schema::RequireLatest);
            QVERIFY(connection);
            QCOMPARE((*connection)->pragma("journal_mode"), QStringLiteral("wal"));
            QCOMPARE((*connection)->pragma("synchronous"), QStringLiteral("2"));
            QCOMPARE((*connection)->pragma("foreign_keys"), QStringLiteral("1"));
            QCOMPARE((*connection)->pragma("busy_timeout"), QStringLiteral("1234"));
        }
        QCOMPARE(scalar((*store)->connectionName(), "SELECT max(version) FROM schema_version"),
                 SchemaMigrations::latestVersion());
    }

    void permissionsUnderUmask() {
        // SQL-17
        const mode_t old = ::umask(022);
        const QString path = freshPath();
        {
            auto store = AuditStore::open(path);
            QVERIFY(store);
            auto writer = (*store)->startWriter();
            QVERIFY(writer);
            QVERIFY((*writer)->write(AuditEvent::runStarted("r", {})));
            QCOMPARE(modeOf(path), 0600);
            QCOMPARE(modeOf(path + "-wal"), 0600);
            QCOMPARE(modeOf(path + "-shm"), 0600);
            QCOMPARE(modeOf(QFileInfo(path).path()), 0700);
            QCOMPARE(modeOf(QFileInfo(QFileInfo(path).path()).path()), 0700);
        }
        ::umask(old);
    }

    void symlinkRefused() {
        // SQL-13
        const QString real = freshPath();
        QVERIFY(makeStore(real));
        const QString link = m_dir.filePath(QStringLiteral("link.sqlite"));
        QVERIFY(QFile::link(real, link));
        auto store = AuditStore::open(link);
        QVERIFY(!store);
        QCOMPARE(store.error().code, QStringLiteral("store.symlink"));
        QVERIFY(store.error().message.contains(link));
    }

    void corruptFiles_data() {
        QTest::addColumn<QString>("kind");
        QTest::newRow("SQL-12/truncated-1000") << "truncated";
        QTest::newRow("SQL-12/random-bytes") << "random";
        QTest::newRow("SQL-12/renamed-png") << "png";
        QTest::newRow("SQL-12/header-then-garbage") << "garbage";
    }
    void corruptFiles() {
        QFETCH(QString, kind);
        const QString path = freshPath();
        QVERIFY(makeStore(path));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadWrite));
        if (kind == "truncated") {
            QVERIFY(file.resize(1000));
        } else if (kind == "random") {
            QByteArray bytes(8192, '\0');
            QRandomGenerator gen(42);
            for (char& c : bytes)
                c = static_cast<char>(gen.bounded(256));
            file.resize(0);
            file.write(bytes);
        } else if (kind == "png") {
            file.resize(0);
            file.write(QByteArray::fromHex("89504e470d0a1a0a0000000d49484452") +
                       QByteArray(4080, 'x'));
        } else {
            file.seek(100);
            file.write(QByteArray(3996, '\xff'));
        }
        file.close();
        const QByteArray before = fileHash(path);
        auto store = AuditStore::open(path);
        QVERIFY(!store);
        QCOMPARE(store.error().code, QStringLiteral("store.corrupt"));
        QVERIFY2(store.error().message.contains(path), qPrintable(store.error().message));
        QCOMPARE(fileHash(path), before);
        QVERIFY(!QFile::exists(path + "-wal") || QFileInfo(path + "-wal").size() == 0);
    }

    void newerSchemaRefusedUnchanged() {
        const QString path = freshPath();
        QVERIFY(makeStore(path));
        {
            QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", "raw-newer");
            db.setDatabaseName(path);
            QVERIFY(db.open());
            QVERIFY(QSqlQuery(db).exec("INSERT INTO schema_version VALUES (99, 0)"));
            db.close();
        }
        QSqlDatabase::removeDatabase("raw-newer");
        const QByteArray before = fileHash(path);
        auto store = AuditStore::open(path);
        QVERIFY(!store);
        QCOMPARE(store.error().code, QStringLiteral("store.schema_newer"));
        QVERIFY(store.error().message.contains("99"));
        QVERIFY(store.error().message.contains(path));
        QCOMPARE(fileHash(path), before);
    }

    void readOnly() {
        // SQL-05. Root ignores file modes, so the read-only connection flag stands in for a
        // read-only file; the mapping of SQLITE_READONLY is checked directly as well.
        const QString path = freshPath();
        QVERIFY(makeStore(path));
        StoreConfig config = *StoreConfig::fromLocation(path);
        config.readOnly = true;
        auto store = AuditStore::open(config);
        QVERIFY2(store, qPrintable(store ? QString() : store.error().message));
        QVERIFY((*store)->verify()->intact);
        auto writer = (*store)->startWriter();
        QVERIFY(writer);
        const AuditAck ack =
            (*writer)->write(AuditEvent::callProposed("r", "d", 2, "t", "read", {}));
        QVERIFY(!ack);
        QCOMPARE(ack.error().code, QStringLiteral("store.readonly"));
        QCOMPARE((*store)->consumeJti("j", 1).error().code, QStringLiteral("ledger.write"));

        const SqlDialect sqlite;
        QCOMPARE(sqlite.classify(QSqlError("", "", QSqlError::StatementError, "8"), "x"),
                 QStringLiteral("store.readonly"));
        QCOMPARE(sqlite.classify(QSqlError("", "", QSqlError::StatementError, "1032"), "x"),
                 QStringLiteral("store.readonly"));
        QCOMPARE(sqlite.classify(QSqlError("", "", QSqlError::StatementError, "13"), "x"),
                 QStringLiteral("store.full"));
        QCOMPARE(sqlite.classify(QSqlError("", "", QSqlError::StatementError, "5"), "x"),
                 QStringLiteral("store.busy"));
        QCOMPARE(sqlite.classify(QSqlError("", "", QSqlError::StatementError, "26"), "x"),
                 QStringLiteral("store.corrupt"));
        const SqlDialect pg(SqlDialect::Kind::Postgres);
        QCOMPARE(pg.classify(QSqlError("", "", QSqlError::StatementError, "25006"), "x"),
                 QStringLiteral("store.readonly"));
        QCOMPARE(pg.classify(QSqlError("", "", QSqlError::StatementError, "53100"), "x"),
                 QStringLiteral("store.full"));

        if (::geteuid() == 0)
            QSKIP("Running as root: a chmod 0555 folder does not stop root from writing.");
        const QString folder = QFileInfo(path).path();
        QVERIFY(QFile::setPermissions(folder, QFileDevice::ReadOwner | QFileDevice::ExeOwner));
        auto denied = AuditStore::open(folder + QStringLiteral("/new.sqlite"));
        QFile::setPermissions(folder, QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                          QFileDevice::ExeOwner);
        QVERIFY(!denied);
    }

    void busyBeyondTimeout() {
        const QString path = freshPath();
        QVERIFY(makeStore(path));
        StoreConfig config = *StoreConfig::fromLocation(path);
        config.busyTimeoutMs = 200;
        auto store = AuditStore::open(config);
        QVERIFY(store);
        auto writer = (*store)->startWriter();
        QVERIFY(writer);
        QSqlDatabase other = QSqlDatabase::addDatabase("QSQLITE", "raw-locker");
        other.setDatabaseName(path);
        QVERIFY(other.open());
        QVERIFY(QSqlQuery(other).exec("BEGIN IMMEDIATE"));
        const AuditAck ack =
            (*writer)->write(AuditEvent::callProposed("r", "d", 2, "t", "read", {}));
        QVERIFY(!ack);
        QCOMPARE(ack.error().code, QStringLiteral("store.busy"));
        QVERIFY(QSqlQuery(other).exec("ROLLBACK"));
        other.close();
        other = QSqlDatabase();
        QSqlDatabase::removeDatabase("raw-locker");
        // Nothing half-written, and the next write works.
        const QString c = (*store)->connectionName();
        QCOMPARE(scalar(c, "SELECT count(*) FROM tool_calls"), 1);
        QCOMPARE(*(*writer)->write(AuditEvent::callProposed("r", "d", 2, "t", "read", {})), 3);
        QVERIFY((*store)->verify()->intact);
    }

    void diskFullFailsClosed() {
        // SQL-04
        const QString path = freshPath();
        auto store = AuditStore::open(path);
        QVERIFY(store);
        auto writer = (*store)->startWriter();
        QVERIFY(writer);
        AuditWriter& w = **writer;
        QVERIFY(w.write(AuditEvent::runStarted("r", {})));
        const QString c = (*store)->connectionName();
        const qint64 pages = scalar(c, "PRAGMA page_count");
        QVERIFY(pages > 0);
        QCOMPARE(*w.setSqliteMaxPageCount(pages), pages);
        const QString big(20000, QLatin1Char('x'));
        AuditAck ack;
        int written = 0;
        for (int i = 0; i < 50; ++i) {
            ack = w.write(
                AuditEvent::callProposed("r", QString::number(i), i, "t", "read", {{"data", big}}));
            if (!ack)
                break;
            ++written;
        }
        QVERIFY(!ack);
        QCOMPARE(ack.error().code, QStringLiteral("store.full"));
        QCOMPARE(scalar(c, "SELECT count(*) FROM tool_calls"), written);
        QCOMPARE(scalar(c, "SELECT last_seq FROM chain_head"), 1 + written);
        QVERIFY((*store)->verify()->intact);
        QCOMPARE(*(*store)->integrityCheck(), QStringLiteral("ok"));
        QVERIFY(w.setSqliteMaxPageCount(1'000'000));
        QVERIFY(w.write(AuditEvent::callProposed("r", "after", 99, "t", "read", {{"data", big}})));
        QVERIFY((*store)->verify()->intact);
    }

    void mutatedFilesGiveVerdictOrError() {
        // FUZZ-09 in miniature: flipped bytes anywhere give a verdict or a clear error.
        const QString path = freshPath();
        QVERIFY(makeStore(path));
        QFile original(path);
        QVERIFY(original.open(QIODevice::ReadOnly));
        const QByteArray bytes = original.readAll();
        original.close();
        QRandomGenerator gen(7);
        for (int i = 0; i < 40; ++i) {
            QByteArray mutated = bytes;
            for (int j = 0; j < 8; ++j)
                mutated[gen.bounded(mutated.size())] = static_cast<char>(gen.bounded(256));
            const QString copy = m_dir.filePath(QStringLiteral("fuzz%1.sqlite").arg(i));
            QFile out(copy);
            QVERIFY(out.open(QIODevice::WriteOnly));
            out.write(mutated);
            out.close();
            auto store = AuditStore::open(copy);
            if (!store) {
                QVERIFY(store.error().code.startsWith("store."));
                QVERIFY(!store.error().message.isEmpty());
                continue;
            }
            auto report = (*store)->verify();
            if (report)
                QVERIFY(!report->message.isEmpty());
            else
                QVERIFY(report.error().code.startsWith("store."));
        }
    }
};

QTEST_GUILESS_MAIN(TstStoreOpen)
#include "tst_store_open.moc"
