#pragma once

#include <QCoreApplication>
#include <QDate>
#include <QString>

#include <functional>
#include <optional>

namespace m1 {

class AlertManager;

// Budgets in micro-dollars for one run (`m1ctl run --budget`), the day and the month (settings;
// UTC days and months, like the store's *_day columns). Each raises a cost_threshold alert once
// when spending reaches the warning fraction (warning level) and once at 100% (critical).
//
// The money gate: before each model turn the run loop asks checkBeforeTurn(estimate) with
// CostTracker::estimateTurnCost(); a turn that would take spending past a budget (or a budget
// already used up) is refused with the configured action: Stop ends the run, Ask hands the choice
// to a person. An unknown estimate (no price for the model) cannot be checked, so it is Ask
// whenever a budget is set. checkBeforeRun() refuses new runs once the day's or month's budget is
// used up.
class BudgetGuard {
    Q_DECLARE_TR_FUNCTIONS(BudgetGuard)

public:
    enum class Decision { Allow, Ask, Stop };
    enum class OnExceed { Stop, Ask };

    struct Limits {
        std::optional<qint64> runMicros;
        std::optional<qint64> dayMicros;
        std::optional<qint64> monthMicros;
        double warningFraction = 0.8;
        OnExceed onExceed = OnExceed::Stop;
    };
    struct Verdict {
        Decision decision = Decision::Allow;
        QString budget; // "run", "day" or "month" when not Allow
        QString reason; // for a person
        qint64 spentMicros = 0;
        qint64 limitMicros = 0;
    };

    BudgetGuard(Limits limits, AlertManager* alerts = nullptr, QString runId = {});

    // Spending before this guard started, from the store (CostReport::spent...).
    void setSpentBefore(qint64 todayMicros, qint64 thisMonthMicros);
    // For tests: today's date (UTC). Default: the system clock.
    void setClock(std::function<QDate()> today) { m_today = std::move(today); }

    Verdict checkBeforeRun();
    Verdict checkBeforeTurn(std::optional<qint64> estimateMicros);
    // The cost of one API call once known (nullopt: unknown price, counted apart).
    void recordSpend(std::optional<qint64> micros);

    qint64 runSpent() const { return m_run; }
    qint64 daySpent() const { return m_day; }
    qint64 monthSpent() const { return m_month; }
    int unknownSpends() const { return m_unknown; }
    const Limits& limits() const { return m_limits; }

private:
    struct Scope {
        QString name;
        std::optional<qint64> limit;
        qint64 spent;
    };
    QList<Scope> scopes() const;
    void rollOver();
    Verdict refuse(const Scope& scope, const QString& reason, Decision decision);
    void alertCrossings(const QString& scope, std::optional<qint64> limit, qint64 before,
                        qint64 after);
    QString scopeLabel(const QString& scope) const;

    Limits m_limits;
    AlertManager* m_alerts;
    QString m_runId;
    std::function<QDate()> m_today;
    QDate m_dayOf;
    qint64 m_run = 0;
    qint64 m_day = 0;
    qint64 m_month = 0;
    int m_unknown = 0;
};

} // namespace m1
