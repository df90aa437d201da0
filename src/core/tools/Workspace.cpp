#include "tools/Workspace.h"

#include <QDir>
#include <QFile>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace m1 {

namespace {

const QString kOutside = QStringLiteral("path.outside_workspace");
const QString kLoop = QStringLiteral("path.symlink_loop");
const QString kInvalid = QStringLiteral("path.invalid");
const QString kNotFound = QStringLiteral("path.not_found");

// realpath(3) rather than QFileInfo::canonicalFilePath: we need errno to tell a loop (ELOOP)
// from a missing file, and it never hangs on a loop (the kernel limit on links applies).
std::expected<QString, int> realPath(const QString& path) {
    const QByteArray encoded = QFile::encodeName(path);
    char* resolved = ::realpath(encoded.constData(), nullptr);
    if (!resolved)
        return std::unexpected(errno);
    QString result = QFile::decodeName(resolved);
    std::free(resolved);
    return result;
}

bool isSymlink(const QString& path) {
    struct stat info {};
    const QByteArray encoded = QFile::encodeName(path);
    return ::lstat(encoded.constData(), &info) == 0 && S_ISLNK(info.st_mode);
}

bool isFolder(const QString& path) {
    struct stat info {};
    const QByteArray encoded = QFile::encodeName(path);
    return ::stat(encoded.constData(), &info) == 0 && S_ISDIR(info.st_mode);
}

// The link target as text, made absolute against the link's folder and cleaned lexically. Used
// only to describe (and classify) a link that cannot be resolved, e.g. a dangling one.
QString lexicalLinkTarget(const QString& linkPath) {
    const QByteArray encoded = QFile::encodeName(linkPath);
    QByteArray buffer(PATH_MAX, Qt::Uninitialized);
    const ssize_t length = ::readlink(encoded.constData(), buffer.data(), buffer.size());
    if (length < 0)
        return linkPath;
    const QString target = QFile::decodeName(buffer.left(length));
    if (target.startsWith(QLatin1Char('/')))
        return QDir::cleanPath(target);
    const qsizetype slash = linkPath.lastIndexOf(QLatin1Char('/'));
    return QDir::cleanPath(linkPath.left(slash) + QLatin1Char('/') + target);
}

QString joinPath(const QString& folder, const QString& name) {
    return folder.endsWith(QLatin1Char('/')) ? folder + name : folder + QLatin1Char('/') + name;
}

// The canonical longest existing prefix of an absolute path and the components after it.
struct Walk {
    QString existing;
    QStringList missing;
    QString danglingLink; // set when the first missing component is a link to nowhere
};

std::expected<Walk, int> walkExisting(const QStringList& components) {
    Walk walk{QStringLiteral("/"), {}, {}};
    for (qsizetype i = 0; i < components.size(); ++i) {
        const QString& component = components.at(i);
        const QString next = joinPath(walk.existing, component);
        // walk.existing is canonical, so a name below it that is no symlink is canonical too:
        // one lstat instead of realpath(3) walking the whole prefix again (quadratic in depth).
        // Anything else (".", "..", a link, a file, an error, a name holding a lone surrogate,
        // which the file name encoding changes) goes through realpath(3) as before.
        if (component != QLatin1String(".") && component != QLatin1String("..") &&
            std::none_of(component.cbegin(), component.cend(),
                         [](QChar c) { return c.isSurrogate(); })) {
            struct stat info {};
            if (::lstat(QFile::encodeName(next).constData(), &info) == 0 &&
                !S_ISLNK(info.st_mode) && S_ISDIR(info.st_mode)) {
                walk.existing = next;
                continue;
            }
        }
        auto resolved = realPath(next);
        if (resolved) {
            walk.existing = *resolved;
            continue;
        }
        if (resolved.error() != ENOENT)
            return std::unexpected(resolved.error());
        if (isSymlink(next))
            walk.danglingLink = next;
        walk.missing = components.mid(i);
        return walk;
    }
    return walk;
}

QStringList splitComponents(const QString& absolute) {
    return absolute.split(QLatin1Char('/'), Qt::SkipEmptyParts);
}

std::atomic<bool> g_fastPathEnabled{true};
std::atomic<bool> g_openat2Unavailable{false};
std::atomic<quint64> g_fastPathAnswers{0};

bool fastPathUsable(QStringView path) {
    if (!g_fastPathEnabled.load(std::memory_order_relaxed) ||
        g_openat2Unavailable.load(std::memory_order_relaxed))
        return false;
    // A lone surrogate is changed by the file name encoding: the walk handles such names.
    return std::none_of(path.cbegin(), path.cend(), [](QChar c) { return c.isSurrogate(); });
}

// realpath(3)'s answer for an absolute path with no symlink on the way: the components joined by
// "/", without "." and empty ones, each ".." taking away the one before ("/.." is "/"). Valid only
// once the kernel walked the path without meeting a symlink: then every component before a ".."
// was a folder, and the physical parent is the lexical one.
QString lexicalCanonical(QStringView absolute) {
    QString canonical;
    canonical.reserve(absolute.size());
    for (qsizetype pos = 0; pos < absolute.size();) {
        qsizetype end = absolute.indexOf(u'/', pos);
        if (end < 0)
            end = absolute.size();
        const QStringView component = absolute.sliced(pos, end - pos);
        pos = end + 1;
        if (component.isEmpty() || component == u".")
            continue;
        if (component == u"..") {
            canonical.truncate(std::max<qsizetype>(canonical.lastIndexOf(u'/'), 0));
            continue;
        }
        canonical += u'/';
        canonical += component;
    }
    if (canonical.isEmpty())
        canonical = QStringLiteral("/");
    return canonical;
}

// An O_PATH descriptor of an absolute path, reached without following any symlink on the way or
// in the final component (ELOOP instead; no O_NOFOLLOW, which would return the link itself), or
// an invalid one. One system call for the whole path, where realpath(3) needs one readlink(2) per
// component.
FileDescriptor openWithoutLinks(const QString& absolute, int flags) {
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC | flags;
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    const QByteArray encoded = QFile::encodeName(absolute);
    long fd;
    do {
        fd = ::syscall(SYS_openat2, AT_FDCWD, encoded.constData(), &how, sizeof how);
    } while (fd < 0 && errno == EINTR);
    // No openat2 (before Linux 5.6) or a seccomp filter that refuses it: walk from now on.
    if (fd < 0 && (errno == ENOSYS || errno == EPERM))
        g_openat2Unavailable.store(true, std::memory_order_relaxed);
    return FileDescriptor(static_cast<int>(fd));
}

} // namespace

