#include "model/Alert.h"

#include <QList>

namespace m1 {

const QList<Alert::Category>& Alert::allCategories() {
    static const QList<Category> all{Category::PolicyViolation, Category::ExecutionError,
                                     Category::HighErrorRate,   Category::ApprovalDenied,
                                     Category::TokenExpired,    Category::CostThreshold,
                                     Category::Performance};
    return all;
}

QString Alert::categoryName(Category category) {
    switch (category) {
    case Category::PolicyViolation:
        return QStringLiteral("policy_violation");
    case Category::ExecutionError:
        return QStringLiteral("execution_error");
    case Category::HighErrorRate:
        return QStringLiteral("high_error_rate");
    case Category::ApprovalDenied:
        return QStringLiteral("approval_denied");
    case Category::TokenExpired:
        return QStringLiteral("token_expired");
    case Category::CostThreshold:
        return QStringLiteral("cost_threshold");
    case Category::Performance:
        return QStringLiteral("performance");
    }
    return {};
}

std::optional<Alert::Category> Alert::categoryFromName(const QString& name) {
    for (const Category c : allCategories())
        if (categoryName(c) == name)
            return c;
    return std::nullopt;
}

QString Alert::levelName(Level level) {
    switch (level) {
    case Level::Info:
        return QStringLiteral("info");
    case Level::Warning:
        return QStringLiteral("warning");
    case Level::Critical:
        return QStringLiteral("critical");
    }
    return {};
}

std::optional<Alert::Level> Alert::levelFromName(const QString& name) {
    for (const Level l : {Level::Info, Level::Warning, Level::Critical})
        if (levelName(l) == name)
            return l;
    return std::nullopt;
}

QJsonObject Alert::toJson() const {
    QJsonObject o{{QStringLiteral("id"), id},
                  {QStringLiteral("category"), categoryName(category)},
                  {QStringLiteral("level"), levelName(level)},
                  {QStringLiteral("message"), message},
                  {QStringLiteral("raised_at"), raisedAt},
                  {QStringLiteral("open"), isOpen()}};
    if (!runId.isEmpty())
        o.insert(QStringLiteral("run_id"), runId);
    if (!details.isEmpty())
        o.insert(QStringLiteral("details"), details);
    if (resolvedAt) {
        o.insert(QStringLiteral("resolved_at"), *resolvedAt);
        o.insert(QStringLiteral("resolution_note"), resolutionNote);
    }
    return o;
}

} // namespace m1
