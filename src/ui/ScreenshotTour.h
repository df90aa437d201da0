#pragma once

#include <QCoreApplication>
#include <QString>

namespace m1 {

class AppContext;
class MainWindow;

// `m1-control --screenshot DIR`: renders each main view to DIR/*.png with seeded data and a live
// replay run stopped at its first approval: run.png (timeline mid-run with the pending approval),
// approval.png, history.png, charts.png, alerts.png, settings.png, settings-rules.png, and
// approval-batch.png (three proposals of one message in one dialog). Runs in its own temporary
// store and settings, so nothing of the person's data appears (SEC-11).
class ScreenshotTour {
    Q_DECLARE_TR_FUNCTIONS(ScreenshotTour)
public:
    // Prepares the isolated environment; call before creating the QApplication's context.
    static void isolate(const QString& scratchDir);
    // Returns the process exit code; writes a line per file to standard error.
    static int run(AppContext& context, const QString& dir);

private:
    static bool saveBatch(MainWindow& window, const QString& dir);
};

} // namespace m1
