#include "ApprovalDialog.h"

#include "ApprovalCallView.h"
#include "Icons.h"
#include "ScopeStyle.h"
#include "VisibleText.h"

#include "policy/PolicyRules.h"

#include <QCloseEvent>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QFrame>
#include <QHBoxLayout>
#include <QIcon>
#include <QJsonArray>
#include <QJsonDocument>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPixmap>
#include <QPushButton>
#include <QSaveFile>
#include <QSplitter>
#include <QStackedWidget>
#include <QVBoxLayout>

namespace m1 {

namespace {

bool isExecute(const PendingApproval& p) {
    return p.scope == Scope::Execute || p.scope > Scope::Execute;
}

} // namespace

ApprovalDialog::ApprovalDialog(const PendingApproval& pending, const Context& context,
                               QWidget* parent)
    : QDialog(parent), m_context(context) {
    setObjectName(QStringLiteral("approvalDialog"));
    setModal(false);
    setAttribute(Qt::WA_DeleteOnClose);

    auto* layout = new QVBoxLayout(this);
    layout->setSpacing(8);

    // Header: scope badge with word, tool, position in the batch.
    auto* header = new QHBoxLayout;
    m_badge = new QLabel(this);
    m_badge->setObjectName(QStringLiteral("scopeBadge"));
    m_title = new QLabel(this);
    m_title->setTextFormat(Qt::PlainText);
    QFont big = m_title->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    m_title->setFont(big);
    m_queueLabel = new QLabel(this);
    m_queueLabel->setObjectName(QStringLiteral("queuePosition"));
    m_queueLabel->setTextFormat(Qt::PlainText);
    header->addWidget(m_badge);
    header->addWidget(m_title, 1);
    header->addWidget(m_queueLabel);
    layout->addLayout(header);

    auto* waits = new QHBoxLayout;
    auto* waitsLabel = new QLabel(tr("Waits until:"), this);
    m_countdownLabel = new QLabel(this);
    m_countdownLabel->setObjectName(QStringLiteral("waitsUntil"));
    waits->addWidget(waitsLabel);
    waits->addWidget(m_countdownLabel, 1);
    layout->addLayout(waits);

    // The batch: every call of the message by name (a list beside the page), one page each.
    auto* split = new QSplitter(Qt::Horizontal, this);
    split->setChildrenCollapsible(false);
    m_listPane = new QWidget(split);
    auto* listLayout = new QVBoxLayout(m_listPane);
    listLayout->setContentsMargins(0, 0, 0, 0);
    auto* listLabel = new QLabel(tr("Calls &in this message:"), m_listPane);
    m_list = new QListWidget(m_listPane);
    m_list->setObjectName(QStringLiteral("batchList"));
    m_list->setAccessibleName(tr("The calls of this message that need a decision"));
    m_list->setTextElideMode(Qt::ElideRight);
    m_list->setMinimumWidth(220);
    m_list->setWordWrap(false);
    m_list->setSpacing(3);
    m_list->setIconSize(QSize(12, 12));
    listLabel->setBuddy(m_list);
    m_previous = new QPushButton(tr("&Previous"), m_listPane);
    m_previous->setObjectName(QStringLiteral("previousCall"));
    m_next = new QPushButton(tr("&Next"), m_listPane);
    m_next->setObjectName(QStringLiteral("nextCall"));
    auto* paging = new QHBoxLayout;
    paging->addWidget(m_previous);
    paging->addWidget(m_next);
    listLayout->addWidget(listLabel);
    listLayout->addWidget(m_list, 1);
    listLayout->addLayout(paging);
    m_pages = new QStackedWidget(split);
    split->addWidget(m_listPane);
    split->addWidget(m_pages);
    split->setStretchFactor(0, 0);
    split->setStretchFactor(1, 1);
    split->setSizes({260, 600});
    layout->addWidget(split, 1);
    connect(m_list, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row >= 0 && row != m_current && row < m_items.size())
            setCurrentIndex(row);
    });

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

    // The call shown.
    auto* buttons = new QHBoxLayout;
    m_thisCall = new QLabel(tr("This call:"), this);
    m_approveOnce = new QPushButton(Icons::icon(Icons::Approve), tr("&Approve once"), this);
    m_approveOnce->setObjectName(QStringLiteral("approveOnce"));
    m_approveRun = new QPushButton(tr("Approve for this &run"), this);
    m_approveRun->setObjectName(QStringLiteral("approveRun"));
    m_alwaysAllow = new QPushButton(tr("A&lways allow…"), this);
    m_alwaysAllow->setObjectName(QStringLiteral("alwaysAllow"));
    m_alwaysAllow->setToolTip(tr("Add an allow rule to your policy file (shown first)."));
    m_denyFeedback = new QPushButton(tr("Deny &with feedback"), this);
    m_denyFeedback->setObjectName(QStringLiteral("denyFeedback"));
    m_deny = new QPushButton(Icons::icon(Icons::Deny), tr("&Deny"), this);
    m_deny->setObjectName(QStringLiteral("deny"));
    buttons->addWidget(m_thisCall);
    buttons->addWidget(m_approveOnce);
    buttons->addWidget(m_approveRun);
    buttons->addWidget(m_alwaysAllow);
    buttons->addStretch(1);
    buttons->addWidget(m_denyFeedback);
    buttons->addWidget(m_deny);
    layout->addLayout(buttons);

    // Every call of the message still waiting (shown with more than one call).
    m_batchRow = new QWidget(this);
    auto* batchBox = new QVBoxLayout(m_batchRow);
    batchBox->setContentsMargins(0, 0, 0, 0);
    auto* rule = new QFrame(m_batchRow);
    rule->setFrameShape(QFrame::HLine);
    rule->setFrameShadow(QFrame::Sunken);
    batchBox->addWidget(rule);
    auto* batch = new QHBoxLayout;
    batchBox->addLayout(batch);
    m_allWaiting = new QLabel(m_batchRow);
    m_approveAll = new QPushButton(Icons::icon(Icons::Approve), QString(), m_batchRow);
    m_approveAll->setObjectName(QStringLiteral("approveAll"));
    m_approveAll->setToolTip(tr("Approve every call of this message still waiting, each with its "
                                "own token bound to its own arguments. Comes alive once every "
                                "call has been shown."));
    m_denyAll = new QPushButton(Icons::icon(Icons::Deny), QString(), m_batchRow);
    m_denyAll->setObjectName(QStringLiteral("denyAll"));
    m_denyAll->setToolTip(tr("Deny every call of this message still waiting (the feedback, if "
                             "any, goes with each)."));
    m_batchNote = new QLabel(m_batchRow);
    m_batchNote->setObjectName(QStringLiteral("batchNote"));
    m_batchNote->setTextFormat(Qt::PlainText);
    m_batchNote->setWordWrap(true);
    batch->addWidget(m_allWaiting);
    batch->addWidget(m_approveAll);
    batch->addWidget(m_denyAll);
    batch->addSpacing(8);
    batch->addWidget(m_batchNote, 1);
    layout->addWidget(m_batchRow);

    // Enter must never be the riskier answer: for commands (anywhere in the batch) it denies the
    // call shown; otherwise it approves that one call once armed; never all of them.
    for (QPushButton* b : {m_approveOnce, m_approveRun, m_alwaysAllow, m_deny, m_denyFeedback,
                           m_approveAll, m_denyAll, m_previous, m_next})
        b->setAutoDefault(false);

    connect(m_approveOnce, &QPushButton::clicked, this,
            [this] { approve(QStringLiteral("once")); });
    connect(m_approveRun, &QPushButton::clicked, this, [this] { approve(QStringLiteral("run")); });
    connect(m_alwaysAllow, &QPushButton::clicked, this, &ApprovalDialog::onAlwaysAllow);
    connect(m_deny, &QPushButton::clicked, this, [this] { deny(false); });
    connect(m_denyFeedback, &QPushButton::clicked, this, [this] { deny(true); });
    connect(m_approveAll, &QPushButton::clicked, this, &ApprovalDialog::approveAll);
    connect(m_denyAll, &QPushButton::clicked, this, &ApprovalDialog::denyAll);
    connect(m_previous, &QPushButton::clicked, this, [this] {
        for (int i = m_current - 1; i >= 0; --i)
            if (!m_items.at(i).decided) {
                setCurrentIndex(i);
                return;
            }
    });
    connect(m_next, &QPushButton::clicked, this, [this] {
        for (int i = m_current + 1; i < m_items.size(); ++i)
            if (!m_items.at(i).decided) {
                setCurrentIndex(i);
                return;
            }
    });
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

    addItem(pending);
    setCurrentIndex(0);
    resize(860, 620);
}

