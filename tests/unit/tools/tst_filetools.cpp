#include "TestSupport.h"
#include "tools/EditFileTool.h"
#include "tools/ReadFileTool.h"
#include "tools/SafeFile.h"
#include "tools/SearchFilesTool.h"
#include "tools/ToolRegistry.h"
#include "tools/Workspace.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QScopeGuard>
#include <QtTest>

#include <sys/stat.h>
#include <unistd.h>

using namespace m1;

// The file tools against every path-escape form (security-cases.md section 2), plus their own
// behaviour: line ranges, caps, atomic writes, edit uniqueness, listing and searching.
class TestFileTools : public QObject {
    Q_OBJECT

    QTemporaryDir m_base;
    QString m_ws;
    QString m_out;
    ToolRegistry m_registry = ToolRegistry::withBuiltins();

    Workspace workspace() { return *Workspace::open(m_ws); }

    Result<ToolResult> run(const QString& tool, const QJsonObject& arguments) {
        auto valid = m_registry.validateCall(tool, arguments);
        if (!valid)
            return std::unexpected(valid.error());
        return m_registry.find(tool)->execute(arguments, workspace());
    }

    QStringList outsideFiles() {
        QStringList files;
        QDirIterator it(m_out,
                        QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot,
                        QDirIterator::Subdirectories);
        while (it.hasNext())
            files.append(it.next());
        files.sort();
        return files;
    }

    static QJsonObject argumentsFor(const QString& tool, const QString& path) {
        if (tool == QLatin1String("read_file"))
            return {{"path", path}};
        if (tool == QLatin1String("list_directory"))
            return {{"path", path}, {"depth", 2}};
        if (tool == QLatin1String("search_files"))
            return {{"pattern", "secret"}, {"path", path}};
        if (tool == QLatin1String("write_file"))
            return {{"path", path}, {"content", "pwned"}};
        return {{"path", path}, {"old_string", "secret"}, {"new_string", "pwned"}};
    }

private Q_SLOTS:
    void cleanupTestCase() { QVERIFY(test::workspaceWayWasTaken()); }

    void initTestCase() {
        test::useWorkspaceWayFromEnvironment();
        QVERIFY(m_base.isValid());
        const QString base = QDir(m_base.path()).canonicalPath();
        m_ws = base + QStringLiteral("/ws");
        m_out = base + QStringLiteral("/out");
        QVERIFY(test::writeFile(m_out + QStringLiteral("/secret.txt"), "secret\n"));
        QVERIFY(test::writeFile(m_ws + QStringLiteral("/keep.txt"), "keep\n"));
        QDir().mkpath(m_ws + QStringLiteral("/sub"));
        const QString ws = m_ws + QLatin1Char('/');
        QVERIFY(QFile::link(m_out + QStringLiteral("/secret.txt"), ws + "link-file-out"));
        QVERIFY(QFile::link(QStringLiteral("../out/secret.txt"), ws + "link-rel-out"));
        QVERIFY(QFile::link(m_out, ws + "link-dir-out"));
        QVERIFY(QFile::link(QStringLiteral("chain2"), ws + "chain1"));
        QVERIFY(QFile::link(QStringLiteral("chain3"), ws + "chain2"));
        QVERIFY(QFile::link(QStringLiteral("link-dir-out"), ws + "chain3"));
        QVERIFY(QFile::link(QStringLiteral("loop-b"), ws + "loop-a"));
        QVERIFY(QFile::link(QStringLiteral("loop-a"), ws + "loop-b"));
        QVERIFY(QFile::link(QStringLiteral("../out/new.txt"), ws + "dangling-out"));
    }

    void escapes_data() {
        QTest::addColumn<QString>("tool");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("code");
        const QString outside = QStringLiteral("path.outside_workspace");
        const QString loop = QStringLiteral("path.symlink_loop");
        struct Case {
            const char* id;
            QString filePath;
            QString folderPath;
            QString code;
        };
        const QList<Case> cases{
            {"SBX-01/dotdot", "../out/secret.txt", "../out", outside},
            {"SBX-01/a-dotdot-dotdot", "a/../../out/secret.txt", "a/../../out", outside},
            {"SBX-01/dot-dotdot", "./../out/secret.txt", "./../out", outside},
            {"SBX-02/absolute-outside", m_out + "/secret.txt", m_out, outside},
            {"SBX-02/double-slash", "//etc/passwd", "//etc", outside},
            {"SBX-02/proc-self-environ", "/proc/self/environ", "/proc/self", outside},
            {"SBX-04/link-to-file-outside", "link-file-out", "link-dir-out", outside},
            {"SBX-04/relative-link-out", "link-rel-out", "link-dir-out/", outside},
            {"SBX-04/folder-link-out", "link-dir-out/secret.txt", "link-dir-out", outside},
            {"SBX-04/three-chained-links", "chain1/secret.txt", "chain1", outside},
            {"SBX-04/loop", "loop-a", "loop-a", loop},
            {"SBX-05/dangling-link-out", "dangling-out", "dangling-out", outside},
        };
        const QStringList fileTools{"read_file", "write_file", "edit_file"};
        const QStringList folderTools{"list_directory", "search_files"};
        for (const Case& c : cases) {
            for (const QString& tool : fileTools)
                QTest::addRow("%s/%s", c.id, qPrintable(tool)) << tool << c.filePath << c.code;
            for (const QString& tool : folderTools)
                QTest::addRow("%s/%s", c.id, qPrintable(tool)) << tool << c.folderPath << c.code;
        }
        QTest::newRow("SBX-05/write-into-folder-link/write_file")
            << "write_file"
            << "link-dir-out/new.txt" << outside;
        QTest::newRow("SBX-05/write-new-folder-under-link/write_file")
            << "write_file"
            << "link-dir-out/deep/new.txt" << outside;
    }

