// Crash and concurrency (SQL-02 style, at the store level): a child process writes a stream of
// events and prints each acknowledged sequence number; the parent SIGKILLs it after a random
// delay, many times. After each kill the file passes integrity_check, the chain verifies and
// every acknowledged event is there. Two writer processes on one file lose nothing. A store in
// use keeps its locks while it opens more connections, so another process cannot take the file
// away from it (SQLite "how to corrupt", POSIX locks dropped by a close).
//
// The child is this executable re-invoked with --writer-child. M1_STORE_KILL_ITERATIONS sets the
// number of kills (default 20).
#include "store/AuditStore.h"
#include "tools/ToolRegistry.h"
#include "tools/Workspace.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRandomGenerator>
#include <QSet>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <cstdio>

using namespace m1;

namespace {

// Prints "ACK <seq> <kind> <request id>" for every acknowledged event, "ERR <code>" on failure.
int runWriterChild(const QStringList& args) {
    if (args.size() < 5)
        return 2;
    const QString path = args.at(2);
    const QString tag = args.at(3);
    const int calls = args.at(4).toInt();
    StoreConfig config = *StoreConfig::fromLocation(path);
    config.busyTimeoutMs = 20000;
    auto store = AuditStore::open(config);
    if (!store) {
        std::printf("ERR %s\n", qPrintable(store.error().code));
        return 1;
    }
    auto writer = (*store)->startWriter();
    if (!writer) {
        std::printf("ERR %s\n", qPrintable(writer.error().code));
        return 1;
    }
    const auto emitAck = [&](const AuditEvent& event) {
        const AuditAck ack = (*writer)->write(event);
        if (!ack) {
            std::printf("ERR %s %s\n", qPrintable(ack.error().code),
                        qPrintable(ack.error().message));
            std::fflush(stdout);
            return false;
        }
        std::printf("ACK %lld %s %s\n", static_cast<long long>(*ack),
                    qPrintable(AuditEvent::kindName(event.kind)),
                    qPrintable(event.requestId.isEmpty() ? QStringLiteral("-") : event.requestId));
        std::fflush(stdout);
        return true;
    };
    const QString run = QStringLiteral("run-") + tag;
    if (!emitAck(AuditEvent::runStarted(run, {})))
        return 1;
    for (int i = 0; calls < 0 || i < calls; ++i) {
        const QString id = tag + QLatin1Char('-') + QString::number(i);
        if (!emitAck(AuditEvent::callProposed(run, id, i, "write_file", "write",
                                              {{"path", id}, {"pad", QString(200, 'p')}})) ||
            !emitAck(AuditEvent::callApproved(run, id, "auto", {}, "jti-" + id)) ||
            !emitAck(AuditEvent::callExecuted(run, id, {{"path", id}}, "ok", 1)))
            return 1;
    }
    return 0;
}

struct Acked {
    qint64 seq;
    QString kind;
    QString requestId;
};

QList<Acked> parseAcks(const QByteArray& out, QStringList* errors) {
    QList<Acked> acks;
    for (const QByteArray& line : out.split('\n')) {
        const QList<QByteArray> parts = line.split(' ');
        if (parts.value(0) == "ACK" && parts.size() == 4)
            acks.append({parts[1].toLongLong(), QString::fromLatin1(parts[2]),
                         QString::fromLatin1(parts[3])});
        else if (parts.value(0) == "ERR")
            errors->append(QString::fromLatin1(line));
    }
    return acks;
}

} // namespace

