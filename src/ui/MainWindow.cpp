#include "MainWindow.h"

#include "AlertsView.h"
#include "AppContext.h"
#include "ApprovalDialog.h"
#include "Background.h"
#include "ChartsView.h"
#include "GoalEditor.h"
#include "GuiApprovalGate.h"
#include "HistoryView.h"
#include "Icons.h"
#include "RunTab.h"
#include "SettingsDialog.h"
#include "TimelineView.h"

#include "Version.h"
#include "util/CanonicalJson.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QSystemTrayIcon>
#include <QTabBar>
#include <QTabWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace m1 {

MainWindow::MainWindow(AppContext& context, QWidget* parent)
    : QMainWindow(parent), m_context(context) {
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("M1 Agent Control"));
    m_gate = new GuiApprovalGate(context, this, this);

    m_pages = new QTabWidget(this);
    m_pages->setObjectName(QStringLiteral("pages"));
    m_pages->setDocumentMode(true);
    m_runTabs = new QTabWidget(m_pages);
    m_runTabs->setObjectName(QStringLiteral("runTabs"));
    m_runTabs->setTabsClosable(true);
    m_runTabs->setMovable(true);
    m_runTabs->setDocumentMode(true);
    auto* newRunButton = new QToolButton(m_runTabs);
    newRunButton->setIcon(Icons::icon(Icons::NewRun));
    newRunButton->setToolTip(tr("New run (Ctrl+N)"));
    newRunButton->setAccessibleName(tr("New run"));
    newRunButton->setAutoRaise(true);
    m_runTabs->setCornerWidget(newRunButton, Qt::TopRightCorner);
    connect(newRunButton, &QToolButton::clicked, this, &MainWindow::newRun);
    connect(m_runTabs, &QTabWidget::tabCloseRequested, this, &MainWindow::closeRunTab);
    // History and Charts are built when first shown (see history(), charts()): the window paints
    // sooner. Alerts is built now: its tab shows the number of open alerts.
    m_historyPlaceholder = new QWidget(m_pages);
    m_chartsPlaceholder = new QWidget(m_pages);
    m_alerts = new AlertsView(context, m_pages);
    m_pages->addTab(m_runTabs, Icons::icon(Icons::Run), tr("&Runs"));
    m_pages->addTab(m_historyPlaceholder, Icons::icon(Icons::History), tr("&History"));
    m_pages->addTab(m_chartsPlaceholder, Icons::icon(Icons::Charts), tr("&Charts"));
    m_pages->addTab(m_alerts, Icons::icon(Icons::Alerts), tr("A&lerts"));
    setCentralWidget(m_pages);
    connect(m_pages, &QTabWidget::currentChanged, this, [this](int index) {
        QWidget* page = m_pages->widget(index);
        if (page == m_chartsPlaceholder || (m_charts && page == m_charts))
            charts()->refresh();
        else if (page == m_historyPlaceholder || (m_history && page == m_history))
            history()->refresh();
    });

    // The queue of every pending approval across the runs.
    m_queueDock = new QDockWidget(tr("Pending approvals"), this);
    m_queueDock->setObjectName(QStringLiteral("queueDock"));
    auto* queue = new QWidget(m_queueDock);
    auto* queueLayout = new QVBoxLayout(queue);
    queueLayout->setContentsMargins(4, 4, 4, 4);
    m_pendingList = new QListWidget(queue);
    m_pendingList->setObjectName(QStringLiteral("pendingList"));
    m_pendingList->setAccessibleName(tr("Pending approvals"));
    m_pendingList->setSelectionMode(QAbstractItemView::ExtendedSelection);
    auto* show = new QPushButton(tr("&Show"), queue);
    auto* denySelected = new QPushButton(tr("Deny selected"), queue);
    auto* denyAll = new QPushButton(tr("Deny all"), queue);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(show);
    buttons->addWidget(denySelected);
    buttons->addWidget(denyAll);
    queueLayout->addWidget(m_pendingList, 1);
    queueLayout->addLayout(buttons);
    m_queueDock->setWidget(queue);
    addDockWidget(Qt::RightDockWidgetArea, m_queueDock);
    m_queueDock->hide();
    auto showSelected = [this] {
        QListWidgetItem* item = m_pendingList->currentItem();
        if (item)
            m_gate->focus(item->data(Qt::UserRole).toString(),
                          item->data(Qt::UserRole + 1).toString());
    };
    connect(show, &QPushButton::clicked, this, showSelected);
    connect(m_pendingList, &QListWidget::itemActivated, this, showSelected);
    connect(denySelected, &QPushButton::clicked, this, [this] {
        const QList<QListWidgetItem*> selected = m_pendingList->selectedItems();
        for (QListWidgetItem* item : selected) {
            ApprovalDecision d = ApprovalDecision::deny(
                QStringLiteral("person"), QStringLiteral("gui"), tr("denied from the queue list"));
            d.inBatch = selected.size() > 1;
            d.decidedBy = ApprovalDecision::localUser();
            m_gate->decide(item->data(Qt::UserRole).toString(),
                           item->data(Qt::UserRole + 1).toString(), d);
        }
    });
    connect(denyAll, &QPushButton::clicked, this, [this] {
        if (QMessageBox::question(this, tr("Deny all?"),
                                  tr("Deny all %n pending proposal(s)?", nullptr,
                                     int(m_gate->pending().size()))) == QMessageBox::Yes)
            m_gate->denyAll(tr("denied with all pending proposals"));
    });

    m_pendingButton = new QToolButton(this);
    m_pendingButton->setObjectName(QStringLiteral("pendingButton"));
    m_pendingButton->setIcon(Icons::icon(Icons::Pending));
    m_pendingButton->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_pendingButton->setAutoRaise(true);
    m_pendingButton->setToolTip(tr("Show the queue of pending approvals (F9)"));
    connect(m_pendingButton, &QToolButton::clicked, this,
            [this] { m_queueDock->setVisible(!m_queueDock->isVisible()); });
    m_runStatus = new QLabel(this);
    m_runStatus->setTextFormat(Qt::PlainText);
    m_secretsStatus = new QLabel(this);
    m_secretsStatus->setTextFormat(Qt::PlainText);
    m_storeStatus = new QLabel(this);
    m_storeStatus->setObjectName(QStringLiteral("storeStatus"));
    m_storeStatus->setTextFormat(Qt::PlainText);
    m_storeBusy = makeBusyBar(this, tr("Opening the audit database"));
    statusBar()->addWidget(m_runStatus, 1);
    statusBar()->addPermanentWidget(m_storeBusy);
    statusBar()->addPermanentWidget(m_storeStatus);
    statusBar()->addPermanentWidget(m_secretsStatus);
    statusBar()->addPermanentWidget(m_pendingButton);
    connect(m_gate, &GuiApprovalGate::queueChanged, this, &MainWindow::onQueueChanged);
    onQueueChanged(0);

    connect(&context, &AppContext::secretsLoaded, this, [this] {
        if (!m_context.tokens()) {
            m_secretsStatus->setText(tr("No token secret: runs cannot start"));
            QMessageBox box(QMessageBox::Critical, tr("Approval tokens unavailable"),
                            tr("The secret that signs approval tokens could not be read: %1")
                                .arg(m_context.tokenError().message),
                            QMessageBox::Retry | QMessageBox::Close, this);
            box.setInformativeText(tr("Unlock the keychain and press Retry, or set M1_JWT_SECRET "
                                      "(32 bytes or more) in the environment and restart."));
            if (box.exec() == QMessageBox::Retry)
                m_context.loadSecrets();
        } else {
            m_secretsStatus->setText(m_context.hasApiKey() && !m_context.forceReplay()
                                         ? tr("Claude")
                                         : tr("Offline replay"));
        }
    });

    connect(&context, &AppContext::storeOpening, this, &MainWindow::showStoreState);
    connect(&context, &AppContext::storeOpened, this, &MainWindow::showStoreState);
    showStoreState();

    // Tray notifications for warning and critical alerts, where the desktop has a tray.
    if (QSystemTrayIcon::isSystemTrayAvailable()) {
        auto* tray = new QSystemTrayIcon(QApplication::windowIcon(), this);
        tray->setToolTip(tr("M1 Agent Control"));
        tray->show();
        connect(
            &context.alerts(), &AlertManager::alertRaised, this,
            [tray](const Alert& a) {
                if (a.level == Alert::Level::Info)
                    return;
                tray->showMessage(a.level == Alert::Level::Critical ? tr("Critical alert")
                                                                    : tr("Warning"),
                                  a.message,
                                  a.level == Alert::Level::Critical ? QSystemTrayIcon::Critical
                                                                    : QSystemTrayIcon::Warning);
            },
            Qt::QueuedConnection);
    }
    connect(m_alerts, &AlertsView::openCountChanged, this, [this](int open) {
        m_pages->setTabText(m_pages->indexOf(m_alerts),
                            open > 0 ? tr("A&lerts (%1)").arg(open) : tr("A&lerts"));
    });

    buildMenus();
    newRun();
    resize(1200, 800);
    restoreState();
}

