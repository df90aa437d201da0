// FUZZ-07: PolicyRules::parse over arbitrary bytes. Oracles: no crash; what parses serialises and
// parses again to the same rules; and no rule set, whatever it allows, lets through a call that
// matches one of its deny rules (a fixed deny rule is added to every parsed set).
#include "policy/PolicyEngine.h"
#include "policy/PolicyRules.h"
#include "tools/ToolRegistry.h"
#include "tools/Workspace.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>

#include <cstdint>
#include <cstdlib>
#include <optional>

namespace {

std::optional<QTemporaryDir> g_dir;
std::optional<m1::Workspace> g_workspace;
std::optional<m1::ToolRegistry> g_registry;
std::optional<m1::PolicyRules> g_denyRm;

QStringList texts(const m1::PolicyRules& rules) {
    QStringList out;
    for (const m1::PolicyRule& rule : rules.rules())
        out.append(QString::number(static_cast<int>(rule.list)) + rule.text);
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (!g_workspace) {
        g_dir.emplace();
        g_workspace.emplace(*m1::Workspace::open(g_dir->path()));
        g_registry.emplace(m1::ToolRegistry::withBuiltins());
        g_denyRm.emplace(*m1::PolicyRules::parse(
            "{\"allow\":[],\"ask\":[],\"deny\":[\"run_command(rm -rf *)\"]}",
            QStringLiteral("fixed")));
    }
    const QByteArray input(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    const auto rules = m1::PolicyRules::parse(input, QStringLiteral("fuzz.json"));
    if (!rules)
        return 0;
    const auto again = m1::PolicyRules::parse(rules->toJson(), QStringLiteral("again.json"));
    if (!again || texts(*again) != texts(*rules))
        std::abort();

    m1::PolicyRules combined = *rules;
    combined.append(*g_denyRm);
    const m1::PolicyEngine engine(*g_registry, *g_workspace, m1::PolicyConfig(), combined);
    m1::RunState state;
    for (const char* argv : {"[\"rm\",\"-rf\",\"x\"]", "[\"/bin/rm\",\"-fr\",\"x\"]",
                             "[\"sh\",\"-c\",\"ls; rm -r -f x\"]"}) {
        const QJsonObject args{
            {QStringLiteral("argv"), QJsonDocument::fromJson(QByteArray(argv)).array()}};
        const m1::ToolCall call{QStringLiteral("t"), QString(), QStringLiteral("run_command"),
                                args};
        if (engine.evaluate(call, state).isAllow())
            std::abort();
    }
    return 0;
}
