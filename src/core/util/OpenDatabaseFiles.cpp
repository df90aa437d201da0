#include "util/OpenDatabaseFiles.h"

#include <QHash>
#include <QPair>

#include <fcntl.h>
#include <sys/stat.h>

namespace m1 {

namespace {

QHash<QPair<quint64, quint64>, int>& connections() {
    static QHash<QPair<quint64, quint64>, int> counts;
    return counts;
}

} // namespace

QMutex& OpenDatabaseFiles::mutex() {
    static QMutex lock;
    return lock;
}

bool OpenDatabaseFiles::containsLocked(quint64 device, quint64 inode) {
    return connections().contains({device, inode});
}

void OpenDatabaseFiles::addLocked(quint64 device, quint64 inode) {
    ++connections()[{device, inode}];
}

void OpenDatabaseFiles::removeLocked(quint64 device, quint64 inode) {
    const QPair<quint64, quint64> key(device, inode);
    const auto it = connections().find(key);
    if (it != connections().end() && --it.value() <= 0)
        connections().erase(it);
}

bool OpenDatabaseFiles::isDatabaseOrCompanion(int folderFd, const QByteArray& name) {
    const QMutexLocker lock(&mutex());
    if (connections().isEmpty())
        return false;
    const auto registered = [&](const QByteArray& file) {
        struct stat info {};
        return ::fstatat(folderFd, file.constData(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
               S_ISREG(info.st_mode) &&
               containsLocked(static_cast<quint64>(info.st_dev), static_cast<quint64>(info.st_ino));
    };
    if (registered(name))
        return true;
    for (const QByteArray& suffix :
         {QByteArrayLiteral("-wal"), QByteArrayLiteral("-shm"), QByteArrayLiteral("-journal")}) {
        if (name.size() > suffix.size() && name.endsWith(suffix) &&
            registered(name.left(name.size() - suffix.size())))
            return true;
    }
    return false;
}

} // namespace m1
