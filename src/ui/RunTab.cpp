#include "RunTab.h"

#include "AppContext.h"
#include "Format.h"
#include "GoalEditor.h"
#include "GuiApprovalGate.h"
#include "RunSession.h"
#include "ScopeStyle.h"
#include "TimelineModel.h"
#include "TimelineView.h"
#include "VisibleText.h"

#include "llm/ApiAttempt.h"

#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QVBoxLayout>

namespace m1 {

namespace {

QString money(qint64 micros) {
    return Format::usd(micros);
}

QString duration(qint64 ms) {
    const qint64 s = ms / 1000;
    return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

} // namespace

RunTab::RunTab(AppContext& context, GuiApprovalGate& gate, QWidget* parent)
    : QWidget(parent), m_context(context), m_gate(gate) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    m_splitter = new QSplitter(Qt::Vertical, this);
    m_splitter->setObjectName(QStringLiteral("runSplitter"));
    m_editor = new GoalEditor(context, m_splitter);
    m_timeline = new TimelineView(m_splitter);
    m_splitter->addWidget(m_editor);
    m_splitter->addWidget(m_timeline);
    m_splitter->setStretchFactor(0, 0);
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setCollapsible(1, false);
    layout->addWidget(m_splitter, 1);

    // The run paused on the audit: what happened, what to do, and the two ways on. Not a modal
    // dialog: the window stays usable (history, settings, other runs) while space is freed.
    m_auditBanner = new QFrame(this);
    m_auditBanner->setObjectName(QStringLiteral("auditBanner"));
    m_auditBanner->setFrameShape(QFrame::StyledPanel);
    m_auditBanner->setAccessibleName(tr("Run paused: the audit store refused a write"));
    const QColor warning = ScopeStyle::statusColor(QStringLiteral("failed"), palette());
    m_auditBanner->setStyleSheet(
        QStringLiteral("QFrame#auditBanner { border: 2px solid %1; border-radius: 3px; }")
            .arg(warning.name()));
    auto* bannerRow = new QHBoxLayout(m_auditBanner);
    bannerRow->setContentsMargins(8, 6, 8, 6);
    m_auditBannerText = new QLabel(m_auditBanner);
    m_auditBannerText->setObjectName(QStringLiteral("auditBannerText"));
    m_auditBannerText->setTextFormat(Qt::PlainText);
    m_auditBannerText->setWordWrap(true);
    m_auditBannerText->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_auditRetry = new QPushButton(tr("&Retry"), m_auditBanner);
    m_auditRetry->setObjectName(QStringLiteral("auditRetryButton"));
    m_auditRetry->setToolTip(tr("Write the refused audit events again and go on with the run."));
    m_auditCancel = new QPushButton(tr("&Cancel run"), m_auditBanner);
    m_auditCancel->setObjectName(QStringLiteral("auditCancelButton"));
    m_auditCancel->setToolTip(tr("End the run: nothing more runs. Its end is recorded if the "
                                 "audit store can take it."));
    bannerRow->addWidget(m_auditBannerText, 1);
    bannerRow->addWidget(m_auditRetry);
    bannerRow->addWidget(m_auditCancel);
    m_auditBanner->hide();
    layout->addWidget(m_auditBanner);
    connect(m_auditRetry, &QPushButton::clicked, this, [this] {
        if (m_session && m_session->controller().isPausedOnAudit()) {
            m_auditRetry->setEnabled(false);
            m_auditCancel->setEnabled(false);
            m_session->controller().resume();
        }
    });
    connect(m_auditCancel, &QPushButton::clicked, this, [this] {
        if (m_session && m_session->controller().isPausedOnAudit()) {
            m_auditRetry->setEnabled(false);
            m_auditCancel->setEnabled(false);
            m_auditBannerText->setText(tr("Cancelling the run…"));
            m_session->controller().cancel();
        }
    });

    auto* status = new QWidget(this);
    status->setObjectName(QStringLiteral("runStatus"));
    auto* row = new QHBoxLayout(status);
    row->setContentsMargins(8, 4, 8, 4);
    m_tokens = new QLabel(status);
    m_cost = new QLabel(status);
    m_cost->setObjectName(QStringLiteral("costLabel"));
    m_elapsed = new QLabel(status);
    m_stop = new QLabel(status);
    m_stop->setObjectName(QStringLiteral("stopReasonLabel"));
    for (QLabel* l : {m_tokens, m_cost, m_elapsed, m_stop})
        l->setTextFormat(Qt::PlainText);
    row->addWidget(m_tokens);
    row->addSpacing(16);
    row->addWidget(m_cost);
    row->addSpacing(16);
    row->addWidget(m_elapsed);
    row->addStretch(1);
    row->addWidget(m_stop);
    layout->addWidget(status);
    // The main window's status bar shows the current run's line; this one is for a tab shown
    // on its own (tests, a detached window).
    status->setVisible(parent == nullptr);

