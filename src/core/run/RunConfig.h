#pragma once

#include "run/AgentProfile.h"

#include <QJsonObject>
#include <QString>

namespace m1 {

// Everything one run is asked to do and within which bounds; filled from the agent profile,
// the settings and the command line.
struct RunConfig {
    QString runId; // empty: a new UUID
    QString goal;
    AgentProfile agent;
    QString model;    // resolved model id (the profile's or --model)
    QString provider; // "claude" or "replay", for the record
    QString workspaceLabel;
    bool dryRun = false;
    RunLimits limits;
    int maxTokens = 8192;
    qint64 contextWindow = 200000; // from ModelCatalog
    double contextShare = 0.75;
    int maxToolResultChars = 30000;  // what one tool result may send to the model
    int approvalTimeoutMs = 600000;  // an undecided proposal expires after this
    int maxPauseTurns = 3;           // pause_turn resends per run
    QJsonObject constraints() const; // for the audit's run row
};

} // namespace m1
