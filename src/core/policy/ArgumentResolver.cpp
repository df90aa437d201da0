#include "policy/ArgumentResolver.h"

#include <QDir>
#include <QFile>
#include <QVarLengthArray>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>

namespace m1 {

namespace {

QString joined(const QString& folder, QStringView name) {
    QString path;
    path.reserve(folder.size() + 1 + name.size());
    path += folder;
    if (!folder.endsWith(u'/'))
        path += u'/';
    path += name;
    return path;
}

// The file name's bytes as QFile::encodeName gives them, NUL-terminated; without allocating for
// an ASCII name (the common case; UTF-8 and ASCII agree there).
struct EncodedName {
    explicit EncodedName(QStringView name) {
        if (std::all_of(name.begin(), name.end(), [](QChar c) { return c.unicode() < 0x80; })) {
            bytes.resize(name.size() + 1);
            for (qsizetype i = 0; i < name.size(); ++i)
                bytes[i] = static_cast<char>(name[i].unicode());
            bytes[name.size()] = '\0';
        } else {
            const QByteArray encoded = QFile::encodeName(name.toString());
            bytes.append(encoded.constData(), encoded.size() + 1);
        }
    }
    const char* get() const { return bytes.constData(); }
    QVarLengthArray<char, 512> bytes;
};

} // namespace

// Same answer as Workspace::resolve for the cases that matter here (symlinks in the
// path or as the final component are followed; a missing final component is taken literally
// under its canonical parent), but with one realpath(3) for an existing path and two for a new
// one, because a command has many words and most are not files.
std::optional<ArgumentResolver::Path>
ArgumentResolver::resolveWithRealpath(const QString& absolute) {
    char buffer[PATH_MAX];
    const QByteArray encoded = QFile::encodeName(absolute);
    if (::realpath(encoded.constData(), buffer)) {
        struct stat info {};
        const bool dir = ::stat(buffer, &info) == 0 && S_ISDIR(info.st_mode);
        return Path{QFile::decodeName(buffer), true, dir};
    }
    if (errno != ENOENT)
        return std::nullopt;
    // The parent as written, so that `..` after a linked folder is taken physically as the
    // kernel does (`src/back/../x` with src/back -> ../secrets is `./x`, not `src/x`).
    if (const qsizetype last = absolute.lastIndexOf(u'/'); last > 0) {
        const QString name = absolute.mid(last + 1);
        if (!name.isEmpty() && name != QLatin1String(".") && name != QLatin1String("..") &&
            ::realpath(QFile::encodeName(absolute.left(last)).constData(), buffer)) {
            const QString canonicalParent = QFile::decodeName(buffer);
            return Path{canonicalParent.endsWith(u'/') ? canonicalParent + name
                                                       : canonicalParent + u'/' + name,
                        false, false};
        }
    }
    // No such parent: the lexical reading is the best guess (a script may create it first).
    const QString cleaned = QDir::cleanPath(absolute);
    const qsizetype slash = cleaned.lastIndexOf(u'/');
    if (slash < 0)
        return std::nullopt;
    const QString name = cleaned.mid(slash + 1);
    if (name.isEmpty() || name == QLatin1String(".."))
        return std::nullopt;
    const QByteArray parent =
        QFile::encodeName(slash == 0 ? QStringLiteral("/") : cleaned.left(slash));
    if (!::realpath(parent.constData(), buffer))
        return std::nullopt; // deeper missing folders: nothing there to protect yet
    const QString canonicalParent = QFile::decodeName(buffer);
    return Path{canonicalParent.endsWith(u'/') ? canonicalParent + name
                                               : canonicalParent + u'/' + name,
                false, false};
}

// resolveWithRealpath's answer with one lstat(2) per new path
// component instead of realpath(3) walking the whole path again for every word (twice for a
// missing name), and without a second stat. Valid for one evaluate() only: it trusts the working
// folder canonicalised a moment before, and remembers what it saw, which may change later.
//
// The lexical walk starts at the canonical working folder (or "/") and follows the word's
// components. As long as every component met is a folder that is not a symlink, the lexical
// path is the canonical one, and realpath(3) would give the same answer: "." stays, ".." takes
// the parent (of a canonical folder, so the physical parent), a file followed by anything is
// ENOTDIR (skipped), and a missing name is ENOENT, which resolveWithRealpath takes under its
// canonical parent. Whenever the walk meets anything else (a symlink anywhere on the way, an
// error other than ENOENT, ".." above "/", "." or ".." after a missing name, a lone surrogate
// that the file name encoding would change, a long path), the word goes to resolveWithRealpath
// unchanged. So a word that is missing lexically but exists through a symlinked parent
// ("linkdir/secret") meets the symlink while walking and is resolved by realpath(3).
std::optional<ArgumentResolver::Path> ArgumentResolver::resolve(const QString& word) {
    std::optional<Path> result;
    if (walk(word, result))
        return result;
    ++m_realpathCalls;
    return resolveWithRealpath(word.startsWith(u'/') ? word : m_cwd + u'/' + word);
}

ArgumentResolver::Kind ArgumentResolver::kindOf(const QString& path) {
    // The strict ancestors of the working folder were just walked by realpath(3).
    if (m_cwd.size() > path.size() && m_cwd.startsWith(path) &&
        (path == QLatin1String("/") || m_cwd.at(path.size()) == u'/'))
        return Kind::Folder;
    for (const auto& [seen, kind] : m_seen)
        if (seen == path)
            return kind;
    struct stat info {};
    Kind kind = Kind::Unusual;
    // Below the working folder: from its descriptor, the same folder the path names.
    const bool below = m_cwdFd >= 0 && path.size() > m_cwd.size() + 1 && path.startsWith(m_cwd) &&
                       path.at(m_cwd.size()) == u'/';
    const int found =
        below ? ::fstatat(m_cwdFd, EncodedName(QStringView(path).sliced(m_cwd.size() + 1)).get(),
                          &info, AT_SYMLINK_NOFOLLOW)
              : ::lstat(EncodedName(path).get(), &info);
    if (found == 0)
        kind = S_ISLNK(info.st_mode)   ? Kind::Unusual
               : S_ISDIR(info.st_mode) ? Kind::Folder
                                       : Kind::Other;
    else if (errno == ENOENT)
        kind = Kind::Missing;
    m_seen.emplace_back(path, kind);
    return kind;
}

// False: not decided here, the caller uses resolveWithRealpath.
bool ArgumentResolver::walk(const QString& word, std::optional<Path>& result) {
    // Far below PATH_MAX even in UTF-8, so no length limit can tell the two ways apart.
    if (word.size() + m_cwd.size() > 1000)
        return false;
    for (QChar c : word)
        if (c.isSurrogate())
            return false;
    QString current;
    if (word.startsWith(u'/')) {
        current = QStringLiteral("/");
    } else {
        if (kindOf(m_cwd) != Kind::Folder)
            return false;
        current = m_cwd;
    }
    const qsizetype n = word.size();
    qsizetype pos = 0;
    while (true) {
        while (pos < n && word.at(pos) == u'/')
            ++pos;
        if (pos == n)
            break;
        qsizetype end = word.indexOf(u'/', pos);
        if (end < 0)
            end = n;
        const QStringView component = QStringView(word).sliced(pos, end - pos);
        pos = end;
        if (component == QLatin1String("."))
            continue;
        if (component == QLatin1String("..")) {
            if (current == QLatin1String("/"))
                return false;
            const qsizetype slash = current.lastIndexOf(u'/');
            current = slash == 0 ? QStringLiteral("/") : current.left(slash);
            continue;
        }
        QString next = joined(current, component);
        switch (kindOf(next)) {
        case Kind::Folder:
            current = std::move(next);
            continue;
        case Kind::Other:
            // A file followed by anything, even "/" or "/.", is ENOTDIR for realpath(3).
            if (pos == n)
                result = Path{std::move(next), true, false};
            return true;
        case Kind::Missing: {
            // Only a name followed by nothing is taken under its parent (a missing folder on
            // the way has nothing to protect yet); "." or ".." after it would make the
            // lexical cleaning of resolveWithRealpath decide.
            bool more = false;
            for (qsizetype k = pos; k < n;) {
                qsizetype stop = word.indexOf(u'/', k);
                if (stop < 0)
                    stop = n;
                const QStringView rest = QStringView(word).sliced(k, stop - k);
                if (rest == QLatin1String(".") || rest == QLatin1String(".."))
                    return false;
                more = more || !rest.isEmpty();
                k = stop + 1;
            }
            if (!more)
                result = Path{std::move(next), false, false};
            return true;
        }
        case Kind::Unusual:
            return false;
        }
    }
    result = Path{current, true, true};
    return true;
}

} // namespace m1