bool ApprovalDialog::belongsToBatch(const PendingApproval& pending) const {
    return !m_items.isEmpty() && pending.call.runId == m_items.first().pending.call.runId &&
           pending.step == m_items.first().pending.step;
}

void ApprovalDialog::addPending(const PendingApproval& pending) {
    addItem(pending);
    // A batch grows wider: the list appears beside the page.
    if (m_items.size() == 2 && width() < 1100)
        resize(1100, height());
    updateHeader();
    updateList();
    updateButtons();
}

void ApprovalDialog::addItem(const PendingApproval& pending) {
    Item item;
    item.pending = pending;
    ApprovalCallView::Context context;
    context.registry = m_context.registry;
    context.policy = m_context.policy;
    context.workspace = m_context.workspace;
    context.runLabel = m_context.runLabel;
    // A write after another write of the same file in this message: its diff is against the file
    // as it is now, before the earlier call runs.
    const QString path = pending.call.arguments.value(QLatin1String("path")).toString();
    if (PolicyRules::isPathTool(pending.call.toolName) && pending.scope != Scope::Read)
        for (const Item& earlier : std::as_const(m_items))
            if (earlier.pending.scope != Scope::Read &&
                PolicyRules::isPathTool(earlier.pending.call.toolName) &&
                QDir::cleanPath(
                    earlier.pending.call.arguments.value(QLatin1String("path")).toString()) ==
                    QDir::cleanPath(path))
                context.sharedPathNote =
                    tr("Call %1 of this message changes this file first: the diff below is "
                       "against the file as it is now.")
                        .arg(earlier.pending.batchIndex + 1);
    item.view = new ApprovalCallView(pending, context, m_pages);
    m_pages->addWidget(item.view);
    connect(item.view, &ApprovalCallView::editChanged, this, &ApprovalDialog::updateButtons);
    if (isVisible())
        item.listed.start();
    m_items.append(item);
}