void MainWindow::replacePlaceholder(QWidget*& placeholder, QWidget* page) {
    const int index = m_pages->indexOf(placeholder);
    const bool current = m_pages->currentIndex() == index;
    {
        // No currentChanged while the tab is swapped (this may run inside that very signal).
        const QSignalBlocker block(m_pages);
        m_pages->insertTab(index, page, m_pages->tabIcon(index), m_pages->tabText(index));
        m_pages->removeTab(index + 1);
        if (current)
            m_pages->setCurrentIndex(index);
    }
    placeholder->deleteLater();
    placeholder = nullptr;
}

HistoryView* MainWindow::history() {
    if (!m_history) {
        m_history = new HistoryView(m_context, m_pages);
        if (!m_historySplitterState.isEmpty())
            m_history->splitter()->restoreState(m_historySplitterState);
        replacePlaceholder(m_historyPlaceholder, m_history);
    }
    return m_history;
}

ChartsView* MainWindow::charts() {
    if (!m_charts) {
        m_charts = new ChartsView(m_context, m_pages);
        replacePlaceholder(m_chartsPlaceholder, m_charts);
    }
    return m_charts;
}

MainWindow::~MainWindow() {
    // Run tabs (and their controllers) go before the gate they use.
    while (m_runTabs->count() > 0)
        delete m_runTabs->widget(0);
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* newRunAction =
        file->addAction(Icons::icon(Icons::NewRun), tr("&New run"), this, &MainWindow::newRun);
    newRunAction->setShortcut(QKeySequence::New);
    file->addAction(Icons::icon(Icons::Export), tr("&Export cost report…"), this, [this] {
        ChartsView* page = charts();
        m_pages->setCurrentWidget(page);
        page->chooseAndExport();
    });
    file->addSeparator();
    QAction* settings = file->addAction(Icons::icon(Icons::Settings), tr("&Settings…"), this,
                                        &MainWindow::openSettings);
    settings->setShortcut(QKeySequence::Preferences);
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    QMenu* view = menuBar()->addMenu(tr("&View"));
    QAction* queue = m_queueDock->toggleViewAction();
    queue->setShortcut(Qt::Key_F9);
    view->addAction(queue);
    for (int i = 0; i < m_pages->count(); ++i) {
        QAction* a = view->addAction(m_pages->tabText(i).remove(QLatin1Char('&')));
        a->setShortcut(QKeySequence(Qt::ALT | Qt::Key(Qt::Key_1 + i)));
        connect(a, &QAction::triggered, this, [this, i] { m_pages->setCurrentIndex(i); });
    }
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About"), this, [this] {
        QMessageBox::about(this, tr("About M1 Agent Control"),
                           tr("M1 Agent Control %1\nThe agent only proposes tool calls. A call "
                              "runs only when the policy allows it or you approve it, and only "
                              "with a single-use approval token bound to that exact call.")
                               .arg(QString::fromLatin1(kVersion)));
    });
}

