// FUZZ-08: the policy's view of an argv. Input: argv elements separated by NUL bytes. Rules allow
// only `git status*` and `ls*`. Oracles: no crash; an allowed argv matches one of those
// globs with a bare program name (no wrapper, shell or path-qualified program is ever
// auto-approved); and repeating a
// flag does not turn a refusal into an approval.
#include "policy/PolicyEngine.h"
#include "policy/PolicyRules.h"
#include "tools/ToolRegistry.h"
#include "tools/Workspace.h"

#include <QJsonArray>
#include <QTemporaryDir>

#include <cstdint>
#include <cstdlib>
#include <optional>

namespace {

std::optional<QTemporaryDir> g_dir;
std::optional<m1::Workspace> g_workspace;
std::optional<m1::ToolRegistry> g_registry;
std::optional<m1::PolicyEngine> g_engine;

m1::PolicyDecision evaluate(const QStringList& argv) {
    const m1::ToolCall call{
        QStringLiteral("t"), QString(), QStringLiteral("run_command"),
        QJsonObject{{QStringLiteral("argv"), QJsonArray::fromStringList(argv)}}};
    return g_engine->evaluate(call, m1::RunState());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (!g_engine) {
        g_dir.emplace();
        g_workspace.emplace(*m1::Workspace::open(g_dir->path()));
        g_registry.emplace(m1::ToolRegistry::withBuiltins());
        g_engine.emplace(*g_registry, *g_workspace, m1::PolicyConfig(),
                         *m1::PolicyRules::parse(
                             "{\"allow\":[\"run_command(git status*)\",\"run_command(ls*)\"]}",
                             QStringLiteral("fixed")));
    }
    const QByteArray input(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    QStringList argv;
    for (const QByteArray& part : input.split('\0'))
        argv.append(QString::fromUtf8(part));
    if (argv.size() > 64)
        return 0;
    const m1::PolicyDecision decision = evaluate(argv);
    if (decision.isAllow()) {
        // Rules match the argv joined by spaces as a glob, so `ls*` also covers `lsblk`; what
        // must never pass is a path-qualified program, a wrapper or a shell.
        const QString program = argv.value(0);
        static const QStringList kRunsOthers{QStringLiteral("sh"), QStringLiteral("bash"),
                                             QStringLiteral("env"), QStringLiteral("sudo"),
                                             QStringLiteral("xargs")};
        const bool literal =
            program.startsWith(QLatin1String("ls")) ||
            (program == QLatin1String("git") && argv.value(1).startsWith(QLatin1String("status")));
        if (!literal || program.contains(QLatin1Char('/')) || kRunsOthers.contains(program))
            std::abort();
    } else {
        for (int i = 1; i < argv.size(); ++i) {
            if (!argv[i].startsWith(QLatin1Char('-')))
                continue;
            QStringList repeated = argv;
            repeated.insert(i, argv[i]);
            if (evaluate(repeated).isAllow())
                std::abort();
        }
    }
    return 0;
}
