#pragma once

#include "run/ApprovalDecision.h"
#include "run/PendingApproval.h"

#include <QDialog>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QList>
#include <QTimer>

#include <optional>

class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QStackedWidget;

namespace m1 {

class ApprovalCallView;
class PolicyEngine;
class ToolRegistry;
class Workspace;

// The approval prompt: everything a person needs to decide on the proposals of one assistant
// message, and nothing hidden. Each call is shown whole on its own page (ApprovalCallView);
// with several, a list beside the page names them all ("call 1 of 3") and the person pages
// through them, decides them one by one, or all at once with "Approve all N" / "Deny all N".
// Non-modal, so the timeline stays usable.
//
// Guards against a keystroke meant for something else (SBX-26): the approve buttons come alive
// only armDelayMs after the dialog appears, after it regains focus and after another call is
// shown; a key held down while disarmed restarts the delay; for execute scope Deny is the
// default button. "Approve all" is never the default, and comes alive only once every call of
// the batch has been shown.
class ApprovalDialog : public QDialog {
    Q_OBJECT
public:
    struct Context {
        const ToolRegistry* registry = nullptr;
        const PolicyEngine* policy = nullptr; // for checking edited arguments (may be null)
        const Workspace* workspace = nullptr; // for resolving paths and reading current files
        int armDelayMs = 1000;
        qint64 expiresAtMs = 0; // when the run stops waiting (0: never)
        QString runLabel;
        QString policyFile; // where "Always allow" writes its rule
    };

    ApprovalDialog(const PendingApproval& pending, const Context& context,
                   QWidget* parent = nullptr);

    // Another proposal of the same message (same run and step): added to the batch.
    bool belongsToBatch(const PendingApproval& pending) const;
    void addPending(const PendingApproval& pending);
    // The run no longer waits for this call: it leaves the batch (the dialog closes with the
    // last undecided one). False when the dialog does not hold it.
    bool withdrawCall(const QString& callId);
    bool holds(const QString& callId) const;

    // The call shown now.
    const PendingApproval& pending() const;
    ApprovalCallView* currentView() const;
    int count() const { return int(m_items.size()); }
    int currentIndex() const { return m_current; }
    int undecidedCount() const;
    bool isDecided(int index) const { return m_items.at(index).decided; }
    // Shows another call of the batch (disarms the approve buttons).
    void setCurrentIndex(int index);
    bool showCall(const QString& callId);

    bool isArmed() const { return m_armed; }
    QTimer* armTimer() { return &m_armTimer; }
    QString fingerprint() const;
    QString diffText() const;
    QStringList argvRows() const;
    // How many calls of the run queue wait in other dialogs after this one (the status line).
    void setQueuePosition(int position, int total);
    // The run stopped waiting: close without a decision.
    void withdraw();

    // For tests and the queue list: the current call's arguments as edited, validated.
    bool setEditedArguments(const QString& json);

    QPushButton* approveOnceButton() const { return m_approveOnce; }
    QPushButton* approveRunButton() const { return m_approveRun; }
    QPushButton* alwaysAllowButton() const { return m_alwaysAllow; }
    QPushButton* denyButton() const { return m_deny; }
    QPushButton* denyFeedbackButton() const { return m_denyFeedback; }
    QPushButton* approveAllButton() const { return m_approveAll; }
    QPushButton* denyAllButton() const { return m_denyAll; }
    QPushButton* previousButton() const { return m_previous; }
    QPushButton* nextButton() const { return m_next; }
    QListWidget* batchList() const { return m_list; }
    QLineEdit* feedbackEdit() const { return m_feedback; }

    // The rule "Always allow" would add for the current call.
    QString alwaysAllowRule() const;

signals:
    // One call decided. remember (approvals): "once", "run", "always".
    void decided(const m1::PendingApproval& pending, const m1::ApprovalDecision& decision,
                 const QString& remember);

protected:
    void changeEvent(QEvent* event) override;
    void closeEvent(QCloseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void showEvent(QShowEvent* event) override;
    void reject() override;

private:
    struct Item {
        PendingApproval pending;
        ApprovalCallView* view = nullptr;
        bool decided = false;
        bool shown = false;   // its page was on screen
        QElapsedTimer listed; // since the dialog first showed it (time to decide, SBX-27)
    };

    void addItem(const PendingApproval& pending);
    void disarm();
    void arm();
    void updateButtons();
    void updateHeader();
    void updateList();
    void approve(const QString& remember);
    void deny(bool withFeedback);
    void approveAll();
    void denyAll();
    // Emits the decision of one call with its evidence; afterwards shows the next undecided
    // call, or closes when none is left.
    void finishItem(int index, ApprovalDecision decision, const QString& remember, bool batch);
    void advance();
    void onAlwaysAllow();
    bool allShown() const;
    bool batchHasExecute() const;
    QString summary(const PendingApproval& pending) const;

    QList<Item> m_items;
    int m_current = 0;
    Context m_context;
    QTimer m_armTimer;
    QTimer m_countdown;
    bool m_armed = false;
    bool m_closed = false;
    int m_queueWaiting = 0;

    QLabel* m_badge = nullptr;
    QLabel* m_title = nullptr;
    QLabel* m_queueLabel = nullptr;
    QLabel* m_countdownLabel = nullptr;
    QLabel* m_batchNote = nullptr;
    QListWidget* m_list = nullptr;
    QWidget* m_listPane = nullptr;
    QWidget* m_batchRow = nullptr;
    QLabel* m_thisCall = nullptr;
    QLabel* m_allWaiting = nullptr;
    QStackedWidget* m_pages = nullptr;
    QLineEdit* m_feedback = nullptr;
    QPushButton* m_approveOnce = nullptr;
    QPushButton* m_approveRun = nullptr;
    QPushButton* m_alwaysAllow = nullptr;
    QPushButton* m_deny = nullptr;
    QPushButton* m_denyFeedback = nullptr;
    QPushButton* m_approveAll = nullptr;
    QPushButton* m_denyAll = nullptr;
    QPushButton* m_previous = nullptr;
    QPushButton* m_next = nullptr;
};

} // namespace m1