    void escapes() {
        QFETCH(QString, tool);
        QFETCH(QString, path);
        QFETCH(QString, code);
        const QStringList before = outsideFiles();
        const auto result = run(tool, argumentsFor(tool, path));
        QVERIFY2(!result, qPrintable(result ? result->output : QString()));
        QCOMPARE(result.error().code, code);
        QVERIFY(!result.error().message.isEmpty());
        QCOMPARE(outsideFiles(), before);
        QCOMPARE(test::readFile(m_out + QStringLiteral("/secret.txt")), QByteArray("secret\n"));
    }

    void literalNamesStayInside_data() {
        QTest::addColumn<QString>("path");
        QTest::newRow("SBX-01/backslash-name") << QStringLiteral("..\\..\\x");
        QTest::newRow("SBX-02/tilde-name") << QStringLiteral("~/.ssh/id_rsa");
    }
    void literalNamesStayInside() {
        QFETCH(QString, path);
        const auto written = run("write_file", {{"path", path}, {"content", "literal"}});
        QVERIFY2(written, qPrintable(written ? QString() : written.error().message));
        QCOMPARE(test::readFile(m_ws + QLatin1Char('/') + path), QByteArray("literal"));
        const auto read = run("read_file", {{"path", path}});
        QVERIFY(read);
        QCOMPARE(read->output, QStringLiteral("literal"));
    }

    void writeSurvivesLinkSwappedInAfterCheck() {
        // TOCTOU: resolve() approves sub2/new.txt, then sub2 becomes a link to <out>.
        QVERIFY(QDir().mkpath(m_ws + QStringLiteral("/sub2")));
        const Workspace ws = workspace();
        auto resolved = ws.resolve(QStringLiteral("sub2/new.txt"), Workspace::Access::Write);
        QVERIFY(resolved);
        QVERIFY(QDir(m_ws + QStringLiteral("/sub2")).removeRecursively());
        QVERIFY(QFile::link(m_out, m_ws + QStringLiteral("/sub2")));
        const auto written = SafeFile::writeAtomically(ws, *resolved, "x");
        QVERIFY(!written);
        QCOMPARE(written.error().code, QStringLiteral("path.outside_workspace"));
        QVERIFY(!QFile::exists(m_out + QStringLiteral("/new.txt")));
        const auto read = SafeFile::read(ws, m_ws + QStringLiteral("/sub2/secret.txt"), 100);
        QVERIFY(!read);
        QCOMPARE(read.error().code, QStringLiteral("path.outside_workspace"));
        QVERIFY(QFile::remove(m_ws + QStringLiteral("/sub2")));
    }

    void finalLinkSwappedInIsReplacedNotFollowed() {
        const Workspace ws = workspace();
        auto resolved = ws.resolve(QStringLiteral("swap.txt"), Workspace::Access::Write);
        QVERIFY(resolved);
        QVERIFY(QFile::link(m_out + QStringLiteral("/secret.txt"), *resolved));
        const auto written = SafeFile::writeAtomically(ws, *resolved, "x");
        QVERIFY(!written);
        QCOMPARE(written.error().code, QStringLiteral("path.outside_workspace"));
        QCOMPARE(test::readFile(m_out + QStringLiteral("/secret.txt")), QByteArray("secret\n"));
        QVERIFY(QFile::remove(*resolved));
    }

