#include "HistoryView.h"

#include "AppContext.h"
#include "Background.h"
#include "Format.h"
#include "HistoryModel.h"
#include "Icons.h"
#include "ScopeStyle.h"
#include "TimelineModel.h"
#include "TimelineView.h"

#include "store/AuditStore.h"
#include "util/CanonicalJson.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateEdit>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace m1 {

HistoryView::HistoryView(AppContext& context, QWidget* parent)
    : QWidget(parent), m_context(context) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);

    auto* filters = new QHBoxLayout;
    m_agent = new QComboBox(this);
    m_agent->setAccessibleName(tr("Filter by agent"));
    m_agent->addItem(tr("All agents"), QString());
    for (const AgentProfile& p : context.profiles().profiles())
        m_agent->addItem(p.name, p.name);
    m_stopReason = new QComboBox(this);
    m_stopReason->setAccessibleName(tr("Filter by stop reason"));
    m_stopReason->addItem(tr("Any end"), QString());
    for (const char* reason :
         {"completed", "running", "user_cancelled", "max_steps", "max_tool_calls", "max_runtime",
          "budget_exceeded", "api_error", "provider_refused", "max_tokens", "context_exhausted",
          "audit_failed"})
        m_stopReason->addItem(ScopeStyle::stopReasonText(QString::fromLatin1(reason)),
                              QString::fromLatin1(reason));
    m_modelFilter = new QComboBox(this);
    m_modelFilter->setAccessibleName(tr("Filter by model"));
    m_modelFilter->addItem(tr("All models"), QString());
    for (const ModelInfo& m : context.catalog().models())
        m_modelFilter->addItem(m.id, m.id);
    m_useDates = new QCheckBox(tr("From"), this);
    m_from = new QDateEdit(QDate::currentDate().addDays(-30), this);
    m_from->setCalendarPopup(true);
    m_from->setAccessibleName(tr("First day"));
    auto* toLabel = new QLabel(tr("to"), this);
    m_to = new QDateEdit(QDate::currentDate(), this);
    m_to->setCalendarPopup(true);
    m_to->setAccessibleName(tr("Last day"));
    m_search = new QLineEdit(this);
    m_search->setPlaceholderText(tr("Text in the goal…"));
    m_search->setAccessibleName(tr("Search the goals"));
    m_search->setClearButtonEnabled(true);
    filters->addWidget(m_agent);
    filters->addWidget(m_stopReason);
    filters->addWidget(m_modelFilter);
    filters->addWidget(m_useDates);
    filters->addWidget(m_from);
    filters->addWidget(toLabel);
    filters->addWidget(m_to);
    filters->addWidget(m_search, 1);
    layout->addLayout(filters);

    m_model = new HistoryModel(context.storeConfig(), this);
    m_splitter = new QSplitter(Qt::Vertical, this);
    m_splitter->setObjectName(QStringLiteral("historySplitter"));
    m_table = new QTableView(m_splitter);
    m_table->setObjectName(QStringLiteral("historyTable"));
    m_table->setAccessibleName(tr("Past runs"));
    m_table->setModel(m_model);
    // The model sorts in the store (all matching runs, not the loaded ones).
    m_table->horizontalHeader()->setSortIndicator(HistoryModel::Started, Qt::DescendingOrder);
    m_table->setSortingEnabled(true);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->setVisible(false);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().lineSpacing() + 8);
    m_table->horizontalHeader()->setSectionResizeMode(HistoryModel::Goal, QHeaderView::Stretch);
    m_table->horizontalHeader()->setToolTip(
        tr("Click a column to order all matching runs by it (the goal column does not sort)."));
    for (int c : {int(HistoryModel::Started), int(HistoryModel::Agent), int(HistoryModel::Model),
                  int(HistoryModel::StopReason), int(HistoryModel::Calls)})
        m_table->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    auto* lower = new QWidget(m_splitter);
    auto* lowerLayout = new QVBoxLayout(lower);
    lowerLayout->setContentsMargins(0, 4, 0, 0);
    auto* bar = new QHBoxLayout;
    m_openedLabel =
        new QLabel(tr("Open a run (double-click or Enter) to see its timeline."), lower);
    m_openedLabel->setTextFormat(Qt::PlainText);
    m_export = new QPushButton(Icons::icon(Icons::Export), tr("E&xport run as JSON…"), lower);
    m_export->setEnabled(false);
    auto* verify = new QPushButton(tr("&Verify audit trail"), lower);
    m_verify = new QLabel(lower);
    m_verify->setObjectName(QStringLiteral("verifyLabel"));
    m_verify->setTextFormat(Qt::PlainText);
    bar->addWidget(m_openedLabel, 1);
    bar->addWidget(m_verify);
    bar->addWidget(verify);
    bar->addWidget(m_export);
    lowerLayout->addLayout(bar);
    m_timeline = new TimelineView(lower);
    m_timeline->setFollow(false);
    lowerLayout->addWidget(m_timeline, 1);
    m_splitter->addWidget(m_table);
    m_splitter->addWidget(lower);
    m_splitter->setStretchFactor(0, 1);
    m_splitter->setStretchFactor(1, 1);
    layout->addWidget(m_splitter, 1);
    m_count = new QLabel(this);
    layout->addWidget(m_count);

    auto* debounce = new QTimer(this);
    debounce->setSingleShot(true);
    debounce->setInterval(250);
    connect(debounce, &QTimer::timeout, this, &HistoryView::applyFilter);
    connect(m_search, &QLineEdit::textChanged, debounce, qOverload<>(&QTimer::start));
    for (QComboBox* c : {m_agent, m_stopReason, m_modelFilter})
        connect(c, &QComboBox::currentIndexChanged, this, &HistoryView::applyFilter);
    connect(m_useDates, &QCheckBox::toggled, this, &HistoryView::applyFilter);
    connect(m_from, &QDateEdit::dateChanged, this, &HistoryView::applyFilter);
    connect(m_to, &QDateEdit::dateChanged, this, &HistoryView::applyFilter);
    // A click on the goal column would move the indicator without an order to match: put it
    // back where the model's order is.
    connect(m_table->horizontalHeader(), &QHeaderView::sortIndicatorChanged, this, [this] {
        QHeaderView* header = m_table->horizontalHeader();
        if (header->sortIndicatorSection() == m_model->sortColumn() &&
            header->sortIndicatorOrder() == m_model->sortOrder())
            return;
        const QSignalBlocker block(header);
        header->setSortIndicator(m_model->sortColumn(), m_model->sortOrder());
    });
    connect(m_table, &QTableView::activated, this,
            [this](const QModelIndex& index) { openRun(m_model->run(index.row()).runId); });
    connect(m_model, &HistoryModel::pageLoaded, this, [this] {
        const QString column =
            m_model->headerData(m_model->sortColumn(), Qt::Horizontal, Qt::DisplayRole).toString();
        m_count->setText(tr("%n run(s) loaded", nullptr, m_model->rowCount()) +
                         tr(" · ordered by %1, %2")
                             .arg(column, m_model->sortOrder() == Qt::DescendingOrder
                                              ? tr("descending")
                                              : tr("ascending")) +
                         (m_model->canFetchMore({}) ? tr("; scroll for more") : QString()));
    });
    connect(m_model, &HistoryModel::failed, this, [this](const QString& message) {
        m_count->setText(tr("The history could not be read: %1").arg(message));
    });
    connect(verify, &QPushButton::clicked, this, &HistoryView::verifyAudit);
    connect(m_export, &QPushButton::clicked, this, [this] {
        if (!m_opened)
            return;
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Export run"), m_opened->run.runId + QStringLiteral(".json"),
            tr("JSON (*.json)"));
        if (!path.isEmpty() && !exportRun(path))
            QMessageBox::warning(this, tr("Export failed"),
                                 tr("Could not write %1. Choose another folder.").arg(path));
    });
    connect(&context, &AppContext::storeOpened, this, &HistoryView::applyFilter);
    applyFilter();
}

