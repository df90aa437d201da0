#include "AlertsView.h"

#include "AppContext.h"
#include "Background.h"
#include "ScopeStyle.h"

#include "monitoring/AlertRepository.h"
#include "store/StoreConnection.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

namespace m1 {

struct AlertsView::Listed {
    Result<QList<Alert>> alerts;
    Result<QList<Alert>> open;
    AlertFilter filter;
};

AlertsView::AlertsView(AppContext& context, QWidget* parent) : QWidget(parent), m_context(context) {
    auto* layout = new QVBoxLayout(this);
    auto* bar = new QHBoxLayout;
    m_openOnly = new QCheckBox(tr("&Open only"), this);
    m_openOnly->setChecked(true);
    m_level = new QComboBox(this);
    m_level->setAccessibleName(tr("Filter by level"));
    m_level->addItem(tr("All levels"), QString());
    for (Alert::Level l : {Alert::Level::Info, Alert::Level::Warning, Alert::Level::Critical})
        m_level->addItem(Alert::levelName(l), Alert::levelName(l));
    m_category = new QComboBox(this);
    m_category->setAccessibleName(tr("Filter by category"));
    m_category->addItem(tr("All categories"), QString());
    for (Alert::Category c : Alert::allCategories())
        m_category->addItem(Alert::categoryName(c), Alert::categoryName(c));
    m_resolve = new QPushButton(tr("&Resolve…"), this);
    m_resolve->setEnabled(false);
    auto* reload = new QPushButton(tr("Re&load"), this);
    bar->addWidget(m_openOnly);
    bar->addWidget(m_level);
    bar->addWidget(m_category);
    bar->addStretch(1);
    bar->addWidget(reload);
    bar->addWidget(m_resolve);
    layout->addLayout(bar);

    m_table = new QTableWidget(0, 5, this);
    m_table->setObjectName(QStringLiteral("alertsTable"));
    m_table->setAccessibleName(tr("Alerts"));
    m_table->setHorizontalHeaderLabels(
        {tr("Raised"), tr("Level"), tr("Category"), tr("Message"), tr("Run")});
    m_table->horizontalHeader()->setSectionResizeMode(3, QHeaderView::Stretch);
    m_table->verticalHeader()->setVisible(false);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setAlternatingRowColors(true);
    layout->addWidget(m_table, 1);
    auto* statusRow = new QHBoxLayout;
    m_status = new QLabel(this);
    m_status->setTextFormat(Qt::PlainText);
    m_busy = makeBusyBar(this, tr("Reading the alerts"));
    statusRow->addWidget(m_status, 1);
    statusRow->addWidget(m_busy);
    layout->addLayout(statusRow);

    connect(m_openOnly, &QCheckBox::toggled, this, &AlertsView::refresh);
    connect(m_level, &QComboBox::currentIndexChanged, this, &AlertsView::refresh);
    connect(m_category, &QComboBox::currentIndexChanged, this, &AlertsView::refresh);
    connect(reload, &QPushButton::clicked, this, &AlertsView::refresh);
    connect(m_resolve, &QPushButton::clicked, this, &AlertsView::resolveSelected);
    connect(m_table, &QTableWidget::itemSelectionChanged, this,
            [this] { m_resolve->setEnabled(!m_table->selectedItems().isEmpty()); });
    connect(&context.alerts(), &AlertManager::alertRaised, this, &AlertsView::refresh,
            Qt::QueuedConnection);
    connect(&context.alerts(), &AlertManager::alertResolved, this, &AlertsView::refresh,
            Qt::QueuedConnection);
    connect(&context, &AppContext::storeOpened, this, &AlertsView::refresh);
    // After the window's first paint: the start shows at once and the count follows.
    QTimer::singleShot(0, this, &AlertsView::refresh);
}

void AlertsView::refresh() {
    if (!m_context.isStoreOpen()) {
        m_status->setText(m_context.storeError().code.isEmpty()
                              ? tr("Opening the audit database…")
                              : tr("No audit database: %1").arg(m_context.storeError().toString()));
        return;
    }
    if (!m_load.begin())
        return;
    m_busy->show();
    AlertFilter filter;
    filter.openOnly = m_openOnly->isChecked();
    filter.level = Alert::levelFromName(m_level->currentData().toString());
    filter.category = Alert::categoryFromName(m_category->currentData().toString());
    filter.limit = 1000;
    const StoreConfig store = m_context.storeConfig();
    runInBackground(
        this,
        [store, filter] {
            Listed listed;
            listed.filter = filter;
            auto connection = StoreConnection::open(store, QStringLiteral("alerts"),
                                                    StoreConnection::Schema::RequireLatest);
            if (!connection) {
                listed.alerts = listed.open = std::unexpected(connection.error());
                return listed;
            }
            const AlertRepository repository((*connection)->name());
            listed.alerts = repository.list(filter);
            AlertFilter open;
            open.openOnly = true;
            listed.open = repository.list(open);
            return listed;
        },
        [this](const Listed& listed) {
            const bool again = m_load.end();
            m_busy->hide();
            show(listed);
            emit refreshed();
            if (again)
                refresh();
        });
}

void AlertsView::show(const Listed& listed) {
    if (!listed.alerts) {
        m_status->setText(tr("Alerts could not be read: %1").arg(listed.alerts.error().toString()));
        return;
    }
    // This process's alerts whose write is still under way, and its newer states, join here.
    m_alerts = m_context.alerts().merge(*listed.alerts, listed.filter);
    m_table->setRowCount(int(m_alerts.size()));
    const QPalette pal = palette();
    for (int row = 0; row < m_alerts.size(); ++row) {
        const Alert& a = m_alerts.at(row);
        auto* raised = new QTableWidgetItem(QDateTime::fromMSecsSinceEpoch(a.raisedAt)
                                                .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")));
        raised->setData(Qt::UserRole, a.id);
        auto* level = new QTableWidgetItem(Alert::levelName(a.level));
        if (a.level != Alert::Level::Info)
            level->setForeground(ScopeStyle::statusColor(a.level == Alert::Level::Critical
                                                             ? QStringLiteral("failed")
                                                             : QStringLiteral("pending"),
                                                         pal));
        m_table->setItem(row, 0, raised);
        m_table->setItem(row, 1, level);
        m_table->setItem(row, 2, new QTableWidgetItem(Alert::categoryName(a.category)));
        auto* message = new QTableWidgetItem(a.message);
        message->setToolTip(
            a.message + (a.isOpen()
                             ? QString()
                             : QStringLiteral("\n") + tr("Resolved: %1").arg(a.resolutionNote)));
        m_table->setItem(row, 3, message);
        m_table->setItem(row, 4, new QTableWidgetItem(a.runId));
    }
    m_table->resizeColumnToContents(0);
    m_table->resizeColumnToContents(1);
    m_table->resizeColumnToContents(2);
    AlertFilter open;
    open.openOnly = true;
    m_open = listed.open ? int(m_context.alerts().merge(*listed.open, open).size()) : 0;
    m_status->setText(tr("%n open alert(s)", nullptr, m_open));
    emit openCountChanged(m_open);
}

void AlertsView::resolveSelected() {
    const int row = m_table->currentRow();
    if (row < 0 || row >= m_alerts.size())
        return;
    bool ok = false;
    const QString note = QInputDialog::getText(this, tr("Resolve alert"),
                                               tr("What was done about it (kept with the alert):"),
                                               QLineEdit::Normal, QString(), &ok);
    if (ok)
        resolveRow(row, note);
}

void AlertsView::resolveRow(int row, const QString& note) {
    if (row < 0 || row >= m_alerts.size())
        return;
    // The alert as read: resolving it writes an event through the writer, no read here.
    if (auto done = m_context.alerts().resolve(m_alerts.at(row), note); !done)
        QMessageBox::warning(this, tr("Not resolved"), done.error().toString());
    refresh();
}

} // namespace m1
