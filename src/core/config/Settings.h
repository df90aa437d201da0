#pragma once

#include "config/MonitoringSettings.h"
#include "policy/PolicyConfig.h"
#include "util/Error.h"

#include <QCoreApplication>
#include <QString>

namespace m1 {

// Typed settings: defaults, overridden by the user's settings file
// (<AppConfigLocation>/settings.json, or the file M1_SETTINGS names), overridden by environment
// variables. Never read from the workspace: a repository cannot change what protects it.
//
// File format (every key optional):
//   {"approvals": {"read": false, "write": true, "execute": true},
//    "limits": {"maxToolCalls": 50, "maxSteps": 100, "maxRuntimeSeconds": 300},
//    "rateLimits": {"run_command": {"maxCalls": 20, "perSeconds": 60}},
//    "tokens": {"ttlSeconds": 300},
//    "policyFile": "/home/me/.config/m1-agent-control/policy.json",
//    "claude": {"baseUrl": "https://api.anthropic.com"},
//    "monitoring": {...}}   (see MonitoringSettings)
// A malformed file is refused whole ("settings.invalid"), naming the key and the reason.
class Settings {
    Q_DECLARE_TR_FUNCTIONS(Settings)
public:
    PolicyConfig policy;
    qint64 tokenTtlSeconds = 300;
    QString policyFile; // the user's rules file; "" = <AppConfigLocation>/policy.json
    MonitoringSettings monitoring;
    // The Claude API's address from the file ("" = https://api.anthropic.com). https, or plain
    // http only to a loopback address (a local proxy or test server).
    QString claudeBaseUrl;

    // The settings file in use: M1_SETTINGS if set, else <AppConfigLocation>/settings.json.
    static QString defaultFilePath();
    // Defaults + the file + environment. A missing default file is fine (the defaults apply); a
    // file M1_SETTINGS names must exist ("config.missing" otherwise).
    static Result<Settings> load();
    static Result<Settings> loadFile(const QString& path);
    static Result<Settings> parse(const QByteArray& json, const QString& fileName);

    // The rules file in use: policyFile, else <AppConfigLocation>/policy.json.
    QString effectivePolicyFile() const;
    // The API address in use: ANTHROPIC_BASE_URL when set, else claudeBaseUrl, else "" (the
    // provider's default). The caller still checks it (ClaudeProvider::checkBaseUrl).
    QString effectiveBaseUrl() const;
};

} // namespace m1
