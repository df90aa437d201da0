#pragma once

#include "RunRequest.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace m1 {

class AppContext;

// Where a person states the goal and the bounds of a run: goal text (with recent goals), agent
// profile, model, workspace folder, limits, budget, dry run; shows which provider will run it.
class GoalEditor : public QWidget {
    Q_OBJECT
public:
    explicit GoalEditor(AppContext& context, QWidget* parent = nullptr);

    RunRequest request() const;
    void setGoal(const QString& goal);
    // Shows what a run was started with (a run started from code, the screenshot tour).
    void setRequest(const RunRequest& request);
    void setWorkspace(const QString& dir);
    void setRunning(bool running);
    // Remembers the goal in the recent-goals list (the ui's settings; goals are not secrets).
    void rememberGoal(const QString& goal);
    void refreshProvider();

    QPushButton* startButton() const { return m_start; }
    QPushButton* stopButton() const { return m_stop; }

signals:
    void startRequested();
    void stopRequested();

private:
    void applyProfile();
    void rebuildRecent();

    AppContext& m_context;
    QPlainTextEdit* m_goal = nullptr;
    QPushButton* m_recent = nullptr;
    QComboBox* m_agent = nullptr;
    QComboBox* m_model = nullptr;
    QLineEdit* m_workspace = nullptr;
    QSpinBox* m_steps = nullptr;
    QSpinBox* m_toolCalls = nullptr;
    QSpinBox* m_runtime = nullptr;
    QDoubleSpinBox* m_budget = nullptr;
    QCheckBox* m_dryRun = nullptr;
    QLabel* m_provider = nullptr;
    QPushButton* m_start = nullptr;
    QPushButton* m_stop = nullptr;
};

} // namespace m1