    void readLineRanges_data() {
        QTest::addColumn<QJsonObject>("arguments");
        QTest::addColumn<QString>("output"); // or the error code, prefixed with '!'
        QTest::newRow("whole") << QJsonObject{} << "one\ntwo\nthree\nfour\nfive\n";
        QTest::newRow("middle") << QJsonObject{{"start_line", 2}, {"end_line", 3}}
                                << "two\nthree\n";
        QTest::newRow("single") << QJsonObject{{"start_line", 5}, {"end_line", 5}} << "five\n";
        QTest::newRow("from") << QJsonObject{{"start_line", 4}} << "four\nfive\n";
        QTest::newRow("end-clamped")
            << QJsonObject{{"start_line", 4}, {"end_line", 99}} << "four\nfive\n";
        QTest::newRow("start-beyond") << QJsonObject{{"start_line", 6}} << "!file.range";
        QTest::newRow("end-before-start")
            << QJsonObject{{"start_line", 3}, {"end_line", 2}} << "!file.range";
        QTest::newRow("zero-start") << QJsonObject{{"start_line", 0}} << "!schema.invalid";
        QTest::newRow("fractional") << QJsonObject{{"start_line", 1.5}} << "!schema.invalid";
    }
    void readLineRanges() {
        QFETCH(QJsonObject, arguments);
        QFETCH(QString, output);
        QVERIFY(
            test::writeFile(m_ws + QStringLiteral("/lines.txt"), "one\ntwo\nthree\nfour\nfive\n"));
        arguments.insert("path", "lines.txt");
        const auto result = run("read_file", arguments);
        if (output.startsWith(QLatin1Char('!'))) {
            QVERIFY(!result);
            QCOMPARE(result.error().code, output.mid(1));
        } else {
            QVERIFY2(result, qPrintable(result ? QString() : result.error().message));
            QCOMPARE(result->output, output);
            QCOMPARE(result->details.value("totalLines").toInteger(), 5);
            QCOMPARE(result->details.value("truncated").toBool(), false);
        }
    }

    void readEmptyFile_data() {
        QTest::addColumn<QJsonObject>("arguments");
        QTest::addColumn<QString>("output"); // or the error code, prefixed with '!'
        QTest::newRow("REVIEW-5/empty-whole") << QJsonObject{} << "";
        QTest::newRow("REVIEW-5/empty-start-1") << QJsonObject{{"start_line", 1}} << "";
        QTest::newRow("REVIEW-5/empty-range-clamped")
            << QJsonObject{{"start_line", 1}, {"end_line", 3}} << "";
        QTest::newRow("REVIEW-5/empty-start-2") << QJsonObject{{"start_line", 2}} << "!file.range";
        QTest::newRow("REVIEW-5/empty-end-before-start")
            << QJsonObject{{"start_line", 2}, {"end_line", 1}} << "!file.range";
    }
    void readEmptyFile() {
        QFETCH(QJsonObject, arguments);
        QFETCH(QString, output);
        QVERIFY(test::writeFile(m_ws + QStringLiteral("/empty.txt"), QByteArray()));
        arguments.insert("path", "empty.txt");
        const auto result = run("read_file", arguments);
        if (output.startsWith(QLatin1Char('!'))) {
            QVERIFY(!result);
            QCOMPARE(result.error().code, output.mid(1));
            QVERIFY2(result.error().message.contains(QStringLiteral("empty.txt")) ||
                         result.error().message.contains(QStringLiteral("before")),
                     qPrintable(result.error().message));
        } else {
            QVERIFY2(result, qPrintable(result ? QString() : result.error().message));
            QCOMPARE(result->output, output);
            QCOMPARE(result->details.value("totalLines").toInteger(), 0);
            QCOMPARE(result->details.value("truncated").toBool(), false);
        }
    }

    void readCapsLargeFile() {
        QByteArray big;
        for (int i = 0; i < 40000; ++i)
            big += "line " + QByteArray::number(i) + "\n"; // ~ 400 KB
        QVERIFY(test::writeFile(m_ws + QStringLiteral("/big.txt"), big));
        const auto result = run("read_file", {{"path", "big.txt"}});
        QVERIFY(result);
        QVERIFY(result->details.value("truncated").toBool());
        QVERIFY(result->output.toUtf8().size() <= 256 * 1024 + 300);
        QVERIFY2(result->output.contains(QStringLiteral("[truncated: showing lines 1-")),
                 qPrintable(result->output.right(200)));
        const auto tail = run("read_file", {{"path", "big.txt"}, {"start_line", 39999}});
        QVERIFY(tail);
        QCOMPARE(tail->output, QStringLiteral("line 39998\nline 39999\n"));
    }