void HistoryView::refresh() {
    if (m_context.isStoreOpen())
        m_model->reload();
}

void HistoryView::applyFilter() {
    AuditQueries::HistoryFilter f;
    f.agent = m_agent->currentData().toString();
    f.stopReason = m_stopReason->currentData().toString();
    f.model = m_modelFilter->currentData().toString();
    f.search = m_search->text().trimmed();
    m_from->setEnabled(m_useDates->isChecked());
    m_to->setEnabled(m_useDates->isChecked());
    if (m_useDates->isChecked()) {
        f.started.fromMs = m_from->date().startOfDay(Qt::UTC).toMSecsSinceEpoch();
        f.started.toMs = m_to->date().addDays(1).startOfDay(Qt::UTC).toMSecsSinceEpoch();
    }
    // Before the store is open (and migrated) there is nothing to read yet.
    if (!m_context.isStoreOpen()) {
        m_count->setText(m_context.storeError().code.isEmpty()
                             ? tr("Opening the audit database…")
                             : tr("No audit database: %1").arg(m_context.storeError().toString()));
        return;
    }
    m_model->setFilter(f);
}

void HistoryView::openRun(const QString& runId) {
    const StoreConfig store = m_context.storeConfig();
    using DetailResult = Result<AuditQueries::RunDetail>;
    runInBackground(
        this,
        [store, runId]() -> DetailResult {
            auto queries = AuditQueries::open(store);
            if (!queries)
                return std::unexpected(queries.error());
            return (*queries)->run(runId);
        },
        [this](const DetailResult& detail) {
            if (!detail) {
                m_openedLabel->setText(
                    tr("Could not open the run: %1").arg(detail.error().toString()));
                return;
            }
            m_opened = *detail;
            fillTimeline(m_timeline, *detail);
            m_openedLabel->setText(
                tr("Run %1 — %2").arg(detail->run.runId, detail->run.goal.simplified().left(100)));
            m_export->setEnabled(true);
            emit runOpened(detail->run.runId);
        });
}