bool ApprovalDialog::holds(const QString& callId) const {
    for (const Item& item : m_items)
        if (item.pending.call.id == callId)
            return true;
    return false;
}

bool ApprovalDialog::withdrawCall(const QString& callId) {
    for (int i = 0; i < m_items.size(); ++i) {
        if (m_items.at(i).pending.call.id != callId || m_items.at(i).decided)
            continue;
        if (undecidedCount() == 1) {
            withdraw();
            return true;
        }
        // Gone from the batch: counted as decided (by someone else), so never offered again.
        m_items[i].decided = true;
        if (i == m_current)
            advance();
        else {
            updateHeader();
            updateList();
            updateButtons();
        }
        return true;
    }
    return false;
}

const PendingApproval& ApprovalDialog::pending() const {
    return m_items.at(m_current).pending;
}

ApprovalCallView* ApprovalDialog::currentView() const {
    return m_items.at(m_current).view;
}

int ApprovalDialog::undecidedCount() const {
    int n = 0;
    for (const Item& item : m_items)
        n += item.decided ? 0 : 1;
    return n;
}

bool ApprovalDialog::allShown() const {
    for (const Item& item : m_items)
        if (!item.decided && !item.shown)
            return false;
    return true;
}

bool ApprovalDialog::batchHasExecute() const {
    for (const Item& item : m_items)
        if (!item.decided && isExecute(item.pending))
            return true;
    return false;
}

void ApprovalDialog::setCurrentIndex(int index) {
    if (index < 0 || index >= m_items.size())
        return;
    m_current = index;
    m_pages->setCurrentWidget(m_items.at(index).view);
    if (isVisible())
        m_items[index].shown = true;
    updateHeader();
    updateList();
    // Another call on screen is another prompt: a key meant for the last one must not approve.
    disarm();
}