    void readRefusesBinaryAndNonUtf8_data() {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("code");
        QTest::newRow("nul-bytes") << QByteArray("ELF\0\0\1", 6) << "file.binary";
        QTest::newRow("latin1") << QByteArray("caf\xE9\n") << "file.not_utf8";
    }
    void readRefusesBinaryAndNonUtf8() {
        QFETCH(QByteArray, content);
        QFETCH(QString, code);
        QVERIFY(test::writeFile(m_ws + QStringLiteral("/bin.dat"), content));
        const auto result = run("read_file", {{"path", "bin.dat"}});
        QVERIFY(!result);
        QCOMPARE(result.error().code, code);
        QVERIFY(result.error().message.contains(QStringLiteral("bin.dat")));
    }

    void readRefusesFolderAndFifo() {
        auto folder = run("read_file", {{"path", "sub"}});
        QVERIFY(!folder);
        QCOMPARE(folder.error().code, QStringLiteral("file.not_regular"));
        const QByteArray fifo = QFile::encodeName(m_ws + QStringLiteral("/pipe"));
        QCOMPARE(::mkfifo(fifo.constData(), 0600), 0);
        auto pipe = run("read_file", {{"path", "pipe"}}); // must not block
        QVERIFY(!pipe);
        QCOMPARE(pipe.error().code, QStringLiteral("file.not_regular"));
        QFile::remove(QString::fromUtf8(fifo));
    }

    void writeCreatesFoldersAndReplacesAtomically() {
        auto created = run("write_file", {{"path", "new/deep/file.txt"}, {"content", "v1"}});
        QVERIFY(created);
        QCOMPARE(created->details.value("created").toBool(), true);
        const QString path = m_ws + QStringLiteral("/new/deep/file.txt");
        QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        auto replaced = run("write_file", {{"path", "new/deep/file.txt"}, {"content", "v2 ü"}});
        QVERIFY(replaced);
        QCOMPARE(replaced->details.value("created").toBool(), false);
        QCOMPARE(test::readFile(path), QByteArray("v2 \xC3\xBC"));
        QVERIFY(QFileInfo(path).permissions() & QFile::ExeOwner); // mode kept
        // No temporary file is left behind.
        QCOMPARE(QDir(m_ws + QStringLiteral("/new/deep")).entryList(QDir::Files | QDir::Hidden),
                 QStringList{QStringLiteral("file.txt")});
    }

    void writeRefusesFinalLinkInside() {
        QVERIFY(QFile::link(QStringLiteral("keep.txt"), m_ws + QStringLiteral("/link-in")));
        auto result = run("write_file", {{"path", "link-in"}, {"content", "x"}});
        QVERIFY(!result);
        QCOMPARE(result.error().code, QStringLiteral("path.invalid"));
        QCOMPARE(test::readFile(m_ws + QStringLiteral("/keep.txt")), QByteArray("keep\n"));
        QFile::remove(m_ws + QStringLiteral("/link-in"));
    }

    void editUniqueness_data() {
        QTest::addColumn<QString>("oldString");
        QTest::addColumn<QString>("newString");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("message");
        QTest::newRow("unique") << "beta"
                                << "BETA"
                                << ""
                                << "";
        QTest::newRow("no-match") << "delta"
                                  << "x"
                                  << "edit.no_match"
                                  << "was not found";
        QTest::newRow("twice") << "alpha"
                               << "x"
                               << "edit.ambiguous"
                               << "occurs 2 times";
        QTest::newRow("overlapping") << "aa"
                                     << "x"
                                     << "edit.ambiguous"
                                     << "occurs 2 times";
        QTest::newRow("same") << "beta"
                              << "beta"
                              << "edit.no_change"
                              << "same";
        QTest::newRow("empty-old") << ""
                                   << "x"
                                   << "schema.invalid"
                                   << "/old_string";
        QTest::newRow("whitespace-matters") << "beta "
                                            << "x"
                                            << "edit.no_match"
                                            << "whitespace";
    }
    void editUniqueness() {
        QFETCH(QString, oldString);
        QFETCH(QString, newString);
        QFETCH(QString, code);
        QFETCH(QString, message);
        const QByteArray original = "alpha\nbeta\nalpha\naaa\n";
        QVERIFY(test::writeFile(m_ws + QStringLiteral("/edit.txt"), original));
        const auto result =
            run("edit_file",
                {{"path", "edit.txt"}, {"old_string", oldString}, {"new_string", newString}});
        if (code.isEmpty()) {
            QVERIFY2(result, qPrintable(result ? QString() : result.error().message));
            QCOMPARE(test::readFile(m_ws + QStringLiteral("/edit.txt")),
                     QByteArray("alpha\nBETA\nalpha\naaa\n"));
            QCOMPARE(result->details.value("line").toInteger(), 2);
        } else {
            QVERIFY(!result);
            QCOMPARE(result.error().code, code);
            QVERIFY2(result.error().message.contains(message), qPrintable(result.error().message));
            QCOMPARE(test::readFile(m_ws + QStringLiteral("/edit.txt")), original);
        }
    }

