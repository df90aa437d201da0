#pragma once

#include <QJsonObject>
#include <QString>

#include <optional>

namespace m1 {

// Something a person should know about: raised by the monitoring code, stored in the audit
// store's `alerts` table (through alert.raised / alert.resolved events), shown by the GUI and
// `m1ctl alerts`.
struct Alert {
    // Stable names (stored, filtered on, shown): see categoryName().
    enum class Category {
        PolicyViolation,
        ExecutionError,
        HighErrorRate,
        ApprovalDenied,
        TokenExpired,
        CostThreshold,
        Performance,
    };
    enum class Level { Info, Warning, Critical };

    QString id; // a UUID without braces
    Category category = Category::ExecutionError;
    Level level = Level::Warning;
    QString message;
    QString runId; // empty when not about one run
    QJsonObject details;
    qint64 raisedAt = 0; // ms since the epoch, UTC
    std::optional<qint64> resolvedAt;
    QString resolutionNote;

    bool isOpen() const { return !resolvedAt.has_value(); }
    QJsonObject toJson() const;

    static QString categoryName(Category category);
    static std::optional<Category> categoryFromName(const QString& name);
    static QString levelName(Level level);
    static std::optional<Level> levelFromName(const QString& name);
    static const QList<Category>& allCategories();
};

} // namespace m1
