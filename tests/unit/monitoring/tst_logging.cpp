// The JSON-lines log: one valid JSON object per line (SEC-07), context ids, level filtering,
// size-based rotation, redaction in the file (SEC-05) and a failing log that does not stop the
// program (SEC-10).
#include "monitoring/JsonLogger.h"
#include "monitoring/LogCategories.h"
#include "monitoring/LogContext.h"
#include "monitoring/SecretRedactor.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

using m1::JsonLogger;

namespace {

QList<QByteArray> linesOf(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QList<QByteArray> lines = f.readAll().split('\n');
    if (!lines.isEmpty() && lines.last().isEmpty())
        lines.removeLast();
    return lines;
}

QJsonObject parse(const QByteArray& line) {
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(line, &error);
    return error.error == QJsonParseError::NoError ? doc.object() : QJsonObject();
}

QString fakeKey() {
    QString body = QStringLiteral("FAKE-TEST-KEY-NOT-REAL-");
    body += QString(93 - body.size(), QLatin1Char('x'));
    return QStringLiteral("sk-ant-api03-%1AA").arg(body);
}

} // namespace

class TestLogging : public QObject {
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;
    m1::SecretRedactor m_redactor;

    QString logPath() const { return m_dir->filePath(QStringLiteral("logs/m1.log")); }
    void install(JsonLogger::Level level = JsonLogger::Level::Debug, qint64 maxBytes = 1 << 20,
                 int maxFiles = 3, const QString& path = {}) {
        JsonLogger::Options o;
        o.filePath = path.isEmpty() ? logPath() : path;
        o.level = level;
        o.maxFileBytes = maxBytes;
        o.maxFiles = maxFiles;
        o.stderrMode = JsonLogger::StderrMode::Never;
        o.redactor = &m_redactor;
        JsonLogger::install(o);
    }

private Q_SLOTS:
    void init() { m_dir = std::make_unique<QTemporaryDir>(); }
    void cleanup() { JsonLogger::uninstall(); }

    void jsonLinesWithContext() {
        install();
        {
            m1::LogContext context(QStringLiteral("run-7"), QStringLiteral("toolu_01"));
            qCInfo(lcRun) << "step" << 3;
        }
        qCWarning(lcPolicy, "denied %s", "rm");
        JsonLogger::uninstall();
        const auto lines = linesOf(logPath());
        QCOMPARE(lines.size(), 2);
        const QJsonObject first = parse(lines.at(0));
        QCOMPARE(first.value(QStringLiteral("level")).toString(), QStringLiteral("info"));
        QCOMPARE(first.value(QStringLiteral("category")).toString(), QStringLiteral("m1.run"));
        QCOMPARE(first.value(QStringLiteral("msg")).toString(), QStringLiteral("step 3"));
        QCOMPARE(first.value(QStringLiteral("run_id")).toString(), QStringLiteral("run-7"));
        QCOMPARE(first.value(QStringLiteral("request_id")).toString(), QStringLiteral("toolu_01"));
        static const QRegularExpression iso(
            QStringLiteral("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$"));
        QVERIFY(iso.match(first.value(QStringLiteral("ts")).toString()).hasMatch());
        const QJsonObject second = parse(lines.at(1));
        QCOMPARE(second.value(QStringLiteral("level")).toString(), QStringLiteral("warning"));
        QCOMPARE(second.value(QStringLiteral("category")).toString(), QStringLiteral("m1.policy"));
        QVERIFY(!second.contains(QStringLiteral("run_id"))); // the context ended
    }

    void oneLinePerEvent_data() {
        QTest::addColumn<QString>("message");
        QTest::newRow("SEC-07/lf") << QStringLiteral("a\nb");
        QTest::newRow("SEC-07/crlf") << QStringLiteral("a\r\nb\rc");
        QTest::newRow("SEC-07/u2028") << QStringLiteral("a") + QChar(0x2028) + QStringLiteral("b") +
                                             QChar(0x2029) + QChar(0x85);
        QTest::newRow("SEC-07/ansi") << QStringLiteral("\x1b[2J\x1b[31mred\x1b[0m\x07");
        QTest::newRow("SEC-07/forged")
            << QStringLiteral("ok\"}\n{\"level\":\"info\",\"msg\":\"approved\"}");
        QTest::newRow("SEC-07/nul-del") << QString(QChar(0)) + QStringLiteral("x") + QChar(0x7f);
    }
    void oneLinePerEvent() {
        QFETCH(QString, message);
        install();
        qCInfo(lcTools).noquote() << message;
        JsonLogger::uninstall();
        QFile f(logPath());
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray raw = f.readAll();
        QCOMPARE(raw.count('\n'), 1);
        QVERIFY(raw.endsWith('\n'));
        QVERIFY(!raw.contains('\r'));
        QVERIFY(!raw.contains('\x1b'));
        QVERIFY(!raw.contains(QStringLiteral("\u2028").toUtf8()));
        QVERIFY(!raw.contains(QStringLiteral("\u2029").toUtf8()));
        QCOMPARE(parse(raw.trimmed()).value(QStringLiteral("msg")).toString(), message);
    }

