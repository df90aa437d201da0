#pragma once

#include "Background.h"

#include "store/AuditQueries.h"

#include <QTimer>
#include <QWidget>

class QChartView;
class QDateEdit;
class QLabel;
class QProgressBar;
class QPushButton;

namespace m1 {

class AppContext;

// Cost and usage dashboards: cost per day stacked by model with the monthly projection and the
// budget, tokens per day by kind, tool calls by tool, approval outcomes, error rate over time,
// tool run time percentiles by tool and API latency percentiles per day. Queries run on a worker;
// live runs trigger a throttled refresh. Hovering a bar or point shows its exact value. The CSV
// export also runs on a worker (its own connection), with a busy bar meanwhile.
class ChartsView : public QWidget {
    Q_OBJECT
public:
    explicit ChartsView(AppContext& context, QWidget* parent = nullptr);

    void setRange(const QDate& from, const QDate& to);
    // Throttled: at most one query every few seconds while runs are busy.
    void scheduleRefresh();
    void refresh();
    bool isLoading() const { return m_load.busy(); }
    // Asks for a file, then exportCsv().
    void chooseAndExport();
    // Writes the cost report of the selected range (the store's CSV exporter) to path on a
    // worker; exported() when done. A failure is also shown in a dialog. False (and nothing
    // starts) while an export is under way.
    bool exportCsv(const QString& path);
    bool isExporting() const { return m_exporting; }
    AuditQueries::TimeRange range() const;
    QChartView* apiLatencyChart() const { return m_apiLatency; }
    QChartView* toolLatencyChart() const { return m_toolLatency; }
    QProgressBar* busyBar() const { return m_busy; }
    QPushButton* exportButton() const { return m_export; }

signals:
    void refreshed();
    // error is empty on success.
    void exported(const QString& path, const QString& error);

private:
    struct Data;
    void show(const Data& data);
    void updateBusy();

    AppContext& m_context;
    QDateEdit* m_from = nullptr;
    QDateEdit* m_to = nullptr;
    QLabel* m_summary = nullptr;
    QProgressBar* m_busy = nullptr;
    QPushButton* m_export = nullptr;
    QChartView* m_cost = nullptr;
    QChartView* m_tokens = nullptr;
    QChartView* m_tools = nullptr;
    QChartView* m_approvals = nullptr;
    QChartView* m_errors = nullptr;
    QChartView* m_toolLatency = nullptr;
    QChartView* m_apiLatency = nullptr;
    QTimer m_throttle;
    LoadGate m_load;
    bool m_exporting = false;
};

} // namespace m1
