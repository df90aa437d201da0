#include "AppContext.h"
#include "MainWindow.h"
#include "ScreenshotTour.h"

#include "Version.h"
#include "monitoring/JsonLogger.h"
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
#include <QTimer>
#include <QTranslator>

#include <cstdio>
#include <ctime>
#include <functional>
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
    const auto load = [&](const QLocale& locale, const QString& dir) {
        return own->load(locale, QStringLiteral("m1"), QStringLiteral("_"), dir);
    };
    // A language without a catalogue (and the C locale) gets English, the sources' language,
    // whose catalogue holds only the plural forms ("1 run", "2 runs" for "%n run(s)").
    const QLocale english(QLocale::English);
    if (load(QLocale(), installed) || load(QLocale(), QStringLiteral(":/i18n")) ||
        load(english, installed) || load(english, QStringLiteral(":/i18n")))
        QApplication::installTranslator(own);
    auto* qt = new QTranslator(&app);
    if (qt->load(QLocale(), QStringLiteral("qtbase"), QStringLiteral("_"),
                 QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        QApplication::installTranslator(qt);
}

// Calls `then` once, right after the window's first paint (a second after it is shown at the
// latest, should no paint come).
void afterFirstPaint(QWidget& window, std::function<void()> then) {
    class Filter : public QObject {
    public:
        Filter(QWidget& window, std::function<void()> then)
            : QObject(&window), m_then(std::move(then)) {
            window.installEventFilter(this);
            QTimer::singleShot(1000, this, [this] { fire(); });
        }
        bool eventFilter(QObject* watched, QEvent* event) override {
            // The paint happens while this event is handled: go on after it.
            if (event->type() == QEvent::UpdateRequest)
                QTimer::singleShot(0, this, [this] { fire(); });
            return QObject::eventFilter(watched, event);
        }

    private:
        void fire() {
            if (!m_then)
                return;
            const auto then = std::move(m_then);
            m_then = nullptr;
            then();
            deleteLater();
        }
        std::function<void()> m_then;
    };
    new Filter(window, std::move(then));
}

// The benchmark's probe line: CLOCK_MONOTONIC now, which m1-bench compares with its own clock at
// the launch.
void printProbe(const char* moment) {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    std::printf("%s %lld\n", moment,
                static_cast<long long>(now.tv_sec) * 1000000000LL + now.tv_nsec);
    std::fflush(stdout);
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
    // For the benchmark gui_cold_start: "app" or "bare" (a plain QMainWindow, the baseline). Each
    // prints the monotonic clock at its first paint ("painted NS"); the app then also once its
    // audit store is open ("ready NS"), and exits.
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
        printProbe("painted");
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

    // M1_LOG_LEVEL must name a level (as for m1ctl): a typo is said, not ignored.
    const m1::Status logLevel = m1::JsonLogger::checkEnvironmentLevel();
    auto context =
        logLevel ? m1::AppContext::create(options)
                 : m1::Result<std::unique_ptr<m1::AppContext>>(std::unexpected(logLevel.error()));
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
    if (!parser.isSet(probe))
        m1::JsonLogger::installFromSettings((*context)->settings().monitoring);

    // The store opens on a worker (a database server may be slow to answer) once the window has
    // painted: the window shows at once and says the store is opening; runs wait for it.
    (*context)->holdStoreOpen();
    (*context)->openStore();
    auto window = std::make_unique<m1::MainWindow>(**context);
    window->show();
    if (parser.isSet(probe)) {
        window->grab();
        printProbe("painted");
        // Then until runs can start: the store's open (checks, migrations, writer thread) on its
        // worker; the pages' first reads that follow it are not part of the start.
        (*context)->releaseStoreOpen();
        while ((*context)->isStoreOpening())
            QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
        printProbe("ready");
        window.reset();
        return (*context)->isStoreOpen() ? 0 : 1;
    }
    afterFirstPaint(*window, [context = context->get()] {
        context->releaseStoreOpen();
        context->loadSecrets();
    });
    return app.exec();
}
