#include "ApprovalCallView.h"

#include "DiffHighlighter.h"
#include "VisibleText.h"

#include "policy/PolicyEngine.h"
#include "policy/PolicyRules.h"
#include "run/UnifiedDiff.h"
#include "tools/SafeFile.h"
#include "tools/ToolRegistry.h"
#include "tools/Workspace.h"
#include "util/CanonicalJson.h"

#include <QCheckBox>
#include <QEvent>
#include <QFile>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QPlainTextEdit>
#include <QScrollBar>
#include <QTabWidget>
#include <QVBoxLayout>

namespace m1 {

namespace {

constexpr qint64 kMaxDiffFileBytes = 4 * 1024 * 1024;

QPlainTextEdit* codeView(QWidget* parent, const QString& accessibleName) {
    auto* view = new QPlainTextEdit(parent);
    view->setReadOnly(true);
    view->setLineWrapMode(QPlainTextEdit::NoWrap);
    view->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    view->setAccessibleName(accessibleName);
    return view;
}

QLabel* wrapLabel(const QString& text, QWidget* parent) {
    auto* l = new QLabel(text, parent);
    l->setTextFormat(Qt::PlainText);
    l->setWordWrap(true);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return l;
}

bool isPathTool(const QString& tool) {
    return PolicyRules::isPathTool(tool);
}

} // namespace

void ApprovalCallView::Coverage::add(int from, int to) {
    if (to <= from)
        return;
    seen.append({from, to});
    std::sort(seen.begin(), seen.end());
    QList<QPair<int, int>> merged;
    for (const auto& interval : std::as_const(seen)) {
        if (!merged.isEmpty() && interval.first <= merged.last().second)
            merged.last().second = std::max(merged.last().second, interval.second);
        else
            merged.append(interval);
    }
    seen = merged;
}

bool ApprovalCallView::Coverage::covers(int from, int to) const {
    for (const auto& interval : seen)
        if (interval.first <= from && interval.second >= to)
            return true;
    return false;
}

ApprovalCallView::ApprovalCallView(const PendingApproval& pending, const Context& context,
                                   QWidget* parent)
    : QWidget(parent), m_pending(pending), m_context(context) {
    const QString tool = m_pending.call.toolName;
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);

    auto* form = new QFormLayout;
    form->setLabelAlignment(Qt::AlignRight);
    form->addRow(tr("Run:"),
                 wrapLabel(tr("%1, step %2").arg(m_context.runLabel).arg(pending.step), this));
    auto* reason = wrapLabel(VisibleText::visible(pending.decision.reason), this);
    reason->setObjectName(QStringLiteral("policyReason"));
    form->addRow(tr("Why you are asked:"), reason);
    m_fingerprint = new QLabel(this);
    m_fingerprint->setObjectName(QStringLiteral("fingerprint"));
    m_fingerprint->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_fingerprint->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_fingerprint->setToolTip(tr("The first 12 hex digits of the SHA-256 of the call's canonical "
                                 "arguments: the approval token binds exactly these. The timeline "
                                 "card shows the token's own fingerprint once it is issued."));
    form->addRow(tr("Fingerprint:"), m_fingerprint);
    const QJsonObject& args = pending.call.arguments;
    if (isPathTool(tool)) {
        const QString path = args.value(QLatin1String("path")).toString();
        form->addRow(tr("Path:"),
                     wrapLabel(resolvedPath(path, m_pending.scope != Scope::Read), this));
    }
    if (tool == QLatin1String("run_command")) {
        const QString cwd = args.value(QLatin1String("cwd")).toString();
        form->addRow(
            tr("Working folder:"),
            wrapLabel(resolvedPath(cwd.isEmpty() ? QStringLiteral(".") : cwd, false), this));
    }
    layout->addLayout(form);

    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("approvalTabs"));
    if (tool == QLatin1String("write_file") || tool == QLatin1String("edit_file"))
        m_tabs->addTab(buildDiffTab(), tr("&Changes"));
    if (tool == QLatin1String("run_command"))
        m_tabs->addTab(buildCommandTab(), tr("Co&mmand"));

    auto* argsPage = new QWidget(m_tabs);
    auto* argsLayout = new QVBoxLayout(argsPage);
    m_json = codeView(argsPage, tr("Arguments as JSON"));
    m_json->setObjectName(QStringLiteral("argumentsEdit"));
    m_json->setPlainText(VisibleText::visibleJson(args));
    m_editToggle = new QCheckBox(tr("&Edit the arguments before approving"), argsPage);
    m_editToggle->setToolTip(tr("The edited call is checked against the tool's schema and the "
                                "policy again; the approval token binds the edited arguments."));
    m_editStatus = new QLabel(argsPage);
    m_editStatus->setWordWrap(true);
    m_editStatus->setTextFormat(Qt::PlainText);
    argsLayout->addWidget(m_json, 1);
    argsLayout->addWidget(m_editToggle);
    argsLayout->addWidget(m_editStatus);
    m_tabs->addTab(argsPage, tr("A&rguments"));
    connect(m_editToggle, &QCheckBox::toggled, this, [this](bool on) {
        m_json->setReadOnly(!on);
        if (!on) {
            m_json->setPlainText(VisibleText::visibleJson(m_pending.call.arguments));
            m_edited.reset();
            m_editValid = true;
            m_editStatus->clear();
            m_fingerprint->setText(fingerprint());
            emit editChanged();
        }
    });
    connect(m_json, &QPlainTextEdit::textChanged, this, [this] {
        if (!m_json->isReadOnly())
            validateEdit();
    });
    layout->addWidget(m_tabs, 1);

    // SBX-27: the views that each show the call whole; one seen completely is enough.
    if (m_argvView)
        track(m_argvView);
    if (m_diffView)
        track(m_diffView);
    track(m_json);
    m_fingerprint->setText(fingerprint());
}

