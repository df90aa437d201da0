#pragma once

#include "store/AuditQueries.h"

#include <QWidget>

#include <optional>

class QCheckBox;
class QComboBox;
class QDateEdit;
class QLabel;
class QLineEdit;
class QPushButton;
class QSplitter;
class QTableView;

namespace m1 {

class AppContext;
class HistoryModel;
class TimelineView;

// Past runs: a lazy table with filters, and the opened run's timeline read-only (every decision,
// argument, output and API call); export of one run as JSON; the audit chain's verification.
class HistoryView : public QWidget {
    Q_OBJECT
public:
    explicit HistoryView(AppContext& context, QWidget* parent = nullptr);

    HistoryModel* model() const { return m_model; }
    QTableView* table() const { return m_table; }
    TimelineView* timeline() const { return m_timeline; }
    QSplitter* splitter() const { return m_splitter; }
    QLabel* verifyLabel() const { return m_verify; }
    // Opens a run (asynchronously); runOpened() when its timeline is filled.
    void openRun(const QString& runId);
    QString openedRunId() const { return m_opened ? m_opened->run.runId : QString(); }
    bool exportRun(const QString& path);
    void refresh();
    void verifyAudit();

    static void fillTimeline(TimelineView* view, const AuditQueries::RunDetail& detail);

signals:
    void runOpened(const QString& runId);

private:
    void applyFilter();

    AppContext& m_context;
    HistoryModel* m_model = nullptr;
    QTableView* m_table = nullptr;
    TimelineView* m_timeline = nullptr;
    QSplitter* m_splitter = nullptr;
    QComboBox* m_agent = nullptr;
    QComboBox* m_stopReason = nullptr;
    QComboBox* m_modelFilter = nullptr;
    QCheckBox* m_useDates = nullptr;
    QDateEdit* m_from = nullptr;
    QDateEdit* m_to = nullptr;
    QLineEdit* m_search = nullptr;
    QLabel* m_count = nullptr;
    QLabel* m_verify = nullptr;
    QLabel* m_openedLabel = nullptr;
    QPushButton* m_export = nullptr;
    std::optional<AuditQueries::RunDetail> m_opened;
};

} // namespace m1