bool ApprovalDialog::showCall(const QString& callId) {
    for (int i = 0; i < m_items.size(); ++i)
        if (m_items.at(i).pending.call.id == callId && !m_items.at(i).decided) {
            setCurrentIndex(i);
            return true;
        }
    return false;
}

QString ApprovalDialog::summary(const PendingApproval& p) const {
    const QJsonObject& args = p.call.arguments;
    QString what;
    if (p.call.toolName == QLatin1String("run_command")) {
        QStringList parts;
        for (const QJsonValue& v : args.value(QLatin1String("argv")).toArray())
            parts << v.toString();
        what = parts.join(QLatin1Char(' '));
    } else if (args.contains(QLatin1String("path"))) {
        what = args.value(QLatin1String("path")).toString();
    } else {
        what = QString::fromUtf8(QJsonDocument(args).toJson(QJsonDocument::Compact));
    }
    return VisibleText::summary(what, 160);
}

void ApprovalDialog::updateHeader() {
    const PendingApproval& p = pending();
    const QString tool = p.call.toolName;
    const QString scope = scopeToString(p.scope);
    setWindowTitle(
        m_items.size() > 1
            ? tr("Approve %1 calls? — %2").arg(m_items.size()).arg(m_context.runLabel)
            : tr("Approve %1? — %2").arg(VisibleText::visible(tool), m_context.runLabel));
    setAccessibleName(tr("Approval request for %1").arg(tool));
    const ScopeStyle::Badge badge = ScopeStyle::badge(scope, palette());
    m_badge->setText(badge.text);
    m_badge->setAccessibleName(tr("Scope: %1").arg(scope));
    m_badge->setStyleSheet(
        QStringLiteral("QLabel { background: %1; color: %2; border-radius: 3px; padding: 2px 8px; "
                       "font-weight: bold; }")
            .arg(badge.background.name(), badge.foreground.name()));
    m_title->setText(tr("The agent wants to run %1").arg(VisibleText::visible(tool)));
    QStringList position;
    if (m_items.size() > 1)
        position << tr("call %1 of %2 in this message").arg(m_current + 1).arg(m_items.size());
    if (m_queueWaiting > 0)
        position << tr("%n more waiting", nullptr, m_queueWaiting);
    m_queueLabel->setText(position.join(QStringLiteral(" · ")));
    m_approveRun->setToolTip(
        tr("Also approve later proposals of this run with the same tool and the same %1.")
            .arg(tool == QLatin1String("run_command")
                     ? tr("command line and working folder")
                     : (PolicyRules::isPathTool(tool) ? tr("path") : tr("arguments"))));
}

void ApprovalDialog::updateList() {
    const bool batch = m_items.size() > 1;
    m_listPane->setVisible(batch);
    m_batchRow->setVisible(batch);
    m_thisCall->setVisible(batch);
    if (!batch)
        return;
    const QSignalBlocker blocker(m_list);
    while (m_list->count() < m_items.size())
        m_list->addItem(new QListWidgetItem);
    for (int i = 0; i < m_items.size(); ++i) {
        const Item& item = m_items.at(i);
        QListWidgetItem* row = m_list->item(i);
        const QString scope = scopeToString(item.pending.scope);
        QString head = tr("%1. %2 (%3)")
                           .arg(i + 1)
                           .arg(VisibleText::visible(item.pending.call.toolName), scope);
        if (item.decided)
            head += tr(" — decided");
        else if (!item.shown)
            head += tr(" — not shown yet");
        row->setText(head + QLatin1Char('\n') + summary(item.pending));
        QPixmap chip(12, 12);
        chip.fill(ScopeStyle::badge(scope, palette()).background);
        row->setIcon(QIcon(chip));
        row->setToolTip(head + QLatin1Char('\n') +
                        VisibleText::summary(summary(item.pending), 2000));
        row->setFlags(item.decided ? Qt::NoItemFlags : (Qt::ItemIsEnabled | Qt::ItemIsSelectable));
        QFont f = m_list->font();
        f.setBold(i == m_current);
        row->setFont(f);
    }
    m_list->setCurrentRow(m_current);
}