QString ApprovalCallView::resolvedPath(const QString& path, bool forWrite) const {
    if (!m_context.workspace)
        return VisibleText::visible(path);
    const auto resolved = m_context.workspace->resolve(path, forWrite ? Workspace::Access::Write
                                                                      : Workspace::Access::Read);
    if (!resolved)
        return tr("%1 → cannot be resolved: %2")
            .arg(VisibleText::visible(path), VisibleText::visible(resolved.error().message));
    return tr("%1 → %2").arg(VisibleText::visible(path), VisibleText::visible(*resolved));
}

QWidget* ApprovalCallView::buildDiffTab() {
    const QJsonObject& args = m_pending.call.arguments;
    const QString path = args.value(QLatin1String("path")).toString();
    QString current;
    QString note;
    bool exists = false;
    if (m_context.workspace) {
        // Read the way the tool will reach it: confined to the workspace, no link followed, and
        // never the audit database itself (SafeFile refuses it).
        const auto resolved = m_context.workspace->resolve(path, Workspace::Access::Write);
        const auto file = resolved
                              ? SafeFile::read(*m_context.workspace, *resolved, kMaxDiffFileBytes,
                                               SafeFile::HardLinks::Allow)
                              : Result<SafeFile::ReadResult>(std::unexpected(resolved.error()));
        if (file && file->truncated)
            note = tr("The current file is larger than %1 MB: the diff compares with an empty "
                      "file.")
                       .arg(kMaxDiffFileBytes / (1024 * 1024));
        else if (file) {
            current = QString::fromUtf8(file->data);
            exists = true;
        } else if (file.error().code != QLatin1String("path.not_found")) {
            note = tr("The current file cannot be read: %1 The diff compares with an empty file.")
                       .arg(VisibleText::visible(file.error().message));
        }
    }
    QString next;
    if (m_pending.call.toolName == QLatin1String("write_file")) {
        next = args.value(QLatin1String("content")).toString();
        if (!exists && note.isEmpty())
            note = tr("The file does not exist yet: it will be created.");
    } else {
        const QString oldString = args.value(QLatin1String("old_string")).toString();
        const QString newString = args.value(QLatin1String("new_string")).toString();
        const qsizetype at = current.indexOf(oldString);
        if (oldString.isEmpty() || at < 0) {
            note = tr("old_string does not occur in the current file: the edit will fail. The "
                      "diff shows old_string against new_string.");
            current = oldString;
            next = newString;
        } else {
            if (current.indexOf(oldString, at + 1) >= 0)
                note = tr("old_string occurs more than once: the edit will fail.");
            next = current;
            next.replace(at, oldString.size(), newString);
        }
    }
    if (!m_context.sharedPathNote.isEmpty())
        note = note.isEmpty() ? m_context.sharedPathNote
                              : m_context.sharedPathNote + QLatin1Char(' ') + note;
    m_diff =
        UnifiedDiff::diff(current, next, QStringLiteral("a/") + path, QStringLiteral("b/") + path);
    if (m_diff.isEmpty())
        m_diff = tr("(no change)");
    auto* page = new QWidget(m_tabs);
    auto* layout = new QVBoxLayout(page);
    if (!note.isEmpty()) {
        QLabel* label = wrapLabel(note, page);
        label->setObjectName(QStringLiteral("diffNote"));
        layout->addWidget(label);
    }
    m_diffView = codeView(page, tr("Unified diff of the change"));
    m_diffView->setObjectName(QStringLiteral("diffView"));
    m_diffView->setPlainText(VisibleText::visible(m_diff, VisibleText::Newlines::Keep));
    new DiffHighlighter(m_diffView->document());
    layout->addWidget(m_diffView, 1);
    return page;
}