RunTab* MainWindow::currentRun() const {
    return qobject_cast<RunTab*>(m_runTabs->currentWidget());
}

RunTab* MainWindow::newRun() {
    auto* tab = new RunTab(m_context, *m_gate, m_runTabs);
    const int index = m_runTabs->addTab(tab, Icons::icon(Icons::Run), tab->title());
    m_runTabs->setCurrentIndex(index);
    m_pages->setCurrentWidget(m_runTabs);
    const QByteArray split = QSettings().value(QStringLiteral("ui/runSplitter")).toByteArray();
    if (!split.isEmpty())
        tab->splitter()->restoreState(split);
    const QByteArray timeline =
        QSettings().value(QStringLiteral("ui/timelineSplitter")).toByteArray();
    if (!timeline.isEmpty())
        tab->timeline()->splitter()->restoreState(timeline);
    connect(tab, &RunTab::titleChanged, this, [this, tab](const QString& title) {
        const int i = m_runTabs->indexOf(tab);
        if (i >= 0) {
            m_runTabs->setTabText(i, title);
            m_runTabs->setTabToolTip(i, title);
        }
    });
    connect(tab, &RunTab::statusChanged, this, [this, tab](const QString& status) {
        if (tab == currentRun())
            m_runStatus->setText(status);
    });
    // Charts not built yet read everything when they are.
    connect(tab, &RunTab::runEvent, this, [this] {
        if (m_charts)
            m_charts->scheduleRefresh();
    });
    connect(tab, &RunTab::runFinished, this, [this] { m_alerts->refresh(); });
    connect(m_runTabs, &QTabWidget::currentChanged, this, [this] {
        if (RunTab* t = currentRun())
            m_runStatus->setText(t->statusText());
    });
    tab->goalEditor()->setFocus();
    return tab;
}

void MainWindow::closeRunTab(int index) {
    auto* tab = qobject_cast<RunTab*>(m_runTabs->widget(index));
    if (!tab)
        return;
    if (tab->isRunning()) {
        if (QMessageBox::question(this, tr("Stop the run?"),
                                  tr("This run is still going. Stop it and close the tab?")) !=
            QMessageBox::Yes)
            return;
        tab->stop();
        // The tab closes when the run has recorded its end.
        connect(tab, &RunTab::runFinished, tab, &QObject::deleteLater);
        return;
    }
    m_runTabs->removeTab(index);
    tab->deleteLater();
    if (m_runTabs->count() == 0)
        newRun();
}

