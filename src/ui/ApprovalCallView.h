#pragma once

#include "run/PendingApproval.h"

#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QPointer>
#include <QWidget>

#include <optional>

class QAbstractScrollArea;
class QCheckBox;
class QLabel;
class QPlainTextEdit;
class QScrollBar;
class QTabWidget;

namespace m1 {

class PolicyEngine;
class ToolRegistry;
class Workspace;

// Everything about one proposal in the approval dialog, nothing hidden: run and step, the
// policy's reason, the fingerprint, resolved paths, and tabs with the coloured diff (write_file,
// edit_file), the argv one element per row with the working folder (run_command) and the
// arguments pretty-printed (editable). Hidden characters are made visible; long values scroll.
//
// It also keeps the evidence of how the call was looked at (SBX-27): whether every part of one
// of its complete views (the argv, the diff or the arguments) was on screen at some moment.
class ApprovalCallView : public QWidget {
    Q_OBJECT
public:
    struct Context {
        const ToolRegistry* registry = nullptr;
        const PolicyEngine* policy = nullptr; // for checking edited arguments (may be null)
        const Workspace* workspace = nullptr; // for resolving paths and reading current files
        QString runLabel;
        // Shown on the Changes tab: an earlier call of the same message changes this file too.
        QString sharedPathNote;
    };

    ApprovalCallView(const PendingApproval& pending, const Context& context,
                     QWidget* parent = nullptr);

    const PendingApproval& pending() const { return m_pending; }
    // First 12 hex digits of the SHA-256 of the canonical arguments (edited ones when edited).
    QString fingerprint() const;
    QString diffText() const { return m_diff; }
    QStringList argvRows() const { return m_argv; }
    QPlainTextEdit* argvView() const { return m_argvView; }
    QPlainTextEdit* argumentsView() const { return m_json; }
    QPlainTextEdit* diffView() const { return m_diffView; }
    QTabWidget* tabs() const { return m_tabs; }

    // The arguments as edited (valid, and different from the proposal), if any.
    const std::optional<QJsonObject>& editedArguments() const { return m_edited; }
    bool isEditValid() const { return m_editValid; }
    // For tests and the dialog: the arguments as edited, validated like typing them does.
    bool setEditedArguments(const QString& json);

    // Every part of the argv, the diff or the arguments was scrolled into view (SBX-27).
    bool seenWhole() const { return m_seenWhole; }

signals:
    void editChanged();

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    // Which parts of one scroll bar's range were on screen: merged [from, to) intervals.
    struct Coverage {
        QList<QPair<int, int>> seen;
        void add(int from, int to);
        bool covers(int from, int to) const;
    };
    struct Tracked {
        QPointer<QPlainTextEdit> view;
        Coverage vertical;
        Coverage horizontal;
    };

    QWidget* buildDiffTab();
    QWidget* buildCommandTab();
    QString resolvedPath(const QString& path, bool forWrite) const;
    void validateEdit();
    void track(QPlainTextEdit* view);
    void updateSeen(Tracked& tracked);

    PendingApproval m_pending;
    Context m_context;
    bool m_editValid = true;
    bool m_seenWhole = false;
    std::optional<QJsonObject> m_edited;
    QString m_diff;
    QStringList m_argv;
    QList<Tracked> m_tracked;

    QLabel* m_fingerprint = nullptr;
    QLabel* m_editStatus = nullptr;
    QTabWidget* m_tabs = nullptr;
    QPlainTextEdit* m_json = nullptr;
    QPlainTextEdit* m_argvView = nullptr;
    QPlainTextEdit* m_diffView = nullptr;
    QCheckBox* m_editToggle = nullptr;
};

} // namespace m1
