#include "MainWindow.h"

#include "Version.h"
#include "util/AppIdentity.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QIcon>
#include <QTimer>

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    m1::initApplicationIdentity();
    QApplication::setApplicationDisplayName(QString::fromLatin1(m1::kDisplayName));
    // Lets the desktop match windows to the installed desktop entry (Wayland app id) and find the
    // icon the package installs into the hicolor theme.
    QGuiApplication::setDesktopFileName(QStringLiteral(M1_APP_ID));
    QApplication::setWindowIcon(QIcon::fromTheme(QStringLiteral(M1_APP_ID)));

    QCommandLineParser parser;
    parser.setApplicationDescription(QApplication::translate(
        "main", "M1 Agent Control: approve, audit and observe what an AI agent does."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption screenshot(
        QStringLiteral("screenshot"),
        QApplication::translate("main", "Render the main window to DIR/main.png and exit."),
        QStringLiteral("DIR"));
    parser.addOption(screenshot);
    parser.process(app);

    m1::MainWindow window;
    window.show();

    if (parser.isSet(screenshot)) {
        const QString dir = parser.value(screenshot);
        QTimer::singleShot(300, &app, [&window, dir] {
            QDir().mkpath(dir);
            const bool ok = window.grab().save(QDir(dir).filePath(QStringLiteral("main.png")));
            QApplication::exit(ok ? 0 : 1);
        });
    }
    return app.exec();
}
