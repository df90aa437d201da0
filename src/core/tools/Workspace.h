#pragma once

#include "tools/FileDescriptor.h"
#include "util/Error.h"

#include <QCoreApplication>
#include <QString>

#include <memory>
#include <optional>

namespace m1 {

// The one folder the agent's tools may touch. Every path a tool receives goes through resolve():
// relative paths are taken from the root, absolute paths must already lie inside it, and the
// result is canonical with every symlink resolved, so no `..`, absolute path or symlink (file or
// parent folder) leads outside. Error codes: "path.outside_workspace", "path.symlink_loop",
// "path.invalid", "path.not_found".
//
// There is no tilde expansion ("~" is an ordinary name) and on Linux a backslash is an ordinary
// character of a name, never a separator.
//
// resolve() is a check at one point in time: a symlink can appear between the check and the use.
// Tools therefore open what resolve() returned through SafeFile, which refuses to follow a symlink
// in the final component (O_NOFOLLOW) and verifies the opened descriptor still lies inside.
//
// How: a path without any symlink on the way is answered with one openat2(2) that refuses every
// symlink (RESOLVE_NO_SYMLINKS); when it succeeds, the path written is the canonical one and is
// spelled out lexically. Everything else (a symlink anywhere, a missing or odd component, an
// error, a kernel or seccomp filter without openat2) takes the walk with realpath(3) and lstat(2)
// that gives the precise answer and reason. Both ways give the same answers (tst_workspace runs
// its table both ways).
class Workspace {
    Q_DECLARE_TR_FUNCTIONS(Workspace)

public:
    enum class Access {
        Read,  // the path must exist
        Write, // the path may not exist yet; its existing parent chain must stay inside, and a
               // final component that is a symlink (dangling or not) is refused
    };

    // Canonicalises root (which must be an existing folder).
    static Result<Workspace> open(const QString& root);

    const QString& root() const { return m_root; }
    // An O_PATH descriptor of the root folder, opened by open() without following any symlink
    // and shared by all copies of this Workspace (closed when the last one goes). Names looked up
    // from it (fstatat, openat) stay in the folder that was opened even if the root path is later
    // renamed or replaced by a symlink; resolve() goes by the path and refuses then. The caller
    // must not close it.
    int rootDescriptor() const { return m_rootFolder->get(); }

    // Absolute canonical path inside the root.
    Result<QString> resolve(const QString& path, Access access) const;
    // The same as resolve(path, Access::Read). When the openat2(2) way answered and the path is
    // a folder, *folder also receives an O_PATH descriptor of it, for looking up names below it
    // without walking the whole path again; otherwise *folder is left invalid.
    Result<QString> resolveFolder(const QString& path, FileDescriptor* folder) const;

    // Path relative to the root with '/' separators ("." for the root itself), for rule matching
    // and display. The input must be a path returned by resolve().
    QString relative(const QString& resolvedPath) const;
    // The same, as a view into resolvedPath (or of a literal "."), without building a string.
    QStringView relativeView(const QString& resolvedPath) const;

    // True when an absolute canonical path is the root or lies below it (a plain string test:
    // pass only canonical paths).
    bool contains(const QString& canonicalPath) const;

    // For tests: false makes resolve() always take the walk, as on a kernel without openat2(2).
    // Process-wide; the default is true.
    static void setFastPathEnabled(bool enabled);
    // How many resolve() calls the openat2(2) way answered in this process (for tests: the fast
    // way must be taken where it applies).
    static quint64 fastPathAnswers();

private:
    Workspace(QString root, std::shared_ptr<const FileDescriptor> rootFolder)
        : m_root(std::move(root)), m_rootFolder(std::move(rootFolder)) {}
    Result<QString> resolveForRead(const QString& original, const QString& absolute,
                                   FileDescriptor* folder = nullptr) const;
    Result<QString> resolveForWrite(const QString& original, const QString& absolute) const;
    // The openat2(2) way; nothing means "take the walk" (never a refusal of its own).
    std::optional<QString> readWithoutLinks(const QString& absolute,
                                            FileDescriptor* folder = nullptr) const;
    std::optional<QString> writeWithoutLinks(const QString& parent, const QString& name) const;
    QString m_root;
    std::shared_ptr<const FileDescriptor> m_rootFolder; // never null, always valid
};

} // namespace m1
