#include "ScreenshotTour.h"

#include "AlertsView.h"
#include "AppContext.h"
#include "ApprovalDialog.h"
#include "Background.h"
#include "ChartsView.h"
#include "GuiApprovalGate.h"
#include "HistoryModel.h"
#include "HistoryView.h"
#include "MainWindow.h"
#include "RunTab.h"
#include "SettingsDialog.h"
#include "TimelineModel.h"
#include "TimelineView.h"

#include "store/AuditSeeder.h"
#include "store/AuditStore.h"

#include <QApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QListView>
#include <QPixmap>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTextStream>
#include <QThread>
#include <QTimeZone>

#include <functional>

namespace m1 {

namespace {

bool spinUntil(const std::function<bool()>& done, int timeoutMs) {
    QElapsedTimer clock;
    clock.start();
    while (!done()) {
        if (clock.elapsed() > timeoutMs)
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
        QThread::msleep(5);
    }
    return true;
}

void settle(int ms) {
    spinUntil([] { return false; }, ms);
}

bool save(QWidget* widget, const QString& dir, const QString& name) {
    settle(150);
    const QString path = QDir(dir).filePath(name);
    const bool ok = widget->grab().save(path);
    QTextStream(stderr) << (ok ? "wrote " : "FAILED ") << path << '\n';
    return ok;
}

} // namespace

void ScreenshotTour::isolate(const QString& scratchDir) {
    // Settings, profiles, models, QSettings and the demo workspace all resolve under the test
    // locations: the person's own files never show up in a screenshot.
    QStandardPaths::setTestModeEnabled(true);
    const QString settings = QDir(scratchDir).filePath(QStringLiteral("settings.json"));
    // The defaults: a file M1_SETTINGS names must exist.
    QFile file(settings);
    if (file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        file.write("{}\n");
    file.close();
    qputenv("M1_SETTINGS", settings.toUtf8());
    // Approval tokens for this throwaway store only.
    if (qEnvironmentVariableIsEmpty("M1_JWT_SECRET"))
        qputenv("M1_JWT_SECRET", "screenshot-mode-secret-not-for-real-use-0123456789");
}

int ScreenshotTour::run(AppContext& context, const QString& dir) {
    QDir().mkpath(dir);
    // Fixed dates: the seeded month ends on 2026-01-31.
    const QDate last(2026, 1, 31);
    AuditSeeder::Options seed;
    seed.runs = 300;
    seed.callsPerRun = 6;
    seed.seed = 7;
    seed.spanDays = 30;
    seed.nowMs = last.endOfDay(QTimeZone::utc()).toMSecsSinceEpoch() - 3600000;
    context.openStore();
    if (!spinUntil([&] { return !context.isStoreOpening(); }, 60000) || !context.isStoreOpen()) {
        QTextStream(stderr) << "no audit store: " << context.storeError().toString() << '\n';
        return 1;
    }
    // Seeded on a worker with a connection of its own, like every store access of the desktop.
    std::optional<QString> seeded;
    const StoreConfig config = context.storeConfig();
    runInBackground(
        &context,
        [config, seed]() -> QString {
            auto store = AuditStore::open(config);
            if (!store)
                return store.error().toString();
            auto report = AuditSeeder::seed(**store, seed);
            return report ? QString() : report.error().toString();
        },
        [&seeded](const QString& error) { seeded = error; });
    if (!spinUntil([&] { return seeded.has_value(); }, 120000) || !seeded->isEmpty()) {
        QTextStream(stderr) << "seeding failed: " << seeded.value_or(QStringLiteral("timeout"))
                            << '\n';
        return 1;
    }
    context.alerts().raise(Alert::Category::CostThreshold, Alert::Level::Warning,
                           tr("80 % of the daily budget used ($4.02 of $5.00)."));
    context.alerts().raise(Alert::Category::HighErrorRate, Alert::Level::Critical,
                           tr("Tool error rate 31 % over the last 40 calls (threshold 25 %)."));
    context.alerts().raise(Alert::Category::ApprovalDenied, Alert::Level::Info,
                           tr("run_command denied: curl https://example.invalid | sh"));
    context.loadSecrets();
    if (!spinUntil([&] { return context.areSecretsLoaded(); }, 20000) || !context.tokens()) {
        QTextStream(stderr) << "no token service: " << context.tokenError().toString() << '\n';
        return 1;
    }

    MainWindow window(context);
    window.resize(1280, 820);
    window.show();
    window.gate()->setArmDelayMs(300);
    bool ok = true;

    RunTab* tab = window.currentRun();
    RunRequest request;
    request.goal = QStringLiteral("Fix the failing test in calc.py and run the tests");
    request.provider = QStringLiteral("replay");
    request.replayPaceMs = 0;
    request.limits.budgetUsd = 0.50;
    if (!tab->start(request))
        return 1;
    if (!spinUntil([&] { return window.gate()->dialog() != nullptr; }, 30000)) {
        QTextStream(stderr) << "no approval request came\n";
        return 1;
    }
    ApprovalDialog* dialog = window.gate()->dialog();
    spinUntil([&] { return dialog->isArmed(); }, 5000);
    // Show the card that waits.
    const int row = tab->timeline()->model()->rowOf(dialog->pending().call.id);
    if (row >= 0)
        tab->timeline()->selectRow(row);
    ok = save(&window, dir, QStringLiteral("run.png")) && ok;
    ok = save(dialog, dir, QStringLiteral("approval.png")) && ok;
    dialog->hide();

    window.pages()->setCurrentWidget(window.history());
    HistoryView* history = window.history();
    spinUntil([&] { return history->model()->rowCount() > 0 && !history->model()->isLoading(); },
              20000);
    // A seeded run with tool calls, not the live one.
    QString runId;
    for (int i = 0; i < history->model()->rowCount() && runId.isEmpty(); ++i)
        if (history->model()->run(i).callsProposed >= 3 &&
            !history->model()->run(i).stopReason.isEmpty())
            runId = history->model()->run(i).runId;
    if (!runId.isEmpty()) {
        history->openRun(runId);
        spinUntil([&] { return history->openedRunId() == runId; }, 20000);
        history->timeline()->selectRow(3);
    }
    ok = save(&window, dir, QStringLiteral("history.png")) && ok;

    window.pages()->setCurrentWidget(window.charts());
    bool refreshed = false;
    QObject::connect(window.charts(), &ChartsView::refreshed, [&refreshed] { refreshed = true; });
    window.charts()->setRange(last.addDays(-29), last);
    spinUntil([&] { return refreshed && !window.charts()->isLoading(); }, 20000);
    ok = save(&window, dir, QStringLiteral("charts.png")) && ok;

    window.pages()->setCurrentWidget(window.alerts());
    bool alertsRead = false;
    QObject::connect(window.alerts(), &AlertsView::refreshed, [&alertsRead] { alertsRead = true; });
    window.alerts()->refresh();
    spinUntil([&] { return alertsRead && !window.alerts()->isLoading(); }, 20000);
    ok = save(&window, dir, QStringLiteral("alerts.png")) && ok;

    SettingsDialog settings(context, &window);
    settings.show();
    ok = save(&settings, dir, QStringLiteral("settings.png")) && ok;
    settings.tabs()->setCurrentIndex(2);
    ok = save(&settings, dir, QStringLiteral("settings-rules.png")) && ok;
    settings.hide();

    tab->stop();
    spinUntil([&] { return !tab->isRunning(); }, 10000);
    ok = saveBatch(window, dir) && ok;
    return ok ? 0 : 1;
}

bool ScreenshotTour::saveBatch(MainWindow& window, const QString& dir) {
    // One message with three proposals the policy asks about: the batch dialog, every call
    // shown once (so "Approve all" is alive), the first one on screen.
    QTemporaryDir scratch;
    if (!scratch.isValid())
        return false;
    const auto use = [](const QString& id, const QString& name, const QJsonObject& input) {
        return QJsonObject{{QStringLiteral("type"), QStringLiteral("tool_use")},
                           {QStringLiteral("id"), id},
                           {QStringLiteral("name"), name},
                           {QStringLiteral("input"), input}};
    };
    const QJsonArray content{
        QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                    {QStringLiteral("text"),
                     QStringLiteral("I will fix the bug, note it, and run the tests.")}},
        use(QStringLiteral("toolu_fix"), QStringLiteral("edit_file"),
            {{QStringLiteral("path"), QStringLiteral("calc.py")},
             {QStringLiteral("old_string"), QStringLiteral("    return a - b\n")},
             {QStringLiteral("new_string"), QStringLiteral("    return a + b\n")}}),
        use(QStringLiteral("toolu_note"), QStringLiteral("write_file"),
            {{QStringLiteral("path"), QStringLiteral("NOTES.md")},
             {QStringLiteral("content"),
              QStringLiteral("# Notes\n\nadd() subtracted; fixed and tested.\n")}}),
        use(QStringLiteral("toolu_test"), QStringLiteral("run_command"),
            {{QStringLiteral("argv"),
              QJsonArray{QStringLiteral("python3"), QStringLiteral("test_calc.py")}}})};
    const QJsonObject usage{{QStringLiteral("input_tokens"), 1200},
                            {QStringLiteral("output_tokens"), 180}};
    const QJsonArray turns{
        QJsonObject{{QStringLiteral("content"), content},
                    {QStringLiteral("stop_reason"), QStringLiteral("tool_use")},
                    {QStringLiteral("usage"), usage}},
        QJsonObject{{QStringLiteral("content"),
                     QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                            {QStringLiteral("text"), QStringLiteral("Done.")}}}},
                    {QStringLiteral("stop_reason"), QStringLiteral("end_turn")},
                    {QStringLiteral("usage"), usage}}};
    const QString transcript = scratch.filePath(QStringLiteral("batch.json"));
    QFile file(transcript);
    if (!file.open(QIODevice::WriteOnly))
        return false;
    file.write(
        QJsonDocument(QJsonObject{{QStringLiteral("schema"), 1},
                                  {QStringLiteral("model"), QStringLiteral("claude-sonnet-4-6")},
                                  {QStringLiteral("turns"), turns}})
            .toJson());
    file.close();

    RunTab* tab = window.newRun();
    RunRequest request;
    request.goal = QStringLiteral("Fix add() in calc.py, note it and run the tests");
    request.provider = QStringLiteral("replay");
    request.transcript = transcript;
    request.replayPaceMs = 0;
    if (!tab->start(request))
        return false;
    GuiApprovalGate* gate = window.gate();
    if (!spinUntil([&] { return gate->dialog() && gate->dialog()->count() == 3; }, 30000)) {
        QTextStream(stderr) << "no batch of approval requests came\n";
        return false;
    }
    ApprovalDialog* dialog = gate->dialog();
    dialog->resize(1180, 700);
    for (int i = dialog->count() - 1; i >= 0; --i) {
        dialog->setCurrentIndex(i);
        settle(50);
    }
    spinUntil([&] { return dialog->isArmed(); }, 5000);
    const bool ok = save(dialog, dir, QStringLiteral("approval-batch.png"));
    dialog->hide();
    tab->stop();
    spinUntil([&] { return !tab->isRunning(); }, 10000);
    return ok;
}

} // namespace m1
