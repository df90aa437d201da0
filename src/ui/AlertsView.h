#pragma once

#include "Background.h"

#include "model/Alert.h"

#include <QList>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QTableWidget;

namespace m1 {

class AppContext;

// Alerts raised by the monitoring code: filter by state, level and category; resolve with a note.
// The stored alerts are read on a worker (a connection of its own) and merged with this process's
// newer ones by the AlertManager; the table stays usable meanwhile.
class AlertsView : public QWidget {
    Q_OBJECT
public:
    explicit AlertsView(AppContext& context, QWidget* parent = nullptr);

    // Reads again (at most one read at a time; a request meanwhile reads once more after it).
    void refresh();
    bool isLoading() const { return m_load.busy(); }
    QTableWidget* table() const { return m_table; }
    QLabel* statusLabel() const { return m_status; }
    int openCount() const { return m_open; }
    // Resolves the alert on this row with the note (what the Resolve button does after asking).
    void resolveRow(int row, const QString& note);

signals:
    void openCountChanged(int count);
    // After each read, successful or not.
    void refreshed();

private:
    struct Listed;
    void resolveSelected();
    void show(const Listed& listed);

    AppContext& m_context;
    QCheckBox* m_openOnly = nullptr;
    QComboBox* m_level = nullptr;
    QComboBox* m_category = nullptr;
    QTableWidget* m_table = nullptr;
    QPushButton* m_resolve = nullptr;
    QLabel* m_status = nullptr;
    QProgressBar* m_busy = nullptr;
    QList<Alert> m_alerts; // the rows shown
    int m_open = 0;
    LoadGate m_load;
};

} // namespace m1
