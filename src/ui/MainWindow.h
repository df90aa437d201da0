#pragma once

#include <QMainWindow>
#include <QPointer>

class QDockWidget;
class QListWidget;
class QMessageBox;
class QProgressBar;
class QTabWidget;
class QToolButton;
class QLabel;

namespace m1 {

class AppContext;
class GuiApprovalGate;
class HistoryView;
class ChartsView;
class AlertsView;
class RunTab;

// The desktop's main window: runs (one tab each), history, charts and alerts; a queue of every
// pending approval across the runs with an "N pending" indicator, so nothing waits unseen.
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(AppContext& context, QWidget* parent = nullptr);
    ~MainWindow() override;

    GuiApprovalGate* gate() const { return m_gate; }
    QTabWidget* pages() const { return m_pages; }
    QTabWidget* runTabs() const { return m_runTabs; }
    RunTab* currentRun() const;
    RunTab* newRun();
    // The History and Charts pages are built the first time they are shown or asked for (the
    // window paints sooner); these build them when needed.
    HistoryView* history();
    ChartsView* charts();
    AlertsView* alerts() const { return m_alerts; }
    QToolButton* pendingButton() const { return m_pendingButton; }
    QListWidget* pendingList() const { return m_pendingList; }
    // The dialog that says the audit store could not be opened (null when none is shown).
    QMessageBox* storeErrorBox() const;
    QProgressBar* storeBusy() const { return m_storeBusy; }
    void openSettings();

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildMenus();
    void onQueueChanged(int count);
    void closeRunTab(int index);
    void restoreState();
    void showStoreState();
    // Puts `page` into the tab of `placeholder`, keeping the tab's place, icon and text.
    void replacePlaceholder(QWidget*& placeholder, QWidget* page);

    AppContext& m_context;
    GuiApprovalGate* m_gate = nullptr;
    QTabWidget* m_pages = nullptr;
    QTabWidget* m_runTabs = nullptr;
    HistoryView* m_history = nullptr;
    ChartsView* m_charts = nullptr;
    // Stand-ins in the page tabs until the real page is built.
    QWidget* m_historyPlaceholder = nullptr;
    QWidget* m_chartsPlaceholder = nullptr;
    QByteArray m_historySplitterState;
    AlertsView* m_alerts = nullptr;
    QDockWidget* m_queueDock = nullptr;
    QListWidget* m_pendingList = nullptr;
    QToolButton* m_pendingButton = nullptr;
    QLabel* m_runStatus = nullptr;
    QLabel* m_secretsStatus = nullptr;
    QLabel* m_storeStatus = nullptr;
    QProgressBar* m_storeBusy = nullptr;
    QPointer<QMessageBox> m_storeErrorBox;
};

} // namespace m1
