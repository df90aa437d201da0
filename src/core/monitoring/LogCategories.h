#pragma once

#include <QLoggingCategory>

// The program's logging categories, all declared here so that rules ("m1.net.debug=true") and
// the JSON log name the same things everywhere.
Q_DECLARE_LOGGING_CATEGORY(lcRun)        // m1.run: the run loop and its state changes
Q_DECLARE_LOGGING_CATEGORY(lcPolicy)     // m1.policy: policy decisions
Q_DECLARE_LOGGING_CATEGORY(lcNet)        // m1.net: model API traffic (never headers or bodies)
Q_DECLARE_LOGGING_CATEGORY(lcStore)      // m1.store: the audit store
Q_DECLARE_LOGGING_CATEGORY(lcTools)      // m1.tools: tool execution
Q_DECLARE_LOGGING_CATEGORY(lcTokens)     // m1.tokens: approval tokens (jti only)
Q_DECLARE_LOGGING_CATEGORY(lcMonitoring) // m1.monitoring: metrics, alerts, costs
Q_DECLARE_LOGGING_CATEGORY(lcConfig)     // m1.config: settings and secrets (never values)
Q_DECLARE_LOGGING_CATEGORY(lcUi)         // m1.ui: the desktop application
Q_DECLARE_LOGGING_CATEGORY(lcCli)        // m1.cli: m1ctl
