#pragma once

#include "run/ApprovalDecision.h"
#include "run/PendingApproval.h"

#include <QDialog>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QTimer>

#include <optional>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTabWidget;

namespace m1 {

class PolicyEngine;
class ToolRegistry;
class Workspace;

// The approval prompt: everything a person needs to decide on one proposal, and nothing hidden.
// The whole call is shown (pretty-printed arguments, a coloured diff for file writes, the argv one
// element per row with the working folder for commands, resolved paths), hidden characters are
// made visible, long values scroll instead of being cut. Non-modal, so the timeline stays usable.
//
// Guards against a keystroke meant for something else (SBX-26): the approve buttons come alive
// only armDelayMs after the dialog appears and again after it regains focus; a key held down
// while disarmed restarts the delay; for execute scope Deny is the default button.
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

    const PendingApproval& pending() const { return m_pending; }
    bool isArmed() const { return m_armed; }
    QTimer* armTimer() { return &m_armTimer; }
    // First 12 hex digits of the SHA-256 of the canonical arguments (edited ones when edited).
    QString fingerprint() const;
    QString diffText() const;
    QStringList argvRows() const;
    void setQueuePosition(int position, int total);
    // The run stopped waiting: close without a decision.
    void withdraw();

    // For tests and the queue list: the arguments as edited, validated like the dialog does.
    bool setEditedArguments(const QString& json);

    QPushButton* approveOnceButton() const { return m_approveOnce; }
    QPushButton* approveRunButton() const { return m_approveRun; }
    QPushButton* alwaysAllowButton() const { return m_alwaysAllow; }
    QPushButton* denyButton() const { return m_deny; }
    QPushButton* denyFeedbackButton() const { return m_denyFeedback; }
    QLineEdit* feedbackEdit() const { return m_feedback; }

    // The rule "Always allow" would add for this call.
    QString alwaysAllowRule() const;

signals:
    // kind: Approve (remember: "once", "run", "always"), Deny.
    void decided(const m1::ApprovalDecision& decision, const QString& remember);

protected:
    void changeEvent(QEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void showEvent(QShowEvent* event) override;
    void reject() override;

private:
    void disarm();
    void arm();
    void updateButtons();
    void approve(const QString& remember);
    void deny(bool withFeedback);
    void validateEdit();
    void onAlwaysAllow();
    QWidget* buildDiffTab();
    QWidget* buildCommandTab();
    QString decisionNote() const;
    QString resolvedPath(const QString& path, bool forWrite) const;

    PendingApproval m_pending;
    Context m_context;
    QTimer m_armTimer;
    QTimer m_countdown;
    QElapsedTimer m_shownClock;
    bool m_armed = false;
    bool m_editValid = true;
    bool m_seenWhole = false;
    bool m_decided = false;
    std::optional<QJsonObject> m_edited;
    QString m_diff;
    QStringList m_argv;

    QLabel* m_queueLabel = nullptr;
    QLabel* m_fingerprint = nullptr;
    QLabel* m_countdownLabel = nullptr;
    QLabel* m_editStatus = nullptr;
    QTabWidget* m_tabs = nullptr;
    QPlainTextEdit* m_json = nullptr;
    QPlainTextEdit* m_argvView = nullptr;
    QCheckBox* m_editToggle = nullptr;
    QLineEdit* m_feedback = nullptr;
    QPushButton* m_approveOnce = nullptr;
    QPushButton* m_approveRun = nullptr;
    QPushButton* m_alwaysAllow = nullptr;
    QPushButton* m_deny = nullptr;
    QPushButton* m_denyFeedback = nullptr;
};

} // namespace m1
