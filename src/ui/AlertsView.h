#pragma once

#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QTableWidget;

namespace m1 {

class AppContext;

// Alerts raised by the monitoring code: filter by state, level and category; resolve with a note.
class AlertsView : public QWidget {
    Q_OBJECT
public:
    explicit AlertsView(AppContext& context, QWidget* parent = nullptr);

    void refresh();
    QTableWidget* table() const { return m_table; }
    int openCount() const { return m_open; }

signals:
    void openCountChanged(int count);

private:
    void resolveSelected();

    AppContext& m_context;
    QCheckBox* m_openOnly = nullptr;
    QComboBox* m_level = nullptr;
    QComboBox* m_category = nullptr;
    QTableWidget* m_table = nullptr;
    QPushButton* m_resolve = nullptr;
    QLabel* m_status = nullptr;
    int m_open = 0;
};

} // namespace m1
