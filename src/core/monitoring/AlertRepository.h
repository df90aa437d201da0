#pragma once

#include "model/Alert.h"
#include "util/Error.h"

#include <QCoreApplication>
#include <QHash>
#include <QList>
#include <QString>

#include <optional>

namespace m1 {

struct AlertFilter {
    bool openOnly = false;
    std::optional<Alert::Category> category;
    std::optional<Alert::Level> level; // exact level
    QString runId;
    int limit = 1000; // newest first
};

struct AlertCategoryStats {
    qint64 total = 0;
    qint64 open = 0;
    qint64 critical = 0;
    qint64 warning = 0;
    qint64 info = 0;
};

// Reads the audit store's `alerts` table on an existing store connection (AuditStore's, on the
// thread that opened it). Errors: "alert.query".
class AlertRepository {
    Q_DECLARE_TR_FUNCTIONS(AlertRepository)

public:
    explicit AlertRepository(QString connectionName) : m_connection(std::move(connectionName)) {}

    bool matches(const Alert& alert, const AlertFilter& filter) const;
    Result<QList<Alert>> list(const AlertFilter& filter) const;
    Result<std::optional<Alert>> find(const QString& alertId) const;
    Result<QHash<Alert::Category, AlertCategoryStats>> statistics() const;

private:
    QString m_connection;
};

} // namespace m1