void ApprovalDialog::setQueuePosition(int position, int total) {
    // position 1: this dialog is the one shown; the rest of the queue waits behind it.
    m_queueWaiting = std::max(0, total - position - (undecidedCount() - 1));
    updateHeader();
}

bool ApprovalDialog::setEditedArguments(const QString& json) {
    return currentView()->setEditedArguments(json);
}

QString ApprovalDialog::fingerprint() const {
    return currentView()->fingerprint();
}

QString ApprovalDialog::diffText() const {
    return currentView()->diffText();
}

QStringList ApprovalDialog::argvRows() const {
    return currentView()->argvRows();
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
    if (m_items.isEmpty())
        return;
    const Item& item = m_items.at(m_current);
    const bool open = !m_closed && !item.decided;
    const bool canApprove = m_armed && open && item.view->isEditValid();
    const bool edited = item.view->editedArguments().has_value();
    m_approveOnce->setEnabled(canApprove);
    m_approveRun->setEnabled(canApprove && !edited);
    m_alwaysAllow->setEnabled(canApprove && !edited);
    m_deny->setEnabled(open);
    m_denyFeedback->setEnabled(open && !m_feedback->text().trimmed().isEmpty());

    const int waiting = undecidedCount();
    bool editsValid = true;
    for (const Item& i : m_items)
        editsValid = editsValid && (i.decided || i.view->isEditValid());
    m_approveAll->setText(tr("Appro&ve all %1").arg(waiting));
    m_denyAll->setText(tr("Den&y all %1").arg(waiting));
    m_approveAll->setEnabled(m_armed && !m_closed && waiting > 0 && allShown() && editsValid);
    m_denyAll->setEnabled(!m_closed && waiting > 0);
    int shown = 0;
    for (const Item& i : m_items)
        shown += (!i.decided && i.shown) ? 1 : 0;
    m_allWaiting->setText(tr("All %1 still waiting:").arg(waiting));
    m_batchNote->setText(allShown() ? tr("Every call has been shown.")
                                    : tr("%1 of %2 shown: page through the rest (Alt+N) to "
                                         "approve them all.")
                                          .arg(shown)
                                          .arg(waiting));
    const bool previous = [&] {
        for (int i = 0; i < m_current; ++i)
            if (!m_items.at(i).decided)
                return true;
        return false;
    }();
    const bool next = [&] {
        for (int i = m_current + 1; i < m_items.size(); ++i)
            if (!m_items.at(i).decided)
                return true;
        return false;
    }();
    m_previous->setEnabled(previous);
    m_next->setEnabled(next);

    // The default button: Deny while any command waits in the batch, else approving the call
    // shown (once armed); "Approve all" never.
    m_approveAll->setDefault(false);
    if (isExecute(item.pending) || batchHasExecute()) {
        m_approveOnce->setDefault(false);
        m_deny->setDefault(true);
    } else {
        m_deny->setDefault(false);
        m_approveOnce->setDefault(true);
    }
}

void ApprovalDialog::showEvent(QShowEvent* event) {
    QDialog::showEvent(event);
    for (Item& item : m_items)
        if (!item.listed.isValid())
            item.listed.start();
    if (!m_items.isEmpty())
        m_items[m_current].shown = true;
    updateList();
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
    // Escape or closing the window: the safe answer for the call shown (the others stay).
    if (!m_closed) {
        deny(false);
        return;
    }
    QDialog::reject();
}

void ApprovalDialog::closeEvent(QCloseEvent* event) {
    // Closing the window answers everything still open with the safe answer.
    if (!m_closed) {
        if (undecidedCount() > 1)
            denyAll();
        else
            deny(false);
    }
    QDialog::closeEvent(event);
}

void ApprovalDialog::withdraw() {
    m_closed = true;
    close();
}

