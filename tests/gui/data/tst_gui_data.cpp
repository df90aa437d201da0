// The desktop's data views against a seeded store of more runs than one history page: sorting in
// the store (the first rows are the first of all runs, with filters too), the store opened on a
// worker with a busy bar and a clear dialog when it fails, the alerts list and the CSV export off
// the UI thread (no connection left on it), and the API latency percentiles chart with its
// tooltips and the date range.

#include "AlertsView.h"
#include "AppContext.h"
#include "ChartsView.h"
#include "GoalEditor.h"
#include "HistoryModel.h"
#include "HistoryView.h"
#include "MainWindow.h"
#include "RunTab.h"
#include "ScreenshotTour.h"

#include "config/Settings.h"
#include "monitoring/AlertRepository.h"
#include "store/AuditQueries.h"
#include "store/AuditSeeder.h"
#include "store/AuditStore.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QLineSeries>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimeZone>
#include <QToolTip>

#include <algorithm>

using namespace m1;

namespace {

constexpr qint64 kDayMs = 86400000;
// The seeded month ends on 2026-01-31 (fixed, like the screenshots).
const QDate kLast(2026, 1, 31);

// Every run in the store, read page by page in the default order.
QList<AuditQueries::RunSummary> allRuns(const StoreConfig& config,
                                        const AuditQueries::HistoryFilter& filter = {}) {
    QList<AuditQueries::RunSummary> runs;
    auto queries = AuditQueries::open(config);
    if (!queries)
        return runs;
    AuditQueries::HistoryFilter f = filter;
    f.sort = AuditQueries::HistorySort::Started;
    f.descending = true;
    AuditQueries::HistoryCursor cursor;
    for (;;) {
        const auto page = (*queries)->history(f, 1000, cursor);
        if (!page)
            return {};
        runs << page->runs;
        if (!page->hasMore)
            return runs;
        cursor = page->next;
    }
}

QStringList idsOf(const QList<AuditQueries::RunSummary>& runs) {
    QStringList ids;
    for (const auto& r : runs)
        ids << r.runId;
    return ids;
}

QStringList modelIds(const HistoryModel* model, int from, int count) {
    QStringList ids;
    for (int row = from; row < std::min(model->rowCount(), from + count); ++row)
        ids << model->run(row).runId;
    return ids;
}

// The order the history promises for cost, most expensive first: unknown cost as -1, ties by
// start time, then run id, all descending.
QStringList byCostDescending(QList<AuditQueries::RunSummary> runs) {
    std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) {
        const qint64 ca = a.costMicros.value_or(-1);
        const qint64 cb = b.costMicros.value_or(-1);
        if (ca != cb)
            return ca > cb;
        if (a.startedAt != b.startedAt)
            return a.startedAt > b.startedAt;
        return a.runId > b.runId;
    });
    return idsOf(runs);
}

// Connections the UI thread could use: QtSql hands out only those opened on the calling thread.
QStringList connectionsOfThisThread() {
    QStringList mine;
    for (const QString& name : QSqlDatabase::connectionNames())
        if (QSqlDatabase::database(name, false).isValid())
            mine << name;
    return mine;
}

} // namespace

