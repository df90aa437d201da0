#include "GoalEditor.h"

#include "AppContext.h"
#include "Icons.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QShortcut>
#include <QSpinBox>
#include <QToolButton>

namespace m1 {

namespace {
constexpr int kRecentGoals = 15;
const char* const kRecentKey = "goals/recent";
} // namespace

GoalEditor::GoalEditor(AppContext& context, QWidget* parent) : QWidget(parent), m_context(context) {
    auto* grid = new QGridLayout(this);
    grid->setContentsMargins(8, 8, 8, 4);
    grid->setHorizontalSpacing(8);
    grid->setVerticalSpacing(6);

    auto* goalLabel = new QLabel(tr("&Goal:"), this);
    m_goal = new QPlainTextEdit(this);
    m_goal->setObjectName(QStringLiteral("goalEdit"));
    m_goal->setAccessibleName(tr("Goal"));
    m_goal->setPlaceholderText(tr("What should the agent do? For example: fix the failing test "
                                  "in calc.py"));
    m_goal->setTabChangesFocus(true);
    m_goal->setFixedHeight(m_goal->fontMetrics().lineSpacing() * 3 + 14);
    goalLabel->setBuddy(m_goal);
    m_recent = new QPushButton(this);
    m_recent->setText(tr("Recent"));
    m_recent->setToolTip(tr("Recent goals"));
    m_recent->setAccessibleName(tr("Recent goals"));
    m_recent->setMenu(new QMenu(m_recent));
    grid->addWidget(goalLabel, 0, 0, Qt::AlignTop | Qt::AlignRight);
    grid->addWidget(m_goal, 0, 1, 1, 6);
    grid->addWidget(m_recent, 0, 7, Qt::AlignTop);

    m_agent = new QComboBox(this);
    m_agent->setAccessibleName(tr("Agent profile"));
    for (const AgentProfile& p : context.profiles().profiles())
        m_agent->addItem(p.name, p.name);
    m_agent->setCurrentIndex(m_agent->findData(context.profiles().defaultName()));
    m_model = new QComboBox(this);
    m_model->setAccessibleName(tr("Model"));
    m_model->addItem(tr("Default of the profile"), QString());
    for (const ModelInfo& m : context.catalog().models())
        if (m.status != QLatin1String("deprecated"))
            m_model->addItem(
                m.displayName.isEmpty() ? m.id : QStringLiteral("%1 (%2)").arg(m.displayName, m.id),
                m.id);
    m_workspace = new QLineEdit(this);
    m_workspace->setAccessibleName(tr("Workspace folder"));
    m_workspace->setPlaceholderText(tr("Demo workspace (offline replay only)"));
    auto* browse = new QPushButton(tr("&Browse…"), this);
    browse->setAccessibleName(tr("Choose the workspace folder"));
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(
            this, tr("Workspace folder: the agent's tools cannot reach outside it"),
            m_workspace->text());
        if (!dir.isEmpty())
            m_workspace->setText(dir);
    });
    auto* agentLabel = new QLabel(tr("&Agent:"), this);
    agentLabel->setBuddy(m_agent);
    auto* modelLabel = new QLabel(tr("&Model:"), this);
    modelLabel->setBuddy(m_model);
    auto* wsLabel = new QLabel(tr("&Workspace:"), this);
    wsLabel->setBuddy(m_workspace);
    grid->addWidget(agentLabel, 1, 0, Qt::AlignRight);
    grid->addWidget(m_agent, 1, 1);
    grid->addWidget(modelLabel, 1, 2, Qt::AlignRight);
    grid->addWidget(m_model, 1, 3);
    grid->addWidget(wsLabel, 1, 4, Qt::AlignRight);
    grid->addWidget(m_workspace, 1, 5, 1, 2);
    grid->addWidget(browse, 1, 7);

    m_steps = new QSpinBox(this);
    m_steps->setRange(1, 10000);
    m_steps->setAccessibleName(tr("Maximum model turns"));
    m_toolCalls = new QSpinBox(this);
    m_toolCalls->setRange(1, 10000);
    m_toolCalls->setAccessibleName(tr("Maximum tool calls"));
    m_runtime = new QSpinBox(this);
    m_runtime->setRange(1, 24 * 3600);
    m_runtime->setSuffix(tr(" s"));
    m_runtime->setAccessibleName(tr("Maximum runtime in seconds"));
    m_budget = new QDoubleSpinBox(this);
    m_budget->setRange(0, 10000);
    m_budget->setDecimals(2);
    m_budget->setPrefix(QStringLiteral("$ "));
    m_budget->setSpecialValueText(tr("no budget"));
    m_budget->setAccessibleName(tr("Budget for this run in US dollars"));
    m_dryRun = new QCheckBox(tr("D&ry run"), this);
    m_dryRun->setToolTip(tr("Policy, approvals, tokens and audit as usual, but no tool runs."));
    auto* limits = new QHBoxLayout;
    limits->setSpacing(6);
    auto addLimit = [&](const QString& text, QWidget* w) {
        auto* l = new QLabel(text, this);
        l->setBuddy(w);
        limits->addWidget(l);
        limits->addWidget(w);
        limits->addSpacing(8);
    };
    addLimit(tr("S&teps:"), m_steps);
    addLimit(tr("Tool &calls:"), m_toolCalls);
    addLimit(tr("R&untime:"), m_runtime);
    addLimit(tr("Bu&dget:"), m_budget);
    limits->addWidget(m_dryRun);
    limits->addStretch(1);
    grid->addLayout(limits, 2, 1, 1, 7);

    m_provider = new QLabel(this);
    m_provider->setObjectName(QStringLiteral("providerLabel"));
    m_provider->setTextFormat(Qt::PlainText);
    m_provider->setWordWrap(true); // long in German; never widens the window
    m_start = new QPushButton(Icons::icon(Icons::Start), tr("&Start"), this);
    m_start->setObjectName(QStringLiteral("startButton"));
    m_start->setToolTip(tr("Start the run (Ctrl+Return)"));
    m_stop = new QPushButton(Icons::icon(Icons::Stop), tr("St&op"), this);
    m_stop->setObjectName(QStringLiteral("stopButton"));
    m_stop->setToolTip(tr("Stop the run: no tool runs after this (Ctrl+.)"));
    m_stop->setEnabled(false);
    auto* actions = new QHBoxLayout;
    actions->addWidget(m_provider, 1);
    actions->addWidget(m_start);
    actions->addWidget(m_stop);
    grid->addLayout(actions, 3, 1, 1, 7);
    grid->setColumnStretch(5, 1);
    grid->setColumnStretch(1, 0);

    connect(m_start, &QPushButton::clicked, this, &GoalEditor::startRequested);
    connect(m_stop, &QPushButton::clicked, this, &GoalEditor::stopRequested);
    auto* startShortcut = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), this);
    startShortcut->setContext(Qt::WidgetWithChildrenShortcut);
    connect(startShortcut, &QShortcut::activated, this, [this] {
        if (m_start->isEnabled())
            emit startRequested();
    });
    auto* stopShortcut = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period), this);
    stopShortcut->setContext(Qt::WidgetWithChildrenShortcut);
    connect(stopShortcut, &QShortcut::activated, this, [this] {
        if (m_stop->isEnabled())
            emit stopRequested();
    });
    connect(m_agent, &QComboBox::currentIndexChanged, this, &GoalEditor::applyProfile);
    connect(&context, &AppContext::secretsLoaded, this, &GoalEditor::refreshProvider);
    connect(&context, &AppContext::storeOpening, this, &GoalEditor::refreshProvider);
    connect(&context, &AppContext::storeOpened, this, &GoalEditor::refreshProvider);
    applyProfile();
    rebuildRecent();
    refreshProvider();
}