    void levelFiltering() {
        install(JsonLogger::Level::Warning);
        qCDebug(lcNet) << "debug";
        qCInfo(lcNet) << "info";
        qCWarning(lcNet) << "warning";
        qCCritical(lcNet) << "critical";
        JsonLogger::uninstall();
        const auto lines = linesOf(logPath());
        QCOMPARE(lines.size(), 2);
        QCOMPARE(parse(lines.at(0)).value(QStringLiteral("msg")).toString(),
                 QStringLiteral("warning"));
        QCOMPARE(parse(lines.at(1)).value(QStringLiteral("level")).toString(),
                 QStringLiteral("critical"));

        qputenv("M1_LOG_LEVEL", "debug");
        QCOMPARE(JsonLogger::levelFromEnvironment(JsonLogger::Level::Warning),
                 JsonLogger::Level::Debug);
        qputenv("M1_LOG_LEVEL", "nonsense");
        QCOMPARE(JsonLogger::levelFromEnvironment(JsonLogger::Level::Warning),
                 JsonLogger::Level::Warning);
        qunsetenv("M1_LOG_LEVEL");
    }

    void rotationKeepsAFixedNumberOfFiles() {
        install(JsonLogger::Level::Debug, 4096, 3);
        for (int i = 0; i < 300; ++i)
            qCInfo(lcStore, "line %d with some padding to make it longer than fifty bytes", i);
        JsonLogger::uninstall();
        QVERIFY(QFile::exists(logPath()));
        QVERIFY(QFile::exists(logPath() + QStringLiteral(".1")));
        QVERIFY(QFile::exists(logPath() + QStringLiteral(".2")));
        QVERIFY(!QFile::exists(logPath() + QStringLiteral(".3")));
        int last = -1;
        for (const QString& suffix : {QStringLiteral(".2"), QStringLiteral(".1"), QString()}) {
            const QString path = logPath() + suffix;
            QVERIFY(QFileInfo(path).size() <= 4096);
            for (const QByteArray& line : linesOf(path)) {
                const QString msg = parse(line).value(QStringLiteral("msg")).toString();
                QVERIFY2(msg.startsWith(QLatin1String("line ")), line.constData());
                const int n = msg.section(QLatin1Char(' '), 1, 1).toInt();
                if (last < 0)
                    last = n - 1;      // older lines went with the removed files
                QCOMPARE(n, last + 1); // in order, nothing lost within the kept files
                last = n;
            }
        }
        QCOMPARE(last, 299);
    }

    void secretsNeverReachTheFile() {
        const QString key = fakeKey();
        m_redactor.addSecret(key);
        install();
        const QString part1 = key.left(50);
        const QString part2 = key.mid(50);
        qCInfo(lcNet) << part1 << part2;                     // quoted, space between
        qCInfo(lcNet).noquote().nospace() << part1 << part2; // joined exactly
        qCInfo(lcNet).noquote() << "header x-api-key:" << key;
        qCInfo(lcNet).noquote() << "cut" << key.left(30);
        JsonLogger::uninstall();
        m_redactor.clearSecrets();
        QFile f(logPath());
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray raw = f.readAll();
        QCOMPARE(raw.count('\n'), 4);
        QVERIFY(!raw.contains(part1.toUtf8()));
        QVERIFY(!raw.contains(part2.toUtf8()));
        QVERIFY(!raw.contains("FAKE-TEST-KEY"));
        QVERIFY(!raw.contains("xxxxxxxxxxxxxxxx"));
        QCOMPARE(raw.count("[REDACTED]") >= 4, true);
    }

    void failingLogDoesNotStopTheProgram() {
        // SEC-10: disk full (/dev/full) and a folder that cannot exist (its parent is a file).
        const QString blocker = m_dir->filePath(QStringLiteral("file"));
        QFile b(blocker);
        QVERIFY(b.open(QIODevice::WriteOnly));
        b.close();
        for (const QString& path :
             {QStringLiteral("/dev/full"), blocker + QStringLiteral("/logs/m1.log")}) {
            if (path.startsWith(QLatin1String("/dev/")) && !QFile::exists(path))
                continue;
            QList<bool> changes;
            JsonLogger::setFailureListener(
                [&](bool healthy, const QString&) { changes << healthy; });
            install(JsonLogger::Level::Debug, 1 << 20, 3, path);
            QVERIFY(JsonLogger::healthy());
            qCInfo(lcRun) << "first";
            qCInfo(lcRun) << "second";
            QVERIFY2(!JsonLogger::healthy(), qPrintable(path));
            QVERIFY(!JsonLogger::failure().isEmpty());
            QCOMPARE(changes, QList<bool>{false});
            JsonLogger::uninstall();
            JsonLogger::setFailureListener({});
        }
    }
};

QTEST_GUILESS_MAIN(TestLogging)
#include "tst_logging.moc"
