#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QString>

// Blocks and turns of a replay transcript (the offline provider's JSON, resources/transcripts/).
namespace m1::test::replay {

QJsonObject toolUse(const QString& id, const QString& name, const QJsonObject& input);
QJsonObject text(const QString& text);
// A model turn with usage 1000 in, 50 out.
QJsonObject turn(const QJsonArray& content, const QString& stopReason);

} // namespace m1::test::replay
