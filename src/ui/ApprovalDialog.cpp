#include "ApprovalDialog.h"

#include "DiffHighlighter.h"
#include "Icons.h"
#include "ScopeStyle.h"
#include "VisibleText.h"

#include "policy/PolicyEngine.h"
#include "policy/PolicyRules.h"
#include "run/UnifiedDiff.h"
#include "tools/ToolRegistry.h"
#include "tools/Workspace.h"
#include "util/CanonicalJson.h"

#include <QCheckBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSaveFile>
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

ApprovalDialog::ApprovalDialog(const PendingApproval& pending, const Context& context,
                               QWidget* parent)
    : QDialog(parent), m_pending(pending), m_context(context) {
    setObjectName(QStringLiteral("approvalDialog"));
    setModal(false);
    setAttribute(Qt::WA_DeleteOnClose);
    const QString tool = m_pending.call.toolName;
    const QString scope = scopeToString(m_pending.scope);
    setWindowTitle(tr("Approve %1? — %2").arg(VisibleText::visible(tool), m_context.runLabel));
    setAccessibleName(tr("Approval request for %1").arg(tool));

    auto* layout = new QVBoxLayout(this);
    layout->setSpacing(8);

    // Header: scope badge with word, tool, queue position.
    auto* header = new QHBoxLayout;
    const ScopeStyle::Badge badge = ScopeStyle::badge(scope, palette());
    auto* badgeLabel = new QLabel(badge.text, this);
    badgeLabel->setObjectName(QStringLiteral("scopeBadge"));
    badgeLabel->setAccessibleName(tr("Scope: %1").arg(scope));
    badgeLabel->setStyleSheet(
        QStringLiteral("QLabel { background: %1; color: %2; border-radius: 3px; padding: 2px 8px; "
                       "font-weight: bold; }")
            .arg(badge.background.name(), badge.foreground.name()));
    auto* title = new QLabel(this);
    title->setTextFormat(Qt::PlainText);
    QFont big = title->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    title->setFont(big);
    title->setText(tr("The agent wants to run %1").arg(VisibleText::visible(tool)));
    m_queueLabel = new QLabel(this);
    header->addWidget(badgeLabel);
    header->addWidget(title, 1);
    header->addWidget(m_queueLabel);
    layout->addLayout(header);

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
                                 "arguments: the approval token binds exactly these."));
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
    m_countdownLabel = new QLabel(this);
    form->addRow(tr("Waits until:"), m_countdownLabel);
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
            updateButtons();
        }
    });
    connect(m_json, &QPlainTextEdit::textChanged, this, [this] {
        if (!m_json->isReadOnly())
            validateEdit();
    });
    layout->addWidget(m_tabs, 1);

    auto* feedbackRow = new QHBoxLayout;
    auto* feedbackLabel = new QLabel(tr("&Feedback for the model:"), this);
    m_feedback = new QLineEdit(this);
    m_feedback->setObjectName(QStringLiteral("feedbackEdit"));
    m_feedback->setPlaceholderText(tr("Optional: why not, or what to do instead (sent with a "
                                      "denial)"));
    feedbackLabel->setBuddy(m_feedback);
    feedbackRow->addWidget(feedbackLabel);
    feedbackRow->addWidget(m_feedback, 1);
    layout->addLayout(feedbackRow);

    auto* buttons = new QHBoxLayout;
    m_approveOnce = new QPushButton(Icons::icon(Icons::Approve), tr("&Approve once"), this);
    m_approveOnce->setObjectName(QStringLiteral("approveOnce"));
    m_approveRun = new QPushButton(tr("Approve for this &run"), this);
    m_approveRun->setObjectName(QStringLiteral("approveRun"));
    m_approveRun->setToolTip(
        tr("Also approve later proposals of this run with the same tool and the same %1.")
            .arg(tool == QLatin1String("run_command")
                     ? tr("command line and working folder")
                     : (isPathTool(tool) ? tr("path") : tr("arguments"))));
    m_alwaysAllow = new QPushButton(tr("A&lways allow…"), this);
    m_alwaysAllow->setObjectName(QStringLiteral("alwaysAllow"));
    m_alwaysAllow->setToolTip(tr("Add an allow rule to your policy file (shown first)."));
    m_denyFeedback = new QPushButton(tr("Deny &with feedback"), this);
    m_denyFeedback->setObjectName(QStringLiteral("denyFeedback"));
    m_deny = new QPushButton(Icons::icon(Icons::Deny), tr("&Deny"), this);
    m_deny->setObjectName(QStringLiteral("deny"));
    buttons->addWidget(m_approveOnce);
    buttons->addWidget(m_approveRun);
    buttons->addWidget(m_alwaysAllow);
    buttons->addStretch(1);
    buttons->addWidget(m_denyFeedback);
    buttons->addWidget(m_deny);
    layout->addLayout(buttons);

    // Enter must never be the riskier answer for commands; for reads and writes it approves once,
    // but only when armed.
    for (QPushButton* b : {m_approveOnce, m_approveRun, m_alwaysAllow, m_deny, m_denyFeedback})
        b->setAutoDefault(false);
    if (m_pending.scope == Scope::Execute || m_pending.scope > Scope::Execute)
        m_deny->setDefault(true);
    else
        m_approveOnce->setDefault(true);

    connect(m_approveOnce, &QPushButton::clicked, this,
            [this] { approve(QStringLiteral("once")); });
    connect(m_approveRun, &QPushButton::clicked, this, [this] { approve(QStringLiteral("run")); });
    connect(m_alwaysAllow, &QPushButton::clicked, this, &ApprovalDialog::onAlwaysAllow);
    connect(m_deny, &QPushButton::clicked, this, [this] { deny(false); });
    connect(m_denyFeedback, &QPushButton::clicked, this, [this] { deny(true); });
    connect(m_feedback, &QLineEdit::textChanged, this, &ApprovalDialog::updateButtons);

    m_armTimer.setSingleShot(true);
    m_armTimer.setInterval(std::max(0, m_context.armDelayMs));
    connect(&m_armTimer, &QTimer::timeout, this, &ApprovalDialog::arm);
    m_countdown.setInterval(1000);
    const auto updateCountdown = [this] {
        if (m_context.expiresAtMs <= 0) {
            m_countdownLabel->setText(tr("no time limit"));
            return;
        }
        const qint64 left =
            std::max<qint64>(0, m_context.expiresAtMs - QDateTime::currentMSecsSinceEpoch()) / 1000;
        m_countdownLabel->setText(tr("%1 (expires in %2:%3)")
                                      .arg(QDateTime::fromMSecsSinceEpoch(m_context.expiresAtMs)
                                               .toString(QStringLiteral("HH:mm:ss")))
                                      .arg(left / 60)
                                      .arg(left % 60, 2, 10, QLatin1Char('0')));
    };
    connect(&m_countdown, &QTimer::timeout, this, updateCountdown);
    m_countdown.start();
    updateCountdown();
    m_fingerprint->setText(fingerprint());
    disarm();
    resize(860, 620);
}