void GoalEditor::applyProfile() {
    const auto profile = m_context.profiles().find(m_agent->currentData().toString());
    if (!profile)
        return;
    m_steps->setValue(profile->limits.maxSteps);
    m_toolCalls->setValue(profile->limits.maxToolCalls);
    m_runtime->setValue(profile->limits.maxRuntimeSeconds);
    m_budget->setValue(profile->limits.budgetUsd);
    m_agent->setToolTip(profile->description);
}

void GoalEditor::refreshProvider() {
    if (!m_context.areSecretsLoaded()) {
        m_provider->setText(tr("Looking up the keychain…"));
        m_start->setEnabled(false);
        return;
    }
    if (!m_context.isStoreOpen()) {
        m_provider->setText(m_context.isStoreOpening() || m_context.storeError().code.isEmpty()
                                ? tr("Opening the audit database…")
                                : tr("Runs cannot start without the audit database: %1")
                                      .arg(m_context.storeError().toString()));
        m_start->setEnabled(false);
        return;
    }
    if (m_context.hasApiKey() && !m_context.forceReplay())
        m_provider->setText(tr("Runs on Claude (API key found)."));
    else
        m_provider->setText(tr("Runs on the offline replay: no API key, so a recorded demo "
                               "transcript plays. Add a key in Settings to use Claude."));
    m_start->setEnabled(!m_stop->isEnabled());
}