class TstStoreCrash : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    // Every acknowledged event is in the file with the kind and call it was acknowledged for.
    static void checkAcked(AuditStore& store, const QList<Acked>& acks) {
        QSqlQuery query(QSqlDatabase::database(store.connectionName(), false));
        QVERIFY(query.prepare("SELECT kind, coalesce(request_id, '-') FROM audit_events WHERE "
                              "seq = ?"));
        for (const Acked& ack : acks) {
            query.bindValue(0, ack.seq);
            QVERIFY(query.exec());
            QVERIFY2(query.next(),
                     qPrintable(QStringLiteral("acknowledged event %1 is missing").arg(ack.seq)));
            QCOMPARE(query.value(0).toString(), ack.kind);
            QCOMPARE(query.value(1).toString(), ack.requestId);
        }
    }

    static void checkSound(const QString& path, const QList<Acked>& acks) {
        auto store = AuditStore::open(path);
        QVERIFY2(store, qPrintable(store ? QString() : store.error().message));
        QCOMPARE(*(*store)->integrityCheck(), QStringLiteral("ok"));
        auto report = (*store)->verify();
        QVERIFY(report);
        QVERIFY2(report->intact, qPrintable(report->message));
        checkAcked(**store, acks);
        // Durable before effect, in the store's terms: nothing executed without its approval.
        QSqlQuery query(QSqlDatabase::database((*store)->connectionName(), false));
        QVERIFY(query.exec("SELECT count(*) FROM tool_calls WHERE status = 'executed' AND "
                           "(decided_at IS NULL OR token_jti IS NULL)"));
        QVERIFY(query.next());
        QCOMPARE(query.value(0).toInt(), 0);
    }

    QProcess* startChild(const QString& path, const QString& tag, int calls) {
        auto* child = new QProcess(this);
        child->setProcessChannelMode(QProcess::SeparateChannels);
        child->start(QCoreApplication::applicationFilePath(),
                     {QStringLiteral("--writer-child"), path, tag, QString::number(calls)});
        return child;
    }

    // Another process (Python's sqlite3, as a person's script or a second m1ctl would) opens the
    // file, counts the events and closes: "-1" when it could not.
    static int countFromOtherProcess(const QString& path) {
        const QString python = QStandardPaths::findExecutable(QStringLiteral("python3"));
        if (python.isEmpty())
            return -1;
        QProcess child;
        child.start(python, {QStringLiteral("-c"),
                             QStringLiteral("import sqlite3, sys\n"
                                            "c = sqlite3.connect(sys.argv[1], timeout=20)\n"
                                            "print(c.execute('SELECT count(*) FROM "
                                            "audit_events').fetchone()[0])\n"
                                            "c.close()\n"),
                             path});
        if (!child.waitForFinished(30000) || child.exitCode() != 0)
            return -1;
        return child.readAllStandardOutput().trimmed().toInt();
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    // Each connection this process opens reads the file's header first. On Linux, closing any
    // descriptor of a file drops every POSIX lock the process holds on it, so a header read with
    // a descriptor of its own would take away the shared lock of the connections already open;
    // SQLite, which counts its locks per process, would not take it again. Another process then
    // believes it is the last user when it closes: it checkpoints and deletes the WAL under a
    // store still writing into it, and later commits of that store are lost or corrupt the file.
    void openingMoreConnectionsKeepsTheLocks() {
        QVERIFY2(!QStandardPaths::findExecutable(QStringLiteral("python3")).isEmpty(),
                 "python3 is needed (scripts/test installs it)");
        const QString path = m_dir.filePath(QStringLiteral("locks/audit.sqlite"));
        QVERIFY(AuditStore::open(path)); // schema, WAL mode
        auto store = AuditStore::open(path);
        QVERIFY(store);
        auto writer = (*store)->startWriter(); // a second connection, on the writer's thread
        QVERIFY(writer);
        auto reader = AuditStore::open(path); // and a third
        QVERIFY(reader);
        QVERIFY((*writer)->write(AuditEvent::runStarted(QStringLiteral("run-1"), {})));
        QCOMPARE(countFromOtherProcess(path), 1);
        // The other process closed its connection while this one still has three open: the WAL
        // this process writes into must still be the file's.
        QVERIFY2(QFileInfo::exists(path + QStringLiteral("-wal")),
                 "the WAL of a store in use was deleted by another process closing the file");
        for (int i = 2; i <= 5; ++i)
            QVERIFY((*writer)->write(AuditEvent::runStarted(QStringLiteral("run-%1").arg(i), {})));
        // Every acknowledged event is visible to everyone, now and after this process closes.
        QCOMPARE(countFromOtherProcess(path), 5);
        reader->reset();
        writer->reset();
        store->reset();
        QCOMPARE(countFromOtherProcess(path), 5);
        auto reopened = AuditStore::open(path);
        QVERIFY(reopened);
        QCOMPARE(*(*reopened)->integrityCheck(), QStringLiteral("ok"));
        auto report = (*reopened)->verify();
        QVERIFY(report);
        QVERIFY2(report->intact, qPrintable(report->message));
    }

    // The same rule for the file tools of this process: with the audit database inside the
    // workspace, read_file, edit_file and search_files would open and close it (and write_file
    // would replace it), so they refuse it and its -wal / -shm; everything else reads as usual.
    void toolsLeaveTheAuditDatabaseAlone() {
        const QString root = m_dir.filePath(QStringLiteral("ws-with-store"));
        QVERIFY(QDir().mkpath(root));
        const QString path = root + QStringLiteral("/audit.sqlite");
        auto store = AuditStore::open(path);
        QVERIFY(store);
        auto writer = (*store)->startWriter();
        QVERIFY(writer);
        QVERIFY((*writer)->write(AuditEvent::runStarted(QStringLiteral("run-1"), {})));
        QFile notes(root + QStringLiteral("/notes.txt"));
        QVERIFY(notes.open(QIODevice::WriteOnly));
        notes.write("SQLite is mentioned here\n");
        notes.close();
        auto workspace = Workspace::open(root);
        QVERIFY(workspace);
        const ToolRegistry registry = ToolRegistry::withBuiltins();
        for (const char* name : {"audit.sqlite", "audit.sqlite-wal", "audit.sqlite-shm"}) {
            auto read = registry.find(QStringLiteral("read_file"))
                            ->execute({{"path", QString::fromLatin1(name)}}, *workspace);
            QVERIFY2(!read, name);
            QCOMPARE(read.error().code, QStringLiteral("file.audit_database"));
            QVERIFY2(read.error().message.contains(QLatin1String("audit database")),
                     qPrintable(read.error().message));
            auto write =
                registry.find(QStringLiteral("write_file"))
                    ->execute({{"path", QString::fromLatin1(name)}, {"content", "x"}}, *workspace);
            QVERIFY2(!write, name);
            QCOMPARE(write.error().code, QStringLiteral("file.audit_database"));
        }
        auto edit =
            registry.find(QStringLiteral("edit_file"))
                ->execute({{"path", "audit.sqlite"}, {"old_string", "SQLite"}, {"new_string", "x"}},
                          *workspace);
        QVERIFY(!edit);
        QCOMPARE(edit.error().code, QStringLiteral("file.audit_database"));
        auto found = registry.find(QStringLiteral("search_files"))
                         ->execute({{"pattern", "SQLite"}}, *workspace);
        QVERIFY2(found, qPrintable(found ? QString() : found.error().message));
        QVERIFY2(found->output.contains(QLatin1String("notes.txt")), qPrintable(found->output));
        QVERIFY2(!found->output.contains(QLatin1String("audit.sqlite")), qPrintable(found->output));
        auto read = registry.find(QStringLiteral("read_file"))
                        ->execute({{"path", "notes.txt"}}, *workspace);
        QVERIFY(read);
        // Nothing above disturbed the store: another process's close leaves its WAL in place.
        QCOMPARE(countFromOtherProcess(path), 1);
        QVERIFY(QFileInfo::exists(path + QStringLiteral("-wal")));
        QVERIFY((*writer)->write(AuditEvent::runStarted(QStringLiteral("run-2"), {})));
        QCOMPARE(countFromOtherProcess(path), 2);
    }

    void killNineLoop() {
        const QString path = m_dir.filePath(QStringLiteral("kill/audit.sqlite"));
        const int iterations = qEnvironmentVariableIntValue("M1_STORE_KILL_ITERATIONS") > 0
                                   ? qEnvironmentVariableIntValue("M1_STORE_KILL_ITERATIONS")
                                   : 20;
        QRandomGenerator gen(QRandomGenerator::global()->generate());
        QList<Acked> allAcks;
        qint64 killedWithAcks = 0;
        for (int i = 0; i < iterations; ++i) {
            std::unique_ptr<QProcess> child(startChild(path, QString::number(i), -1));
            QVERIFY(child->waitForStarted(10000));
            // Let it get going (open, migrate) before the random delay starts counting.
            QElapsedTimer waited;
            waited.start();
            while (!child->canReadLine() && waited.elapsed() < 20000)
                child->waitForReadyRead(100);
            QTest::qWait(static_cast<int>(gen.bounded(10, 300)));
            child->kill(); // SIGKILL
            QVERIFY(child->waitForFinished(10000));
            QStringList errors;
            const QList<Acked> acks = parseAcks(child->readAllStandardOutput(), &errors);
            QVERIFY2(errors.isEmpty(), qPrintable(errors.join('\n')));
            QVERIFY(!acks.isEmpty());
            killedWithAcks += acks.size();
            allAcks += acks;
            checkSound(path, allAcks);
            if (QTest::currentTestFailed())
                return;
        }
        qInfo("%d kills, %lld acknowledged events checked", iterations, killedWithAcks);
    }

    void twoWriterProcesses() {
        const QString path = m_dir.filePath(QStringLiteral("two/audit.sqlite"));
        // Create the schema first so the two children do not both start from an empty file
        // (they would cope, but this test is about the writes).
        QVERIFY(AuditStore::open(path));
        constexpr int kCalls = 100;
        std::unique_ptr<QProcess> a(startChild(path, "A", kCalls));
        std::unique_ptr<QProcess> b(startChild(path, "B", kCalls));
        QVERIFY(a->waitForFinished(120000));
        QVERIFY(b->waitForFinished(120000));
        QCOMPARE(a->exitCode(), 0);
        QCOMPARE(b->exitCode(), 0);
        QStringList errors;
        QList<Acked> acks = parseAcks(a->readAllStandardOutput(), &errors);
        acks += parseAcks(b->readAllStandardOutput(), &errors);
        QVERIFY2(errors.isEmpty(), qPrintable(errors.join('\n')));
        QCOMPARE(acks.size(), 2 * (1 + 3 * kCalls));
        QSet<qint64> seqs;
        for (const Acked& ack : std::as_const(acks))
            seqs.insert(ack.seq);
        QCOMPARE(seqs.size(), acks.size()); // no sequence number handed out twice
        checkSound(path, acks);
        auto store = AuditStore::open(path);
        QVERIFY(store);
        QSqlQuery query(QSqlDatabase::database((*store)->connectionName(), false));
        QVERIFY(query.exec("SELECT count(*), max(seq) FROM audit_events"));
        QVERIFY(query.next());
        QCOMPARE(query.value(0).toInt(), acks.size());
        QCOMPARE(query.value(1).toInt(), acks.size());
    }
};

int main(int argc, char** argv) {
    if (argc >= 2 && qstrcmp(argv[1], "--writer-child") == 0) {
        QCoreApplication app(argc, argv);
        return runWriterChild(app.arguments());
    }
    QCoreApplication app(argc, argv);
    TstStoreCrash test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_store_crash.moc"
