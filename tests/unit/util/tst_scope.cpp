#include "model/Scope.h"

#include <QtTest>

class TestScope : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roundTrip_data() {
        QTest::addColumn<QString>("text");
        QTest::newRow("read") << QStringLiteral("read");
        QTest::newRow("write") << QStringLiteral("write");
        QTest::newRow("execute") << QStringLiteral("execute");
    }
    void roundTrip() {
        QFETCH(QString, text);
        const auto scope = m1::scopeFromString(text);
        QVERIFY(scope.has_value());
        QCOMPARE(m1::scopeToString(*scope), text);
    }
    void rejectsUnknownAndCase() {
        QVERIFY(!m1::scopeFromString(QStringLiteral("Read")).has_value());
        QVERIFY(!m1::scopeFromString(QStringLiteral("admin")).has_value());
        QVERIFY(!m1::scopeFromString(QString()).has_value());
    }
    void ordering() {
        QVERIFY(m1::Scope::Read < m1::Scope::Write);
        QVERIFY(m1::Scope::Write < m1::Scope::Execute);
    }
};

QTEST_GUILESS_MAIN(TestScope)
#include "tst_scope.moc"