RunRequest GoalEditor::request() const {
    RunRequest r;
    r.goal = m_goal->toPlainText().trimmed();
    r.agent = m_agent->currentData().toString();
    r.model = m_model->currentData().toString();
    r.workspace = m_workspace->text().trimmed();
    r.limits.maxSteps = m_steps->value();
    r.limits.maxToolCalls = m_toolCalls->value();
    r.limits.maxRuntimeSeconds = m_runtime->value();
    r.limits.budgetUsd = m_budget->value();
    r.dryRun = m_dryRun->isChecked();
    return r;
}

void GoalEditor::setGoal(const QString& goal) {
    m_goal->setPlainText(goal);
}

void GoalEditor::setRequest(const RunRequest& request) {
    m_goal->setPlainText(request.goal);
    if (const int agent = m_agent->findData(request.agent); agent >= 0)
        m_agent->setCurrentIndex(agent);
    if (const int model = m_model->findData(request.model); model >= 0)
        m_model->setCurrentIndex(model);
    m_workspace->setText(request.workspace);
    m_steps->setValue(request.limits.maxSteps);
    m_toolCalls->setValue(request.limits.maxToolCalls);
    m_runtime->setValue(request.limits.maxRuntimeSeconds);
    m_budget->setValue(request.limits.budgetUsd);
    m_dryRun->setChecked(request.dryRun);
}
void GoalEditor::setWorkspace(const QString& dir) {
    m_workspace->setText(dir);
}

void GoalEditor::setRunning(bool running) {
    for (QWidget* w : {static_cast<QWidget*>(m_goal), static_cast<QWidget*>(m_agent),
                       static_cast<QWidget*>(m_model), static_cast<QWidget*>(m_workspace),
                       static_cast<QWidget*>(m_steps), static_cast<QWidget*>(m_toolCalls),
                       static_cast<QWidget*>(m_runtime), static_cast<QWidget*>(m_budget),
                       static_cast<QWidget*>(m_dryRun), static_cast<QWidget*>(m_recent)})
        w->setEnabled(!running);
    m_stop->setEnabled(running);
    m_start->setEnabled(!running && m_context.areSecretsLoaded() && m_context.isStoreOpen());
}

void GoalEditor::rememberGoal(const QString& goal) {
    QSettings settings;
    QStringList recent = settings.value(QLatin1String(kRecentKey)).toStringList();
    recent.removeAll(goal);
    recent.prepend(goal);
    while (recent.size() > kRecentGoals)
        recent.removeLast();
    settings.setValue(QLatin1String(kRecentKey), recent);
    rebuildRecent();
}

void GoalEditor::rebuildRecent() {
    QMenu* menu = m_recent->menu();
    menu->clear();
    const QStringList recent = QSettings().value(QLatin1String(kRecentKey)).toStringList();
    for (const QString& goal : recent) {
        QString label = goal.simplified();
        if (label.size() > 80)
            label = label.left(80) + QStringLiteral("…");
        QAction* a = menu->addAction(label);
        a->setToolTip(goal);
        connect(a, &QAction::triggered, this, [this, goal] { m_goal->setPlainText(goal); });
    }
    m_recent->setEnabled(!recent.isEmpty());
}

} // namespace m1
