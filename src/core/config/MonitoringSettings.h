#pragma once

#include "util/Error.h"

#include <QCoreApplication>
#include <QJsonObject>
#include <QString>

#include <optional>

namespace m1 {

// The "monitoring" section of the settings file (docs/configuration.md):
//   {"thresholds": {"toolLatencyP95Seconds": 30, "apiLatencyP95Seconds": 60,
//                   "errorRate": 0.25, "errorRateMinCalls": 20},
//    "budgets": {"dailyUsd": 5, "monthlyUsd": 50, "warningFraction": 0.8, "onExceed": "stop"},
//    "metricsEndpoint": {"enabled": false, "port": 9464},
//    "log": {"level": "info", "file": "", "maxFileBytes": 10485760, "maxFiles": 5}}
class MonitoringSettings {
    Q_DECLARE_TR_FUNCTIONS(MonitoringSettings)

public:
    // Alerts
    double toolLatencyP95Seconds = 30;
    double apiLatencyP95Seconds = 60;
    double errorRate = 0.25; // failed / executed tool calls that raise high_error_rate
    qint64 errorRateMinCalls = 20;

    // Budgets in micro-dollars (the file gives dollars); empty: no budget.
    std::optional<qint64> dailyBudgetMicros;
    std::optional<qint64> monthlyBudgetMicros;
    double budgetWarningFraction = 0.8;
    bool stopOnBudgetExceeded = true; // false: ask a person

    bool metricsEndpointEnabled = false;
    int metricsEndpointPort = 9464;

    QString logLevel = QStringLiteral("info");
    QString logFile; // "" = <AppDataLocation>/logs/m1.log
    qint64 logMaxFileBytes = 10 * 1024 * 1024;
    int logMaxFiles = 5;

    // `section` is the value of "monitoring"; `invalid` formats an error naming the file.
    static Result<MonitoringSettings> parse(const QJsonObject& section, const QString& fileName);
    QString effectiveLogFile() const;
};

} // namespace m1