    connect(m_editor, &GoalEditor::startRequested, this, &RunTab::startFromEditor);
    connect(m_editor, &GoalEditor::stopRequested, this, &RunTab::stop);
    m_tick.setInterval(1000);
    connect(&m_tick, &QTimer::timeout, this, &RunTab::updateStatus);
    connect(&gate, &GuiApprovalGate::requested, this, [this](const PendingApproval& pending) {
        if (pending.call.runId == m_runId)
            m_timeline->model()->setAwaiting(pending.call.id, pending.decision.reason);
    });
    updateStatus();
}

RunTab::~RunTab() {
    if (m_session) {
        m_gate.unregisterRun(m_runId);
        m_session->controller().disconnect(this);
    }
}

bool RunTab::isRunning() const {
    return m_session && m_session->controller().isRunning();
}

QString RunTab::title() const {
    if (m_goal.isEmpty())
        return tr("New run");
    QString t = m_goal.simplified();
    if (t.size() > 28)
        t = t.left(28) + QStringLiteral("…");
    return t;
}

void RunTab::startFromEditor() {
    RunRequest request = m_editor->request();
    start(request);
}

bool RunTab::start(const RunRequest& request) {
    if (isRunning())
        return false;
    auto session = RunSession::create(m_context, request, &m_gate);
    if (!session) {
        QMessageBox box(QMessageBox::Warning, tr("The run cannot start"), session.error().message,
                        QMessageBox::Ok, this);
        box.setInformativeText(tr("Error code: %1").arg(session.error().code));
        box.exec();
        return false;
    }
    if (m_session)
        m_gate.unregisterRun(m_runId);
    m_session = std::move(*session);
    m_report.reset();
    m_auditBanner->hide();
    m_runId = m_session->controller().runId();
    m_goal = request.goal;
    m_budgetUsd = request.limits.budgetUsd;
    m_inputTokens = m_outputTokens = m_costMicros = 0;
    m_costUnknown = false;
    m_finalElapsedMs = -1;
    m_timeline->model()->clear();
    GuiApprovalGate::RunInfo info;
    info.policy = &m_session->policy();
    info.workspace = &m_session->workspace();
    info.label = title();
    m_gate.registerRun(m_runId, info);
    m_editor->rememberGoal(request.goal);
    m_editor->setRequest(request);
    connectSession();
    m_editor->setRunning(true);
    m_clock.start();
    m_tick.start();
    emit titleChanged(title());
    m_timeline->model()->addNotice(
        tr("Run %1 on %2 (%3), workspace %4%5")
            .arg(m_runId, m_session->config().model, m_session->providerName(),
                 m_session->workspace().root(),
                 request.dryRun ? tr("; dry run: no tool will run") : QString()));
    m_session->controller().start();
    emit runStarted(m_runId);
    updateStatus();
    return true;
}

void RunTab::stop() {
    if (isRunning())
        m_session->controller().cancel();
}

void RunTab::connectSession() {
    RunController* run = &m_session->controller();
    TimelineModel* model = m_timeline->model();
    connect(run, &RunController::turnStarted, this, [model](int step) { model->beginStep(step); });
    connect(run, &RunController::attemptStarted, this, [model](int attempt) {
        if (attempt > 1)
            model->discardTurnText();
    });
    connect(run, &RunController::textDelta, model, &TimelineModel::appendText);
    connect(run, &RunController::proposalAdded, model, &TimelineModel::addProposal);
    connect(run, &RunController::proposalDecided, this,
            [this, model](const QString& id, const QString& status, const QString& kind,
                          const QString& reason) {
                model->setDecided(id, status, kind, reason);
                emit runEvent();
            });
    connect(run, &RunController::proposalTokenIssued, model, &TimelineModel::setTokenIssued);
    connect(run, &RunController::proposalTokenSpent, model, &TimelineModel::setTokenSpent);
    connect(run, &RunController::proposalExecuting, model, &TimelineModel::setExecuting);
    connect(run, &RunController::proposalExecuted, this,
            [this, model](const QString& id, const QString& status, const QString& output) {
                model->setExecuted(id, status, output);
                emit runEvent();
            });
    connect(run, &RunController::planUpdated, this, [model](const QJsonArray& steps) {
        QStringList lines;
        for (const QJsonValue& v : steps)
            lines << QStringLiteral("[%1] %2").arg(
                ScopeStyle::planStatusText(v.toObject().value(QLatin1String("status")).toString()),
                VisibleText::visible(v.toObject().value(QLatin1String("title")).toString()));
        model->addNotice(tr("Plan:\n%1").arg(lines.join(QLatin1Char('\n'))));
    });
    connect(run, &RunController::contextTrimmed, this, [model](int replaced) {
        model->addNotice(tr("The conversation was trimmed to fit the context window (%n old "
                            "result(s) replaced).",
                            nullptr, replaced));
    });
    connect(run, &RunController::apiAttempt, this, &RunTab::onApiAttempt);
    connect(run, &RunController::auditPaused, this, &RunTab::onAuditPaused);
    connect(run, &RunController::auditResumed, this, [this] {
        m_auditBanner->hide();
        m_timeline->model()->addNotice(tr("Retrying the refused audit write."));
        updateStatus();
    });
    connect(run, &RunController::finished, this, &RunTab::onFinished);
}

void RunTab::onAuditPaused(const QString& code, const QString& message) {
    const QString what = code == QLatin1String("store.readonly") ? tr("audit storage read-only")
                                                                 : tr("audit storage full");
    const QString advice = code == QLatin1String("store.readonly")
                               ? tr("Make the audit database and its folder writable, then Retry.")
                               : tr("Free disk space (or raise the database's size limit), "
                                    "then Retry.");
    m_auditBannerText->setText(
        tr("Run paused: %1. Nothing runs until the audit works again: the step that was refused "
           "did not happen. %2 Cancel ends the run.")
            .arg(what, advice));
    m_auditBannerText->setToolTip(message);
    m_auditRetry->setEnabled(true);
    m_auditCancel->setEnabled(true);
    m_auditBanner->show();
    m_timeline->model()->addNotice(tr("Run paused: %1 (%2). %3").arg(what, code, message), true);
    updateStatus();
    emit runEvent();
}

void RunTab::onApiAttempt(const ApiAttempt& attempt) {
    const qint64 in = attempt.usage.inputTokens + attempt.usage.cacheCreationInputTokens +
                      attempt.usage.cacheReadInputTokens;
    const qint64 out = attempt.usage.outputTokens;
    m_inputTokens += in;
    m_outputTokens += out;
    const auto cost = m_context.costs().costMicros(
        attempt.model.isEmpty() ? m_session->config().model : attempt.model, attempt.usage,
        m_runId);
    if (cost)
        m_costMicros += *cost;
    else if (in || out)
        m_costUnknown = true;
    m_timeline->model()->addTurnUsage(in, out, cost);
    if (!attempt.succeeded())
        m_timeline->model()->addNotice(
            tr("API attempt %1 failed: %2").arg(attempt.attempt).arg(attempt.error.toString()),
            true);
    updateStatus();
    emit runEvent();
}

void RunTab::onFinished(const RunReport& report) {
    m_report = report;
    m_finalElapsedMs = m_clock.elapsed();
    m_tick.stop();
    m_auditBanner->hide();
    m_editor->setRunning(false);
    QString text = tr("Run ended: %1").arg(ScopeStyle::stopReasonText(report.stopReason));
    if (!report.errorMessage.isEmpty())
        text += QStringLiteral(" — ") + report.errorMessage;
    if (!report.finalText.isEmpty() && report.stopReason == QLatin1String("completed"))
        text += QLatin1Char('\n') + tr("%1 proposed, %2 approved, %3 denied, %4 executed.")
                                        .arg(report.proposed)
                                        .arg(report.approved)
                                        .arg(report.denied)
                                        .arg(report.executed);
    m_timeline->model()->addNotice(text, !report.errorCode.isEmpty());
    m_gate.unregisterRun(m_runId);
    updateStatus();
    emit runFinished(report);
    emit runEvent();
}

QString RunTab::statusText() const {
    return QStringList{m_tokens->text(), m_cost->text(), m_elapsed->text(), m_stop->text()}.join(
        QStringLiteral("   "));
}

void RunTab::updateStatus() {
    m_tokens->setText(tr("Tokens: %1 in · %2 out").arg(m_inputTokens).arg(m_outputTokens));
    QString cost = money(m_costMicros) + (m_costUnknown ? tr(" + unknown") : QString());
    if (m_budgetUsd > 0)
        cost = tr("Cost: %1 of %2 budget (%3%)")
                   .arg(cost, money(qint64(m_budgetUsd * 1e6)))
                   .arg(qRound(100.0 * double(m_costMicros) / (m_budgetUsd * 1e6)));
    else
        cost = tr("Cost: %1 (no budget)").arg(cost);
    m_cost->setText(cost);
    const qint64 elapsed =
        m_finalElapsedMs >= 0 ? m_finalElapsedMs : (m_clock.isValid() ? m_clock.elapsed() : 0);
    m_elapsed->setText(tr("Elapsed: %1").arg(duration(elapsed)));
    if (m_report)
        m_stop->setText(tr("Stopped: %1").arg(ScopeStyle::stopReasonText(m_report->stopReason)));
    else if (m_session && m_session->controller().isPausedOnAudit())
        m_stop->setText(m_session->controller().auditPauseError().code ==
                                QLatin1String("store.readonly")
                            ? tr("Paused: audit storage read-only")
                            : tr("Paused: audit storage full"));
    else if (isRunning())
        m_stop->setText(tr("Running"));
    else
        m_stop->setText(tr("Not started"));
    emit statusChanged(statusText());
}

} // namespace m1
