#pragma once

#include "run/AgentProfile.h"
#include "util/Error.h"

#include <QCoreApplication>
#include <QList>

#include <optional>

namespace m1 {

// The agent profiles: the shipped ones (:/m1/agents.json) extended and overridden by the user's
// <AppConfigLocation>/agents.json (same format; entries replace shipped ones by name, fields
// left out keep the shipped values). Format:
//   {"schema": 1, "default": "orchestrator",
//    "agents": [{"name": "...", "description": "...", "model": "...", "system_prompt": "...",
//                "tools": ["read_file", ...], "max_tokens": 8192, "context_share": 0.75,
//                "limits": {"max_steps": 100, "max_tool_calls": 50,
//                           "max_runtime_seconds": 300, "budget_usd": 1.0}}]}
// Errors: "agents.invalid" naming the file and the entry.
class AgentProfiles {
    Q_DECLARE_TR_FUNCTIONS(AgentProfiles)
public:
    static Result<AgentProfiles> load(); // shipped + user file (a missing user file is fine)
    static Result<AgentProfiles> builtin();
    // `base` supplies the values an entry leaves out (by name).
    static Result<AgentProfiles> parse(const QByteArray& json, const QString& source,
                                       const AgentProfiles* base = nullptr);
    static QString userFilePath();

    void merge(const AgentProfiles& other);
    std::optional<AgentProfile> find(const QString& name) const;
    const QList<AgentProfile>& profiles() const { return m_profiles; }
    QString defaultName() const { return m_default; }

private:
    QList<AgentProfile> m_profiles;
    QString m_default = QStringLiteral("orchestrator");
};

} // namespace m1
