#include "TestSupport.h"
#include "tools/Workspace.h"

#include <QDir>
#include <QFile>
#include <QtTest>

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

    void resolve_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<Access>("access");
        QTest::addColumn<QString>("code");     // empty: accepted
        QTest::addColumn<QString>("expected"); // relative result, or a part of the message
        const QString ok;
        const QString outside = QStringLiteral("path.outside_workspace");
        const QString loop = QStringLiteral("path.symlink_loop");
        const QString invalid = QStringLiteral("path.invalid");
        const QString notFound = QStringLiteral("path.not_found");
        const Access r = Access::Read;
        const Access w = Access::Write;

        // Reads.
        QTest::newRow("plain-file") << "file.txt" << r << ok << "file.txt";
        QTest::newRow("root-dot") << "." << r << ok << ".";
        QTest::newRow("absolute-inside") << "@ws/sub/inner.txt" << r << ok << "sub/inner.txt";
        QTest::newRow("dotdot-staying-inside") << "sub/../file.txt" << r << ok << "file.txt";
        QTest::newRow("SBX-01/dotdot-etc-passwd") << "../../etc/passwd" << r << outside << "";
        QTest::newRow("SBX-01/a-dotdot-dotdot-x") << "a/../../x" << r << outside << "";
        QTest::newRow("SBX-01/dot-dotdot-x") << "./../x" << r << outside << "";
        QTest::newRow("SBX-01/dotdot-existing-sibling")
            << "../out/secret.txt" << r << outside << "@out/secret.txt";
        QTest::newRow("SBX-01/backslash-is-literal") << "..\\..\\x" << r << ok << "..\\..\\x";
        QTest::newRow("SBX-02/absolute-etc-passwd")
            << "/etc/passwd" << r << outside << "resolves to /etc/passwd";
        QTest::newRow("SBX-02/proc-self-environ") << "/proc/self/environ" << r << outside << "";
        QTest::newRow("SBX-02/double-slash") << "//etc/passwd" << r << outside << "/etc/passwd";
        QTest::newRow("SBX-02/tilde-is-a-name") << "~/.ssh/id_rsa" << r << notFound << "@ws/~/";
        QTest::newRow("SBX-02/absolute-missing-outside")
            << "/nonexistent-m1/x" << r << outside << "";
        QTest::newRow("SBX-04/link-to-etc-passwd")
            << "link-passwd" << r << outside << "/etc/passwd";
        QTest::newRow("SBX-04/relative-link-out")
            << "link-rel-out" << r << outside << "@out/secret.txt";
        QTest::newRow("SBX-04/folder-link-out")
            << "link-home/secret.txt" << r << outside << "@out/secret.txt";
        QTest::newRow("SBX-04/folder-link-out-missing")
            << "link-home/nothing" << r << outside << "";
        QTest::newRow("SBX-04/three-chained-links") << "chain1" << r << outside << "";
        QTest::newRow("SBX-04/loop") << "loop-a" << r << loop << "ELOOP";
        QTest::newRow("SBX-04/loop-as-parent") << "loop-a/x" << r << loop << "ELOOP";
        QTest::newRow("SBX-04/link-inside") << "link-in" << r << ok << "sub/inner.txt";
        QTest::newRow("SBX-04/folder-link-inside")
            << "link-dir-in/inner.txt" << r << ok << "sub/inner.txt";
        QTest::newRow("SBX-04/alias-of-root") << "@base/ws-alias/file.txt" << r << ok << "file.txt";
        QTest::newRow("SBX-05/dangling-out") << "dangling-out" << r << outside << "@out/new.txt";
        QTest::newRow("dangling-in") << "dangling-in" << r << notFound << "";
        QTest::newRow("missing") << "missing.txt" << r << notFound << "";
        QTest::newRow("file-as-folder") << "file.txt/x" << r << notFound << "";
        QTest::newRow("empty") << "" << r << invalid << "empty";
        QTest::newRow("nul-byte") << QStringLiteral("file.txt") + QChar(0) + "x" << r << invalid
                                  << "NUL";

        // Writes.
        QTest::newRow("write/new-file") << "new.txt" << w << ok << "new.txt";
        QTest::newRow("write/existing-file") << "file.txt" << w << ok << "file.txt";
        QTest::newRow("write/new-nested") << "a/b/c.txt" << w << ok << "a/b/c.txt";
        QTest::newRow("write/through-folder-link-inside")
            << "link-dir-in/new.txt" << w << ok << "sub/new.txt";
        QTest::newRow("write/trailing-dot-segments") << "./sub/./n.txt" << w << ok << "sub/n.txt";
        QTest::newRow("write/SBX-01/dotdot") << "../x" << w << outside << "";
        QTest::newRow("write/SBX-01/a-dotdot-dotdot-x") << "a/../../x" << w << outside << "";
        QTest::newRow("write/SBX-01/dot-dotdot-x") << "./../x" << w << outside << "";
        QTest::newRow("write/SBX-01/dotdot-after-missing-folder")
            << "newdir/../x" << w << invalid << "..";
        QTest::newRow("write/SBX-01/backslash-is-literal") << "..\\y" << w << ok << "..\\y";
        QTest::newRow("write/SBX-02/absolute-outside") << "@out/x.txt" << w << outside << "";
        QTest::newRow("write/SBX-02/double-slash") << "//tmp/x" << w << outside << "";
        QTest::newRow("write/SBX-02/tilde-is-a-name")
            << "~/.ssh/id_rsa" << w << ok << "~/.ssh/id_rsa";
        QTest::newRow("write/SBX-04/link-to-etc-passwd") << "link-passwd" << w << outside << "";
        QTest::newRow("write/SBX-04/three-chained-links") << "chain1" << w << outside << "";
        QTest::newRow("write/SBX-04/final-link-inside") << "link-in" << w << invalid << "link";
        QTest::newRow("write/SBX-04/loop") << "loop-a" << w << loop << "ELOOP";
        QTest::newRow("write/SBX-04/loop-as-parent") << "loop-a/x" << w << loop << "ELOOP";
        QTest::newRow("write/SBX-05/folder-link-out")
            << "link-home/new.txt" << w << outside << "@out/new.txt";
        QTest::newRow("write/SBX-05/dangling-final")
            << "dangling-out" << w << outside << "@out/new.txt";
        QTest::newRow("write/SBX-05/dangling-folder")
            << "dangling-dir-out/new.txt" << w << outside << "";
        QTest::newRow("write/dangling-inside") << "dangling-in" << w << invalid << "link";
        QTest::newRow("write/dot") << "." << w << invalid << "";
        QTest::newRow("write/root") << "/" << w << invalid << "";
        QTest::newRow("write/empty") << "" << w << invalid << "";
        QTest::newRow("write/nul") << QStringLiteral("a") + QChar(0) << w << invalid << "";
        QTest::newRow("write/file-as-folder") << "file.txt/x" << w << invalid << "";
    }

    void resolve() {
        QFETCH(QString, path);
        QFETCH(Access, access);
        QFETCH(QString, code);
        QFETCH(QString, expected);
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
        const auto resolved = workspace->resolve(path, access);
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
