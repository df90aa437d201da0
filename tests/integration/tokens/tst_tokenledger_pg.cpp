// SQL-16 with the ledger in a PostgreSQL audit store: several processes (standing in for several
// desktops) consume one jti at the same moment; the primary key makes exactly one the winner.
// Revocation and consumption survive reopening, as on SQLite.
#include "PgTestServer.h"
#include "tokens/TokenLedger.h"

#include <QCoreApplication>
#include <QProcess>
#include <QtTest>

#include <memory>

using m1::TokenLedger;

namespace {

constexpr char kHelperFlag[] = "--consume-helper";

// Child-process mode: exit 0 when this process consumed the jti, 3 when it was already consumed,
// 4 on any other error.
int consumeHelper(const QString& location, const QString& jti) {
    auto ledger = TokenLedger::open(location);
    if (!ledger)
        return 4;
    const auto status = (*ledger)->consume(jti, 4102444800);
    if (status)
        return 0;
    return status.error().code == QLatin1String("token.consumed") ? 3 : 4;
}

} // namespace

class TestTokenLedgerPg : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        m_pg = std::make_unique<m1::test::PgTestServer>();
        if (!m_pg->start())
            QFAIL(qPrintable(QStringLiteral("PostgreSQL test server: ") + m_pg->errorString()));
        m_url = m_pg->createDatabase(QStringLiteral("ledger"));
        QVERIFY(!m_url.isEmpty());
        QVERIFY(TokenLedger::open(m_url)); // the schema exists before the race
    }

    void concurrentProcessesExactlyOneWins() {
        for (int round = 0; round < 3; ++round) {
            const QString jti = QStringLiteral("pg-race-%1").arg(round);
            QList<QProcess*> children;
            for (int i = 0; i < 4; ++i) {
                auto* child = new QProcess(this);
                child->start(QCoreApplication::applicationFilePath(),
                             {QLatin1String(kHelperFlag), m_url, jti});
                children.append(child);
            }
            int winners = 0;
            int losers = 0;
            for (QProcess* child : children) {
                QVERIFY(child->waitForFinished(60000));
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

    void persistsAcrossReopen() {
        {
            auto ledger = TokenLedger::open(m_url);
            QVERIFY(ledger);
            QVERIFY((*ledger)->consume(QStringLiteral("kept"), 4102444800));
            QVERIFY((*ledger)->revoke(QStringLiteral("gone"), 4102444800));
        }
        auto reopened = TokenLedger::open(m_url);
        QVERIFY(reopened);
        QCOMPARE(*(*reopened)->state(QStringLiteral("kept")), TokenLedger::State::Consumed);
        QCOMPARE(*(*reopened)->state(QStringLiteral("gone")), TokenLedger::State::Revoked);
        QCOMPARE((*reopened)->consume(QStringLiteral("gone"), 4102444800).error().code,
                 QStringLiteral("token.revoked"));
    }

    void cleanupTestCase() { m_pg.reset(); }

private:
    std::unique_ptr<m1::test::PgTestServer> m_pg;
    QString m_url;
};

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    if (argc == 4 && qstrcmp(argv[1], kHelperFlag) == 0)
        return consumeHelper(QString::fromLocal8Bit(argv[2]), QString::fromLocal8Bit(argv[3]));
    TestTokenLedgerPg test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_tokenledger_pg.moc"