void MainWindow::onQueueChanged(int count) {
    m_pendingButton->setText(count == 1 ? tr("1 pending") : tr("%1 pending").arg(count));
    QFont f = m_pendingButton->font();
    f.setBold(count > 0);
    m_pendingButton->setFont(f);
    m_pendingButton->setAccessibleName(tr("%n approval(s) pending", nullptr, count));
    m_pendingList->clear();
    for (const PendingApproval& p : m_gate->pending()) {
        QString text = tr("%1 (%2) — run %3, step %4")
                           .arg(p.call.toolName, scopeToString(p.scope), p.call.runId.right(8))
                           .arg(p.step);
        if (p.batchSize > 1)
            text += tr(", call %1 of %2 of its message").arg(p.batchIndex + 1).arg(p.batchSize);
        auto* item = new QListWidgetItem(text, m_pendingList);
        item->setData(Qt::UserRole, p.call.runId);
        item->setData(Qt::UserRole + 1, p.call.id);
        item->setToolTip(p.decision.reason);
    }
    if (count > 1)
        m_queueDock->show();
}

void MainWindow::openSettings() {
    SettingsDialog dialog(m_context, this);
    dialog.exec();
}

QMessageBox* MainWindow::storeErrorBox() const {
    return m_storeErrorBox;
}

void MainWindow::showStoreState() {
    m_storeBusy->setVisible(m_context.isStoreOpening());
    if (m_context.isStoreOpening()) {
        m_storeStatus->setText(tr("Opening the audit database…"));
        m_storeStatus->setToolTip(m_context.databaseDisplayName());
        return;
    }
    if (m_context.isStoreOpen()) {
        m_storeStatus->clear();
        return;
    }
    if (m_context.storeError().code.isEmpty())
        return; // not asked to open yet
    m_storeStatus->setText(tr("No audit database: runs cannot start"));
    m_storeStatus->setToolTip(m_context.storeError().toString());
    if (m_storeErrorBox)
        return;
    // Not modal to the application: history, charts and settings stay usable (Settings is where
    // the location is fixed).
    auto* box = new QMessageBox(
        QMessageBox::Critical, tr("Audit database unavailable"),
        tr("The audit database %1 could not be opened.").arg(m_context.databaseDisplayName()),
        QMessageBox::Retry | QMessageBox::Close, this);
    box->setObjectName(QStringLiteral("storeErrorBox"));
    box->setInformativeText(
        tr("%1\n\nRuns need it: every decision is recorded before a tool runs. If it is a "
           "PostgreSQL server, check that it runs and accepts the connection (password in "
           "~/.pgpass); if it is a file, check the folder's permissions and free space. Then "
           "press Retry. To use another database, change it in Settings (Database) or start "
           "with --db, and restart.\n\nError code: %2")
            .arg(m_context.storeError().message, m_context.storeError().code));
    box->setWindowModality(Qt::NonModal);
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::finished, this, [this](int result) {
        if (result == QMessageBox::Retry)
            m_context.openStore();
    });
    m_storeErrorBox = box;
    box->show();
}

void MainWindow::restoreState() {
    QSettings settings;
    const QByteArray geometry = settings.value(QStringLiteral("ui/geometry")).toByteArray();
    if (!geometry.isEmpty())
        restoreGeometry(geometry);
    const QByteArray state = settings.value(QStringLiteral("ui/state")).toByteArray();
    if (!state.isEmpty())
        QMainWindow::restoreState(state);
    // Applied when the History page is built.
    m_historySplitterState = settings.value(QStringLiteral("ui/historySplitter")).toByteArray();
}

void MainWindow::closeEvent(QCloseEvent* event) {
    bool running = false;
    for (int i = 0; i < m_runTabs->count(); ++i)
        if (auto* t = qobject_cast<RunTab*>(m_runTabs->widget(i)); t && t->isRunning())
            running = true;
    if (running &&
        QMessageBox::question(this, tr("Quit?"),
                              tr("Runs are still going. Quit anyway? They stop as cancelled.")) !=
            QMessageBox::Yes) {
        event->ignore();
        return;
    }
    QSettings settings;
    settings.setValue(QStringLiteral("ui/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("ui/state"), saveState());
    if (m_history)
        settings.setValue(QStringLiteral("ui/historySplitter"), m_history->splitter()->saveState());
    if (RunTab* t = currentRun()) {
        settings.setValue(QStringLiteral("ui/runSplitter"), t->splitter()->saveState());
        settings.setValue(QStringLiteral("ui/timelineSplitter"),
                          t->timeline()->splitter()->saveState());
    }
    event->accept();
}

} // namespace m1
