#pragma once

#include <QString>

#include <optional>
#include <utility>
#include <vector>

namespace m1 {

// Where the words of a command would land, for rule matching only (the command itself is not
// confined): symlinks in the path or as the final component are followed, a missing final
// component is taken literally under its canonical parent (SBX-18).
//
// One resolver serves one PolicyEngine::evaluate() call. It trusts the working folder that was
// canonicalised a moment before in the same call and remembers what it saw of the file system,
// which may change afterwards: never keep one across calls.
class ArgumentResolver {
public:
    struct Path {
        QString absolute; // canonical
        bool exists = false;
        bool isDirectory = false;
        friend bool operator==(const Path&, const Path&) = default;
    };

    // cwd: canonical, from Workspace::resolve in the same evaluate() call, or the workspace root.
    // cwdIsFolder: that call also showed it is a folder (realpath(3) of "cwd/." succeeds only for
    // a folder), which saves looking again. cwdFd: an O_PATH descriptor of that folder
    // (Workspace::resolveFolder, or Workspace::rootDescriptor for the root) or -1; names below
    // the working folder are then looked up from it instead of from "/" (fewer components for
    // the kernel to walk, and the folder that was checked). The descriptor stays the caller's.
    explicit ArgumentResolver(QString cwd, bool cwdIsFolder = false, int cwdFd = -1)
        : m_cwd(std::move(cwd)), m_cwdFd(cwdFd) {
        m_seen.reserve(8); // the working folder and a few words' components
        if (cwdIsFolder)
            m_seen.emplace_back(m_cwd, Kind::Folder);
    }

    // Nothing when the word cannot name a path (ENOTDIR, a missing folder on the way, ELOOP, ...).
    std::optional<Path> resolve(const QString& word);

    // The reference answer for an absolute path, with realpath(3); resolve() gives the same.
    static std::optional<Path> resolveWithRealpath(const QString& absolute);

    // How many words went to resolveWithRealpath (for tests: the shortcut must be taken).
    int realpathCalls() const { return m_realpathCalls; }

private:
    enum class Kind { Missing, Folder, Other, Unusual };

    Kind kindOf(const QString& path);
    bool walk(const QString& word, std::optional<Path>& result);

    QString m_cwd;
    int m_cwdFd = -1;
    std::vector<std::pair<QString, Kind>> m_seen;
    int m_realpathCalls = 0;
};

} // namespace m1
