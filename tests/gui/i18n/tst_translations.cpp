// The German translation is complete and current: every string the desktop app shows has a
// finished German text with the same placeholders and accelerator, the .ts file matches the
// sources (lupdate finds nothing new), and the compiled .qm translates what the .ts says.
#include <QDir>
#include <QFile>
#include <QLibraryInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <QTranslator>
#include <QXmlStreamReader>

namespace {

struct Message {
    QString context;
    QString source;
    QString type; // "", "unfinished", "vanished", "obsolete"
    QStringList forms;
    bool numerus = false;
};

QList<Message> readTs(const QString& path, QString* error) {
    QList<Message> out;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = file.errorString();
        return out;
    }
    QXmlStreamReader xml(&file);
    QString context;
    Message current;
    while (!xml.atEnd()) {
        xml.readNext();
        if (!xml.isStartElement())
            continue;
        const auto name = xml.name();
        if (name == u"context") {
            context.clear();
        } else if (name == u"name") {
            context = xml.readElementText();
        } else if (name == u"message") {
            current = Message{};
            current.context = context;
            current.numerus = xml.attributes().value(QStringLiteral("numerus")) == u"yes";
        } else if (name == u"source") {
            current.source = xml.readElementText();
        } else if (name == u"translation") {
            current.type = xml.attributes().value(QStringLiteral("type")).toString();
            if (current.numerus) {
                while (xml.readNextStartElement())
                    current.forms.append(xml.readElementText());
            } else {
                current.forms.append(xml.readElementText());
            }
            out.append(current);
        }
    }
    if (xml.hasError())
        *error = QStringLiteral("%1 at line %2").arg(xml.errorString()).arg(xml.lineNumber());
    return out;
}

QSet<QString> placeholders(const QString& text) {
    static const QRegularExpression re(QStringLiteral("%L?[0-9]+"));
    QSet<QString> found;
    for (auto it = re.globalMatch(text); it.hasNext();)
        found.insert(it.next().captured());
    return found;
}

// Accelerator marks: a single '&' before a character that is neither '&' nor a space.
int accelerators(const QString& text) {
    int count = 0;
    for (qsizetype i = 0; i + 1 < text.size(); ++i) {
        if (text[i] != u'&')
            continue;
        if (text[i + 1] == u'&') {
            ++i;
            continue;
        }
        if (!text[i + 1].isSpace())
            ++count;
    }
    return count;
}

QString lupdatePath() {
    for (const auto location : {QLibraryInfo::LibraryExecutablesPath, QLibraryInfo::BinariesPath}) {
        const QString candidate =
            QDir(QLibraryInfo::path(location)).filePath(QStringLiteral("lupdate"));
        if (QFile::exists(candidate))
            return candidate;
    }
    return {};
}

QString describe(const Message& m) {
    return QStringLiteral("[%1] \"%2\"").arg(m.context, m.source.left(80));
}

QString tsPath() {
    return QStringLiteral(M1_SOURCE_DIR "/translations/m1_de.ts");
}

} // namespace

