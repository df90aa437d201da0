#pragma once

#include "tools/FileDescriptor.h"
#include "tools/Workspace.h"
#include "util/Error.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QList>
#include <QString>

#include <utility>

namespace m1 {

// File access below a workspace that never follows a symlink, not even one created after
// Workspace::resolve() checked the path (TOCTOU). Every path is opened component by component
// from the workspace root with openat(O_NOFOLLOW), so a folder or file swapped for a link between
// the check and the use makes the operation fail instead of leaving the workspace. Paths given
// here must come from Workspace::resolve() (canonical, inside the root).
//
// Error codes: "path.outside_workspace" (a link appeared), "path.not_found", "file.not_regular",
// "file.not_folder", "file.hard_link", "file.io".
class SafeFile {
    Q_DECLARE_TR_FUNCTIONS(SafeFile)

public:
    struct ReadResult {
        QByteArray data;     // at most maxBytes
        qint64 fileSize = 0; // the size of the whole file
        bool truncated = false;
        qint64 linkCount = 1; // hard links to the inode (st_nlink)
    };

    // A hard link is a second name for the same inode, and O_NOFOLLOW cannot see it: a link
    // planted inside the workspace may name a file outside (~/.aws/credentials on the same
    // filesystem). Which name is "the" original cannot be known, so by default a regular file
    // with more than one link is refused ("file.hard_link") before a byte is read.
    enum class HardLinks { Refuse, Allow };

    // Reads at most maxBytes from the start of a regular file. FIFOs and devices are refused
    // without blocking.
    static Result<ReadResult> read(const Workspace& workspace, const QString& resolvedPath,
                                   qint64 maxBytes, HardLinks hardLinks = HardLinks::Refuse);

    // Replaces or creates a regular file atomically: a temporary file in the same folder, fsync,
    // then rename over the target (rename replaces a link rather than following it). Missing
    // parent folders are created. `created` is set when the file did not exist before.
    static Status writeAtomically(const Workspace& workspace, const QString& resolvedPath,
                                  const QByteArray& content, bool* created = nullptr);

    // Opens a folder inside the workspace for reading (fdopendir), without following links.
    static Result<FileDescriptor> openFolder(const Workspace& workspace,
                                             const QString& resolvedPath);

    // Opens `name` below an open folder without following a link; for walking a tree.
    static Result<FileDescriptor> openFolderAt(int folderFd, const QByteArray& name);
    static Result<ReadResult> readAt(int folderFd, const QByteArray& name, qint64 maxBytes,
                                     HardLinks hardLinks = HardLinks::Refuse);

    struct Entry {
        enum class Type { File, Folder, Link, Other };
        QByteArray name;
        Type type = Type::Other;
        qint64 size = 0;
    };
    // The entries of an open folder (without "." and ".."), sorted by name; links are reported
    // as links, never followed.
    static Result<QList<Entry>> entries(int folderFd);
};

} // namespace m1