QWidget* ApprovalCallView::buildCommandTab() {
    const QJsonArray argv = m_pending.call.arguments.value(QLatin1String("argv")).toArray();
    qsizetype longest = 0;
    QStringList lines;
    for (qsizetype i = 0; i < argv.size(); ++i) {
        const QString arg = argv.at(i).toString();
        longest = std::max(longest, arg.size());
        m_argv << VisibleText::visible(arg);
        lines << QStringLiteral("[%1]  %2").arg(i).arg(m_argv.last());
    }
    auto* page = new QWidget(m_tabs);
    auto* layout = new QVBoxLayout(page);
    layout->addWidget(wrapLabel(tr("%n argument(s), one per row, run directly (no shell); the "
                                   "longest has %1 characters. Scroll to see every one whole.",
                                   nullptr, int(argv.size()))
                                    .arg(longest),
                                page));
    m_argvView = codeView(page, tr("Command arguments, one per row"));
    m_argvView->setObjectName(QStringLiteral("argvView"));
    m_argvView->setPlainText(lines.join(QLatin1Char('\n')));
    layout->addWidget(m_argvView, 1);
    return page;
}

void ApprovalCallView::track(QPlainTextEdit* view) {
    m_tracked.append(Tracked{view, {}, {}});
    const qsizetype index = m_tracked.size() - 1;
    auto update = [this, index] { updateSeen(m_tracked[index]); };
    for (QScrollBar* bar : {view->verticalScrollBar(), view->horizontalScrollBar()}) {
        connect(bar, &QScrollBar::valueChanged, this, update);
        connect(bar, &QScrollBar::rangeChanged, this, update);
    }
    view->viewport()->installEventFilter(this);
}

bool ApprovalCallView::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() == QEvent::Show || event->type() == QEvent::Resize)
        for (Tracked& t : m_tracked)
            if (t.view && t.view->viewport() == watched)
                updateSeen(t);
    return QWidget::eventFilter(watched, event);
}

void ApprovalCallView::updateSeen(Tracked& t) {
    // Only what is on screen counts: a hidden tab or page, or a view not laid out yet, shows
    // nothing (its scroll range says nothing either).
    if (m_seenWhole || !t.view || !t.view->isVisible() || t.view->viewport()->width() <= 0 ||
        t.view->viewport()->height() <= 0)
        return;
    const QScrollBar* v = t.view->verticalScrollBar();
    const QScrollBar* h = t.view->horizontalScrollBar();
    t.vertical.add(v->value(), v->value() + std::max(1, v->pageStep()));
    t.horizontal.add(h->value(), h->value() + std::max(1, h->pageStep()));
    // Every row and every column of the text was on screen at some moment.
    if (t.vertical.covers(v->minimum(), v->maximum() + std::max(1, v->pageStep())) &&
        t.horizontal.covers(h->minimum(), h->maximum() + std::max(1, h->pageStep())))
        m_seenWhole = true;
}

QString ApprovalCallView::fingerprint() const {
    const QJsonObject& args = m_edited ? *m_edited : m_pending.call.arguments;
    const QString hex = QString::fromLatin1(CanonicalJson::sha256Hex(args).left(12));
    return m_edited ? tr("%1 (edited)").arg(hex) : hex;
}

bool ApprovalCallView::setEditedArguments(const QString& json) {
    m_editToggle->setChecked(true);
    m_json->setPlainText(json);
    validateEdit();
    return m_editValid;
}

void ApprovalCallView::validateEdit() {
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(m_json->toPlainText().toUtf8(), &error);
    m_edited.reset();
    if (error.error != QJsonParseError::NoError || !doc.isObject()) {
        m_editValid = false;
        m_editStatus->setText(error.error != QJsonParseError::NoError
                                  ? tr("Not valid JSON at character %1: %2")
                                        .arg(error.offset)
                                        .arg(error.errorString())
                                  : tr("The arguments must be one JSON object."));
    } else if (doc.object() == m_pending.call.arguments) {
        m_editValid = true;
        m_editStatus->setText(tr("Unchanged."));
    } else {
        const QJsonObject edited = doc.object();
        const auto spec = m_context.registry
                              ? m_context.registry->validateCall(m_pending.call.toolName, edited)
                              : Result<ToolSpec>(std::unexpected(Error{}));
        if (m_context.registry && !spec) {
            m_editValid = false;
            m_editStatus->setText(tr("Refused by the tool's schema: %1").arg(spec.error().message));
        } else {
            m_editValid = true;
            m_edited = edited;
            QString verdict = tr("Valid. ");
            if (m_context.policy) {
                ToolCall call = m_pending.call;
                call.arguments = edited;
                const PolicyDecision d = m_context.policy->evaluate(call, RunState{});
                if (d.isDeny()) {
                    m_editValid = false;
                    m_edited.reset();
                    verdict = tr("The policy denies the edited call: %1").arg(d.reason);
                } else {
                    verdict += d.isAllow() ? tr("The policy would allow it.")
                                           : tr("The policy asks: %1").arg(d.reason);
                }
            }
            m_editStatus->setText(verdict);
        }
    }
    m_fingerprint->setText(fingerprint());
    emit editChanged();
}

} // namespace m1
