#include "run/AgentProfiles.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QStandardPaths>

namespace m1 {

QJsonObject AgentProfile::toJson() const {
    return QJsonObject{
        {QStringLiteral("name"), name},
        {QStringLiteral("model"), model},
        {QStringLiteral("tools"), QJsonArray::fromStringList(tools)},
        {QStringLiteral("max_tokens"), maxTokens},
        {QStringLiteral("context_share"), contextShare},
        {QStringLiteral("limits"),
         QJsonObject{{QStringLiteral("max_steps"), limits.maxSteps},
                     {QStringLiteral("max_tool_calls"), limits.maxToolCalls},
                     {QStringLiteral("max_runtime_seconds"), limits.maxRuntimeSeconds},
                     {QStringLiteral("budget_usd"), limits.budgetUsd}}}};
}

QString AgentProfiles::userFilePath() {
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation))
        .filePath(QStringLiteral("agents.json"));
}

Result<AgentProfiles> AgentProfiles::builtin() {
    QFile file(QStringLiteral(":/m1/agents.json"));
    if (!file.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("agents.invalid"),
                    tr("The built-in agent profiles are missing."));
    return parse(file.readAll(), file.fileName());
}

Result<AgentProfiles> AgentProfiles::load() {
    auto profiles = builtin();
    if (!profiles)
        return profiles;
    QFile user(userFilePath());
    if (!user.exists())
        return profiles;
    if (!user.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("agents.invalid"),
                    tr("Cannot read the agent profiles file %1.").arg(user.fileName()));
    const auto extra = parse(user.readAll(), user.fileName(), &*profiles);
    if (!extra)
        return extra;
    profiles->merge(*extra);
    return profiles;
}

Result<AgentProfiles> AgentProfiles::parse(const QByteArray& json, const QString& source,
                                           const AgentProfiles* base) {
    auto invalid = [&](const QString& why) {
        return fail(QStringLiteral("agents.invalid"),
                    tr("Agent profiles file %1: %2").arg(source, why));
    };
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return invalid(tr("not a JSON object (%1)").arg(error.errorString()));
    const QJsonObject root = doc.object();
    AgentProfiles result;
    if (base)
        result.m_default = base->m_default;
    if (root.contains(QLatin1String("default")))
        result.m_default = root.value(QLatin1String("default")).toString();
    const QJsonValue agents = root.value(QLatin1String("agents"));
    if (!agents.isArray())
        return invalid(tr("\"agents\" must be an array"));
    for (const QJsonValue& value : agents.toArray()) {
        const QJsonObject o = value.toObject();
        const QString name = o.value(QLatin1String("name")).toString();
        if (name.isEmpty())
            return invalid(tr("every agent needs a \"name\""));
        AgentProfile p;
        if (base)
            if (auto known = base->find(name))
                p = *known;
        p.name = name;
        p.description = o.value(QLatin1String("description")).toString(p.description);
        p.model = o.value(QLatin1String("model")).toString(p.model);
        p.systemPrompt = o.value(QLatin1String("system_prompt")).toString(p.systemPrompt);
        if (o.contains(QLatin1String("tools"))) {
            if (!o.value(QLatin1String("tools")).isArray())
                return invalid(tr("agent \"%1\": \"tools\" must be an array of names").arg(name));
            p.tools.clear();
            for (const QJsonValue& t : o.value(QLatin1String("tools")).toArray())
                p.tools.append(t.toString());
        }
        p.maxTokens = o.value(QLatin1String("max_tokens")).toInt(p.maxTokens);
        p.contextShare = o.value(QLatin1String("context_share")).toDouble(p.contextShare);
        const QJsonObject limits = o.value(QLatin1String("limits")).toObject();
        p.limits.maxSteps = limits.value(QLatin1String("max_steps")).toInt(p.limits.maxSteps);
        p.limits.maxToolCalls =
            limits.value(QLatin1String("max_tool_calls")).toInt(p.limits.maxToolCalls);
        p.limits.maxRuntimeSeconds =
            limits.value(QLatin1String("max_runtime_seconds")).toInt(p.limits.maxRuntimeSeconds);
        p.limits.budgetUsd = limits.value(QLatin1String("budget_usd")).toDouble(p.limits.budgetUsd);
        if (p.maxTokens < 1 || p.contextShare <= 0 || p.contextShare > 1 || p.limits.maxSteps < 1 ||
            p.limits.maxToolCalls < 1 || p.limits.maxRuntimeSeconds < 1 || p.limits.budgetUsd < 0)
            return invalid(tr("agent \"%1\": max_tokens and limits must be positive, "
                              "context_share in (0, 1]")
                               .arg(name));
        result.m_profiles.append(p);
    }
    return result;
}

void AgentProfiles::merge(const AgentProfiles& other) {
    for (const AgentProfile& p : other.m_profiles) {
        bool replaced = false;
        for (AgentProfile& mine : m_profiles)
            if (mine.name == p.name) {
                mine = p;
                replaced = true;
            }
        if (!replaced)
            m_profiles.append(p);
    }
    m_default = other.m_default;
}

std::optional<AgentProfile> AgentProfiles::find(const QString& name) const {
    for (const AgentProfile& p : m_profiles)
        if (p.name == name)
            return p;
    return std::nullopt;
}

} // namespace m1