void Workspace::setFastPathEnabled(bool enabled) {
    g_fastPathEnabled.store(enabled, std::memory_order_relaxed);
}

quint64 Workspace::fastPathAnswers() {
    return g_fastPathAnswers.load(std::memory_order_relaxed);
}

std::optional<QString> Workspace::readWithoutLinks(const QString& absolute,
                                                   FileDescriptor* folder) const {
    if (!fastPathUsable(absolute))
        return std::nullopt;
    // For a folder asked for, O_DIRECTORY: anything else (ENOTDIR) takes the walk.
    FileDescriptor opened = openWithoutLinks(absolute, folder ? O_DIRECTORY : 0);
    if (!opened.isValid())
        return std::nullopt;
    QString canonical = lexicalCanonical(absolute);
    if (!contains(canonical))
        return std::nullopt; // the walk words the refusal
    g_fastPathAnswers.fetch_add(1, std::memory_order_relaxed);
    if (folder)
        *folder = std::move(opened);
    return canonical;
}

std::optional<QString> Workspace::writeWithoutLinks(const QString& parent,
                                                    const QString& name) const {
    if (!fastPathUsable(parent) || !fastPathUsable(name))
        return std::nullopt;
    const FileDescriptor folder = openWithoutLinks(parent, O_DIRECTORY);
    if (!folder.isValid())
        return std::nullopt;
    const QString canonicalParent = lexicalCanonical(parent);
    if (!contains(canonicalParent))
        return std::nullopt;
    // A final component that is a symlink (dangling or not) is refused by the walk, with its
    // target in the reason. The name is looked up below the folder just opened.
    struct stat info {};
    if (::fstatat(folder.get(), QFile::encodeName(name).constData(), &info, AT_SYMLINK_NOFOLLOW) ==
            0 &&
        S_ISLNK(info.st_mode))
        return std::nullopt;
    g_fastPathAnswers.fetch_add(1, std::memory_order_relaxed);
    return joinPath(canonicalParent, name);
}

