#include "AppContext.h"
#include "MainWindow.h"
#include "ScreenshotTour.h"

#include "Version.h"
#include "util/AppIdentity.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QIcon>
#include <QLibraryInfo>
#include <QLocale>
#include <QMainWindow>
#include <QMessageBox>
#include <QSettings>
#include <QTemporaryDir>
#include <QTranslator>

#include <memory>

namespace {

// The translation for the system's language: the installed one next to the binary
// (share/m1-agent-control/translations, which a packager may update) first, else the one
// embedded at build time. Qt's own strings (standard buttons) from Qt's installed translations.
void installTranslators(QApplication& app) {
    auto* own = new QTranslator(&app);
    const QString installed = QDir(QCoreApplication::applicationDirPath())
                                  .absoluteFilePath(QStringLiteral("../share/m1-agent-control/"
                                                                   "translations"));
    const auto load = [&](const QString& dir) {
        return own->load(QLocale(), QStringLiteral("m1"), QStringLiteral("_"), dir);
    };
    if (load(installed) || load(QStringLiteral(":/i18n")))
        QApplication::installTranslator(own);
    auto* qt = new QTranslator(&app);
    if (qt->load(QLocale(), QStringLiteral("qtbase"), QStringLiteral("_"),
                 QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        QApplication::installTranslator(qt);
}

} // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    m1::initApplicationIdentity();
    QApplication::setApplicationDisplayName(QString::fromLatin1(m1::kDisplayName));
    // Lets the desktop match windows to the installed desktop entry (Wayland app id) and find the
    // icon the package installs into the hicolor theme.
    QGuiApplication::setDesktopFileName(QStringLiteral(M1_APP_ID));
    QApplication::setWindowIcon(QIcon::fromTheme(QStringLiteral(M1_APP_ID)));
    installTranslators(app);

    QCommandLineParser parser;
    parser.setApplicationDescription(QApplication::translate(
        "main", "M1 Agent Control: approve, audit and observe what an AI agent does."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption screenshot(
        QStringLiteral("screenshot"),
        QApplication::translate("main", "Render each main view with demo data to DIR/*.png and "
                                        "exit."),
        QStringLiteral("DIR"));
    const QCommandLineOption database(
        QStringLiteral("db"),
        QApplication::translate("main", "Audit database: an SQLite file or a postgresql:// URL "
                                        "(default: the one in the settings, else audit.sqlite)."),
        QStringLiteral("LOCATION"));
    // For the benchmark gui_cold_start: "app" or "bare" (a plain QMainWindow, the baseline), each
    // exits right after its first paint.
    QCommandLineOption probe(QStringLiteral("startup-probe"), QString(), QStringLiteral("KIND"));
    probe.setFlags(QCommandLineOption::HiddenFromHelp);
    parser.addOption(screenshot);
    parser.addOption(database);
    parser.addOption(probe);
    parser.process(app);

    if (parser.value(probe) == QLatin1String("bare")) {
        QMainWindow window;
        window.resize(1200, 800);
        window.show();
        window.grab();
        return 0;
    }

    std::optional<QTemporaryDir> scratch;
    m1::AppContext::Options options;
    if (parser.isSet(screenshot)) {
        scratch.emplace();
        m1::ScreenshotTour::isolate(scratch->path());
        options.database = QDir(scratch->path()).filePath(QStringLiteral("audit.sqlite"));
        options.forceReplay = true;
    } else {
        options.database = parser.isSet(database)
                               ? parser.value(database)
                               : QSettings().value(QStringLiteral("store/location")).toString();
    }

    auto context = m1::AppContext::create(options);
    if (!context) {
        QMessageBox box(QMessageBox::Critical, QApplication::translate("main", "Cannot start"),
                        context.error().message, QMessageBox::Close);
        box.setInformativeText(
            QApplication::translate("main", "Error code: %1. Check the settings file, the "
                                            "database location (--db) and the folders' "
                                            "permissions, then start again.")
                .arg(context.error().code));
        if (!parser.isSet(screenshot))
            box.exec();
        return 1;
    }

    if (parser.isSet(screenshot))
        return m1::ScreenshotTour::run(**context, parser.value(screenshot));

    // The store opens on a worker while the window is built and painted (a database server may
    // be slow to answer); runs wait for it, the window says so.
    (*context)->openStore();
    auto window = std::make_unique<m1::MainWindow>(**context);
    window->show();
    if (parser.isSet(probe)) {
        window->grab();
        // The store's open (checks, migrations, writer) ends before the probe does, as it did
        // when it came first; the pages' first reads that follow it are not part of the start.
        window.reset();
        while ((*context)->isStoreOpening())
            QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
        return (*context)->isStoreOpen() ? 0 : 1;
    }
    (*context)->loadSecrets();
    return app.exec();
}
