#include "config/Settings.h"

#include "llm/ClaudeProvider.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>

namespace m1 {

namespace {

QString configDir() {
    return QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation);
}

} // namespace

QString Settings::defaultFilePath() {
    const QString fromEnv = qEnvironmentVariable("M1_SETTINGS");
    if (!fromEnv.isEmpty())
        return fromEnv;
    return QDir(configDir()).filePath(QStringLiteral("settings.json"));
}

QString Settings::effectivePolicyFile() const {
    if (!policyFile.isEmpty())
        return policyFile;
    return QDir(configDir()).filePath(QStringLiteral("policy.json"));
}

QString Settings::effectiveBaseUrl() const {
    const QString fromEnv = qEnvironmentVariable("ANTHROPIC_BASE_URL");
    return fromEnv.isEmpty() ? claudeBaseUrl : fromEnv;
}

Result<Settings> Settings::load() {
    const QString path = defaultFilePath();
    // Only the default file may be absent (then the defaults apply). A file M1_SETTINGS names
    // must exist: after a typo, falling back to the defaults would silently loosen a locked-down
    // configuration.
    if (!qEnvironmentVariable("M1_SETTINGS").isEmpty() && !QFileInfo::exists(path)) {
        QFile file(path);
        (void)file.open(QIODevice::ReadOnly); // fails: its errorString() says why
        return fail(QStringLiteral("config.missing"),
                    tr("Cannot read the settings file %1: %2").arg(path, file.errorString()));
    }
    return loadFile(path);
}

Result<Settings> Settings::loadFile(const QString& path) {
    QFile file(path);
    if (!file.exists())
        return Settings();
    if (!file.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("settings.unreadable"),
                    tr("Cannot read the settings file %1: %2").arg(path, file.errorString()));
    return parse(file.readAll(), path);
}