class TstTranslations : public QObject {
    Q_OBJECT
private slots:
    void everyStringIsTranslated() {
        QString error;
        const auto messages = readTs(tsPath(), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY(messages.size() > 500);
        QStringList missing;
        int same = 0;
        for (const auto& m : messages) {
            const bool empty =
                m.forms.isEmpty() || std::any_of(m.forms.begin(), m.forms.end(),
                                                 [](const QString& f) { return f.isEmpty(); });
            if (!m.type.isEmpty() || empty)
                missing.append(describe(m));
            else if (!m.numerus && m.forms.first() == m.source)
                ++same;
        }
        QVERIFY2(missing.isEmpty(),
                 qPrintable(QStringLiteral("%1 untranslated, e.g. %2")
                                .arg(missing.size())
                                .arg(missing.mid(0, 5).join(QStringLiteral(", ")))));
        // Purely technical strings ("%1 ms") stay as they are; a translation that is mostly
        // copies of the English is not one.
        QVERIFY2(same * 10 < messages.size(),
                 qPrintable(QStringLiteral("%1 of %2 translations equal their English source")
                                .arg(same)
                                .arg(messages.size())));
    }

    void placeholdersAndAcceleratorsMatch() {
        QString error;
        const auto messages = readTs(tsPath(), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QStringList bad;
        for (const auto& m : messages) {
            if (!m.type.isEmpty())
                continue; // reported by everyStringIsTranslated
            if (m.numerus && m.forms.size() != 2)
                bad.append(describe(m) + QStringLiteral(": German has 2 plural forms"));
            for (const auto& form : m.forms) {
                if (placeholders(form) != placeholders(m.source))
                    bad.append(describe(m) +
                               QStringLiteral(": placeholders differ in \"%1\"").arg(form));
                if (accelerators(form) != accelerators(m.source))
                    bad.append(describe(m) +
                               QStringLiteral(": accelerator '&' differs in \"%1\"").arg(form));
            }
            if (m.numerus && m.source.contains(QStringLiteral("%n")) && !m.forms.isEmpty() &&
                !m.forms.last().contains(QStringLiteral("%n")))
                bad.append(describe(m) + QStringLiteral(": the plural form lacks %n"));
        }
        QVERIFY2(bad.isEmpty(), qPrintable(bad.mid(0, 10).join(QLatin1Char('\n'))));
    }

    // lupdate over the sources finds no string the .ts lacks (scripts/update-translations).
    void translationFileIsCurrent() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString copy = dir.filePath(QStringLiteral("m1_de.ts"));
        QVERIFY(QFile::copy(tsPath(), copy));
        const QString lupdate = lupdatePath();
        QVERIFY2(!lupdate.isEmpty(), "lupdate not found: install qt6-l10n-tools");
        QProcess process;
        process.setWorkingDirectory(QStringLiteral(M1_SOURCE_DIR));
        process.start(lupdate,
                      {QStringLiteral("-locations"), QStringLiteral("none"),
                       QStringLiteral("-no-obsolete"), QStringLiteral("src/ui"),
                       QStringLiteral("src/core"), QStringLiteral("src/app/control_main.cpp"),
                       QStringLiteral("-ts"), copy});
        QVERIFY(process.waitForFinished(90000));
        QVERIFY2(process.exitCode() == 0, process.readAllStandardError().constData());
        QString error;
        const auto messages = readTs(copy, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QStringList fresh;
        for (const auto& m : messages)
            if (m.type == QStringLiteral("unfinished"))
                fresh.append(describe(m));
        QVERIFY2(fresh.isEmpty(),
                 qPrintable(QStringLiteral("%1 strings in the sources are not in m1_de.ts (run "
                                           "scripts/update-translations, then translate them), "
                                           "e.g. %2")
                                .arg(fresh.size())
                                .arg(fresh.mid(0, 5).join(QStringLiteral(", ")))));
    }

    // The compiled catalogue (what the app and the package load) gives the .ts's German.
    void compiledCatalogueTranslates() {
        QTranslator translator;
        QVERIFY(translator.load(QStringLiteral(M1_BINARY_DIR "/translations/m1_de.qm")));
        QString error;
        const auto messages = readTs(tsPath(), &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        int checked = 0;
        for (const auto& m : messages) {
            if (m.numerus || !m.type.isEmpty() || m.forms.first() == m.source)
                continue;
            QCOMPARE(
                translator.translate(m.context.toUtf8().constData(), m.source.toUtf8().constData()),
                m.forms.first());
            ++checked;
        }
        QVERIFY(checked > 0);
    }

    // English is the sources' language; m1_en.ts holds its plural forms only (lupdate
    // -pluralonly, as scripts/update-translations makes it): every counted string of the sources
    // is there with a singular and a plural and no "(s)", and the compiled catalogue says "1 run",
    // "2 runs" where the source says "%n run(s)".
    void englishPluralForms() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString copy = dir.filePath(QStringLiteral("m1_en.ts"));
        QVERIFY(QFile::copy(QStringLiteral(M1_SOURCE_DIR "/translations/m1_en.ts"), copy));
        QProcess process;
        process.setWorkingDirectory(QStringLiteral(M1_SOURCE_DIR));
        process.start(lupdatePath(),
                      {QStringLiteral("-locations"), QStringLiteral("none"),
                       QStringLiteral("-no-obsolete"), QStringLiteral("-pluralonly"),
                       QStringLiteral("src/ui"), QStringLiteral("src/core"),
                       QStringLiteral("src/app/control_main.cpp"), QStringLiteral("-ts"), copy});
        QVERIFY(process.waitForFinished(90000));
        QVERIFY2(process.exitCode() == 0, process.readAllStandardError().constData());
        QString error;
        const auto messages = readTs(copy, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QStringList bad;
        for (const auto& m : messages) {
            if (!m.numerus)
                continue;
            if (!m.type.isEmpty() || m.forms.size() != 2 ||
                m.forms.first().contains(QLatin1String("(s)")) ||
                m.forms.last().contains(QLatin1String("(s)")))
                bad.append(describe(m));
        }
        QVERIFY2(bad.isEmpty(), qPrintable(QStringLiteral("m1_en.ts lacks or leaves unfinished "
                                                          "(run scripts/update-translations): %1")
                                               .arg(bad.mid(0, 5).join(QStringLiteral(", ")))));
        QTranslator english;
        QVERIFY(english.load(QStringLiteral(M1_BINARY_DIR "/translations/m1_en.qm")));
        QCOMPARE(english.translate("m1::HistoryView", "%n run(s) loaded", nullptr, 1),
                 QStringLiteral("%n run loaded"));
        QCOMPARE(english.translate("m1::HistoryView", "%n run(s) loaded", nullptr, 200),
                 QStringLiteral("%n runs loaded"));
    }
};

QTEST_GUILESS_MAIN(TstTranslations)
#include "tst_translations.moc"
