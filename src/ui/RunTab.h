#pragma once

#include "RunRequest.h"

#include "run/RunReport.h"

#include <QElapsedTimer>
#include <QTimer>
#include <QWidget>

#include <memory>
#include <optional>

class QFrame;
class QLabel;
class QPushButton;
class QSplitter;

namespace m1 {

class AppContext;
class GoalEditor;
class GuiApprovalGate;
class RunSession;
class TimelineView;
struct ApiAttempt;
struct PendingApproval;

// One run: the goal editor above, the live timeline with its detail pane, and a status line with
// tokens, cost against the budget, elapsed time and the stop reason.
class RunTab : public QWidget {
    Q_OBJECT
public:
    RunTab(AppContext& context, GuiApprovalGate& gate, QWidget* parent = nullptr);
    ~RunTab() override;

    GoalEditor* goalEditor() const { return m_editor; }
    TimelineView* timeline() const { return m_timeline; }
    RunSession* session() const { return m_session.get(); }
    QSplitter* splitter() const { return m_splitter; }
    bool isRunning() const;
    QString title() const;
    QString statusText() const;
    std::optional<RunReport> report() const { return m_report; }
    QString runId() const { return m_runId; }
    // Shown while the run is paused because the audit store refused a write (full, read-only).
    QFrame* auditBanner() const { return m_auditBanner; }
    QLabel* auditBannerText() const { return m_auditBannerText; }
    QPushButton* auditRetryButton() const { return m_auditRetry; }
    QPushButton* auditCancelButton() const { return m_auditCancel; }

    // Starts with this request (the editor's fields are ignored); false with an error shown.
    bool start(const RunRequest& request);
    void stop();

signals:
    void titleChanged(const QString& title);
    void statusChanged(const QString& status);
    void runStarted(const QString& runId);
    void runEvent();
    void runFinished(const m1::RunReport& report);

private:
    void startFromEditor();
    void connectSession();
    void onApiAttempt(const ApiAttempt& attempt);
    void onFinished(const RunReport& report);
    void onAuditPaused(const QString& code, const QString& message);
    void updateStatus();

    AppContext& m_context;
    GuiApprovalGate& m_gate;
    GoalEditor* m_editor = nullptr;
    TimelineView* m_timeline = nullptr;
    QSplitter* m_splitter = nullptr;
    QLabel* m_tokens = nullptr;
    QLabel* m_cost = nullptr;
    QLabel* m_elapsed = nullptr;
    QLabel* m_stop = nullptr;
    QFrame* m_auditBanner = nullptr;
    QLabel* m_auditBannerText = nullptr;
    QPushButton* m_auditRetry = nullptr;
    QPushButton* m_auditCancel = nullptr;
    std::unique_ptr<RunSession> m_session;
    std::optional<RunReport> m_report;
    QString m_runId;
    QString m_goal;
    double m_budgetUsd = 0;
    qint64 m_inputTokens = 0;
    qint64 m_outputTokens = 0;
    qint64 m_costMicros = 0;
    bool m_costUnknown = false;
    QElapsedTimer m_clock;
    qint64 m_finalElapsedMs = -1;
    QTimer m_tick;
};

} // namespace m1
