// Desktop benchmarks: cold start to the first painted main window against a bare QMainWindow
// measured the same way, appending 10 000 proposals to a shown timeline, and the history's first
// page on a 100 000-run store, newest first and sorted in the store by cost.

#include "Bench.h"

#include "AppContext.h"
#include "HistoryModel.h"
#include "MainWindow.h"
#include "TimelineModel.h"
#include "TimelineView.h"

#include "store/AuditSeeder.h"
#include "store/AuditStore.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QListView>
#include <QMainWindow>
#include <QProcess>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTextStream>

#include <algorithm>
#include <ctime>
#include <utility>

namespace {

using m1::bench::Result;

Result summary(const QString& name, QList<double> ms, const QString& target,
               const QString& baseline = {}) {
    std::sort(ms.begin(), ms.end());
    Result r;
    r.name = name;
    r.unit = QStringLiteral("ms");
    r.n = ms.size();
    r.p50 = ms.at(ms.size() / 2);
    r.p99 = ms.last();
    r.target = target;
    r.baseline = baseline;
    return r;
}

void prepareEnvironment(const QTemporaryDir& dir) {
    QStandardPaths::setTestModeEnabled(true);
    // The defaults, in a file of their own (a file M1_SETTINGS names must exist).
    const QString settings = dir.filePath(QStringLiteral("settings.json"));
    QFile file(settings);
    if (file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        file.write("{}\n");
    file.close();
    qputenv("M1_SETTINGS", settings.toUtf8());
    if (qEnvironmentVariableIsEmpty("M1_JWT_SECRET"))
        qputenv("M1_JWT_SECRET", "bench-secret-0123456789abcdef0123456789ab");
}

// Process start to the first painted window, both measured as child processes of the same
// binary (so both load the same libraries): from just before the launch (fork, exec, dynamic
// loading included) to the first paint, as the child reports it on the monotonic clock; the
// child's exit and teardown are not part of it. m1-control's start: settings, profiles, models,
// translations, the store's open begun on its worker, the window with all four pages. The time
// until the store is open too (runs can start) is reported beside it as ready_p50 / ready_p99.
QList<Result> coldStart() {
    QTemporaryDir dir;
    prepareEnvironment(dir);
    const QString program = QStringLiteral(M1_CONTROL_PATH);
    const QString db = dir.filePath(QStringLiteral("audit.sqlite"));
    const auto monotonicNs = [] {
        timespec now{};
        ::clock_gettime(CLOCK_MONOTONIC, &now);
        return static_cast<qint64>(now.tv_sec) * 1000000000LL + now.tv_nsec;
    };
    // {painted ms, ready ms}; ready is -1 for the bare window, both -1 on failure.
    auto launch = [&](const QStringList& args) -> std::pair<double, double> {
        QProcess process;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        process.setProcessEnvironment(env);
        const qint64 launched = monotonicNs();
        process.start(program, args);
        if (!process.waitForFinished(60000) || process.exitCode() != 0)
            return {-1, -1};
        double painted = -1;
        double ready = -1;
        for (const QByteArray& line : process.readAllStandardOutput().split('\n')) {
            const QList<QByteArray> parts = line.split(' ');
            if (parts.size() != 2)
                continue;
            const double ms = (parts.at(1).toLongLong() - launched) / 1e6;
            if (parts.at(0) == "painted")
                painted = ms;
            else if (parts.at(0) == "ready")
                ready = ms;
        }
        return {painted, ready};
    };
    // The first start creates and migrates the database; not what a person waits for daily.
    launch({QStringLiteral("--startup-probe"), QStringLiteral("app"), QStringLiteral("--db"), db});
    constexpr int kSamples = 9;
    QList<double> bare;
    QList<double> app;
    QList<double> ready;
    for (int i = 0; i < kSamples; ++i) {
        bare << launch({QStringLiteral("--startup-probe"), QStringLiteral("bare")}).first;
        const auto [painted, open] = launch(
            {QStringLiteral("--startup-probe"), QStringLiteral("app"), QStringLiteral("--db"), db});
        app << painted;
        ready << open;
    }
    if (bare.contains(-1) || app.contains(-1) || ready.contains(-1))
        return {};
    Result base = summary(QStringLiteral("bare_qmainwindow_start"), bare, QString());
    Result r =
        summary(QStringLiteral("gui_cold_start"), app, QStringLiteral("ratio <= 2"), base.name);
    r.extra.insert(QStringLiteral("ratio_p50"), r.p50 / std::max(0.001, base.p50));
    std::sort(ready.begin(), ready.end());
    r.extra.insert(QStringLiteral("ready_p50"), ready.at(ready.size() / 2));
    r.extra.insert(QStringLiteral("ready_p99"), ready.last());
    return {base, r};
}

QList<Result> timelineAppend() {
    QList<double> ms;
    for (int sample = 0; sample < 5; ++sample) {
        m1::TimelineView view;
        view.resize(900, 700);
        view.show();
        view.grab();
        m1::TimelineModel* model = view.model();
        QElapsedTimer clock;
        clock.start();
        for (int i = 0; i < 10000; ++i) {
            if (i % 10 == 0)
                model->beginStep(i / 10 + 1);
            model->addProposal(QStringLiteral("toolu_%1").arg(i), QStringLiteral("read_file"),
                               QStringLiteral("read"),
                               {{QStringLiteral("path"), QStringLiteral("src/file%1.cpp").arg(i)}});
            model->setDecided(QStringLiteral("toolu_%1").arg(i), QStringLiteral("approved"),
                              QStringLiteral("rule"), QStringLiteral("reads are allowed"));
        }
        model->flush();
        view.list()->scrollToBottom();
        view.grab(); // laid out and painted
        ms << clock.nsecsElapsed() / 1e6;
    }
    return {summary(QStringLiteral("timeline_append_10k"), ms, QStringLiteral("< 200 ms"))};
}

QList<Result> historyFirstPage() {
    QTemporaryDir dir;
    prepareEnvironment(dir);
    const QString path = dir.filePath(QStringLiteral("audit.sqlite"));
    {
        auto store = m1::AuditStore::open(path);
        if (!store)
            return {};
        m1::AuditSeeder::Options seed;
        seed.runs = 100000;
        seed.callsPerRun = 2;
        seed.spanDays = 365;
        QTextStream(stderr) << "seeding 100000 runs…\n";
        if (!m1::AuditSeeder::seed(**store, seed))
            return {};
    }
    auto store = m1::AuditStore::open(path);
    if (!store)
        return {};
    const m1::StoreConfig config = (*store)->config();
    // Newest first (the default), then the same sorted in the store by cost, most expensive
    // first (a click on the Cost column).
    const auto firstPage = [&config](std::optional<int> sortColumn) {
        QList<double> ms;
        for (int sample = 0; sample < 7; ++sample) {
            QElapsedTimer clock;
            clock.start();
            QTableView table;
            m1::HistoryModel model(config);
            table.setModel(&model);
            table.resize(1200, 700);
            table.show();
            bool loaded = false;
            QObject::connect(&model, &m1::HistoryModel::pageLoaded, [&loaded] { loaded = true; });
            if (sortColumn)
                model.sort(*sortColumn, Qt::DescendingOrder);
            model.reload();
            while (!loaded)
                QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
            table.grab();
            ms << clock.nsecsElapsed() / 1e6;
        }
        return ms;
    };
    const QList<double> newest = firstPage(std::nullopt);
    Result sorted = summary(QStringLiteral("history_view_sorted_first_page"),
                            firstPage(m1::HistoryModel::Cost), QStringLiteral("< 150 ms"));
    sorted.extra.insert(QStringLiteral("sort"), QStringLiteral("cost, descending"));
    return {summary(QStringLiteral("history_view_first_page"), newest, QStringLiteral("< 150 ms")),
            sorted};
}

} // namespace

M1_BENCHMARK("gui_cold_start", coldStart);
M1_BENCHMARK("timeline_append_10k", timelineAppend);
M1_BENCHMARK("history_view_first_page", historyFirstPage);
