#include "TestSupport.h"
#include "tokens/TokenLedger.h"
#include "tokens/TokenService.h"
#include "util/AppIdentity.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>

using m1::Scope;
using m1::TokenLedger;
using m1::TokenService;

namespace {

constexpr char kHelperFlag[] = "--consume-helper";

mode_t modeOf(const QString& path) {
    struct stat st {};
    if (::stat(QFile::encodeName(path).constData(), &st) != 0)
        return 0;
    return st.st_mode & 07777;
}

// Child-process mode: consume one jti in the given ledger; exit 0 on success, 3 when already
// consumed, 4 on any other error.
int consumeHelper(const QString& path, const QString& jti) {
    auto ledger = TokenLedger::open(path);
    if (!ledger)
        return 4;
    const auto status = (*ledger)->consume(jti, 4102444800);
    if (status)
        return 0;
    return status.error().code == QLatin1String("token.consumed") ? 3 : 4;
}

} // namespace

class TestTokenLedger : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    // The ledger lives in the audit database (no separate tokens.sqlite any more).
    void defaultPathIsTheAuditDatabase() {
        m1::initApplicationIdentity();
        const QString path = TokenLedger::defaultPath();
        QVERIFY(path.endsWith(QLatin1String("/audit.sqlite")));
        QCOMPARE(QFileInfo(path).absolutePath(),
                 QStandardPaths::writableLocation(QStandardPaths::AppDataLocation));
    }

    void createsPrivateFileInPrivateFolder() {
        const QString path = m_dir.filePath(QStringLiteral("private/sub/audit.sqlite"));
        const mode_t oldMask = ::umask(022);
        {
            auto ledger = TokenLedger::open(path);
            ::umask(oldMask);
            QVERIFY2(ledger, qPrintable(ledger ? QString() : ledger.error().message));
            QVERIFY((*ledger)->consume(QStringLiteral("a"), 1));
            QCOMPARE(modeOf(QFileInfo(path).absolutePath()), mode_t(0700));
            QCOMPARE(modeOf(path), mode_t(0600));
            QCOMPARE(modeOf(path + QStringLiteral("-wal")), mode_t(0600));
        }
        ::umask(oldMask);
        // No connection outlives its ledger.
        for (const QString& name : QSqlDatabase::connectionNames())
            QVERIFY2(!name.startsWith(QLatin1String("m1-store-")), qPrintable(name));
    }

    void pragmasAndSchema() {
        const QString path = m_dir.filePath(QStringLiteral("pragmas.sqlite"));
        auto ledger = TokenLedger::open(path);
        QVERIFY(ledger);
        QVERIFY((*ledger)->consume(QStringLiteral("x"), 1'700'000'000));
        QSqlDatabase db =
            QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("inspect"));
        db.setDatabaseName(path);
        QVERIFY(db.open());
        {
            QSqlQuery q(db);
            QVERIFY(q.exec(QStringLiteral("PRAGMA journal_mode")) && q.next());
            QCOMPARE(q.value(0).toString(), QStringLiteral("wal"));
            QVERIFY(q.exec(QStringLiteral(
                        "SELECT sql FROM sqlite_master WHERE name = 'token_ledger'")) &&
                    q.next());
            const QString sql = q.value(0).toString();
            QVERIFY(sql.contains(QLatin1String("jti TEXT PRIMARY KEY")));
            QVERIFY(sql.contains(QLatin1String("CHECK (state IN ('consumed', 'revoked'))")));
            // It is the audit database: the chain is there too.
            QVERIFY(q.exec(QStringLiteral(
                        "SELECT count(*) FROM sqlite_master WHERE name = 'audit_events'")) &&
                    q.next());
            QCOMPARE(q.value(0).toInt(), 1);
        }
        db.close();
        db = QSqlDatabase();
        QSqlDatabase::removeDatabase(QStringLiteral("inspect"));
    }

    void consumeOnceThenRefuse() {
        auto ledger = TokenLedger::open(m_dir.filePath(QStringLiteral("once.sqlite")));
        QVERIFY(ledger);
        TokenLedger& l = **ledger;
        QCOMPARE(*l.state(QStringLiteral("j1")), TokenLedger::State::Unknown);
        QVERIFY(l.consume(QStringLiteral("j1"), 100));
        QCOMPARE(*l.state(QStringLiteral("j1")), TokenLedger::State::Consumed);
        QCOMPARE(l.consume(QStringLiteral("j1"), 100).error().code,
                 QStringLiteral("token.consumed"));
        QVERIFY(l.revoke(QStringLiteral("j2"), 100));
        QVERIFY(l.revoke(QStringLiteral("j2"), 100)); // idempotent
        QVERIFY(l.revoke(QStringLiteral("j1"), 100)); // revoking a consumed one succeeds
        QCOMPARE(l.consume(QStringLiteral("j2"), 100).error().code,
                 QStringLiteral("token.revoked"));
        QCOMPARE(*l.state(QStringLiteral("j2")), TokenLedger::State::Revoked);
    }

    // JWT-19/JWT-20: revoked and consumed stay so across a restart (the ledger is reopened).
    void persistsAcrossReopen() {
        const QString path = m_dir.filePath(QStringLiteral("restart.sqlite"));
        qint64 now = 1'700'000'000;
        TokenService::Options options;
        options.clock = [&now] { return now; };
        const auto service = TokenService::create(m1::test::testSecret(), options);
        const auto consumed = service->mint(QStringLiteral("t"), Scope::Read, {}, {});
        const auto revoked = service->mint(QStringLiteral("t"), Scope::Read, {}, {});
        {
            auto ledger = TokenLedger::open(path);
            QVERIFY(ledger);
            QVERIFY(service->verify(*consumed, {}, ledger->get()));
            const auto claims = service->verify(*consumed, {}, ledger->get());
            QVERIFY((*ledger)->consume(claims->jti, claims->exp));
            QVERIFY((*ledger)->revoke(*service->jtiOf(*revoked), claims->exp));
        }
        auto reopened = TokenLedger::open(path);
        QVERIFY(reopened);
        const auto replay = service->verify(*consumed, {}, reopened->get());
        QCOMPARE(replay.error().code, QStringLiteral("token.consumed"));
        QVERIFY(replay.error().message.contains(*service->jtiOf(*consumed)));
        QCOMPARE(service->verify(*revoked, {}, reopened->get()).error().code,
                 QStringLiteral("token.revoked"));
        QCOMPARE((*reopened)->consume(*service->jtiOf(*revoked), 0).error().code,
                 QStringLiteral("token.revoked"));
    }

    // Of several processes consuming one jti at once, exactly one wins.
    void concurrentProcessesExactlyOneWins() {
        const QString path = m_dir.filePath(QStringLiteral("race.sqlite"));
        QVERIFY(TokenLedger::open(path)); // schema exists before the race
        for (int round = 0; round < 3; ++round) {
            const QString jti = QStringLiteral("race-%1").arg(round);
            QList<QProcess*> children;
            for (int i = 0; i < 4; ++i) {
                auto* child = new QProcess(this);
                child->start(QCoreApplication::applicationFilePath(),
                             {QLatin1String(kHelperFlag), path, jti});
                children.append(child);
            }
            int winners = 0;
            int losers = 0;
            for (QProcess* child : children) {
                QVERIFY(child->waitForFinished(30000));
                if (child->exitCode() == 0)
                    ++winners;
                else if (child->exitCode() == 3)
                    ++losers;
                delete child;
            }
            QCOMPARE(winners, 1);
            QCOMPARE(losers, 3);
        }
    }

    void unopenablePathFails() {
        const auto ledger = TokenLedger::open(QStringLiteral("/proc/m1-no/audit.sqlite"));
        QVERIFY(!ledger);
        QCOMPARE(ledger.error().code, QStringLiteral("ledger.open"));
    }

private:
    QTemporaryDir m_dir;
};

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    if (argc == 4 && qstrcmp(argv[1], kHelperFlag) == 0)
        return consumeHelper(QString::fromLocal8Bit(argv[2]), QString::fromLocal8Bit(argv[3]));
    TestTokenLedger test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_tokenledger.moc"