Result<Settings> Settings::parse(const QByteArray& json, const QString& fileName) {
    auto invalid = [&fileName](const QString& what) {
        return fail(QStringLiteral("settings.invalid"),
                    tr("The settings file %1 is invalid: %2").arg(fileName, what));
    };
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return invalid(tr("%1 at byte %2").arg(parseError.errorString()).arg(parseError.offset));
    if (!doc.isObject())
        return invalid(tr("the top level must be a JSON object"));

    Settings settings;
    const QJsonObject root = doc.object();
    static const QStringList knownKeys{QStringLiteral("approvals"),  QStringLiteral("limits"),
                                       QStringLiteral("rateLimits"), QStringLiteral("tokens"),
                                       QStringLiteral("policyFile"), QStringLiteral("monitoring"),
                                       QStringLiteral("claude")};
    for (auto it = root.begin(); it != root.end(); ++it)
        if (!knownKeys.contains(it.key()))
            return invalid(tr("unknown key \"%1\"").arg(it.key()));

    auto readBool = [&](const QJsonObject& object, const QString& key, const QString& path,
                        bool& target) -> Status {
        if (!object.contains(key))
            return {};
        if (!object.value(key).isBool())
            return invalid(tr("%1 must be true or false").arg(path));
        target = object.value(key).toBool();
        return {};
    };
    auto readInt = [&](const QJsonObject& object, const QString& key, const QString& path,
                       qint64 minimum, qint64 maximum, auto& target) -> Status {
        if (!object.contains(key))
            return {};
        const QJsonValue value = object.value(key);
        const double number = value.toDouble(-1);
        if (!value.isDouble() || number != static_cast<double>(static_cast<qint64>(number)) ||
            number < static_cast<double>(minimum) || number > static_cast<double>(maximum))
            return invalid(
                tr("%1 must be a whole number from %2 to %3").arg(path).arg(minimum).arg(maximum));
        target = static_cast<std::remove_reference_t<decltype(target)>>(number);
        return {};
    };

    if (root.contains(QStringLiteral("approvals"))) {
        if (!root.value(QStringLiteral("approvals")).isObject())
            return invalid(tr("approvals must be an object"));
        const QJsonObject a = root.value(QStringLiteral("approvals")).toObject();
        for (auto it = a.begin(); it != a.end(); ++it)
            if (it.key() != QLatin1String("read") && it.key() != QLatin1String("write") &&
                it.key() != QLatin1String("execute"))
                return invalid(tr("unknown scope \"approvals.%1\"").arg(it.key()));
        if (auto s = readBool(a, QStringLiteral("read"), QStringLiteral("approvals.read"),
                              settings.policy.readNeedsApproval);
            !s)
            return std::unexpected(s.error());
        if (auto s = readBool(a, QStringLiteral("write"), QStringLiteral("approvals.write"),
                              settings.policy.writeNeedsApproval);
            !s)
            return std::unexpected(s.error());
        if (auto s = readBool(a, QStringLiteral("execute"), QStringLiteral("approvals.execute"),
                              settings.policy.executeNeedsApproval);
            !s)
            return std::unexpected(s.error());
    }
    if (root.contains(QStringLiteral("limits"))) {
        if (!root.value(QStringLiteral("limits")).isObject())
            return invalid(tr("limits must be an object"));
        const QJsonObject l = root.value(QStringLiteral("limits")).toObject();
        for (auto it = l.begin(); it != l.end(); ++it)
            if (it.key() != QLatin1String("maxToolCalls") &&
                it.key() != QLatin1String("maxSteps") &&
                it.key() != QLatin1String("maxRuntimeSeconds"))
                return invalid(tr("unknown key \"limits.%1\"").arg(it.key()));
        if (auto s =
                readInt(l, QStringLiteral("maxToolCalls"), QStringLiteral("limits.maxToolCalls"), 1,
                        100000, settings.policy.maxToolCallsPerRun);
            !s)
            return std::unexpected(s.error());
        if (auto s = readInt(l, QStringLiteral("maxSteps"), QStringLiteral("limits.maxSteps"), 1,
                             100000, settings.policy.maxStepsPerRun);
            !s)
            return std::unexpected(s.error());
        if (auto s = readInt(l, QStringLiteral("maxRuntimeSeconds"),
                             QStringLiteral("limits.maxRuntimeSeconds"), 1, 7 * 24 * 3600,
                             settings.policy.maxRuntimeSeconds);
            !s)
            return std::unexpected(s.error());
    }
    if (root.contains(QStringLiteral("rateLimits"))) {
        if (!root.value(QStringLiteral("rateLimits")).isObject())
            return invalid(tr("rateLimits must be an object"));
        const QJsonObject r = root.value(QStringLiteral("rateLimits")).toObject();
        for (auto it = r.begin(); it != r.end(); ++it) {
            const QString path = QStringLiteral("rateLimits.%1").arg(it.key());
            if (!it.value().isObject())
                return invalid(tr("%1 must be an object").arg(path));
            const QJsonObject entry = it.value().toObject();
            for (auto k = entry.begin(); k != entry.end(); ++k)
                if (k.key() != QLatin1String("maxCalls") && k.key() != QLatin1String("perSeconds"))
                    return invalid(tr("unknown key \"%1.%2\"").arg(path, k.key()));
            PolicyConfig::RateLimit limit;
            if (auto s = readInt(entry, QStringLiteral("maxCalls"),
                                 path + QStringLiteral(".maxCalls"), 0, 1000000, limit.maxCalls);
                !s)
                return std::unexpected(s.error());
            if (auto s = readInt(entry, QStringLiteral("perSeconds"),
                                 path + QStringLiteral(".perSeconds"), 1, 86400, limit.perSeconds);
                !s)
                return std::unexpected(s.error());
            settings.policy.rateLimits.insert(it.key(), limit);
        }
    }
    if (root.contains(QStringLiteral("tokens"))) {
        if (!root.value(QStringLiteral("tokens")).isObject())
            return invalid(tr("tokens must be an object"));
        const QJsonObject t = root.value(QStringLiteral("tokens")).toObject();
        for (auto it = t.begin(); it != t.end(); ++it)
            if (it.key() != QLatin1String("ttlSeconds"))
                return invalid(tr("unknown key \"tokens.%1\"").arg(it.key()));
        // An approval is meant for the call a person just saw: never longer than 5 minutes.
        if (auto s = readInt(t, QStringLiteral("ttlSeconds"), QStringLiteral("tokens.ttlSeconds"),
                             1, 300, settings.tokenTtlSeconds);
            !s)
            return std::unexpected(s.error());
    }
    if (root.contains(QStringLiteral("policyFile"))) {
        const QJsonValue v = root.value(QStringLiteral("policyFile"));
        if (!v.isString() || v.toString().isEmpty())
            return invalid(tr("policyFile must be a non-empty path"));
        settings.policyFile = v.toString();
    }
    if (root.contains(QStringLiteral("claude"))) {
        if (!root.value(QStringLiteral("claude")).isObject())
            return invalid(tr("claude must be an object"));
        const QJsonObject c = root.value(QStringLiteral("claude")).toObject();
        for (auto it = c.begin(); it != c.end(); ++it)
            if (it.key() != QLatin1String("baseUrl"))
                return invalid(tr("unknown key \"claude.%1\"").arg(it.key()));
        if (c.contains(QStringLiteral("baseUrl"))) {
            const QJsonValue v = c.value(QStringLiteral("baseUrl"));
            if (!v.isString())
                return invalid(tr("claude.baseUrl must be a string"));
            const QString url = v.toString().trimmed();
            if (!url.isEmpty()) {
                if (auto ok = ClaudeProvider::checkBaseUrl(QUrl(url)); !ok)
                    return invalid(ok.error().message);
                settings.claudeBaseUrl = url;
            }
        }
    }
    if (root.contains(QStringLiteral("monitoring"))) {
        if (!root.value(QStringLiteral("monitoring")).isObject())
            return invalid(tr("monitoring must be an object"));
        auto monitoring = MonitoringSettings::parse(
            root.value(QStringLiteral("monitoring")).toObject(), fileName);
        if (!monitoring)
            return std::unexpected(monitoring.error());
        settings.monitoring = *monitoring;
    }
    return settings;
}

} // namespace m1
