#include "TestSupport.h"
#include "tools/Workspace.h"

#include <QDir>
#include <QFile>
#include <QScopeGuard>
#include <QtTest>

#include <cerrno>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

using m1::Workspace;
using Access = m1::Workspace::Access;

Q_DECLARE_METATYPE(m1::Workspace::Access)

// Every path-escape form from security-cases.md section 2, against one fixture:
//   <base>/ws   the workspace, <base>/out   a folder outside it.
class TestWorkspace : public QObject {
    Q_OBJECT

    QTemporaryDir m_base;
    QString m_ws;
    QString m_out;

    void link(const QString& target, const QString& name) {
        QVERIFY2(QFile::link(target, m_ws + QLatin1Char('/') + name), qPrintable(name));
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_base.isValid());
        m_ws = QDir(m_base.path()).canonicalPath() + QStringLiteral("/ws");
        m_out = QDir(m_base.path()).canonicalPath() + QStringLiteral("/out");
        QVERIFY(m1::test::writeFile(m_ws + QStringLiteral("/file.txt"), "hello\n"));
        QVERIFY(m1::test::writeFile(m_ws + QStringLiteral("/sub/inner.txt"), "inner\n"));
        QVERIFY(m1::test::writeFile(m_ws + QStringLiteral("/..\\..\\x"), "literal\n"));
        QVERIFY(m1::test::writeFile(m_out + QStringLiteral("/secret.txt"), "secret\n"));
        QVERIFY(m1::test::writeFile(m_ws + QStringLiteral("/dir \u00fc/\u00fcmlaut.txt"), "\n"));
        link(QStringLiteral("/etc/passwd"), QStringLiteral("link-passwd"));
        link(QStringLiteral("../out/secret.txt"), QStringLiteral("link-rel-out"));
        link(m_out, QStringLiteral("link-home"));
        link(QStringLiteral("chain2"), QStringLiteral("chain1"));
        link(QStringLiteral("chain3"), QStringLiteral("chain2"));
        link(QStringLiteral("../out/secret.txt"), QStringLiteral("chain3"));
        link(QStringLiteral("loop-b"), QStringLiteral("loop-a"));
        link(QStringLiteral("loop-a"), QStringLiteral("loop-b"));
        link(QStringLiteral("sub/inner.txt"), QStringLiteral("link-in"));
        link(QStringLiteral("sub"), QStringLiteral("link-dir-in"));
        link(QStringLiteral("../out/new.txt"), QStringLiteral("dangling-out"));
        link(QStringLiteral("../out/missing-dir"), QStringLiteral("dangling-dir-out"));
        link(QStringLiteral("sub/not-there.txt"), QStringLiteral("dangling-in"));
        QVERIFY(QFile::link(m_ws, m_base.path() + QStringLiteral("/ws-alias")));
    }

    // Every row runs twice: with the openat2(2) way (the default) and with the walk forced, as
    // on a kernel or a seccomp filter without openat2. Both must give the same answer. "way"
    // says which answers the call in the first run: "fast" only for paths without any symlink
    // that are accepted; refusals and everything through a link come from the walk.
    void resolve_data() {
        QTest::addColumn<bool>("forceWalk");
        QTest::addColumn<QString>("path");
        QTest::addColumn<Access>("access");
        QTest::addColumn<QString>("code");     // empty: accepted
        QTest::addColumn<QString>("expected"); // relative result, or a part of the message
        QTest::addColumn<QString>("way");      // "fast" or "walk" (without forceWalk)
        const QString ok;
        const QString outside = QStringLiteral("path.outside_workspace");
        const QString loop = QStringLiteral("path.symlink_loop");
        const QString invalid = QStringLiteral("path.invalid");
        const QString notFound = QStringLiteral("path.not_found");
        const Access r = Access::Read;
        const Access w = Access::Write;
        const QString fast = QStringLiteral("fast");
        const QString walk = QStringLiteral("walk");
        // The file name encoding changes a lone surrogate: such names always take the walk.
        const QString loneSurrogate = QStringLiteral("x") + QChar(0xd800) + QStringLiteral(".txt");

        struct Row {
            const char* name;
            QString path;
            Access access;
            QString code;
            QString expected;
            QString way;
        };
        const QList<Row> rows = {
            // Reads.
            {"plain-file", "file.txt", r, ok, "file.txt", fast},
            {"root-dot", ".", r, ok, ".", fast},
            {"absolute-inside", "@ws/sub/inner.txt", r, ok, "sub/inner.txt", fast},
            {"dotdot-staying-inside", "sub/../file.txt", r, ok, "file.txt", fast},
            {"folder-trailing-slash", "sub/", r, ok, "sub", fast},
            {"folder-trailing-dot", "sub/.", r, ok, "sub", fast},
            {"dotdot-above-slash", "/../..@ws/file.txt", r, ok, "file.txt", fast},
            {"non-ascii-names", "dir \u00fc/\u00fcmlaut.txt", r, ok, "dir \u00fc/\u00fcmlaut.txt",
             fast},
            {"lone-surrogate-missing", loneSurrogate, r, notFound, "", walk},
            {"SBX-01/dotdot-etc-passwd", "../../etc/passwd", r, outside, "", walk},
            {"SBX-01/a-dotdot-dotdot-x", "a/../../x", r, outside, "", walk},
            {"SBX-01/dot-dotdot-x", "./../x", r, outside, "", walk},
            {"SBX-01/dotdot-existing-sibling", "../out/secret.txt", r, outside, "@out/secret.txt",
             walk},
            {"SBX-01/dotdot-above-slash-outside", "/../../etc/passwd", r, outside, "/etc/passwd",
             walk},
            {"SBX-01/backslash-is-literal", "..\\..\\x", r, ok, "..\\..\\x", fast},
            {"SBX-02/absolute-etc-passwd", "/etc/passwd", r, outside, "resolves to /etc/passwd",
             walk},
            {"SBX-02/proc-self-environ", "/proc/self/environ", r, outside, "", walk},
            {"SBX-02/proc-self-cwd", "/proc/self/cwd", r, outside, "", walk},
            {"SBX-02/double-slash", "//etc/passwd", r, outside, "/etc/passwd", walk},
            {"SBX-02/tilde-is-a-name", "~/.ssh/id_rsa", r, notFound, "@ws/~/", walk},
            {"SBX-02/absolute-missing-outside", "/nonexistent-m1/x", r, outside, "", walk},
            {"SBX-04/link-to-etc-passwd", "link-passwd", r, outside, "/etc/passwd", walk},
            {"SBX-04/relative-link-out", "link-rel-out", r, outside, "@out/secret.txt", walk},
            {"SBX-04/folder-link-out", "link-home/secret.txt", r, outside, "@out/secret.txt", walk},
            {"SBX-04/folder-link-out-missing", "link-home/nothing", r, outside, "", walk},
            {"SBX-04/three-chained-links", "chain1", r, outside, "", walk},
            {"SBX-04/loop", "loop-a", r, loop, "ELOOP", walk},
            {"SBX-04/loop-as-parent", "loop-a/x", r, loop, "ELOOP", walk},
            {"SBX-04/link-inside", "link-in", r, ok, "sub/inner.txt", walk},
            {"SBX-04/folder-link-inside", "link-dir-in/inner.txt", r, ok, "sub/inner.txt", walk},
            {"SBX-04/alias-of-root", "@base/ws-alias/file.txt", r, ok, "file.txt", walk},
            // `..` after a link is physical: link-home -> out, so link-home/.. is the base.
            {"SBX-04/dotdot-after-folder-link-out", "link-home/../ws/file.txt", r, ok, "file.txt",
             walk},
            {"SBX-04/dotdot-after-folder-link-in", "link-dir-in/../file.txt", r, ok, "file.txt",
             walk},
            {"SBX-04/dotdot-after-folder-link-escapes", "link-dir-in/../../out/secret.txt", r,
             outside, "@out/secret.txt", walk},
            {"SBX-05/dangling-out", "dangling-out", r, outside, "@out/new.txt", walk},
            {"dangling-in", "dangling-in", r, notFound, "", walk},
            {"missing", "missing.txt", r, notFound, "", walk},
            {"file-as-folder", "file.txt/x", r, notFound, "", walk},
            {"file-trailing-slash", "file.txt/", r, notFound, "", walk},
            {"empty", "", r, invalid, "empty", walk},
            {"nul-byte", QStringLiteral("file.txt") + QChar(0) + "x", r, invalid, "NUL", walk},

            // Writes.
            {"write/new-file", "new.txt", w, ok, "new.txt", fast},
            {"write/existing-file", "file.txt", w, ok, "file.txt", fast},
            {"write/existing-folder", "sub", w, ok, "sub", fast},
            {"write/trailing-slash", "sub/inner.txt/", w, ok, "sub/inner.txt", fast},
            {"write/trailing-slashes", "sub/inner.txt///", w, ok, "sub/inner.txt", fast},
            {"write/double-slash-inside", "sub//inner.txt", w, ok, "sub/inner.txt", fast},
            {"write/only-slashes", "///", w, invalid, "", walk},
            {"write/dotdot-staying-inside", "sub/../w.txt", w, ok, "w.txt", fast},
            {"write/new-nested", "a/b/c.txt", w, ok, "a/b/c.txt", walk},
            {"write/through-folder-link-inside", "link-dir-in/new.txt", w, ok, "sub/new.txt", walk},
            {"write/dotdot-after-folder-link-out", "link-home/../ws/new.txt", w, ok, "new.txt",
             walk},
            {"write/trailing-dot-segments", "./sub/./n.txt", w, ok, "sub/n.txt", fast},
            {"write/non-ascii-name", "dir \u00fc/neu-\u00fc.txt", w, ok,
             "dir \u00fc/neu-\u00fc.txt", fast},
            {"write/SBX-01/dotdot", "../x", w, outside, "", walk},
            {"write/SBX-01/a-dotdot-dotdot-x", "a/../../x", w, outside, "", walk},
            {"write/SBX-01/dot-dotdot-x", "./../x", w, outside, "", walk},
            {"write/SBX-01/dotdot-after-missing-folder", "newdir/../x", w, invalid, "..", walk},
            {"write/SBX-01/dotdot-above-slash-outside", "/../../tmp/x", w, outside, "", walk},
            {"write/SBX-01/backslash-is-literal", "..\\y", w, ok, "..\\y", fast},
            {"write/SBX-02/absolute-outside", "@out/x.txt", w, outside, "", walk},
            {"write/SBX-02/double-slash", "//tmp/x", w, outside, "", walk},
            {"write/SBX-02/proc-self-cwd", "/proc/self/cwd/x", w, outside, "", walk},
            {"write/SBX-02/tilde-is-a-name", "~/.ssh/id_rsa", w, ok, "~/.ssh/id_rsa", walk},
            {"write/SBX-04/link-to-etc-passwd", "link-passwd", w, outside, "", walk},
            {"write/SBX-04/three-chained-links", "chain1", w, outside, "", walk},
            {"write/SBX-04/final-link-inside", "link-in", w, invalid, "link", walk},
            {"write/SBX-04/final-folder-link-inside", "link-dir-in", w, invalid, "link", walk},
            {"write/SBX-04/loop", "loop-a", w, loop, "ELOOP", walk},
            {"write/SBX-04/loop-as-parent", "loop-a/x", w, loop, "ELOOP", walk},
            {"write/SBX-05/folder-link-out", "link-home/new.txt", w, outside, "@out/new.txt", walk},
            {"write/SBX-05/dangling-final", "dangling-out", w, outside, "@out/new.txt", walk},
            {"write/SBX-05/dangling-folder", "dangling-dir-out/new.txt", w, outside, "", walk},
            {"write/dangling-inside", "dangling-in", w, invalid, "link", walk},
            {"write/dot", ".", w, invalid, "", walk},
            {"write/root", "/", w, invalid, "", walk},
            {"write/empty", "", w, invalid, "", walk},
            {"write/nul", QStringLiteral("a") + QChar(0), w, invalid, "", walk},
            {"write/file-as-folder", "file.txt/x", w, invalid, "", walk},
            {"write/lone-surrogate", loneSurrogate, w, ok, loneSurrogate, walk},
        };
        for (const bool forceWalk : {false, true})
            for (const Row& row : rows)
                QTest::newRow(
                    qPrintable((forceWalk ? QStringLiteral("walk:") : QStringLiteral("fast:")) +
                               QLatin1String(row.name)))
                    << forceWalk << row.path << row.access << row.code << row.expected << row.way;
    }

    void resolve() {
        QFETCH(bool, forceWalk);
        QFETCH(QString, path);
        QFETCH(Access, access);
        QFETCH(QString, code);
        QFETCH(QString, expected);
        QFETCH(QString, way);
        const auto expand = [&](QString text) {
            text.replace(QStringLiteral("@ws"), m_ws);
            text.replace(QStringLiteral("@out"), m_out);
            text.replace(QStringLiteral("@base"), QDir(m_base.path()).canonicalPath());
            return text;
        };
        path = expand(path);
        expected = expand(expected);

        auto workspace = Workspace::open(m_ws);
        QVERIFY(workspace);
        Workspace::setFastPathEnabled(!forceWalk);
        const auto restore = qScopeGuard([] { Workspace::setFastPathEnabled(true); });
        const quint64 fastBefore = Workspace::fastPathAnswers();
        const auto resolved = workspace->resolve(path, access);
        const bool tookFastPath = Workspace::fastPathAnswers() != fastBefore;
        if (code.isEmpty()) {
            QVERIFY2(resolved, qPrintable(resolved ? QString() : resolved.error().message));
            QVERIFY(workspace->contains(*resolved));
            QCOMPARE(workspace->relative(*resolved), expected);
        } else {
            QVERIFY2(!resolved, qPrintable(resolved ? *resolved : QString()));
            QCOMPARE(resolved.error().code, code);
            QVERIFY2(resolved.error().message.contains(expected),
                     qPrintable(resolved.error().message));
            QVERIFY(!resolved.error().message.isEmpty());
        }
        QCOMPARE(tookFastPath, !forceWalk && way == QLatin1String("fast"));
    }

    // resolveFolder gives resolve(path, Read)'s answer, and a descriptor of the folder only
    // when the openat2 way answered for a folder.
    void resolveFolderKeepsTheFolderOpen() {
        auto workspace = Workspace::open(m_ws);
        QVERIFY(workspace);
        const auto restore = qScopeGuard([] { Workspace::setFastPathEnabled(true); });
        for (const bool fast : {true, false}) {
            Workspace::setFastPathEnabled(fast);
            for (const char* path : {".", "sub", "sub/", "file.txt", "link-dir-in", "missing",
                                     "../out", "link-home", "loop-a", ""}) {
                const QString p = QString::fromLatin1(path);
                m1::FileDescriptor folder(::dup(0)); // must be replaced (closed) in any case
                const auto resolved = workspace->resolveFolder(p, &folder);
                const auto expected = workspace->resolve(p, Access::Read);
                QCOMPARE(resolved.has_value(), expected.has_value());
                if (expected) {
                    QCOMPARE(*resolved, *expected);
                } else {
                    QCOMPARE(resolved.error().code, expected.error().code);
                    QCOMPARE(resolved.error().message, expected.error().message);
                }
                const bool plainFolder =
                    p == QLatin1String(".") || p.startsWith(QLatin1String("sub"));
                QCOMPARE(folder.isValid(), fast && plainFolder);
                if (folder.isValid()) {
                    struct stat viaFd {
                    }, viaPath{};
                    QCOMPARE(::fstat(folder.get(), &viaFd), 0);
                    QCOMPARE(::stat(QFile::encodeName(*resolved).constData(), &viaPath), 0);
                    QCOMPARE(viaFd.st_ino, viaPath.st_ino);
                    QCOMPARE(viaFd.st_dev, viaPath.st_dev);
                }
            }
        }
    }

    // The root's descriptor is opened once, shared by the copies and closed with the last one;
    // it names the folder that was opened even after its path is renamed or replaced by a link
    // (resolve() goes by the path and refuses then: see tst_policyengine's
    // commandWordsStayInTheOpenedRoot for what the policy does with it).
    void rootDescriptorIsTheOpenedFolder() {
        const QString root = m_base.path() + QStringLiteral("/fd-root");
        const QString moved = m_base.path() + QStringLiteral("/fd-root-moved");
        QVERIFY(m1::test::writeFile(root + QStringLiteral("/in.txt"), "in\n"));
        const auto cleanup = qScopeGuard([&] {
            QFile::remove(root);
            QDir(moved).removeRecursively();
            QDir(root).removeRecursively();
        });
        std::optional<Workspace> copy;
        int fd = -1;
        {
            auto workspace = Workspace::open(root);
            QVERIFY(workspace);
            fd = workspace->rootDescriptor();
            QVERIFY(fd >= 0);
            QVERIFY(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
            struct stat viaFd {
            }, viaPath{};
            QCOMPARE(::fstat(fd, &viaFd), 0);
            QCOMPARE(::stat(QFile::encodeName(root).constData(), &viaPath), 0);
            QVERIFY(S_ISDIR(viaFd.st_mode));
            QCOMPARE(viaFd.st_ino, viaPath.st_ino);
            copy.emplace(*workspace);
            QCOMPARE(copy->rootDescriptor(), fd); // shared, not duplicated
        }
        QVERIFY(::fcntl(fd, F_GETFD) >= 0); // the copy keeps it open

        QVERIFY(QDir().rename(root, moved));
        QVERIFY(QFile::link(m_out, root));
        struct stat info {};
        QCOMPARE(::fstatat(fd, "in.txt", &info, AT_SYMLINK_NOFOLLOW), 0);      // still the folder
        QCOMPARE(::fstatat(fd, "secret.txt", &info, AT_SYMLINK_NOFOLLOW), -1); // not m_out
        QCOMPARE(errno, ENOENT);
        for (const char* path : {".", "in.txt", "secret.txt"}) {
            const auto resolved = copy->resolve(QString::fromLatin1(path), Access::Read);
            QVERIFY2(!resolved, path);
            QCOMPARE(resolved.error().code, QStringLiteral("path.outside_workspace"));
        }
        copy.reset();
        QCOMPARE(::fcntl(fd, F_GETFD), -1); // closed with the last copy
        QCOMPARE(errno, EBADF);
    }

    void openRequiresExistingFolder() {
        QCOMPARE(Workspace::open(m_ws + QStringLiteral("/missing")).error().code,
                 QStringLiteral("path.not_found"));
        QCOMPARE(Workspace::open(m_ws + QStringLiteral("/file.txt")).error().code,
                 QStringLiteral("path.invalid"));
        QCOMPARE(Workspace::open(QString()).error().code, QStringLiteral("path.invalid"));
        auto viaAlias = Workspace::open(m_base.path() + QStringLiteral("/ws-alias"));
        QVERIFY(viaAlias);
        QCOMPARE(viaAlias->root(), m_ws);
    }

    void containsIsComponentWise() {
        auto workspace = Workspace::open(m_ws);
        QVERIFY(workspace);
        QVERIFY(workspace->contains(m_ws));
        QVERIFY(workspace->contains(m_ws + QStringLiteral("/a")));
        QVERIFY(!workspace->contains(m_ws + QStringLiteral("-evil/a")));
        QVERIFY(!workspace->contains(m_out));
    }

    void longLoopDoesNotHang() {
        // 50 links in a ring: more than the kernel's limit, must end in ELOOP.
        QTemporaryDir dir;
        const QString root = QDir(dir.path()).canonicalPath();
        for (int i = 0; i < 50; ++i)
            QVERIFY(QFile::link(QStringLiteral("l%1").arg((i + 1) % 50),
                                root + QStringLiteral("/l%1").arg(i)));
        auto workspace = Workspace::open(root);
        QVERIFY(workspace);
        QCOMPARE(workspace->resolve(QStringLiteral("l0"), Access::Read).error().code,
                 QStringLiteral("path.symlink_loop"));
        QCOMPARE(workspace->resolve(QStringLiteral("l0/x"), Access::Write).error().code,
                 QStringLiteral("path.symlink_loop"));
    }
};

QTEST_GUILESS_MAIN(TestWorkspace)
#include "tst_workspace.moc"