void ApprovalDialog::finishItem(int index, ApprovalDecision decision, const QString& remember,
                                bool batch) {
    Item& item = m_items[index];
    if (item.decided)
        return;
    item.decided = true;
    // SBX-27: how the decision was made, recorded with it.
    decision.decisionMs = item.listed.isValid() ? item.listed.elapsed() : 0;
    decision.argsSeenWhole = item.view->seenWhole();
    decision.inBatch = batch;
    decision.decidedBy = ApprovalDecision::localUser();
    const PendingApproval pending = item.pending;
    emit decided(pending, decision, remember);
}

void ApprovalDialog::advance() {
    if (undecidedCount() == 0) {
        m_closed = true;
        close();
        return;
    }
    for (int step = 1; step <= m_items.size(); ++step) {
        const int i = (m_current + step) % int(m_items.size());
        if (!m_items.at(i).decided) {
            setCurrentIndex(i);
            return;
        }
    }
}

void ApprovalDialog::approve(const QString& remember) {
    // "Always" was confirmed in its own prompt, which took the focus and so disarmed the dialog.
    const bool confirmed = remember == QLatin1String("always");
    const Item& item = m_items.at(m_current);
    if ((!m_armed && !confirmed) || !item.view->isEditValid() || item.decided || m_closed)
        return;
    ApprovalDecision d =
        ApprovalDecision::approve(QStringLiteral("person"), QStringLiteral("gui"),
                                  remember == QLatin1String("run") ? tr("approved for this run")
                                  : remember == QLatin1String("always")
                                      ? tr("always allowed (rule %1)").arg(alwaysAllowRule())
                                      : tr("approved once"));
    d.editedArguments = item.view->editedArguments();
    finishItem(m_current, d, remember, false);
    advance();
}

void ApprovalDialog::deny(bool withFeedback) {
    if (m_closed || m_items.at(m_current).decided)
        return;
    const QString feedback = withFeedback ? m_feedback->text().trimmed() : QString();
    finishItem(m_current,
               ApprovalDecision::deny(QStringLiteral("person"), QStringLiteral("gui"), tr("denied"),
                                      feedback),
               QString(), false);
    if (withFeedback)
        m_feedback->clear();
    advance();
}

void ApprovalDialog::approveAll() {
    if (!m_armed || m_closed || !m_approveAll->isEnabled())
        return;
    const int n = undecidedCount();
    // Each call separately, in the message's order, each with its own arguments (edited ones
    // where edited): the run loop gives each its own token.
    for (int i = 0; i < m_items.size(); ++i) {
        if (m_items.at(i).decided)
            continue;
        ApprovalDecision d =
            ApprovalDecision::approve(QStringLiteral("person"), QStringLiteral("gui"),
                                      tr("approved with all %1 calls of the message").arg(n));
        d.editedArguments = m_items.at(i).view->editedArguments();
        finishItem(i, d, QStringLiteral("once"), true);
    }
    advance();
}

void ApprovalDialog::denyAll() {
    if (m_closed)
        return;
    const int n = undecidedCount();
    const QString feedback = m_feedback->text().trimmed();
    for (int i = 0; i < m_items.size(); ++i)
        if (!m_items.at(i).decided)
            finishItem(i,
                       ApprovalDecision::deny(QStringLiteral("person"), QStringLiteral("gui"),
                                              tr("denied with all %1 calls of the message").arg(n),
                                              feedback),
                       QString(), true);
    advance();
}

QString ApprovalDialog::alwaysAllowRule() const {
    const PendingApproval& p = pending();
    const QString tool = p.call.toolName;
    const QJsonObject& args = p.call.arguments;
    if (tool == QLatin1String("run_command")) {
        QStringList parts;
        for (const QJsonValue& v : args.value(QLatin1String("argv")).toArray())
            parts << v.toString();
        return QStringLiteral("%1(%2)").arg(tool, parts.join(QLatin1Char(' ')));
    }
    if (PolicyRules::isPathTool(tool))
        return QStringLiteral("%1(%2)").arg(tool, args.value(QLatin1String("path")).toString());
    return tool;
}

void ApprovalDialog::onAlwaysAllow() {
    if (!m_armed || m_closed || m_items.at(m_current).decided)
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