class TstGuiData : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<AppContext> m_context;

    std::unique_ptr<AppContext> makeContext(const QString& database) {
        AppContext::Options options;
        options.database = database;
        options.forceReplay = true;
        auto context = AppContext::create(options);
        if (!context) {
            qWarning() << context.error().toString();
            return nullptr;
        }
        return std::move(*context);
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        // Settings, QSettings and the token secret of this test only (as for screenshots).
        ScreenshotTour::isolate(m_dir.path());
        m_context = makeContext(m_dir.filePath(QStringLiteral("audit.sqlite")));
        QVERIFY(m_context);
        m_context->openStore();
        QTRY_VERIFY_WITH_TIMEOUT(m_context->isStoreOpen(), 20000);
        // More runs than two history pages, over the month before kLast.
        AuditSeeder::Options seed;
        seed.runs = 3 * HistoryModel::kPageSize + 50;
        seed.callsPerRun = 2;
        seed.seed = 11;
        seed.spanDays = 30;
        seed.nowMs = kLast.endOfDay(QTimeZone::utc()).toMSecsSinceEpoch() - 3600000;
        auto store = AuditStore::open(m_context->storeConfig());
        QVERIFY(store);
        QVERIFY(AuditSeeder::seed(**store, seed));
        m_context->loadSecrets();
        QTRY_VERIFY_WITH_TIMEOUT(m_context->areSecretsLoaded(), 20000);
    }

    // The UI thread holds no connection: the store was opened, checked and migrated on a worker,
    // which closed its connection again; the writer's connection is on its own thread.
    void noConnectionOnTheUiThread() {
        MainWindow window(*m_context);
        window.show();
        window.pages()->setCurrentWidget(window.history());
        QTRY_VERIFY_WITH_TIMEOUT(window.history()->model()->rowCount() > 0, 20000);
        QCOMPARE(connectionsOfThisThread(), QStringList());
    }

    // Sorting a column orders all runs in the store: the first page is the globally first runs,
    // scrolling continues in that order, filters and the order combine, and the goal column
    // (free text) does not sort.
    void historySortsInTheStore() {
        MainWindow window(*m_context);
        window.resize(1200, 800);
        window.show();
        window.pages()->setCurrentWidget(window.history());
        HistoryView* history = window.history();
        HistoryModel* model = history->model();
        QTRY_VERIFY_WITH_TIMEOUT(
            model->rowCount() == HistoryModel::kPageSize && !model->isLoading(), 20000);
        const QList<AuditQueries::RunSummary> all = allRuns(m_context->storeConfig());
        QCOMPARE(all.size(), 3 * HistoryModel::kPageSize + 50);
        QCOMPARE(modelIds(model, 0, HistoryModel::kPageSize),
                 idsOf(all).mid(0, HistoryModel::kPageSize));

        // A click on the Cost header, twice: ascending, then descending.
        QHeaderView* header = history->table()->horizontalHeader();
        const auto clickCost = [&] {
            const int x = header->sectionViewportPosition(HistoryModel::Cost) +
                          header->sectionSize(HistoryModel::Cost) / 2;
            QTest::mouseClick(header->viewport(), Qt::LeftButton, {}, QPoint(x, 5));
        };
        clickCost();
        if (header->sortIndicatorOrder() != Qt::DescendingOrder) {
            QTRY_VERIFY_WITH_TIMEOUT(!model->isLoading(), 20000);
            clickCost();
        }
        QCOMPARE(header->sortIndicatorSection(), int(HistoryModel::Cost));
        QCOMPARE(model->sortColumn(), int(HistoryModel::Cost));
        QCOMPARE(model->sortOrder(), Qt::DescendingOrder);
        QTRY_VERIFY_WITH_TIMEOUT(
            model->rowCount() == HistoryModel::kPageSize && !model->isLoading(), 20000);
        const QStringList expected = byCostDescending(all);
        QCOMPARE(modelIds(model, 0, HistoryModel::kPageSize),
                 expected.mid(0, HistoryModel::kPageSize));
        // Not what sorting the newest page would give.
        QVERIFY(expected.mid(0, HistoryModel::kPageSize) !=
                byCostDescending(all.mid(0, HistoryModel::kPageSize)));
        // The next page continues the order.
        QVERIFY(model->canFetchMore({}));
        model->fetchMore({});
        QTRY_VERIFY_WITH_TIMEOUT(
            model->rowCount() == 2 * HistoryModel::kPageSize && !model->isLoading(), 20000);
        QCOMPARE(modelIds(model, 0, 2 * HistoryModel::kPageSize),
                 expected.mid(0, 2 * HistoryModel::kPageSize));

        // A filter keeps the order: the most expensive runs of that agent.
        auto* agent = history->findChild<QComboBox*>();
        QVERIFY(agent);
        QCOMPARE(agent->accessibleName(), QStringLiteral("Filter by agent"));
        QString agentName;
        for (int i = 1; i < agent->count() && agentName.isEmpty(); ++i) {
            const QString name = agent->itemData(i).toString();
            if (std::count_if(all.begin(), all.end(), [&](const auto& r) {
                    return r.agent == name;
                }) > HistoryModel::kPageSize / 4)
                agentName = name;
        }
        QVERIFY2(!agentName.isEmpty(), "no agent with enough seeded runs");
        agent->setCurrentIndex(agent->findData(agentName));
        QTRY_VERIFY_WITH_TIMEOUT(!model->isLoading() && model->rowCount() > 0, 20000);
        AuditQueries::HistoryFilter onlyAgent;
        onlyAgent.agent = agentName;
        const QStringList expectedAgent =
            byCostDescending(allRuns(m_context->storeConfig(), onlyAgent));
        QCOMPARE(modelIds(model, 0, HistoryModel::kPageSize),
                 expectedAgent.mid(0, HistoryModel::kPageSize));
        QCOMPARE(model->sortColumn(), int(HistoryModel::Cost));

        // The goal column has no order: the indicator stays on Cost and nothing reloads.
        QSignalSpy reset(model, &QAbstractItemModel::modelReset);
        const int x = header->sectionViewportPosition(HistoryModel::Goal) + 10;
        QTest::mouseClick(header->viewport(), Qt::LeftButton, {}, QPoint(x, 5));
        QCOMPARE(header->sortIndicatorSection(), int(HistoryModel::Cost));
        QCOMPARE(reset.count(), 0);
        QVERIFY(!HistoryModel::isSortable(HistoryModel::Goal));
    }

    // The store opens on a worker while the window is up: a busy bar and "Opening…" meanwhile,
    // Start only once it is open.
    void storeOpensInTheBackground() {
        auto context = makeContext(m_dir.filePath(QStringLiteral("fresh/audit.sqlite")));
        QVERIFY(context);
        context->loadSecrets();
        QTRY_VERIFY_WITH_TIMEOUT(context->areSecretsLoaded(), 20000);
        MainWindow window(*context);
        window.show();
        QVERIFY(!context->isStoreOpen());
        QSignalSpy opened(context.get(), &AppContext::storeOpened);
        context->openStore();
        QVERIFY(context->isStoreOpening());
        QVERIFY(window.storeBusy()->isVisible());
        QVERIFY(!window.currentRun()
                     ->goalEditor()
                     ->findChild<QPushButton*>(QStringLiteral("startButton"))
                     ->isEnabled());
        QVERIFY(opened.wait(20000));
        QVERIFY(context->isStoreOpen());
        QVERIFY(!window.storeBusy()->isVisible());
        QVERIFY(window.storeErrorBox() == nullptr);
        QVERIFY(window.currentRun()
                    ->goalEditor()
                    ->findChild<QPushButton*>(QStringLiteral("startButton"))
                    ->isEnabled());
    }

    // The desktop holds the store's open back until its window has painted: the window says the
    // store is opening from the start, nothing touches the database before the release, and the
    // History and Charts pages are built only when first shown.
    void storeOpenHeldUntilReleased() {
        const QString path = m_dir.filePath(QStringLiteral("held/audit.sqlite"));
        auto context = makeContext(path);
        QVERIFY(context);
        context->holdStoreOpen();
        QSignalSpy opened(context.get(), &AppContext::storeOpened);
        context->openStore();
        MainWindow window(*context);
        window.show();
        QVERIFY(context->isStoreOpening());
        QVERIFY(window.storeBusy()->isVisible());
        QVERIFY(window.storeErrorBox() == nullptr);
        QVERIFY(window.findChild<HistoryView*>() == nullptr);
        QVERIFY(window.findChild<ChartsView*>() == nullptr);
        QTest::qWait(300);
        QVERIFY(!QFileInfo::exists(path)); // nothing opened yet
        QCOMPARE(opened.count(), 0);
        context->releaseStoreOpen();
        QVERIFY(opened.wait(20000));
        QVERIFY(context->isStoreOpen());
        QVERIFY(QFileInfo::exists(path));
        QVERIFY(!window.storeBusy()->isVisible());
        // The History tab keeps its place, text and shortcut when its page is built.
        const int historyTab = 1;
        QCOMPARE(window.pages()->tabText(historyTab), QStringLiteral("&History"));
        window.pages()->setCurrentIndex(historyTab);
        HistoryView* history = window.findChild<HistoryView*>();
        QVERIFY(history);
        QCOMPARE(window.history(), history);
        QCOMPARE(window.pages()->currentWidget(), history);
        QCOMPARE(window.pages()->tabText(historyTab), QStringLiteral("&History"));
        QCOMPARE(window.pages()->count(), 4);
        QCOMPARE(window.pages()->indexOf(window.charts()), 2);
    }

    // A store that cannot be opened: a dialog that names it and says what to do, runs cannot
    // start, the views say why; Retry opens it once it is fixed.
    void storeFailureShowsADialog() {
        const QString path = m_dir.filePath(QStringLiteral("broken/audit.sqlite"));
        QDir().mkpath(QFileInfo(path).path());
        {
            QFile junk(path);
            QVERIFY(junk.open(QIODevice::WriteOnly));
            junk.write(QByteArray(4096, 'x'));
        }
        auto context = makeContext(path);
        QVERIFY(context);
        MainWindow window(*context);
        window.show();
        context->openStore();
        QTRY_VERIFY_WITH_TIMEOUT(window.storeErrorBox() != nullptr, 20000);
        QMessageBox* box = window.storeErrorBox();
        QVERIFY(box->isVisible());
        QVERIFY(box->text().contains(path));
        QVERIFY(box->informativeText().contains(QStringLiteral("store.corrupt")));
        QCOMPARE(context->storeError().code, QStringLiteral("store.corrupt"));
        QVERIFY(!context->isStoreOpen());
        auto* status = window.findChild<QLabel*>(QStringLiteral("storeStatus"));
        QVERIFY(status->text().contains(QStringLiteral("runs cannot start")));
        QVERIFY(window.currentRun()
                    ->goalEditor()
                    ->findChild<QLabel*>(QStringLiteral("providerLabel"))
                    ->text()
                    .contains(QStringLiteral("store.corrupt")) ||
                !window.currentRun()
                     ->goalEditor()
                     ->findChild<QPushButton*>(QStringLiteral("startButton"))
                     ->isEnabled());
        // The person fixes it (here: the junk goes) and retries.
        QVERIFY(QFile::remove(path));
        box->button(QMessageBox::Retry)->click();
        QTRY_VERIFY_WITH_TIMEOUT(context->isStoreOpen(), 20000);
        QTRY_VERIFY_WITH_TIMEOUT(window.storeErrorBox() == nullptr, 5000);
        QVERIFY(status->text().isEmpty());
    }

    // The alerts list reads on a worker: refresh() returns at once, the stored alerts of another
    // process and this process's own both show, and resolving one needs no read on this thread.
    void alertsReadInTheBackground() {
        // An alert raised by another process (its own writer): only in the store.
        {
            auto store = AuditStore::open(m_context->storeConfig());
            QVERIFY(store);
            auto writer = (*store)->startWriter();
            QVERIFY(writer);
            QVERIFY((*writer)->write(
                AuditEvent::alertRaised(
                    QStringLiteral("other-process-alert"), QStringLiteral("high_error_rate"),
                    QStringLiteral("critical"), QStringLiteral("raised elsewhere"), {}, {}),
                30000));
        }
        m_context->alerts().raise(Alert::Category::CostThreshold, Alert::Level::Warning,
                                  QStringLiteral("raised here"));
        MainWindow window(*m_context);
        window.show();
        AlertsView* alerts = window.alerts();
        QSignalSpy refreshed(alerts, &AlertsView::refreshed);
        QTRY_VERIFY_WITH_TIMEOUT(refreshed.count() > 0 && !alerts->isLoading(), 20000);
        refreshed.clear();
        alerts->refresh();
        QVERIFY(alerts->isLoading()); // returned before the read
        QVERIFY(refreshed.wait(20000));
        QTRY_VERIFY_WITH_TIMEOUT(!alerts->isLoading(), 20000);
        QTableWidget* table = alerts->table();
        int elsewhere = -1;
        bool here = false;
        for (int row = 0; row < table->rowCount(); ++row) {
            if (table->item(row, 3)->text() == QLatin1String("raised elsewhere"))
                elsewhere = row;
            here = here || table->item(row, 3)->text() == QLatin1String("raised here");
        }
        QVERIFY(elsewhere >= 0);
        QVERIFY(here);
        QCOMPARE(alerts->openCount(), table->rowCount());
        const int open = alerts->openCount();
        alerts->resolveRow(elsewhere, QStringLiteral("looked at it"));
        QTRY_VERIFY_WITH_TIMEOUT(!alerts->isLoading() && alerts->openCount() == open - 1, 20000);
        QVERIFY(m_context->alerts().flush());
        auto store = AuditStore::open(m_context->storeConfig());
        QVERIFY(store);
        const auto stored =
            AlertRepository((*store)->connectionName()).find(QStringLiteral("other-process-alert"));
        QVERIFY(stored && *stored);
        QCOMPARE((*stored)->resolutionNote, QStringLiteral("looked at it"));
        store->reset();
        QCOMPARE(connectionsOfThisThread(), QStringList());
    }

    // The CSV export runs on a worker with a busy bar, writes exactly the store's report, and a
    // failure ends in a dialog that says what to do.
    void csvExportInTheBackground() {
        MainWindow window(*m_context);
        window.show();
        ChartsView* charts = window.charts();
        charts->setRange(kLast.addDays(-29), kLast);
        const QString csv = m_dir.filePath(QStringLiteral("report.csv"));
        QSignalSpy exported(charts, &ChartsView::exported);
        QVERIFY(charts->exportCsv(csv));
        QVERIFY(charts->isExporting());
        QVERIFY(charts->busyBar()->isVisibleTo(charts));
        QVERIFY(!charts->exportButton()->isEnabled());
        QVERIFY(!charts->exportCsv(csv)); // one at a time
        QVERIFY(exported.wait(20000));
        QCOMPARE(exported.at(0).at(1).toString(), QString());
        QVERIFY(!charts->isExporting());
        QVERIFY(charts->exportButton()->isEnabled());
        // A month of days and models (byte-equal to the store's exporter: tst_gui_run).
        QFile file(csv);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY(file.readAll().count('\n') > 30);

        exported.clear();
        QVERIFY(charts->exportCsv(m_dir.filePath(QStringLiteral("no/such/folder/report.csv"))));
        QVERIFY(exported.wait(20000));
        QVERIFY(!exported.at(0).at(1).toString().isEmpty());
        auto* box = charts->findChild<QMessageBox*>(QStringLiteral("exportErrorBox"));
        QVERIFY(box);
        QTRY_VERIFY_WITH_TIMEOUT(box->isVisible(), 5000);
        QVERIFY(box->informativeText().contains(QStringLiteral("another file")));
        box->close();
        QCOMPARE(connectionsOfThisThread(), QStringList());
    }

    // API latency p50/p95/p99 per day next to the tool run times: the store's figures, a tooltip
    // with the exact value, and the date range applies.
    void apiLatencyChart() {
        MainWindow window(*m_context);
        window.resize(1280, 820);
        window.show();
        window.pages()->setCurrentWidget(window.charts());
        ChartsView* charts = window.charts();
        QSignalSpy refreshed(charts, &ChartsView::refreshed);
        charts->setRange(kLast.addDays(-6), kLast);
        QTRY_VERIFY_WITH_TIMEOUT(refreshed.count() > 0 && !charts->isLoading(), 20000);
        QVERIFY(!charts->toolLatencyChart()->chart()->series().isEmpty());
        QChart* chart = charts->apiLatencyChart()->chart();
        QVERIFY(chart);
        const QList<QAbstractSeries*> series = chart->series();
        QCOMPARE(series.size(), 3);
        auto queries = AuditQueries::open(m_context->storeConfig());
        QVERIFY(queries);
        const auto days = (*queries)->apiLatencyByDay(charts->range());
        queries->reset();
        QVERIFY(days && !days->isEmpty());
        const qint64 firstDay =
            kLast.addDays(-6).startOfDay(QTimeZone::utc()).toMSecsSinceEpoch() / kDayMs;
        for (int s = 0; s < 3; ++s) {
            auto* line = qobject_cast<QLineSeries*>(series.at(s));
            QVERIFY(line);
            QCOMPARE(line->name(), QStringList({"p50", "p95", "p99"}).at(s));
            QCOMPARE(line->count(), days->size());
            for (int i = 0; i < days->size(); ++i) {
                const auto& p = days->at(i).latencyMs;
                const qint64 want = s == 0 ? *p.p50 : s == 1 ? *p.p95 : *p.p99;
                QCOMPARE(line->at(i).x(), double(days->at(i).day - firstDay));
                QCOMPARE(line->at(i).y(), double(want));
            }
        }
        // Hovering a point shows its exact value with the date and the number of calls.
        auto* p95 = qobject_cast<QLineSeries*>(series.at(1));
        const QPointF point = p95->at(0);
        emit p95->hovered(point, true);
        const QString tip = QToolTip::text();
        QVERIFY2(tip.contains(QStringLiteral("p95")), qPrintable(tip));
        QVERIFY2(tip.contains(QLocale().toString(point.y(), 'f', 0) + QStringLiteral(" ms")),
                 qPrintable(tip));
        QVERIFY2(
            tip.contains(QDateTime::fromMSecsSinceEpoch(days->at(0).day * kDayMs, QTimeZone::utc())
                             .toString(QStringLiteral("yyyy-MM-dd"))),
            qPrintable(tip));
        emit p95->hovered(point, false);
        // A range without calls: no points.
        refreshed.clear();
        charts->setRange(kLast.addDays(100), kLast.addDays(110));
        QTRY_VERIFY_WITH_TIMEOUT(refreshed.count() > 0 && !charts->isLoading(), 20000);
        for (QAbstractSeries* s : charts->apiLatencyChart()->chart()->series())
            QCOMPARE(qobject_cast<QLineSeries*>(s)->count(), 0);
    }

    void cleanupTestCase() { m_context.reset(); }
};

QTEST_MAIN(TstGuiData)
#include "tst_gui_data.moc"