    void editCountIsLinear_data() {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("oldString");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("message");
        // Quadratic counting would need ~10^11 comparisons for each of these.
        const QByteArray as(2 * 1024 * 1024, 'a');
        const QString needle(64 * 1024, QLatin1Char('a'));
        QTest::newRow("REVIEW-3/overlapping-needle")
            << as << needle << "edit.ambiguous"
            << QStringLiteral("occurs %1 times").arg(as.size() - needle.size() + 1);
        QTest::newRow("REVIEW-3/near-miss-needle")
            << as << QLatin1Char('b') + needle << "edit.no_match"
            << "was not found";
        QTest::newRow("REVIEW-3/unique-at-end") << as + "b" << needle + QLatin1Char('b') << ""
                                                << "";
    }
    void editCountIsLinear() {
        QFETCH(QByteArray, content);
        QFETCH(QString, oldString);
        QFETCH(QString, code);
        QFETCH(QString, message);
        QVERIFY(test::writeFile(m_ws + QStringLiteral("/long.txt"), content));
        // No timing assertion (machines here are shared and noisy): the quadratic count this
        // guards against takes hours on these inputs, so a regression ends in the ctest timeout.
        const auto result = EditFileTool().execute(
            {{"path", "long.txt"}, {"old_string", oldString}, {"new_string", "x"}}, workspace());
        if (code.isEmpty()) {
            QVERIFY2(result, qPrintable(result ? QString() : result.error().message));
            QCOMPARE(test::readFile(m_ws + QStringLiteral("/long.txt")),
                     content.left(content.size() - oldString.size()) + "x");
        } else {
            QVERIFY(!result);
            QCOMPARE(result.error().code, code);
            QVERIFY2(result.error().message.contains(message), qPrintable(result.error().message));
        }
    }

    void editThroughLinkInsideEditsTarget() {
        QVERIFY(test::writeFile(m_ws + QStringLiteral("/target.txt"), "one two"));
        QVERIFY(QFile::link(QStringLiteral("target.txt"), m_ws + QStringLiteral("/alias.txt")));
        auto result = run("edit_file",
                          {{"path", "alias.txt"}, {"old_string", "two"}, {"new_string", "three"}});
        QVERIFY(result);
        QCOMPARE(test::readFile(m_ws + QStringLiteral("/target.txt")), QByteArray("one three"));
        QVERIFY(QFileInfo(m_ws + QStringLiteral("/alias.txt")).isSymLink());
    }

    void hardLinks_data() {
        QTest::addColumn<QString>("tool");
        QTest::addColumn<bool>("allow");
        QTest::addColumn<QString>("code"); // empty: the call succeeds
        QTest::newRow("REVIEW-2/hard-link/read_file") << "read_file" << false << "file.hard_link";
        QTest::newRow("REVIEW-2/hard-link/edit_file") << "edit_file" << false << "file.hard_link";
        QTest::newRow("REVIEW-2/hard-link/search_files") << "search_files" << false << "";
        QTest::newRow("REVIEW-2/hard-link-allowed/read_file") << "read_file" << true << "";
        QTest::newRow("REVIEW-2/hard-link/write_file-replaces-name") << "write_file" << false << "";
    }
    void hardLinks() {
        QFETCH(QString, tool);
        QFETCH(bool, allow);
        QFETCH(QString, code);
        // A planted second name for an outside inode (same filesystem, as link() requires).
        const QString outside = m_out + QStringLiteral("/credentials");
        QVERIFY(test::writeFile(outside, "aws_secret_access_key=AKIAFAKE\n"));
        QVERIFY(QDir().mkpath(m_ws + QStringLiteral("/hl")));
        const QString inside = m_ws + QStringLiteral("/hl/creds.txt");
        QFile::remove(inside);
        if (::link(QFile::encodeName(outside).constData(), QFile::encodeName(inside).constData()) !=
            0)
            QSKIP("link() is not possible here");
        const auto cleanup = qScopeGuard([&] { QFile::remove(inside); });

        Result<ToolResult> result;
        if (tool == QLatin1String("read_file")) {
            const ReadFileTool reader(ReadFileTool::Limits{allow});
            result = reader.execute({{"path", "hl/creds.txt"}}, workspace());
        } else if (tool == QLatin1String("edit_file")) {
            result = EditFileTool().execute(
                {{"path", "hl/creds.txt"}, {"old_string", "AKIA"}, {"new_string", "x"}},
                workspace());
        } else if (tool == QLatin1String("search_files")) {
            result =
                SearchFilesTool().execute({{"pattern", "aws_secret"}, {"path", "hl"}}, workspace());
        } else {
            result = run(tool, {{"path", "hl/creds.txt"}, {"content", "replaced"}});
        }

        const QByteArray secret("aws_secret_access_key=AKIAFAKE\n");
        if (!code.isEmpty()) {
            QVERIFY2(!result, qPrintable(result ? result->output : QString()));
            QCOMPARE(result.error().code, code);
            QVERIFY2(result.error().message.contains(QStringLiteral("2 hard links")),
                     qPrintable(result.error().message));
            QCOMPARE(test::readFile(inside), secret); // no copy made inside
        } else if (tool == QLatin1String("search_files")) {
            QVERIFY(result);
            QVERIFY2(!result->output.contains(QStringLiteral("AKIA")), qPrintable(result->output));
            QCOMPARE(result->details.value("skippedHardLinks").toInt(), 1);
            QVERIFY2(result->output.contains(QStringLiteral("hard link")),
                     qPrintable(result->output));
        } else if (tool == QLatin1String("read_file")) {
            QVERIFY2(result, qPrintable(result ? QString() : result.error().message));
            QVERIFY(result->output.startsWith(QString::fromUtf8(secret)));
            QVERIFY(result->output.contains(QStringLiteral("2 hard links")));
            QCOMPARE(result->details.value("hardLinks").toInteger(), 2);
        } else {
            QVERIFY2(result, qPrintable(result ? QString() : result.error().message));
            QCOMPARE(test::readFile(inside), QByteArray("replaced"));
        }
        QCOMPARE(test::readFile(outside), secret);
    }

