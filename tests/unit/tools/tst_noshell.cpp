#include <QDirIterator>
#include <QFile>
#include <QRegularExpression>
#include <QtTest>

// SBX-23, SBX-12: nothing in src/ may start a shell or a PATH search that falls back to one
// (execvp/execlp hand ENOEXEC files to /bin/sh), and nothing may switch TLS verification off.
// This file lives in tests/, so its own patterns are never scanned.
class TestNoShell : public QObject {
    Q_OBJECT

    static QList<QRegularExpression> forbidden() {
        return {QRegularExpression(QStringLiteral("startCommand")),
                QRegularExpression(QStringLiteral("\"/bin/sh\"")),
                QRegularExpression(QStringLiteral("\\bexecvp")),
                QRegularExpression(QStringLiteral("\\bexeclp")),
                QRegularExpression(QStringLiteral("\\bsystem\\s*\\(")),
                QRegularExpression(QStringLiteral("\\bpopen\\s*\\(")),
                QRegularExpression(QStringLiteral("ignoreSslErrors")),
                QRegularExpression(QStringLiteral("VerifyNone"))};
    }

    static QStringList findings(const QString& text) {
        QStringList found;
        for (const QRegularExpression& pattern : forbidden())
            if (pattern.match(text).hasMatch())
                found.append(pattern.pattern());
        return found;
    }

private Q_SLOTS:
    void patternsCatch_data() {
        QTest::addColumn<QString>("line");
        QTest::addColumn<bool>("forbiddenLine");
        QTest::newRow("startCommand") << "process.startCommand(cmd);" << true;
        QTest::newRow("bin-sh") << "p.start(\"/bin/sh\", {\"-c\", s});" << true;
        QTest::newRow("execvp") << "::execvp(argv[0], argv);" << true;
        QTest::newRow("execlp") << "execlp(\"ls\", \"ls\", nullptr);" << true;
        QTest::newRow("system") << "std::system(cmd);" << true;
        QTest::newRow("system-space") << "system (cmd);" << true;
        QTest::newRow("popen") << "FILE* f = popen(cmd, \"r\");" << true;
        QTest::newRow("ignoreSslErrors") << "reply->ignoreSslErrors();" << true;
        QTest::newRow("VerifyNone") << "config.setPeerVerifyMode(QSslSocket::VerifyNone);" << true;
        QTest::newRow("systemEnvironment-ok")
            << "QProcessEnvironment::systemEnvironment()" << false;
        QTest::newRow("filesystem-ok") << "std::filesystem::path p;" << false;
        QTest::newRow("execve-ok") << "// execve never falls back to a shell" << false;
    }
    void patternsCatch() {
        QFETCH(QString, line);
        QFETCH(bool, forbiddenLine);
        QCOMPARE(!findings(line).isEmpty(), forbiddenLine);
    }

    void sourcesHaveNoShell() {
        const QString root = QStringLiteral(M1_SOURCE_DIR "/src");
        QDirIterator it(root, QDir::Files, QDirIterator::Subdirectories);
        int scanned = 0;
        bool sawRunCommand = false;
        QStringList problems;
        while (it.hasNext()) {
            const QString path = it.next();
            QFile file(path);
            QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(path));
            const QStringList lines = QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'));
            ++scanned;
            sawRunCommand |= path.endsWith(QLatin1String("tools/RunCommandTool.cpp"));
            for (qsizetype i = 0; i < lines.size(); ++i) {
                const QStringList found = findings(lines.at(i));
                if (!found.isEmpty())
                    problems.append(QStringLiteral("%1:%2: %3")
                                        .arg(path)
                                        .arg(i + 1)
                                        .arg(found.join(QStringLiteral(", "))));
            }
        }
        QVERIFY2(scanned > 10, qPrintable(QStringLiteral("only %1 files scanned").arg(scanned)));
        QVERIFY(sawRunCommand);
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
    }
};

QTEST_GUILESS_MAIN(TestNoShell)
#include "tst_noshell.moc"
