#include "ModelCatalog.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>

// m1core is a static library: its resources must be registered by hand before first use.
static void initCoreResources() {
    Q_INIT_RESOURCE(core);
}

namespace m1 {

QString ModelCatalog::userFilePath() {
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation))
        .filePath(QStringLiteral("models.json"));
}

Result<ModelCatalog> ModelCatalog::parse(const QByteArray& json, const QString& source) {
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject())
        return fail(QStringLiteral("models.invalid"),
                    tr("%1 is not a valid model list: %2")
                        .arg(source, parseError.error != QJsonParseError::NoError
                                         ? parseError.errorString()
                                         : tr("not a JSON object")));
    const QJsonObject root = doc.object();
    ModelCatalog catalog;
    catalog.m_default = root.value(QLatin1String("default")).toString();
    const QJsonArray models = root.value(QLatin1String("models")).toArray();
    for (qsizetype i = 0; i < models.size(); ++i) {
        const QJsonObject o = models.at(i).toObject();
        ModelInfo m;
        m.id = o.value(QLatin1String("id")).toString();
        if (m.id.isEmpty())
            return fail(QStringLiteral("models.invalid"),
                        tr("%1: model %2 has no id.").arg(source).arg(i + 1));
        for (const QJsonValue& a : o.value(QLatin1String("aliases")).toArray())
            m.aliases.append(a.toString());
        m.displayName = o.value(QLatin1String("display_name")).toString(m.id);
        m.contextWindow = o.value(QLatin1String("context_window")).toInteger();
        m.maxOutput = o.value(QLatin1String("max_output")).toInteger();
        m.status = o.value(QLatin1String("status")).toString(QStringLiteral("available"));
        if (o.contains(QLatin1String("end_of_life"))) {
            m.endOfLife =
                QDate::fromString(o.value(QLatin1String("end_of_life")).toString(), Qt::ISODate);
            if (!m.endOfLife.isValid())
                return fail(QStringLiteral("models.invalid"),
                            tr("%1: model %2 has an invalid end_of_life date.").arg(source, m.id));
        }
        catalog.m_models.append(m);
    }
    return catalog;
}

Result<ModelCatalog> ModelCatalog::builtin() {
    static const bool registered = (initCoreResources(), true);
    Q_UNUSED(registered);
    QFile f(QStringLiteral(":/m1/models.json"));
    if (!f.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("models.invalid"), tr("The built-in model list is missing."));
    return parse(f.readAll(), f.fileName());
}

Result<ModelCatalog> ModelCatalog::load() {
    Result<ModelCatalog> catalog = builtin();
    if (!catalog)
        return catalog;
    QFile user(userFilePath());
    if (user.exists()) {
        if (!user.open(QIODevice::ReadOnly))
            return fail(QStringLiteral("models.invalid"),
                        tr("Cannot read %1: %2").arg(user.fileName(), user.errorString()));
        const Result<ModelCatalog> extra = parse(user.readAll(), user.fileName());
        if (!extra)
            return std::unexpected(extra.error());
        catalog->merge(*extra);
    }
    return catalog;
}

void ModelCatalog::merge(const ModelCatalog& other) {
    for (const ModelInfo& m : other.m_models) {
        auto it = std::find_if(m_models.begin(), m_models.end(),
                               [&](const ModelInfo& x) { return x.id == m.id; });
        if (it != m_models.end())
            *it = m;
        else
            m_models.append(m);
    }
    if (!other.m_default.isEmpty())
        m_default = other.m_default;
}

std::optional<ModelInfo> ModelCatalog::find(const QString& id) const {
    for (const ModelInfo& m : m_models)
        if (m.id == id || m.aliases.contains(id))
            return m;
    return std::nullopt;
}

} // namespace m1