    void listDirectory() {
        QTemporaryDir dir;
        const QString root = QDir(dir.path()).canonicalPath();
        QVERIFY(test::writeFile(root + "/b.txt", "12345"));
        QVERIFY(test::writeFile(root + "/a/inner.txt", ""));
        QVERIFY(test::writeFile(root + "/a/deeper/x.txt", ""));
        QVERIFY(QFile::link(m_out, root + "/c-out"));
        QVERIFY(QFile::link("b.txt", root + "/d-in"));
        auto ws = Workspace::open(root);
        QVERIFY(ws);
        const Tool* tool = m_registry.find("list_directory");
        auto shallow = tool->execute({}, *ws);
        QVERIFY(shallow);
        QCOMPARE(shallow->output, QStringLiteral("a/\nb.txt (5 bytes)\nc-out@ -> (outside the "
                                                 "workspace, not followed)\nd-in@ -> b.txt"));
        auto deep = tool->execute({{"path", "."}, {"depth", 2}}, *ws);
        QVERIFY(deep);
        QVERIFY(
            deep->output.startsWith(QStringLiteral("a/\na/deeper/\na/inner.txt (0 bytes)\nb.txt")));
        QVERIFY(!deep->output.contains(QStringLiteral("x.txt")));
        QVERIFY(!deep->output.contains(QStringLiteral("secret")));
        auto file = tool->execute({{"path", "b.txt"}}, *ws);
        QVERIFY(!file);
        QCOMPARE(file.error().code, QStringLiteral("file.not_folder"));
    }

    void listDirectoryCap() {
        QTemporaryDir dir;
        for (int i = 0; i < 2100; ++i)
            QVERIFY(
                test::writeFile(dir.path() + QStringLiteral("/f%1").arg(i, 5, 10, QChar('0')), ""));
        auto ws = Workspace::open(dir.path());
        auto result = m_registry.find("list_directory")->execute({}, *ws);
        QVERIFY(result);
        QCOMPARE(result->details.value("entries").toInt(), 2000);
        QVERIFY(result->details.value("truncated").toBool());
        QVERIFY(result->output.contains(QStringLiteral("[truncated: only the first 2000")));
    }

