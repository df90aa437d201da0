#include "config/MonitoringSettings.h"

#include <QDir>
#include <QJsonValue>
#include <QStandardPaths>
#include <QStringList>

#include <cmath>

namespace m1 {

QString MonitoringSettings::effectiveLogFile() const {
    if (!logFile.isEmpty())
        return logFile;
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
        .filePath(QStringLiteral("logs/m1.log"));
}

Result<MonitoringSettings> MonitoringSettings::parse(const QJsonObject& section,
                                                     const QString& fileName) {
    auto invalid = [&fileName](const QString& what) {
        return fail(QStringLiteral("settings.invalid"),
                    tr("The settings file %1 is invalid: %2").arg(fileName, what));
    };
    auto object = [&](const QJsonObject& parent, const QString& key, const QString& path,
                      const QStringList& known, QJsonObject& out) -> Status {
        if (!parent.contains(key))
            return {};
        if (!parent.value(key).isObject())
            return invalid(tr("%1 must be an object").arg(path));
        out = parent.value(key).toObject();
        for (auto it = out.begin(); it != out.end(); ++it)
            if (!known.contains(it.key()))
                return invalid(tr("unknown key \"%1.%2\"").arg(path, it.key()));
        return {};
    };
    auto number = [&](const QJsonObject& o, const QString& key, const QString& path, double min,
                      double max, bool whole, auto& target) -> Status {
        if (!o.contains(key))
            return {};
        const QJsonValue v = o.value(key);
        const double d = v.toDouble(-1);
        if (!v.isDouble() || d < min || d > max || (whole && d != std::floor(d)))
            return invalid(tr("%1.%2 must be a %3 from %4 to %5")
                               .arg(path, key, whole ? tr("whole number") : tr("number"))
                               .arg(min)
                               .arg(max));
        target = static_cast<std::remove_reference_t<decltype(target)>>(d);
        return {};
    };
#define M1_TRY(expr)                                                                               \
    if (auto s = (expr); !s)                                                                       \
        return std::unexpected(s.error());

    MonitoringSettings m;
    static const QStringList sections{QStringLiteral("thresholds"), QStringLiteral("budgets"),
                                      QStringLiteral("metricsEndpoint"), QStringLiteral("log")};
    for (auto it = section.begin(); it != section.end(); ++it)
        if (!sections.contains(it.key()))
            return invalid(tr("unknown key \"monitoring.%1\"").arg(it.key()));

    QJsonObject t;
    M1_TRY(object(section, QStringLiteral("thresholds"), QStringLiteral("monitoring.thresholds"),
                  {QStringLiteral("toolLatencyP95Seconds"), QStringLiteral("apiLatencyP95Seconds"),
                   QStringLiteral("errorRate"), QStringLiteral("errorRateMinCalls")},
                  t));
    const QString tp = QStringLiteral("monitoring.thresholds");
    M1_TRY(number(t, QStringLiteral("toolLatencyP95Seconds"), tp, 0.001, 86400, false,
                  m.toolLatencyP95Seconds));
    M1_TRY(number(t, QStringLiteral("apiLatencyP95Seconds"), tp, 0.001, 86400, false,
                  m.apiLatencyP95Seconds));
    M1_TRY(number(t, QStringLiteral("errorRate"), tp, 0, 1, false, m.errorRate));
    M1_TRY(
        number(t, QStringLiteral("errorRateMinCalls"), tp, 1, 1000000, true, m.errorRateMinCalls));

    QJsonObject b;
    M1_TRY(object(section, QStringLiteral("budgets"), QStringLiteral("monitoring.budgets"),
                  {QStringLiteral("dailyUsd"), QStringLiteral("monthlyUsd"),
                   QStringLiteral("warningFraction"), QStringLiteral("onExceed")},
                  b));
    const QString bp = QStringLiteral("monitoring.budgets");
    for (const auto& [key, target] : {std::pair<QString, std::optional<qint64>*>{
                                          QStringLiteral("dailyUsd"), &m.dailyBudgetMicros},
                                      {QStringLiteral("monthlyUsd"), &m.monthlyBudgetMicros}}) {
        double usd = -1;
        M1_TRY(number(b, key, bp, 0, 1.0e9, false, usd));
        if (usd >= 0)
            *target = qint64(std::llround(usd * 1.0e6));
    }
    M1_TRY(
        number(b, QStringLiteral("warningFraction"), bp, 0.01, 1, false, m.budgetWarningFraction));
    if (b.contains(QStringLiteral("onExceed"))) {
        const QString v = b.value(QStringLiteral("onExceed")).toString();
        if (v != QLatin1String("stop") && v != QLatin1String("ask"))
            return invalid(tr("monitoring.budgets.onExceed must be \"stop\" or \"ask\""));
        m.stopOnBudgetExceeded = v == QLatin1String("stop");
    }

    QJsonObject e;
    M1_TRY(object(section, QStringLiteral("metricsEndpoint"),
                  QStringLiteral("monitoring.metricsEndpoint"),
                  {QStringLiteral("enabled"), QStringLiteral("port")}, e));
    if (e.contains(QStringLiteral("enabled"))) {
        if (!e.value(QStringLiteral("enabled")).isBool())
            return invalid(tr("monitoring.metricsEndpoint.enabled must be true or false"));
        m.metricsEndpointEnabled = e.value(QStringLiteral("enabled")).toBool();
    }
    M1_TRY(number(e, QStringLiteral("port"), QStringLiteral("monitoring.metricsEndpoint"), 1, 65535,
                  true, m.metricsEndpointPort));

    QJsonObject l;
    M1_TRY(object(section, QStringLiteral("log"), QStringLiteral("monitoring.log"),
                  {QStringLiteral("level"), QStringLiteral("file"), QStringLiteral("maxFileBytes"),
                   QStringLiteral("maxFiles")},
                  l));
    if (l.contains(QStringLiteral("level"))) {
        const QString v = l.value(QStringLiteral("level")).toString();
        static const QStringList levels{QStringLiteral("debug"), QStringLiteral("info"),
                                        QStringLiteral("warning"), QStringLiteral("critical")};
        if (!levels.contains(v))
            return invalid(
                tr("monitoring.log.level must be one of debug, info, warning, critical"));
        m.logLevel = v;
    }
    if (l.contains(QStringLiteral("file"))) {
        if (!l.value(QStringLiteral("file")).isString())
            return invalid(tr("monitoring.log.file must be a path"));
        m.logFile = l.value(QStringLiteral("file")).toString();
    }
    M1_TRY(number(l, QStringLiteral("maxFileBytes"), QStringLiteral("monitoring.log"), 4096, 1.0e12,
                  true, m.logMaxFileBytes));
    M1_TRY(number(l, QStringLiteral("maxFiles"), QStringLiteral("monitoring.log"), 1, 100, true,
                  m.logMaxFiles));
#undef M1_TRY
    return m;
}

} // namespace m1
