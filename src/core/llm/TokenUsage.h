#pragma once

#include <QJsonObject>

namespace m1 {

// Token counts of one API call as the API reported them. `known` stays false until a usage
// object arrived: missing usage means unknown, never free.
struct TokenUsage {
    bool known = false;
    bool final = false; // a message_delta usage (the running total at the end) was seen
    qint64 inputTokens = 0;
    qint64 outputTokens = 0;
    qint64 cacheCreationInputTokens = 0;
    qint64 cacheCreation5mInputTokens = 0;
    qint64 cacheCreation1hInputTokens = 0;
    qint64 cacheReadInputTokens = 0;
    QJsonObject raw; // the last usage object merged, for fields this struct does not name

    // Overwrites the counts present and non-null in `usage` (the API sends running totals).
    void merge(const QJsonObject& usage);
    QJsonObject toJson() const;
};

} // namespace m1