    void searchFiles() {
        QTemporaryDir dir;
        const QString root = QDir(dir.path()).canonicalPath();
        QVERIFY(test::writeFile(root + "/src/main.cpp", "int main() {}\n// TODO fix\n"));
        QVERIFY(test::writeFile(root + "/src/util/u.cpp", "void u(); // TODO later\n"));
        QVERIFY(test::writeFile(root + "/notes.md", "TODO write docs\n"));
        QVERIFY(test::writeFile(root + "/blob.bin", QByteArray("TODO\0binary", 11)));
        QVERIFY(QFile::link(m_out, root + "/out-link"));
        QVERIFY(test::writeFile(m_out + "/todo.txt", "TODO outside\n"));
        auto ws = Workspace::open(root);
        const Tool* tool = m_registry.find("search_files");

        auto all = tool->execute({{"pattern", "TODO"}}, *ws);
        QVERIFY(all);
        QCOMPARE(all->output, QStringLiteral("notes.md:1: TODO write docs\nsrc/main.cpp:2: // TODO "
                                             "fix\nsrc/util/u.cpp:1: void u(); // TODO later"));
        QCOMPARE(all->details.value("skippedBinary").toInt(), 1);
        QCOMPARE(all->details.value("skippedLinks").toInt(), 1);

        auto cpp = tool->execute({{"pattern", "TODO"}, {"glob", "**/*.cpp"}}, *ws);
        QVERIFY(cpp);
        QCOMPARE(cpp->details.value("matches").toInt(), 2);
        auto topLevel = tool->execute({{"pattern", "TODO"}, {"glob", "src/*.cpp"}}, *ws);
        QCOMPARE(topLevel->details.value("matches").toInt(), 1);
        auto byName = tool->execute({{"pattern", "TODO"}, {"glob", "*.md"}}, *ws);
        QCOMPARE(byName->details.value("matches").toInt(), 1);

        auto capped = tool->execute({{"pattern", "TODO"}, {"max_results", 2}}, *ws);
        QVERIFY(capped);
        QVERIFY(capped->details.value("truncated").toBool());
        QVERIFY(capped->output.contains(QStringLiteral("[truncated: stopped after 2 matches")));

        auto none = tool->execute({{"pattern", "nothing-here"}}, *ws);
        QVERIFY(none);
        // No match is an answer, not a failure (the model and m1ctl must not see an error).
        QVERIFY(!none->isError);
        QVERIFY(none->output.startsWith(QStringLiteral("No matches")));
        QCOMPARE(none->details.value("matches").toInt(), 0);

        auto bad = tool->execute({{"pattern", "(unclosed"}}, *ws);
        QVERIFY(!bad);
        QCOMPARE(bad.error().code, QStringLiteral("search.invalid_pattern"));
        QVERIFY(bad.error().message.contains(QStringLiteral("(unclosed")));
    }

    void searchBudgets_data() {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<int>("timeBudgetMs");
        QTest::addColumn<qint64>("maxScannedBytes");
        QTest::addColumn<QString>("note"); // expected in the output
        QTest::addColumn<QString>("flag"); // expected true in details, or a count above 0
        const int noLimit = 60000;
        const qint64 noBytes = 1LL << 30;
        QTest::newRow("REVIEW-1/catastrophic-regex/nested-plus")
            << "(a+)+$" << noLimit << noBytes << "match limit"
            << "matchLimitLines";
        QTest::newRow("REVIEW-1/catastrophic-regex/dot-star-20")
            << "(.*a){20}$" << noLimit << noBytes << "match limit"
            << "matchLimitLines";
        QTest::newRow("REVIEW-1/time-budget")
            << "(a+)+$" << 1 << noBytes << "truncated: time budget"
            << "timeBudgetHit";
        QTest::newRow("REVIEW-1/byte-budget")
            << "zzz" << noLimit << qint64(100) << "truncated: byte budget"
            << "byteBudgetHit";
    }
    void searchBudgets() {
        QFETCH(QString, pattern);
        QFETCH(int, timeBudgetMs);
        QFETCH(qint64, maxScannedBytes);
        QFETCH(QString, note);
        QFETCH(QString, flag);
        QTemporaryDir dir;
        const QString root = QDir(dir.path()).canonicalPath();
        // Each line defeats a backtracking matcher: many ways to split the a's, then no match.
        const QByteArray line = QByteArray(48, 'a') + "!\n";
        for (int file = 0; file < 40; ++file)
            QVERIFY(test::writeFile(root + QStringLiteral("/f%1.txt").arg(file, 2, 10, QChar('0')),
                                    line.repeated(5)));
        auto ws = Workspace::open(root);
        QVERIFY(ws);
        SearchFilesTool::Limits limits;
        limits.timeBudgetMs = timeBudgetMs;
        limits.maxScannedBytes = maxScannedBytes;
        const SearchFilesTool tool(limits);
        QVERIFY(m_registry.validateCall("search_files", {{"pattern", pattern}}));
        const auto result = tool.execute({{"pattern", pattern}}, *ws);
        QVERIFY2(result, qPrintable(result ? QString() : result.error().message));
        QVERIFY2(result->output.contains(note), qPrintable(result->output.right(400)));
        const QJsonValue value = result->details.value(flag);
        QVERIFY2(value.isBool() ? value.toBool() : value.toInt() > 0, qPrintable(flag));
        QVERIFY(result->details.value("truncated").toBool() ||
                flag == QLatin1String("matchLimitLines"));
        if (flag == QLatin1String("matchLimitLines"))
            QVERIFY(result->output.contains(QStringLiteral("f00.txt:1")));
    }

