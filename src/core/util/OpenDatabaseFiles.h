#pragma once

#include <QByteArray>
#include <QMutex>
#include <QtGlobal>

namespace m1 {

// The SQLite files this process has connections to, by device and inode, with the number of
// connections. On Linux, closing *any* descriptor of a file drops every POSIX lock the process
// holds on it, and SQLite counts its locks per process (a second connection to a file already
// locked takes no lock of its own). So no code of this process may open and close such a file
// (or its -wal / -shm) beside SQLite: every connection would be left without its lock, and another
// process closing the file would believe it was the last user and delete the WAL under a store
// still writing into it (SQLite "how to corrupt", 2.2). The store registers its connections here;
// the file tools refuse these files.
class OpenDatabaseFiles {
public:
    // Held across a check and an open (or a close and a removal), so that no other thread opens
    // the file in between.
    static QMutex& mutex();
    // With mutex() held.
    static bool containsLocked(quint64 device, quint64 inode);
    static void addLocked(quint64 device, quint64 inode);
    static void removeLocked(quint64 device, quint64 inode);

    // Whether `name` in the folder `folderFd` is such a database, or its -wal, -shm or -journal
    // file (not following a final symlink). Takes the mutex.
    static bool isDatabaseOrCompanion(int folderFd, const QByteArray& name);
};

} // namespace m1
