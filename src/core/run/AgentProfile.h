#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace m1 {

// Limits of one run. 0 means "no limit" only where noted.
struct RunLimits {
    int maxSteps = 100;    // model turns
    int maxToolCalls = 50; // proposals
    int maxRuntimeSeconds = 300;
    double budgetUsd = 0; // cost limit per run from live usage; 0: none
};

// Who the agent is: model, instructions, which registered tools it may be offered, limits.
struct AgentProfile {
    QString name;
    QString description;
    QString model; // empty: the catalogue's default model
    QString systemPrompt;
    QStringList tools; // a subset of the registry; empty: every enabled tool
    RunLimits limits;
    int maxTokens = 8192;
    double contextShare = 0.75; // keep the conversation under this share of the context window

    QJsonObject toJson() const;
};

} // namespace m1
