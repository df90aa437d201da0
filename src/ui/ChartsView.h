#pragma once

#include "store/AuditQueries.h"

#include <QTimer>
#include <QWidget>

class QChartView;
class QDateEdit;
class QLabel;
class QPushButton;

namespace m1 {

class AppContext;

// Cost and usage dashboards: cost per day stacked by model with the monthly projection and the
// budget, tokens per day by kind, tool calls by tool, approval outcomes, error rate over time,
// tool and API latency percentiles. Queries run on a worker; live runs trigger a throttled
// refresh. Hovering a bar or point shows its exact value.
class ChartsView : public QWidget {
    Q_OBJECT
public:
    explicit ChartsView(AppContext& context, QWidget* parent = nullptr);

    void setRange(const QDate& from, const QDate& to);
    // Throttled: at most one query every few seconds while runs are busy.
    void scheduleRefresh();
    void refresh();
    bool isLoading() const { return m_loading; }
    // Writes the cost report of the selected range (the store's CSV exporter); false on failure.
    bool exportCsv(const QString& path, QString* error = nullptr);
    AuditQueries::TimeRange range() const;

signals:
    void refreshed();

private:
    struct Data;
    void show(const Data& data);

    AppContext& m_context;
    QDateEdit* m_from = nullptr;
    QDateEdit* m_to = nullptr;
    QLabel* m_summary = nullptr;
    QChartView* m_cost = nullptr;
    QChartView* m_tokens = nullptr;
    QChartView* m_tools = nullptr;
    QChartView* m_approvals = nullptr;
    QChartView* m_errors = nullptr;
    QChartView* m_latency = nullptr;
    QTimer m_throttle;
    bool m_loading = false;
    bool m_again = false;
};

} // namespace m1
