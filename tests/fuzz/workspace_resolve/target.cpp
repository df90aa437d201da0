// FUZZ-06: Workspace::resolve over arbitrary relative paths in a fixed workspace that holds
// symlinks leading in, out, in chains and in a loop. Oracles: every accepted path lies inside the
// root after resolving symlinks; the openat2(2) way and the walk give the same answer (the same
// path, or the same refusal with the same reason); the harness itself never opens anything.
#include "tools/Workspace.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>

#include <cstdint>
#include <cstdlib>
#include <optional>

#include <unistd.h>

namespace {

std::optional<QTemporaryDir> g_dir;
std::optional<m1::Workspace> g_workspace;

bool inside(const QString& path, const QString& root) {
    return path == root || path.startsWith(root + QLatin1Char('/'));
}

void setUp() {
    g_dir.emplace();
    const QString base = g_dir->path();
    const QString ws = base + QStringLiteral("/ws");
    QDir().mkpath(ws + QStringLiteral("/src/sub"));
    QDir().mkpath(base + QStringLiteral("/outside"));
    QFile(ws + QStringLiteral("/src/a.txt")).open(QIODevice::WriteOnly);
    QFile(base + QStringLiteral("/outside/secret")).open(QIODevice::WriteOnly);
    const auto link = [](const QString& target, const QString& at) {
        (void)::symlink(target.toLocal8Bit().constData(), at.toLocal8Bit().constData());
    };
    link(base + QStringLiteral("/outside"), ws + QStringLiteral("/out"));
    link(QStringLiteral("../outside/secret"), ws + QStringLiteral("/rel"));
    link(QStringLiteral("src"), ws + QStringLiteral("/in"));
    link(QStringLiteral("loop2"), ws + QStringLiteral("/loop1"));
    link(QStringLiteral("loop1"), ws + QStringLiteral("/loop2"));
    link(QStringLiteral("c2"), ws + QStringLiteral("/c1"));
    link(QStringLiteral("c3"), ws + QStringLiteral("/c2"));
    link(base + QStringLiteral("/outside/new"), ws + QStringLiteral("/dangling"));
    link(QStringLiteral("/etc/passwd"), ws + QStringLiteral("/c3"));
    g_workspace.emplace(*m1::Workspace::open(ws));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (!g_workspace)
        setUp();
    const QString root = g_workspace->root();
    const QString path =
        QString::fromUtf8(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    for (const auto access : {m1::Workspace::Access::Read, m1::Workspace::Access::Write}) {
        const auto resolved = g_workspace->resolve(path, access);
        m1::Workspace::setFastPathEnabled(false);
        const auto walked = g_workspace->resolve(path, access);
        m1::Workspace::setFastPathEnabled(true);
        if (resolved.has_value() != walked.has_value())
            std::abort();
        if (resolved ? *resolved != *walked
                     : resolved.error().code != walked.error().code ||
                           resolved.error().message != walked.error().message)
            std::abort();
        if (!resolved)
            continue;
        if (!inside(*resolved, root))
            std::abort();
        // Whatever exists of the path must resolve inside too.
        QString probe = *resolved;
        while (!QFileInfo::exists(probe) && probe != root)
            probe = QFileInfo(probe).path();
        const QString canonical = QFileInfo(probe).canonicalFilePath();
        if (!canonical.isEmpty() && !inside(canonical, root))
            std::abort();
        if (access == m1::Workspace::Access::Write && QFileInfo(*resolved).isSymLink())
            std::abort(); // a write must never go through a final symlink
        (void)g_workspace->relative(*resolved);
    }
    return 0;
}
