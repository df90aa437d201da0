#pragma once

#include "util/Error.h"

#include <QCoreApplication>
#include <QDate>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace m1 {

struct ModelInfo {
    QString id;
    QStringList aliases; // dated ids that mean the same model
    QString displayName;
    qint64 contextWindow = 0;
    qint64 maxOutput = 0;
    QString status; // current, available, legacy, deprecated
    QDate endOfLife;
};

// The models offered to the user: the shipped list (:/m1/models.json) overridden and extended
// by the user's <AppConfigLocation>/models.json, so a new model needs no new build.
class ModelCatalog {
    Q_DECLARE_TR_FUNCTIONS(ModelCatalog)
public:
    // Shipped list + user file (a missing user file is fine; a malformed one is an error
    // "models.invalid" naming the file).
    static Result<ModelCatalog> load();
    static Result<ModelCatalog> builtin();
    static Result<ModelCatalog> parse(const QByteArray& json, const QString& source);
    static QString userFilePath();

    // Entries of `other` replace those with the same id; new ids are appended.
    void merge(const ModelCatalog& other);

    const QList<ModelInfo>& models() const { return m_models; }
    // By id or alias.
    std::optional<ModelInfo> find(const QString& id) const;
    QString defaultModel() const { return m_default; }

private:
    QList<ModelInfo> m_models;
    QString m_default;
};

} // namespace m1
