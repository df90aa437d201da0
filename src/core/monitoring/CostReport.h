#pragma once

#include "util/Error.h"

#include <QCoreApplication>
#include <QDate>
#include <QList>
#include <QString>

namespace m1 {

// Cost breakdowns read from the audit store (api_calls and runs), on an existing store connection
// (AuditStore::connectionName(), on the thread that opened it). Money in micro-dollars; a call
// whose cost is unknown (NULL) is counted in `unpricedCalls`, never as zero cost. Time ranges are
// [fromMs, toMs) in ms since the epoch, UTC. Errors: "cost.query".
class CostReport {
    Q_DECLARE_TR_FUNCTIONS(CostReport)

public:
    struct Row {
        QString key; // model, agent or run id; for byDay the ISO date
        qint64 calls = 0;
        qint64 unpricedCalls = 0;
        qint64 inputTokens = 0;
        qint64 outputTokens = 0;
        qint64 cacheWriteTokens = 0;
        qint64 cacheReadTokens = 0;
        qint64 costMicros = 0; // of the priced calls
    };
    struct Projection {
        qint64 spentMicros = 0;     // this month so far
        qint64 projectedMicros = 0; // linear to the month's end
        qint64 unpricedCalls = 0;
    };

    explicit CostReport(QString connectionName) : m_connection(std::move(connectionName)) {}

    Result<QList<Row>> byModel(qint64 fromMs, qint64 toMs) const;
    Result<QList<Row>> byDay(qint64 fromMs, qint64 toMs) const;
    Result<QList<Row>> byAgent(qint64 fromMs, qint64 toMs) const;
    // Runs started in the range, most expensive first.
    Result<QList<Row>> byRun(qint64 fromMs, qint64 toMs, int limit = 100) const;
    // What the budgets count: the priced calls in the range, without replay runs (provider
    // "replay" bills nothing; older stores may hold replayed calls with a cost).
    Result<qint64> spentMicros(qint64 fromMs, qint64 toMs) const;
    // today: a UTC date (its month is the one projected).
    Result<Projection> monthlyProjection(const QDate& today) const;

    static qint64 startOfDayMs(const QDate& day);

private:
    Result<QList<Row>> grouped(const QString& keyExpression, const QString& from,
                               const QString& timeColumn, qint64 fromMs, qint64 toMs,
                               const QString& order, int limit) const;

    QString m_connection;
};

} // namespace m1