bool HistoryView::exportRun(const QString& path) {
    if (!m_opened)
        return false;
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return false;
    file.write(QJsonDocument(m_opened->toJson()).toJson(QJsonDocument::Indented));
    return file.commit();
}

void HistoryView::verifyAudit() {
    m_verify->setText(tr("Verifying…"));
    const StoreConfig config = m_context.storeConfig();
    using VerifyResult = Result<AuditChain::VerifyReport>;
    runInBackground(
        this,
        [config]() -> VerifyResult {
            auto store = AuditStore::open(config);
            if (!store)
                return std::unexpected(store.error());
            return (*store)->verify();
        },
        [this](const VerifyResult& r) {
            if (!r)
                m_verify->setText(tr("Audit check failed: %1").arg(r.error().toString()));
            else if (r->intact)
                m_verify->setText(
                    tr("Audit trail intact (%n event(s) checked)", nullptr, int(r->checkedEvents)));
            else if (r->problem == QLatin1String("projection"))
                // The chain is sound but the tables the views read disagree with it.
                m_verify->setText(tr("AUDIT TRAIL BROKEN: %1").arg(r->message));
            else
                m_verify->setText(
                    tr("AUDIT TRAIL BROKEN at event %1: %2").arg(r->brokenAtSeq).arg(r->message));
        });
}

void HistoryView::fillTimeline(TimelineView* view, const AuditQueries::RunDetail& detail) {
    TimelineModel* model = view->model();
    model->clear();
    const auto& run = detail.run;
    model->addNotice(tr("Run %1: agent %2, model %3 (%4)%5\nGoal: %6")
                         .arg(run.runId, run.agent, run.model, run.provider,
                              run.dryRun ? tr(", dry run") : QString(), run.goal));
    qsizetype api = 0;
    qint64 step = -1;
    auto addApi = [&](const AuditQueries::ApiCallRecord& a) {
        TimelineEntry e;
        e.kind = TimelineEntry::Kind::Notice;
        e.isError = !a.errorType.isEmpty();
        e.text = tr("API call %1 (attempt %2): %3 in, %4 out, %5, %6 ms%7")
                     .arg(a.requestId.isEmpty() ? tr("(no request id)") : a.requestId)
                     .arg(a.attempt)
                     .arg(a.inputTokens)
                     .arg(a.outputTokens)
                     .arg(a.costMicros ? Format::usd(*a.costMicros) : tr("cost unknown"))
                     .arg(a.latencyMs.value_or(0))
                     .arg(a.errorType.isEmpty() ? QString() : tr(", error %1").arg(a.errorType));
        model->append(e);
    };
    for (const auto& c : detail.toolCalls) {
        while (api < detail.apiCalls.size() && detail.apiCalls.at(api).at <= c.proposedAt)
            addApi(detail.apiCalls.at(api++));
        if (c.step != step) {
            step = c.step;
            TimelineEntry s;
            s.kind = TimelineEntry::Kind::Step;
            s.step = int(step);
            model->append(s);
        }
        TimelineEntry e;
        e.kind = TimelineEntry::Kind::Proposal;
        e.step = int(c.step);
        e.callId = c.requestId;
        e.tool = c.toolName;
        e.scope = c.scope;
        const QString argsJson = !c.argsExecutedJson.isEmpty() ? c.argsExecutedJson
                                 : !c.argsEditedJson.isEmpty() ? c.argsEditedJson
                                                               : c.argsProposedJson;
        e.arguments = QJsonDocument::fromJson(argsJson.toUtf8()).object();
        e.edited = !c.argsEditedJson.isEmpty();
        e.policy = c.policyDecision;
        e.policyReason = c.policyReason;
        e.approverKind = c.approverKind;
        e.approver = c.approver;
        e.decisionReason = c.decisionReason;
        e.status = c.status;
        e.output = c.error.isEmpty() ? c.output : c.error + QLatin1Char('\n') + c.output;
        e.durationMs = c.execDurationMs.value_or(-1);
        e.decisionMs = c.decisionMs;
        e.argsSeenWhole = c.argsSeenWhole;
        e.decidedInBatch = c.decidedInBatch;
        e.decidedBy = c.decidedBy;
        // The token bound the arguments that were approved (the edited ones when edited).
        if (!c.tokenJti.isEmpty()) {
            const QString approved =
                !c.argsEditedJson.isEmpty() ? c.argsEditedJson : c.argsProposedJson;
            e.tokenFingerprint = QString::fromLatin1(
                CanonicalJson::sha256Hex(QJsonDocument::fromJson(approved.toUtf8()).object())
                    .left(12));
        }
        model->append(e);
    }
    while (api < detail.apiCalls.size())
        addApi(detail.apiCalls.at(api++));
    model->addNotice(run.stopReason.isEmpty()
                         ? tr("Still running (or ended without a record).")
                         : tr("Ended: %1").arg(ScopeStyle::stopReasonText(run.stopReason)));
    model->flush();
}

} // namespace m1
