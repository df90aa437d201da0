#pragma once

#include "run/AgentProfile.h"

#include <QString>

namespace m1 {

// What the goal editor asks for: one run's goal, agent, model, workspace, limits and provider.
struct RunRequest {
    QString goal;
    QString agent;
    QString model;     // empty: the profile's or the catalogue's default
    QString workspace; // empty with the replay provider: the demo workspace
    RunLimits limits;
    bool dryRun = false;
    QString provider;   // "claude", "replay"; empty: claude when a key exists, else replay
    QString transcript; // replay: the recorded transcript (empty: the built-in demo)
    int replayPaceMs = 30;
};

} // namespace m1
