#include "tools/SafeFile.h"

#include "util/OpenDatabaseFiles.h"

#include <QFile>
#include <QRandomGenerator>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace m1 {

namespace {

QString errnoText(int error) {
    return QString::fromLocal8Bit(std::strerror(error));
}

int retryOpenAt(int folderFd, const char* name, int flags, mode_t mode = 0) {
    int fd;
    do {
        fd = ::openat(folderFd, name, flags | O_CLOEXEC, mode);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

// The folder holding `resolvedPath`, reached from the root without following any link, and the
// final name. With `create`, missing folders are made on the way.
struct ParentFolder {
    FileDescriptor fd;
    QByteArray name;
};

std::unexpected<Error> auditDatabaseRefusal(const QByteArray& name) {
    return fail(QStringLiteral("file.audit_database"),
                SafeFile::tr("\"%1\" is the audit database this program is recording into (or "
                             "one of its files); tools neither open nor replace it. Read the "
                             "audit trail with m1ctl history or in the History view.")
                    .arg(QFile::decodeName(name)));
}

} // namespace

Result<FileDescriptor> SafeFile::openFolderAt(int folderFd, const QByteArray& name) {
    const int fd = retryOpenAt(folderFd, name.constData(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (fd >= 0)
        return FileDescriptor(fd);
    const int error = errno;
    if (error == ELOOP)
        return fail(
            QStringLiteral("path.outside_workspace"),
            tr("\"%1\" is a symbolic link; it is not followed.").arg(QFile::decodeName(name)));
    if (error == ENOTDIR) {
        struct stat info {};
        if (::fstatat(folderFd, name.constData(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(info.st_mode))
            return fail(
                QStringLiteral("path.outside_workspace"),
                tr("\"%1\" is a symbolic link; it is not followed.").arg(QFile::decodeName(name)));
        return fail(QStringLiteral("file.not_folder"),
                    tr("\"%1\" is not a folder.").arg(QFile::decodeName(name)));
    }
    if (error == ENOENT)
        return fail(QStringLiteral("path.not_found"),
                    tr("\"%1\" does not exist.").arg(QFile::decodeName(name)));
    return fail(QStringLiteral("file.io"),
                tr("\"%1\" cannot be opened: %2.").arg(QFile::decodeName(name), errnoText(error)));
}

namespace {

Result<ParentFolder> openParent(const Workspace& workspace, const QString& resolvedPath,
                                bool create) {
    if (!workspace.contains(resolvedPath) || resolvedPath == workspace.root())
        return fail(
            QStringLiteral("path.invalid"),
            SafeFile::tr("\"%1\" does not name a file inside the workspace.").arg(resolvedPath));
    QStringList components = workspace.relative(resolvedPath).split(QLatin1Char('/'));
    const QByteArray name = QFile::encodeName(components.takeLast());
    const int rootFd = retryOpenAt(AT_FDCWD, QFile::encodeName(workspace.root()).constData(),
                                   O_RDONLY | O_DIRECTORY);
    if (rootFd < 0)
        return fail(QStringLiteral("file.io"),
                    SafeFile::tr("The workspace %1 cannot be opened: %2.")
                        .arg(workspace.root(), errnoText(errno)));
    FileDescriptor current(rootFd);
    for (const QString& component : std::as_const(components)) {
        const QByteArray encoded = QFile::encodeName(component);
        if (create && ::mkdirat(current.get(), encoded.constData(), 0777) != 0 && errno != EEXIST)
            return fail(QStringLiteral("file.io"),
                        SafeFile::tr("The folder \"%1\" cannot be created: %2.")
                            .arg(component, errnoText(errno)));
        auto next = SafeFile::openFolderAt(current.get(), encoded);
        if (!next)
            return std::unexpected(next.error());
        current = std::move(*next);
    }
    return ParentFolder{std::move(current), name};
}

} // namespace

Result<SafeFile::ReadResult> SafeFile::readAt(int folderFd, const QByteArray& name, qint64 maxBytes,
                                              HardLinks hardLinks) {
    // Not even opened: closing a descriptor of the audit database would drop the locks of this
    // process's connections to it (see OpenDatabaseFiles).
    if (OpenDatabaseFiles::isDatabaseOrCompanion(folderFd, name))
        return auditDatabaseRefusal(name);
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    const int fd =
        retryOpenAt(folderFd, name.constData(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        const int error = errno;
        if (error == ELOOP)
            return fail(
                QStringLiteral("path.outside_workspace"),
                tr("\"%1\" is a symbolic link; it is not followed.").arg(QFile::decodeName(name)));
        if (error == ENOENT)
            return fail(QStringLiteral("path.not_found"),
                        tr("\"%1\" does not exist.").arg(QFile::decodeName(name)));
        return fail(
            QStringLiteral("file.io"),
            tr("\"%1\" cannot be opened: %2.").arg(QFile::decodeName(name), errnoText(error)));
    }
    FileDescriptor file(fd);
    struct stat info {};
    if (::fstat(file.get(), &info) != 0)
        return fail(
            QStringLiteral("file.io"),
            tr("\"%1\" cannot be read: %2.").arg(QFile::decodeName(name), errnoText(errno)));
    if (S_ISDIR(info.st_mode))
        return fail(QStringLiteral("file.not_regular"),
                    tr("\"%1\" is a folder, not a file.").arg(QFile::decodeName(name)));
    if (!S_ISREG(info.st_mode))
        return fail(QStringLiteral("file.not_regular"),
                    tr("\"%1\" is not a regular file (device, pipe or socket).")
                        .arg(QFile::decodeName(name)));
    if (info.st_nlink > 1 && hardLinks == HardLinks::Refuse)
        return fail(QStringLiteral("file.hard_link"),
                    tr("\"%1\" has %2 hard links; one of them may lie outside the workspace, so "
                       "it is not read.")
                        .arg(QFile::decodeName(name))
                        .arg(static_cast<qint64>(info.st_nlink)));
    ::fcntl(file.get(), F_SETFL, ::fcntl(file.get(), F_GETFL) & ~O_NONBLOCK);

    ReadResult result;
    result.fileSize = info.st_size;
    result.linkCount = static_cast<qint64>(info.st_nlink);
    const qint64 wanted = std::min<qint64>(maxBytes, info.st_size);
    result.data.resize(wanted);
    qint64 done = 0;
    while (done < wanted) {
        const ssize_t count = ::read(file.get(), result.data.data() + done, wanted - done);
        if (count < 0 && errno == EINTR)
            continue;
        if (count < 0)
            return fail(
                QStringLiteral("file.io"),
                tr("\"%1\" cannot be read: %2.").arg(QFile::decodeName(name), errnoText(errno)));
        if (count == 0)
            break;
        done += count;
    }
    result.data.resize(done);
    result.truncated = info.st_size > done;
    return result;
}

Result<SafeFile::ReadResult> SafeFile::read(const Workspace& workspace, const QString& resolvedPath,
                                            qint64 maxBytes, HardLinks hardLinks) {
    if (resolvedPath == workspace.root())
        return fail(QStringLiteral("file.not_regular"),
                    tr("The workspace root is a folder, not a file."));
    auto parent = openParent(workspace, resolvedPath, false);
    if (!parent)
        return std::unexpected(parent.error());
    return readAt(parent->fd.get(), parent->name, maxBytes, hardLinks);
}

Result<FileDescriptor> SafeFile::openFolder(const Workspace& workspace,
                                            const QString& resolvedPath) {
    if (resolvedPath == workspace.root()) {
        const int fd = retryOpenAt(AT_FDCWD, QFile::encodeName(workspace.root()).constData(),
                                   O_RDONLY | O_DIRECTORY);
        if (fd < 0)
            return fail(QStringLiteral("file.io"), tr("The workspace %1 cannot be opened: %2.")
                                                       .arg(workspace.root(), errnoText(errno)));
        return FileDescriptor(fd);
    }
    auto parent = openParent(workspace, resolvedPath, false);
    if (!parent)
        return std::unexpected(parent.error());
    return openFolderAt(parent->fd.get(), parent->name);
}

Status SafeFile::writeAtomically(const Workspace& workspace, const QString& resolvedPath,
                                 const QByteArray& content, bool* created) {
    auto parent = openParent(workspace, resolvedPath, true);
    if (!parent)
        return std::unexpected(parent.error());
    const int folder = parent->fd.get();
    const QString shownName = workspace.relative(resolvedPath);

    mode_t mode = 0666;
    struct stat existing {};
    const bool exists =
        ::fstatat(folder, parent->name.constData(), &existing, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && S_ISLNK(existing.st_mode))
        return fail(
            QStringLiteral("path.outside_workspace"),
            tr("\"%1\" is a symbolic link; writes never go through a link.").arg(shownName));
    if (exists && !S_ISREG(existing.st_mode))
        return fail(QStringLiteral("file.not_regular"),
                    tr("\"%1\" exists and is not a regular file.").arg(shownName));
    // Replacing the audit database (or its WAL) under the connections writing it would lose or
    // corrupt the trail.
    if (OpenDatabaseFiles::isDatabaseOrCompanion(folder, parent->name))
        return auditDatabaseRefusal(parent->name);
    if (exists)
        mode = existing.st_mode & 07777;
    if (created)
        *created = !exists;

    const QByteArray temporary = QByteArrayLiteral(".") + parent->name.left(100) +
                                 QByteArrayLiteral(".m1tmp-") +
                                 QByteArray::number(QRandomGenerator::global()->generate64(), 16);
    const int fd =
        retryOpenAt(folder, temporary.constData(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
    if (fd < 0)
        return fail(QStringLiteral("file.io"),
                    tr("\"%1\" cannot be written: %2.").arg(shownName, errnoText(errno)));
    FileDescriptor file(fd);
    const auto abandon = [&](int error) {
        ::unlinkat(folder, temporary.constData(), 0);
        return fail(QStringLiteral("file.io"),
                    tr("\"%1\" cannot be written: %2.").arg(shownName, errnoText(error)));
    };
    if (exists && ::fchmod(file.get(), mode) != 0)
        return abandon(errno);
    qint64 done = 0;
    while (done < content.size()) {
        const ssize_t count =
            ::write(file.get(), content.constData() + done, content.size() - done);
        if (count < 0 && errno == EINTR)
            continue;
        if (count < 0)
            return abandon(errno);
        done += count;
    }
    if (::fsync(file.get()) != 0)
        return abandon(errno);
    file = FileDescriptor();
    if (::renameat(folder, temporary.constData(), folder, parent->name.constData()) != 0)
        return abandon(errno);
    return {};
}

Result<QList<SafeFile::Entry>> SafeFile::entries(int folderFd) {
    // fdopendir owns the descriptor it gets, so it gets a duplicate.
    const int copy = ::fcntl(folderFd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0)
        return fail(QStringLiteral("file.io"),
                    tr("A folder cannot be listed: %1.").arg(errnoText(errno)));
    DIR* folder = ::fdopendir(copy);
    if (!folder) {
        ::close(copy);
        return fail(QStringLiteral("file.io"),
                    tr("A folder cannot be listed: %1.").arg(errnoText(errno)));
    }
    ::rewinddir(folder);
    QList<Entry> result;
    while (const dirent* item = ::readdir(folder)) {
        const QByteArray name(item->d_name);
        if (name == "." || name == "..")
            continue;
        Entry entry{name, Entry::Type::Other, 0};
        struct stat info {};
        if (::fstatat(folderFd, item->d_name, &info, AT_SYMLINK_NOFOLLOW) == 0) {
            if (S_ISLNK(info.st_mode))
                entry.type = Entry::Type::Link;
            else if (S_ISDIR(info.st_mode))
                entry.type = Entry::Type::Folder;
            else if (S_ISREG(info.st_mode))
                entry.type = Entry::Type::File;
            entry.size = info.st_size;
        }
        result.append(entry);
    }
    ::closedir(folder);
    std::sort(result.begin(), result.end(),
              [](const Entry& a, const Entry& b) { return a.name < b.name; });
    return result;
}

} // namespace m1
