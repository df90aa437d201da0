#include "monitoring/BudgetGuard.h"

#include "monitoring/AlertManager.h"

#include <QDateTime>
#include <QJsonObject>

#include <cmath>

namespace m1 {

namespace {

QString usd(qint64 micros) {
    return QStringLiteral("$%1").arg(double(micros) / 1e6, 0, 'f', 2);
}

} // namespace

BudgetGuard::BudgetGuard(Limits limits, AlertManager* alerts, QString runId)
    : m_limits(limits), m_alerts(alerts), m_runId(std::move(runId)),
      m_today([] { return QDateTime::currentDateTimeUtc().date(); }) {}

void BudgetGuard::setSpentBefore(qint64 todayMicros, qint64 thisMonthMicros) {
    m_dayOf = m_today();
    m_day = todayMicros;
    m_month = thisMonthMicros;
}

void BudgetGuard::rollOver() {
    const QDate today = m_today();
    if (!m_dayOf.isValid()) {
        m_dayOf = today;
        return;
    }
    if (today == m_dayOf)
        return;
    if (today.year() != m_dayOf.year() || today.month() != m_dayOf.month())
        m_month = 0;
    m_day = 0;
    m_dayOf = today;
}

QList<BudgetGuard::Scope> BudgetGuard::scopes() const {
    return {{QStringLiteral("run"), m_limits.runMicros, m_run},
            {QStringLiteral("day"), m_limits.dayMicros, m_day},
            {QStringLiteral("month"), m_limits.monthMicros, m_month}};
}

QString BudgetGuard::scopeLabel(const QString& scope) const {
    if (scope == QLatin1String("run"))
        return tr("the run's budget");
    if (scope == QLatin1String("day"))
        return tr("the daily budget");
    return tr("the monthly budget");
}

BudgetGuard::Verdict BudgetGuard::refuse(const Scope& scope, const QString& reason,
                                         Decision decision) {
    Verdict v{decision, scope.name, reason, scope.spent, scope.limit.value_or(0)};
    if (m_alerts)
        m_alerts->raise(Alert::Category::CostThreshold, Alert::Level::Critical, reason, m_runId,
                        QJsonObject{{QStringLiteral("budget"), scope.name},
                                    {QStringLiteral("spent_micros"), scope.spent},
                                    {QStringLiteral("limit_micros"), v.limitMicros}},
                        QStringLiteral("budget-refused:") + scope.name);
    return v;
}

BudgetGuard::Verdict BudgetGuard::checkBeforeRun() {
    rollOver();
    for (const Scope& s : scopes()) {
        if (s.name == QLatin1String("run") || !s.limit || s.spent < *s.limit)
            continue;
        return refuse(s,
                      tr("No new run: %1 is used up (%2 spent of %3).")
                          .arg(scopeLabel(s.name), usd(s.spent), usd(*s.limit)),
                      Decision::Stop);
    }
    return {};
}

BudgetGuard::Verdict BudgetGuard::checkBeforeTurn(std::optional<qint64> estimateMicros) {
    rollOver();
    const Decision onExceed = m_limits.onExceed == OnExceed::Ask ? Decision::Ask : Decision::Stop;
    for (const Scope& s : scopes()) {
        if (!s.limit)
            continue;
        if (s.spent >= *s.limit)
            return refuse(s,
                          tr("%1 is used up: %2 spent of %3.")
                              .arg(scopeLabel(s.name), usd(s.spent), usd(*s.limit)),
                          onExceed);
        if (!estimateMicros) {
            Verdict v{Decision::Ask, s.name,
                      tr("The next turn's cost is unknown (no price for the model), so it cannot "
                         "be checked against %1.")
                          .arg(scopeLabel(s.name)),
                      s.spent, *s.limit};
            return v;
        }
        if (s.spent + *estimateMicros > *s.limit)
            return refuse(
                s,
                tr("The next turn may cost up to %1, more than is left of %2 (%3 of "
                   "%4 spent).")
                    .arg(usd(*estimateMicros), scopeLabel(s.name), usd(s.spent), usd(*s.limit)),
                onExceed);
    }
    return {};
}

void BudgetGuard::alertCrossings(const QString& scope, std::optional<qint64> limit, qint64 before,
                                 qint64 after) {
    if (!limit || !m_alerts || *limit <= 0)
        return;
    // Integer thresholds: warning at ceil(limit × fraction) micro-dollars.
    const qint64 warnAt = qint64(std::ceil(double(*limit) * m_limits.warningFraction - 1e-9));
    const QJsonObject details{{QStringLiteral("budget"), scope},
                              {QStringLiteral("spent_micros"), after},
                              {QStringLiteral("limit_micros"), *limit}};
    if (before < *limit && after >= *limit)
        m_alerts->raise(
            Alert::Category::CostThreshold, Alert::Level::Critical,
            tr("%1 is used up: %2 spent of %3.").arg(scopeLabel(scope), usd(after), usd(*limit)),
            m_runId, details, QStringLiteral("budget-100:") + scope);
    else if (before < warnAt && after >= warnAt)
        m_alerts->raise(Alert::Category::CostThreshold, Alert::Level::Warning,
                        tr("%1% of %2 is used: %3 spent of %4.")
                            .arg(qRound(m_limits.warningFraction * 100))
                            .arg(scopeLabel(scope), usd(after), usd(*limit)),
                        m_runId, details, QStringLiteral("budget-warn:") + scope);
}

void BudgetGuard::recordSpend(std::optional<qint64> micros) {
    rollOver();
    if (!micros) {
        ++m_unknown;
        return;
    }
    const qint64 add = qMax<qint64>(0, *micros);
    const QList<Scope> before = scopes();
    m_run += add;
    m_day += add;
    m_month += add;
    const QList<Scope> after = scopes();
    for (qsizetype i = 0; i < before.size(); ++i)
        alertCrossings(before.at(i).name, before.at(i).limit, before.at(i).spent,
                       after.at(i).spent);
}

} // namespace m1
