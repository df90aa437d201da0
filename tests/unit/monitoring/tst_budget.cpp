// Budgets: alerts at the warning fraction and at 100%, and the money gate before each turn.
#include "monitoring/AlertManager.h"
#include "monitoring/BudgetGuard.h"

#include <QtTest>

using m1::Alert;
using m1::BudgetGuard;

class TestBudget : public QObject {
    Q_OBJECT

private Q_SLOTS:
    // Spend `percent` of a $10 budget of each kind in one call; see what was raised and decided.
    void thresholds_data() {
        QTest::addColumn<QString>("budget");
        QTest::addColumn<int>("percent");
        QTest::addColumn<int>("alerts");
        QTest::addColumn<QString>("level");
        QTest::addColumn<int>("decision");
        for (const QString& budget :
             {QStringLiteral("run"), QStringLiteral("day"), QStringLiteral("month")}) {
            QTest::newRow(qPrintable(budget + QStringLiteral("-79")))
                << budget << 79 << 0 << QString() << int(BudgetGuard::Decision::Allow);
            QTest::newRow(qPrintable(budget + QStringLiteral("-80")))
                << budget << 80 << 1 << QStringLiteral("warning")
                << int(BudgetGuard::Decision::Allow);
            QTest::newRow(qPrintable(budget + QStringLiteral("-100")))
                << budget << 100 << 1 << QStringLiteral("critical")
                << int(BudgetGuard::Decision::Stop);
        }
    }
    void thresholds() {
        QFETCH(QString, budget);
        QFETCH(int, percent);
        QFETCH(int, alerts);
        QFETCH(QString, level);
        QFETCH(int, decision);
        m1::AlertManager manager;
        BudgetGuard::Limits limits;
        const qint64 ten = 10000000; // $10
        if (budget == QLatin1String("run"))
            limits.runMicros = ten;
        else if (budget == QLatin1String("day"))
            limits.dayMicros = ten;
        else
            limits.monthMicros = ten;
        BudgetGuard guard(limits, &manager, QStringLiteral("run-1"));
        guard.setSpentBefore(0, 0);
        guard.recordSpend(ten * percent / 100);
        auto raised = manager.list();
        QVERIFY(raised);
        QCOMPARE(raised->size(), alerts);
        if (alerts) {
            QCOMPARE(raised->first().category, Alert::Category::CostThreshold);
            QCOMPARE(Alert::levelName(raised->first().level), level);
            QCOMPARE(raised->first().details.value(QStringLiteral("budget")).toString(), budget);
        }
        const auto verdict = guard.checkBeforeTurn(0);
        QCOMPARE(int(verdict.decision), decision);
        if (verdict.decision != BudgetGuard::Decision::Allow)
            QCOMPARE(verdict.budget, budget);
    }

    void warningThenCriticalOnceEach() {
        m1::AlertManager manager;
        BudgetGuard::Limits limits;
        limits.runMicros = 1000;
        BudgetGuard guard(limits, &manager);
        guard.recordSpend(790);
        QCOMPARE(manager.list()->size(), 0);
        guard.recordSpend(10); // 800: warning
        QCOMPARE(manager.list()->size(), 1);
        guard.recordSpend(100); // 900: nothing new
        QCOMPARE(manager.list()->size(), 1);
        guard.recordSpend(100); // 1000: critical
        QCOMPARE(manager.list()->size(), 2);
        guard.recordSpend(100);
        QCOMPARE(manager.list()->size(), 2);
        guard.recordSpend(std::nullopt);
        QCOMPARE(guard.unknownSpends(), 1);
        QCOMPARE(guard.runSpent(), qint64(1100));
    }

    void moneyGate() {
        BudgetGuard::Limits limits;
        limits.runMicros = 1000000;
        BudgetGuard guard(limits);
        guard.recordSpend(900000);
        QCOMPARE(guard.checkBeforeTurn(100000).decision, BudgetGuard::Decision::Allow);
        QCOMPARE(guard.checkBeforeTurn(100001).decision, BudgetGuard::Decision::Stop);
        // Unknown price: a person decides.
        QCOMPARE(guard.checkBeforeTurn(std::nullopt).decision, BudgetGuard::Decision::Ask);
        limits.onExceed = BudgetGuard::OnExceed::Ask;
        BudgetGuard asking(limits);
        asking.recordSpend(900000);
        QCOMPARE(asking.checkBeforeTurn(200000).decision, BudgetGuard::Decision::Ask);
        // No budget: everything passes, even unknown.
        BudgetGuard none(BudgetGuard::Limits{});
        QCOMPARE(none.checkBeforeTurn(std::nullopt).decision, BudgetGuard::Decision::Allow);
    }

    void newRunsStopWhenTheDayIsUsedUp() {
        BudgetGuard::Limits limits;
        limits.dayMicros = 5000000;
        limits.monthMicros = 50000000;
        QDate today(2026, 11, 30);
        BudgetGuard guard(limits);
        guard.setClock([&today] { return today; });
        guard.setSpentBefore(5000000, 20000000);
        const auto verdict = guard.checkBeforeRun();
        QCOMPARE(verdict.decision, BudgetGuard::Decision::Stop);
        QCOMPARE(verdict.budget, QStringLiteral("day"));
        // Next day (and month): the day's and the month's spending start again.
        today = QDate(2026, 12, 1);
        QCOMPARE(guard.checkBeforeRun().decision, BudgetGuard::Decision::Allow);
        QCOMPARE(guard.daySpent(), qint64(0));
        QCOMPARE(guard.monthSpent(), qint64(0));
    }
};

QTEST_GUILESS_MAIN(TestBudget)
#include "tst_budget.moc"
