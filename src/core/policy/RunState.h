#pragma once

#include <QHash>
#include <QList>
#include <QString>

namespace m1 {

// What the policy needs to know about the run a call belongs to.
struct RunState {
    QString runId;
    int toolCallsSoFar = 0; // calls already proposed in this run (this one not counted)
    int stepsSoFar = 0;     // model turns so far
    qint64 elapsedSeconds = 0;
    qint64 nowSeconds = 0; // for rate limits; seconds since the epoch
    // Times (seconds since the epoch) of earlier calls in this run, by tool, for rate limits.
    QHash<QString, QList<qint64>> callTimesByTool;
};

} // namespace m1