QString ApprovalDialog::resolvedPath(const QString& path, bool forWrite) const {
    if (!m_context.workspace)
        return VisibleText::visible(path);
    const auto resolved = m_context.workspace->resolve(path, forWrite ? Workspace::Access::Write
                                                                      : Workspace::Access::Read);
    if (!resolved)
        return tr("%1 → cannot be resolved: %2")
            .arg(VisibleText::visible(path), VisibleText::visible(resolved.error().message));
    return tr("%1 → %2").arg(VisibleText::visible(path), VisibleText::visible(*resolved));
}

QWidget* ApprovalDialog::buildDiffTab() {
    const QJsonObject& args = m_pending.call.arguments;
    const QString path = args.value(QLatin1String("path")).toString();
    QString current;
    QString note;
    bool exists = false;
    if (m_context.workspace) {
        const auto resolved = m_context.workspace->resolve(path, Workspace::Access::Write);
        if (resolved && QFileInfo(*resolved).isFile()) {
            QFile file(*resolved);
            if (file.size() > kMaxDiffFileBytes)
                note = tr("The current file is larger than %1 MB: the diff compares with an empty "
                          "file.")
                           .arg(kMaxDiffFileBytes / (1024 * 1024));
            else if (file.open(QIODevice::ReadOnly)) {
                current = QString::fromUtf8(file.readAll());
                exists = true;
            }
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
    m_diff =
        UnifiedDiff::diff(current, next, QStringLiteral("a/") + path, QStringLiteral("b/") + path);
    if (m_diff.isEmpty())
        m_diff = tr("(no change)");
    auto* page = new QWidget(m_tabs);
    auto* layout = new QVBoxLayout(page);
    if (!note.isEmpty())
        layout->addWidget(wrapLabel(note, page));
    auto* view = codeView(page, tr("Unified diff of the change"));
    view->setObjectName(QStringLiteral("diffView"));
    view->setPlainText(VisibleText::visible(m_diff, VisibleText::Newlines::Keep));
    new DiffHighlighter(view->document());
    layout->addWidget(view, 1);
    return page;
}

QWidget* ApprovalDialog::buildCommandTab() {
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
    // Whether the person could have seen every argument whole (SBX-27: recorded with the
    // decision).
    auto checkSeen = [this] {
        const QScrollBar* h = m_argvView->horizontalScrollBar();
        const QScrollBar* v = m_argvView->verticalScrollBar();
        if ((h->maximum() == 0 || h->value() == h->maximum()) &&
            (v->maximum() == 0 || v->value() == v->maximum()))
            m_seenWhole = true;
    };
    connect(m_argvView->horizontalScrollBar(), &QScrollBar::valueChanged, this, checkSeen);
    connect(m_argvView->verticalScrollBar(), &QScrollBar::valueChanged, this, checkSeen);
    connect(m_argvView->horizontalScrollBar(), &QScrollBar::rangeChanged, this, checkSeen);
    return page;
}

QString ApprovalDialog::fingerprint() const {
    const QJsonObject& args = m_edited ? *m_edited : m_pending.call.arguments;
    const QString hex = QString::fromLatin1(CanonicalJson::sha256Hex(args).left(12));
    return m_edited ? tr("%1 (edited)").arg(hex) : hex;
}

QString ApprovalDialog::diffText() const {
    return m_diff;
}
QStringList ApprovalDialog::argvRows() const {
    return m_argv;
}

void ApprovalDialog::setQueuePosition(int position, int total) {
    m_queueLabel->setText(total > 1 ? tr("%1 of %2 waiting").arg(position).arg(total) : QString());
}

bool ApprovalDialog::setEditedArguments(const QString& json) {
    m_editToggle->setChecked(true);
    m_json->setPlainText(json);
    validateEdit();
    return m_editValid;
}

void ApprovalDialog::validateEdit() {
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
    updateButtons();
}

void ApprovalDialog::disarm() {
    m_armed = false;
    m_armTimer.start();
    updateButtons();
}

void ApprovalDialog::arm() {
    m_armed = true;
    updateButtons();
}

void ApprovalDialog::updateButtons() {
    const bool canApprove = m_armed && m_editValid && !m_decided;
    m_approveOnce->setEnabled(canApprove);
    m_approveRun->setEnabled(canApprove && !m_edited);
    m_alwaysAllow->setEnabled(canApprove && !m_edited);
    m_deny->setEnabled(!m_decided);
    m_denyFeedback->setEnabled(!m_decided && !m_feedback->text().trimmed().isEmpty());
}

void ApprovalDialog::showEvent(QShowEvent* event) {
    QDialog::showEvent(event);
    m_shownClock.start();
    disarm();
}

void ApprovalDialog::changeEvent(QEvent* event) {
    QDialog::changeEvent(event);
    if (event->type() == QEvent::ActivationChange) {
        // Coming back from another window: whatever was being typed there must not land here.
        if (!isActiveWindow()) {
            m_armTimer.stop();
            m_armed = false;
            updateButtons();
        } else {
            disarm();
        }
    }
}

void ApprovalDialog::keyPressEvent(QKeyEvent* event) {
    // A key held down across the dialog's arrival keeps it disarmed until it is released.
    if (!m_armed && event->isAutoRepeat())
        m_armTimer.start();
    if (!m_armed && (event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter)) {
        event->accept();
        return;
    }
    QDialog::keyPressEvent(event);
}

void ApprovalDialog::reject() {
    // Escape or closing the window: the safe answer.
    if (!m_decided) {
        deny(false);
        return;
    }
    QDialog::reject();
}

void ApprovalDialog::withdraw() {
    m_decided = true;
    close();
}

QString ApprovalDialog::decisionNote() const {
    QString note =
        tr("decided in the GUI after %1 s")
            .arg(m_shownClock.isValid() ? m_shownClock.elapsed() / 1000.0 : 0.0, 0, 'f', 1);
    if (m_argvView)
        note += m_seenWhole ? tr("; every argument was scrolled into view")
                            : tr("; not every argument was scrolled into view");
    return note;
}

void ApprovalDialog::approve(const QString& remember) {
    // "Always" was confirmed in its own prompt, which took the focus and so disarmed the dialog.
    const bool confirmed = remember == QLatin1String("always");
    if ((!m_armed && !confirmed) || !m_editValid || m_decided)
        return;
    m_decided = true;
    ApprovalDecision d = ApprovalDecision::approve(
        QStringLiteral("person"), QStringLiteral("gui"),
        remember == QLatin1String("run") ? tr("approved for this run; %1").arg(decisionNote())
        : remember == QLatin1String("always")
            ? tr("always allowed (rule %1); %2").arg(alwaysAllowRule(), decisionNote())
            : tr("approved once; %1").arg(decisionNote()));
    if (m_edited)
        d.editedArguments = m_edited;
    emit decided(d, remember);
    close();
}

void ApprovalDialog::deny(bool withFeedback) {
    if (m_decided)
        return;
    m_decided = true;
    const QString feedback = withFeedback ? m_feedback->text().trimmed() : QString();
    emit decided(ApprovalDecision::deny(QStringLiteral("person"), QStringLiteral("gui"),
                                        tr("denied; %1").arg(decisionNote()), feedback),
                 QString());
    close();
}

QString ApprovalDialog::alwaysAllowRule() const {
    const QString tool = m_pending.call.toolName;
    const QJsonObject& args = m_pending.call.arguments;
    if (tool == QLatin1String("run_command")) {
        QStringList parts;
        for (const QJsonValue& v : args.value(QLatin1String("argv")).toArray())
            parts << v.toString();
        return QStringLiteral("%1(%2)").arg(tool, parts.join(QLatin1Char(' ')));
    }
    if (isPathTool(tool))
        return QStringLiteral("%1(%2)").arg(tool, args.value(QLatin1String("path")).toString());
    return tool;
}

void ApprovalDialog::onAlwaysAllow() {
    if (!m_armed || m_decided)
        return;
    const QString rule = alwaysAllowRule();
    const auto parsed =
        PolicyRules::parseRule(rule, PolicyRule::List::Allow, PolicyRules::builtinToolNames());
    if (!parsed) {
        QMessageBox::warning(this, tr("Cannot add a rule"),
                             tr("No rule can express this call: %1\nApprove it once instead.")
                                 .arg(parsed.error().message));
        return;
    }
    const QString file = m_context.policyFile;
    const auto answer = QMessageBox::question(
        this, tr("Always allow?"),
        tr("This adds the rule\n\n    allow: %1\n\nto %2. Later runs will run matching calls "
           "without asking (deny rules still win). Runs already going keep their rules.")
            .arg(VisibleText::visible(rule), file),
        QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
    if (answer != QMessageBox::Yes)
        return;
    PolicyRules rules;
    if (QFileInfo::exists(file)) {
        auto loaded = PolicyRules::loadFile(file);
        if (!loaded) {
            QMessageBox::critical(
                this, tr("Policy file not changed"),
                tr("%1\nFix the file (or remove it), then try again.").arg(loaded.error().message));
            return;
        }
        rules = *loaded;
    }
    if (auto ok = rules.add(PolicyRule::List::Allow, rule, file); !ok) {
        QMessageBox::critical(this, tr("Policy file not changed"), ok.error().message);
        return;
    }
    QDir().mkpath(QFileInfo(file).absolutePath());
    QSaveFile out(file);
    if (!out.open(QIODevice::WriteOnly) || out.write(rules.toJson()) < 0 || !out.commit()) {
        QMessageBox::critical(this, tr("Policy file not changed"),
                              tr("Could not write %1: %2").arg(file, out.errorString()));
        return;
    }
    approve(QStringLiteral("always"));
}

} // namespace m1