    void searchLimitsKeepOrdinaryPatterns() {
        QTemporaryDir dir;
        const QString root = QDir(dir.path()).canonicalPath();
        QVERIFY(test::writeFile(root + "/a.txt", "one\n(*x) two\n"));
        auto ws = Workspace::open(root);
        const Tool* tool = m_registry.find("search_files");
        auto plain = tool->execute({{"pattern", "^t?wo|one$"}}, *ws);
        QVERIFY(plain);
        QCOMPARE(plain->output, QStringLiteral("a.txt:1: one"));
        QCOMPARE(plain->details.value("matchLimitLines").toInt(), 0);
        auto raised = tool->execute({{"pattern", "(*LIMIT_MATCH=1000000000)(a+)+$"}}, *ws);
        QVERIFY(!raised);
        QCOMPARE(raised.error().code, QStringLiteral("search.invalid_pattern"));
        QVERIFY(raised.error().message.contains(QStringLiteral("resource limit")));
        auto bad = tool->execute({{"pattern", "ab("}}, *ws);
        QVERIFY(!bad);
        QVERIFY2(bad.error().message.contains(QStringLiteral("\"ab(\"")) &&
                     bad.error().message.contains(QStringLiteral("offset 3")),
                 qPrintable(bad.error().message));
    }

    void registryOffersExactlyTheBuiltins() {
        QCOMPARE(m_registry.enabledNames(),
                 (QStringList{"edit_file", "list_directory", "read_file", "run_command",
                              "search_files", "update_plan", "write_file"}));
        const QHash<QString, Scope> scopes{
            {"read_file", Scope::Read},    {"list_directory", Scope::Read},
            {"search_files", Scope::Read}, {"write_file", Scope::Write},
            {"edit_file", Scope::Write},   {"run_command", Scope::Execute}};
        for (const QString& name : m_registry.enabledNames()) {
            const auto spec = m_registry.spec(name);
            QVERIFY(spec);
            QCOMPARE(spec->scope, scopes.value(name));
            QVERIFY(!spec->description.isEmpty());
            QCOMPARE(spec->inputSchema.value("type").toString(), QStringLiteral("object"));
            QCOMPARE(spec->inputSchema.value("additionalProperties"), QJsonValue(false));
            QVERIFY(spec->inputSchema.value("required").isArray());
        }
    }

    void allowlistAndSchema_data() {
        QTest::addColumn<QString>("tool");
        QTest::addColumn<QJsonObject>("arguments");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("message");
        QTest::newRow("SBX-19/unknown-tool")
            << "delete_everything" << QJsonObject{} << "tool.unknown"
            << "delete_everything";
        QTest::newRow("SBX-19/wrong-case")
            << "Read_File" << QJsonObject{{"path", "a"}} << "tool.unknown"
            << "Read_File";
        QTest::newRow("SBX-19/cyrillic-e")
            << QStringLiteral("read_fil\u0435") << QJsonObject{{"path", "a"}} << "tool.unknown"
            << "";
        QTest::newRow("SBX-19/extra-property")
            << "read_file" << QJsonObject{{"path", "a"}, {"mode", "x"}} << "schema.invalid"
            << "/mode: unknown property";
        QTest::newRow("SBX-19/wrong-type")
            << "read_file" << QJsonObject{{"path", 3}} << "schema.invalid"
            << "/path: expected string";
        QTest::newRow("SBX-19/missing-field")
            << "write_file" << QJsonObject{{"path", "a"}} << "schema.invalid"
            << "/content: required";
        QTest::newRow("SBX-19/ten-megabyte-argument")
            << "read_file" << QJsonObject{{"path", QString(10 * 1024 * 1024, 'a')}}
            << "schema.invalid"
            << "/path: text is too long";
        QTest::newRow("SBX-11/argv-as-string")
            << "run_command" << QJsonObject{{"argv", "ls && touch canary-11"}} << "schema.invalid"
            << "/argv: expected array, got string";
        QTest::newRow("run_command/empty-argv")
            << "run_command" << QJsonObject{{"argv", QJsonArray{}}} << "schema.invalid"
            << "/argv: too few items";
        QTest::newRow("run_command/timeout-too-long")
            << "run_command" << QJsonObject{{"argv", QJsonArray{"true"}}, {"timeout_seconds", 601}}
            << "schema.invalid"
            << "/timeout_seconds";
        QTest::newRow("list_directory/depth-6")
            << "list_directory" << QJsonObject{{"depth", 6}} << "schema.invalid"
            << "/depth";
    }
    void allowlistAndSchema() {
        QFETCH(QString, tool);
        QFETCH(QJsonObject, arguments);
        QFETCH(QString, code);
        QFETCH(QString, message);
        const auto result = m_registry.validateCall(tool, arguments);
        QVERIFY(!result);
        QCOMPARE(result.error().code, code);
        QVERIFY2(result.error().message.contains(message), qPrintable(result.error().message));
    }
};

QTEST_GUILESS_MAIN(TestFileTools)
#include "tst_filetools.moc"