Result<Workspace> Workspace::open(const QString& root) {
    if (root.isEmpty() || root.contains(QChar(0)))
        return fail(kInvalid, tr("The workspace folder is empty or contains a NUL character."));
    auto canonical = realPath(root);
    if (!canonical)
        return fail(canonical.error() == ELOOP ? kLoop : kNotFound,
                    tr("The workspace folder \"%1\" cannot be opened: %2.")
                        .arg(root, QString::fromLocal8Bit(std::strerror(canonical.error()))));
    // The canonical path has no symlink: open it without following any (one that appeared since
    // realpath(3) makes it fail), and check that what was opened is a folder.
    FileDescriptor folder = openWithoutLinks(*canonical, O_DIRECTORY);
    if (!folder.isValid() && g_openat2Unavailable.load(std::memory_order_relaxed))
        folder = FileDescriptor(::open(QFile::encodeName(*canonical).constData(),
                                       O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat info {};
    if (!folder.isValid() || ::fstat(folder.get(), &info) != 0 || !S_ISDIR(info.st_mode))
        return fail(kInvalid, tr("The workspace \"%1\" is not a folder.").arg(*canonical));
    return Workspace(*canonical, std::make_shared<const FileDescriptor>(std::move(folder)));
}

bool Workspace::contains(const QString& canonicalPath) const {
    if (m_root == QLatin1String("/"))
        return canonicalPath.startsWith(QLatin1Char('/'));
    return canonicalPath == m_root ||
           (canonicalPath.startsWith(m_root) && canonicalPath.size() > m_root.size() &&
            canonicalPath.at(m_root.size()) == QLatin1Char('/'));
}

QString Workspace::relative(const QString& resolvedPath) const {
    return relativeView(resolvedPath).toString();
}

QStringView Workspace::relativeView(const QString& resolvedPath) const {
    if (resolvedPath == m_root)
        return u".";
    if (m_root == QLatin1String("/"))
        return QStringView(resolvedPath).mid(1);
    return QStringView(resolvedPath).mid(m_root.size() + 1);
}

Result<QString> Workspace::resolveFolder(const QString& path, FileDescriptor* folder) const {
    *folder = FileDescriptor();
    if (path.isEmpty() || path.contains(QChar(0)))
        return resolve(path, Access::Read); // the same refusal
    return resolveForRead(path, path.startsWith(QLatin1Char('/')) ? path : joinPath(m_root, path),
                          folder);
}

Result<QString> Workspace::resolve(const QString& path, Access access) const {
    if (path.isEmpty())
        return fail(kInvalid, tr("The path is empty."));
    if (path.contains(QChar(0)))
        return fail(kInvalid, tr("The path contains a NUL character."));
    // No tilde expansion and no backslash conversion: both are ordinary characters on Linux.
    const QString absolute = path.startsWith(QLatin1Char('/')) ? path : joinPath(m_root, path);
    return access == Access::Read ? resolveForRead(path, absolute)
                                  : resolveForWrite(path, absolute);
}

Result<QString> Workspace::resolveForRead(const QString& original, const QString& absolute,
                                          FileDescriptor* folder) const {
    if (std::optional<QString> fast = readWithoutLinks(absolute, folder))
        return *std::move(fast);
    auto resolved = realPath(absolute);
    if (resolved) {
        if (!contains(*resolved))
            return fail(kOutside, tr("\"%1\" resolves to %2, which is outside the workspace %3.")
                                      .arg(original, *resolved, m_root));
        return *resolved;
    }
    if (resolved.error() == ELOOP)
        return fail(kLoop, tr("\"%1\" cannot be resolved: too many levels of symbolic links "
                              "(ELOOP, a link loop).")
                               .arg(original));
    if (resolved.error() != ENOENT && resolved.error() != ENOTDIR)
        return fail(kInvalid,
                    tr("\"%1\" cannot be resolved: %2.")
                        .arg(original, QString::fromLocal8Bit(std::strerror(resolved.error()))));

    // Missing: say "outside" rather than "not found" when the path leads out, so nothing about
    // folders outside the workspace is revealed and the reason is the real one.
    auto walk = walkExisting(splitComponents(absolute));
    if (!walk) {
        if (walk.error() == ELOOP)
            return fail(kLoop, tr("\"%1\" cannot be resolved: too many levels of symbolic links "
                                  "(ELOOP, a link loop).")
                                   .arg(original));
        if (walk.error() == ENOTDIR)
            return fail(kNotFound,
                        tr("\"%1\" does not exist: a part of it is not a folder.").arg(original));
        return fail(kInvalid,
                    tr("\"%1\" cannot be resolved: %2.")
                        .arg(original, QString::fromLocal8Bit(std::strerror(walk.error()))));
    }
    if (!walk->danglingLink.isEmpty()) {
        const QString target = lexicalLinkTarget(walk->danglingLink);
        if (!contains(target) || !contains(walk->existing))
            return fail(kOutside,
                        tr("\"%1\" goes through the symbolic link %2 to %3, which is outside the "
                           "workspace %4.")
                            .arg(original, walk->danglingLink, target, m_root));
        return fail(kNotFound, tr("\"%1\" goes through the symbolic link %2 whose target %3 does "
                                  "not exist.")
                                   .arg(original, walk->danglingLink, target));
    }
    const QString lexical =
        QDir::cleanPath(joinPath(walk->existing, walk->missing.join(QLatin1Char('/'))));
    if (!contains(walk->existing) || !contains(lexical))
        return fail(kOutside, tr("\"%1\" resolves to %2, which is outside the workspace %3.")
                                  .arg(original, lexical, m_root));
    return fail(kNotFound, tr("\"%1\" does not exist (%2).").arg(original, lexical));
}

Result<QString> Workspace::resolveForWrite(const QString& original, const QString& absolute) const {
    // The last component and the folder before it, found without splitting the path: the
    // parent keeps its spelling ("//", a trailing "/"), which the kernel and lexicalCanonical()
    // read the same as the components joined by "/".
    qsizetype end = absolute.size();
    while (end > 0 && absolute.at(end - 1) == u'/')
        --end;
    if (end == 0)
        return fail(kInvalid, tr("\"%1\" does not name a file.").arg(original));
    const qsizetype start = absolute.lastIndexOf(u'/', end - 1) + 1;
    const QString name = absolute.sliced(start, end - start);
    if (name == QLatin1String(".") || name == QLatin1String(".."))
        return fail(kInvalid, tr("\"%1\" does not name a file.").arg(original));
    if (std::optional<QString> fast = writeWithoutLinks(absolute.left(start), name))
        return *std::move(fast);

    QStringList components = splitComponents(absolute);
    components.removeLast(); // name
    auto walk = walkExisting(components);
    if (!walk) {
        if (walk.error() == ELOOP)
            return fail(kLoop, tr("\"%1\" cannot be resolved: too many levels of symbolic links "
                                  "(ELOOP, a link loop).")
                                   .arg(original));
        if (walk.error() == ENOTDIR)
            return fail(
                kInvalid,
                tr("\"%1\" cannot be written: a part of it is not a folder.").arg(original));
        return fail(kInvalid,
                    tr("\"%1\" cannot be resolved: %2.")
                        .arg(original, QString::fromLocal8Bit(std::strerror(walk.error()))));
    }
    if (!walk->danglingLink.isEmpty()) {
        const QString target = lexicalLinkTarget(walk->danglingLink);
        return fail(contains(target) && contains(walk->existing) ? kInvalid : kOutside,
                    tr("\"%1\" goes through the symbolic link %2 to %3, which does not exist; "
                       "writes never go through a link.")
                        .arg(original, walk->danglingLink, target));
    }

    if (!walk->missing.isEmpty()) {
        const QString tail = walk->missing.join(QLatin1Char('/'));
        const QString lexical = QDir::cleanPath(joinPath(joinPath(walk->existing, tail), name));
        if (!contains(walk->existing) || !contains(lexical))
            return fail(kOutside, tr("\"%1\" resolves to %2, which is outside the workspace %3.")
                                      .arg(original, lexical, m_root));
        // Below a missing folder no link can interfere, but ".." there would make the created
        // folders differ from the checked path.
        if (walk->missing.contains(QStringLiteral("..")))
            return fail(kInvalid,
                        tr("\"%1\" uses \"..\" after a folder that does not exist.").arg(original));
        QStringList parts = walk->missing;
        parts.removeAll(QStringLiteral("."));
        return joinPath(parts.isEmpty() ? walk->existing
                                        : joinPath(walk->existing, parts.join(QLatin1Char('/'))),
                        name);
    }

    const QString full = joinPath(walk->existing, name);
    if (!isFolder(walk->existing))
        return fail(
            kInvalid,
            tr("\"%1\" cannot be written: %2 is not a folder.").arg(original, walk->existing));
    if (!contains(walk->existing))
        return fail(kOutside, tr("\"%1\" resolves to %2, which is outside the workspace %3.")
                                  .arg(original, full, m_root));
    if (isSymlink(full)) {
        auto target = realPath(full);
        if (!target && target.error() == ELOOP)
            return fail(kLoop, tr("\"%1\" cannot be resolved: too many levels of symbolic links "
                                  "(ELOOP, a link loop).")
                                   .arg(original));
        const QString shown = target ? *target : lexicalLinkTarget(full);
        return fail(contains(shown) ? kInvalid : kOutside,
                    tr("\"%1\" is a symbolic link to %2; writes never go through a link.")
                        .arg(original, shown));
    }
    return full;
}

} // namespace m1
