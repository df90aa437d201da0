#include "ChartsView.h"

#include "AppContext.h"
#include "Icons.h"

#include "store/CostCsvWriter.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QDateEdit>
#include <QFileDialog>
#include <QFutureWatcher>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHorizontalStackedBarSeries>
#include <QLabel>
#include <QLegend>
#include <QLineSeries>
#include <QMessageBox>
#include <QPercentBarSeries>
#include <QPushButton>
#include <QSaveFile>
#include <QStackedBarSeries>
#include <QTimeZone>
#include <QToolTip>
#include <QValueAxis>
#include <QtConcurrent/QtConcurrentRun>

namespace m1 {

struct ChartsView::Data {
    QString error;
    QList<AuditQueries::CostRow> costs;
    QList<AuditQueries::TokenDay> tokens;
    QList<AuditQueries::ToolStat> tools;
    AuditQueries::ApprovalMetrics approvals;
    QList<AuditQueries::ErrorRatePoint> errors;
    AuditQueries::MonthlyProjection projection;
    AuditQueries::Percentiles apiLatency;
    qint64 fromDay = 0;
    qint64 toDay = 0;
};

namespace {

constexpr qint64 kDayMs = 86400000;

QString dayLabel(qint64 day) {
    return QDateTime::fromMSecsSinceEpoch(day * kDayMs, QTimeZone::utc())
        .toString(QStringLiteral("dd"));
}

QChartView* makeChartView(const QString& accessibleName, QWidget* parent) {
    auto* view = new QChartView(parent);
    view->setRenderHint(QPainter::Antialiasing);
    view->setAccessibleName(accessibleName);
    view->setMinimumSize(320, 220);
    return view;
}

QChart* newChart(const QString& title, const QPalette& palette) {
    auto* chart = new QChart;
    chart->setTitle(title);
    // Follow the system palette instead of a fixed Qt Charts theme (dark mode).
    chart->setBackgroundBrush(palette.color(QPalette::Base));
    chart->setTitleBrush(palette.color(QPalette::Text));
    chart->legend()->setLabelColor(palette.color(QPalette::Text));
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setMargins(QMargins(4, 4, 4, 4));
    chart->setAnimationOptions(QChart::NoAnimation);
    return chart;
}

void styleAxis(QAbstractAxis* axis, const QPalette& palette) {
    axis->setLabelsColor(palette.color(QPalette::Text));
    axis->setTitleBrush(palette.color(QPalette::Text));
    axis->setGridLineColor(palette.color(QPalette::Midlight));
    axis->setLinePenColor(palette.color(QPalette::Mid));
}

void hoverValues(QAbstractBarSeries* series, const QStringList& categories, const QString& format) {
    QObject::connect(series, &QAbstractBarSeries::hovered, series,
                     [categories, format](bool on, int index, QBarSet* set) {
                         if (!on) {
                             QToolTip::hideText();
                             return;
                         }
                         QToolTip::showText(
                             QCursor::pos(),
                             QStringLiteral("%1 · %2: %3")
                                 .arg(categories.value(index), set->label(),
                                      format.arg(set->at(index), 0, 'f',
                                                 format.contains(QLatin1Char('$')) ? 4 : 0)));
                     });
}

} // namespace

ChartsView::ChartsView(AppContext& context, QWidget* parent) : QWidget(parent), m_context(context) {
    auto* layout = new QVBoxLayout(this);
    auto* bar = new QHBoxLayout;
    m_from = new QDateEdit(QDate::currentDate().addDays(-29), this);
    m_from->setCalendarPopup(true);
    m_from->setAccessibleName(tr("First day of the charts"));
    m_to = new QDateEdit(QDate::currentDate(), this);
    m_to->setCalendarPopup(true);
    m_to->setAccessibleName(tr("Last day of the charts"));
    auto* fromLabel = new QLabel(tr("&From"), this);
    fromLabel->setBuddy(m_from);
    auto* toLabel = new QLabel(tr("&to"), this);
    toLabel->setBuddy(m_to);
    auto* exportButton =
        new QPushButton(Icons::icon(Icons::Export), tr("Export cost report (&CSV)…"), this);
    exportButton->setObjectName(QStringLiteral("exportCsv"));
    m_summary = new QLabel(this);
    m_summary->setTextFormat(Qt::PlainText);
    m_summary->setObjectName(QStringLiteral("chartsSummary"));
    bar->addWidget(fromLabel);
    bar->addWidget(m_from);
    bar->addWidget(toLabel);
    bar->addWidget(m_to);
    bar->addSpacing(12);
    bar->addWidget(m_summary, 1);
    bar->addWidget(exportButton);
    layout->addLayout(bar);

    auto* grid = new QGridLayout;
    m_cost = makeChartView(tr("Cost per day by model"), this);
    m_tokens = makeChartView(tr("Tokens per day by kind"), this);
    m_tools = makeChartView(tr("Tool calls by tool"), this);
    m_approvals = makeChartView(tr("Approval outcomes"), this);
    m_errors = makeChartView(tr("Error rate over time"), this);
    m_latency = makeChartView(tr("Latency percentiles"), this);
    grid->addWidget(m_cost, 0, 0, 1, 2);
    grid->addWidget(m_tokens, 0, 2);
    grid->addWidget(m_latency, 1, 0);
    grid->addWidget(m_approvals, 1, 1);
    grid->addWidget(m_errors, 1, 2);
    grid->addWidget(m_tools, 2, 0, 1, 3);
    grid->setRowStretch(0, 3);
    grid->setRowStretch(1, 3);
    grid->setRowStretch(2, 2);
    layout->addLayout(grid, 1);

    m_throttle.setSingleShot(true);
    m_throttle.setInterval(3000);
    connect(&m_throttle, &QTimer::timeout, this, &ChartsView::refresh);
    connect(m_from, &QDateEdit::dateChanged, this, &ChartsView::refresh);
    connect(m_to, &QDateEdit::dateChanged, this, &ChartsView::refresh);
    connect(exportButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Export cost report"),
            QStringLiteral("costs-%1-%2.csv")
                .arg(m_from->date().toString(Qt::ISODate), m_to->date().toString(Qt::ISODate)),
            tr("CSV (*.csv)"));
        if (path.isEmpty())
            return;
        QString error;
        if (!exportCsv(path, &error))
            QMessageBox::warning(this, tr("Export failed"),
                                 tr("%1\nChoose another file or folder and try again.").arg(error));
    });
}

AuditQueries::TimeRange ChartsView::range() const {
    AuditQueries::TimeRange r;
    r.fromMs = m_from->date().startOfDay(QTimeZone::utc()).toMSecsSinceEpoch();
    r.toMs = m_to->date().addDays(1).startOfDay(QTimeZone::utc()).toMSecsSinceEpoch();
    return r;
}

void ChartsView::setRange(const QDate& from, const QDate& to) {
    const QSignalBlocker a(m_from);
    const QSignalBlocker b(m_to);
    m_from->setDate(from);
    m_to->setDate(to);
    refresh();
}

void ChartsView::scheduleRefresh() {
    if (!m_throttle.isActive())
        m_throttle.start();
}

void ChartsView::refresh() {
    if (m_loading) {
        m_again = true;
        return;
    }
    m_loading = true;
    m_summary->setText(tr("Loading…"));
    const StoreConfig store = m_context.storeConfig();
    const AuditQueries::TimeRange r = range();
    auto* watcher = new QFutureWatcher<Data>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher] {
        watcher->deleteLater();
        m_loading = false;
        show(watcher->result());
        emit refreshed();
        if (m_again) {
            m_again = false;
            refresh();
        }
    });
    watcher->setFuture(QtConcurrent::run([store, r] {
        Data d;
        d.fromDay = *r.fromMs / kDayMs;
        d.toDay = *r.toMs / kDayMs - 1;
        auto q = AuditQueries::open(store);
        if (!q) {
            d.error = q.error().toString();
            return d;
        }
        auto fail = [&d](const Error& e) { d.error = e.toString(); };
        if (auto v = (*q)->costByModelDay(r))
            d.costs = *v;
        else
            fail(v.error());
        if (auto v = (*q)->tokensByDay(r))
            d.tokens = *v;
        else
            fail(v.error());
        if (auto v = (*q)->toolStats(r))
            d.tools = *v;
        else
            fail(v.error());
        if (auto v = (*q)->approvalMetrics(r))
            d.approvals = *v;
        else
            fail(v.error());
        if (auto v = (*q)->errorRate(AuditQueries::Interval::Day, r))
            d.errors = *v;
        else
            fail(v.error());
        if (auto v = (*q)->monthlyProjection())
            d.projection = *v;
        else
            fail(v.error());
        return d;
    }));
}

void ChartsView::show(const Data& d) {
    const QPalette pal = palette();
    if (!d.error.isEmpty()) {
        m_summary->setText(tr("The charts could not be read: %1").arg(d.error));
        return;
    }
    QStringList days;
    for (qint64 day = d.fromDay; day <= d.toDay; ++day)
        days << dayLabel(day);
    auto dayIndex = [&](qint64 day) { return int(day - d.fromDay); };

    // Cost per day stacked by model, with the average day of the projection and the budget.
    {
        QChart* chart = newChart(tr("Cost per day by model (USD)"), pal);
        auto* series = new QStackedBarSeries;
        QMap<QString, QBarSet*> sets;
        qint64 total = 0;
        for (const auto& row : d.costs) {
            QBarSet*& set = sets[row.model];
            if (!set) {
                set = new QBarSet(row.model);
                for (int i = 0; i < days.size(); ++i)
                    *set << 0;
            }
            const int i = dayIndex(row.day);
            if (i >= 0 && i < days.size())
                set->replace(i, set->at(i) + double(row.costMicros) / 1e6);
            total += row.costMicros;
        }
        for (QBarSet* set : std::as_const(sets))
            series->append(set);
        chart->addSeries(series);
        auto* x = new QBarCategoryAxis;
        x->append(days);
        auto* y = new QValueAxis;
        y->setLabelFormat(QStringLiteral("$%.2f"));
        chart->addAxis(x, Qt::AlignBottom);
        chart->addAxis(y, Qt::AlignLeft);
        series->attachAxis(x);
        series->attachAxis(y);
        auto addLine = [&](const QString& name, double value, Qt::PenStyle style) {
            auto* line = new QLineSeries;
            line->setName(name);
            line->append(-0.5, value);
            line->append(days.size() - 0.5, value);
            QPen pen(pal.color(QPalette::Text), 1.5, style);
            line->setPen(pen);
            chart->addSeries(line);
            auto* lx = new QValueAxis;
            lx->setRange(-0.5, days.size() - 0.5);
            lx->setVisible(false);
            chart->addAxis(lx, Qt::AlignTop);
            line->attachAxis(lx);
            line->attachAxis(y);
            if (y->max() < value * 1.1)
                y->setMax(value * 1.1);
        };
        if (d.projection.dailyAverageMicros > 0)
            addLine(tr("average day (projection)"), double(d.projection.dailyAverageMicros) / 1e6,
                    Qt::DashLine);
        if (const auto daily = m_context.settings().monitoring.dailyBudgetMicros)
            addLine(tr("daily budget"), double(*daily) / 1e6, Qt::DotLine);
        else if (const auto monthly = m_context.settings().monitoring.monthlyBudgetMicros)
            addLine(tr("monthly budget per day"), double(*monthly) / 1e6 / 30.0, Qt::DotLine);
        hoverValues(series, days, QStringLiteral("$%1"));
        for (QAbstractAxis* a : chart->axes())
            styleAxis(a, pal);
        x->setTitleText(
            days.isEmpty()
                ? QString()
                : tr("day of month (UTC), %1 to %2")
                      .arg(QDateTime::fromMSecsSinceEpoch(d.fromDay * kDayMs, QTimeZone::utc())
                               .toString(QStringLiteral("yyyy-MM-dd")),
                           QDateTime::fromMSecsSinceEpoch(d.toDay * kDayMs, QTimeZone::utc())
                               .toString(QStringLiteral("yyyy-MM-dd"))));
        m_cost->setChart(chart);
        m_summary->setText(tr("Cost in range: $%1 · month to date $%2 · projected month $%3")
                               .arg(double(total) / 1e6, 0, 'f', 2)
                               .arg(double(d.projection.monthToDateMicros) / 1e6, 0, 'f', 2)
                               .arg(double(d.projection.projectedMonthMicros) / 1e6, 0, 'f', 2));
    }
    // Tokens per day by kind.
    {
        QChart* chart = newChart(tr("Tokens per day"), pal);
        auto* series = new QStackedBarSeries;
        auto* in = new QBarSet(tr("input"));
        auto* out = new QBarSet(tr("output"));
        auto* cw = new QBarSet(tr("cache write"));
        auto* cr = new QBarSet(tr("cache read"));
        for (int i = 0; i < days.size(); ++i) {
            *in << 0;
            *out << 0;
            *cw << 0;
            *cr << 0;
        }
        for (const auto& t : d.tokens) {
            const int i = dayIndex(t.day);
            if (i < 0 || i >= days.size())
                continue;
            in->replace(i, double(t.inputTokens));
            out->replace(i, double(t.outputTokens));
            cw->replace(i, double(t.cacheWriteTokens));
            cr->replace(i, double(t.cacheReadTokens));
        }
        series->append({in, out, cw, cr});
        chart->addSeries(series);
        auto* x = new QBarCategoryAxis;
        x->append(days);
        x->setLabelsVisible(false);
        auto* y = new QValueAxis;
        y->setLabelFormat(QStringLiteral("%.0f"));
        chart->addAxis(x, Qt::AlignBottom);
        chart->addAxis(y, Qt::AlignLeft);
        series->attachAxis(x);
        series->attachAxis(y);
        hoverValues(series, days, QStringLiteral("%1"));
        for (QAbstractAxis* a : chart->axes())
            styleAxis(a, pal);
        m_tokens->setChart(chart);
    }
    // Tool calls by tool: executed, failed, denied.
    {
        QChart* chart = newChart(tr("Tool calls by tool"), pal);
        auto* series = new QStackedBarSeries;
        auto* executed = new QBarSet(tr("executed"));
        auto* failed = new QBarSet(tr("failed"));
        auto* denied = new QBarSet(tr("denied"));
        QStringList tools;
        for (const auto& t : d.tools) {
            tools << t.tool;
            *executed << double(t.executed);
            *failed << double(t.failed);
            *denied << double(t.denied);
        }
        series->append({executed, failed, denied});
        chart->addSeries(series);
        auto* x = new QBarCategoryAxis;
        x->append(tools);
        auto* y = new QValueAxis;
        y->setLabelFormat(QStringLiteral("%.0f"));
        chart->addAxis(x, Qt::AlignBottom);
        chart->addAxis(y, Qt::AlignLeft);
        series->attachAxis(x);
        series->attachAxis(y);
        hoverValues(series, tools, QStringLiteral("%1"));
        for (QAbstractAxis* a : chart->axes())
            styleAxis(a, pal);
        m_tools->setChart(chart);
    }
    // Approval outcomes by who decided.
    {
        QChart* chart = newChart(tr("Approval outcomes"), pal);
        auto* series = new QStackedBarSeries;
        auto* approved = new QBarSet(tr("approved"));
        auto* denied = new QBarSet(tr("denied"));
        QStringList kinds;
        for (const auto& k : d.approvals.byApproverKind) {
            kinds << k.kind;
            *approved << double(k.approved);
            *denied << double(k.denied);
        }
        series->append({approved, denied});
        chart->addSeries(series);
        auto* x = new QBarCategoryAxis;
        x->append(kinds);
        auto* y = new QValueAxis;
        y->setLabelFormat(QStringLiteral("%.0f"));
        chart->addAxis(x, Qt::AlignBottom);
        chart->addAxis(y, Qt::AlignLeft);
        series->attachAxis(x);
        series->attachAxis(y);
        hoverValues(series, kinds, QStringLiteral("%1"));
        for (QAbstractAxis* a : chart->axes())
            styleAxis(a, pal);
        m_approvals->setChart(chart);
    }
    // Error rate per day (tools and API), in percent.
    {
        QChart* chart = newChart(tr("Error rate per day (%)"), pal);
        auto* tools = new QLineSeries;
        tools->setName(tr("tool runs"));
        auto* api = new QLineSeries;
        api->setName(tr("API calls"));
        for (const auto& p : d.errors) {
            const int i = dayIndex(p.bucketStartMs / kDayMs);
            tools->append(i, 100.0 * p.toolErrorRate());
            api->append(i, 100.0 * p.apiErrorRate());
        }
        tools->setPointsVisible(true);
        api->setPointsVisible(true);
        for (QLineSeries* s : {tools, api})
            connect(s, &QLineSeries::hovered, s, [s, days](const QPointF& point, bool on) {
                if (on)
                    QToolTip::showText(QCursor::pos(),
                                       QStringLiteral("%1 · %2: %3 %")
                                           .arg(days.value(qRound(point.x())), s->name())
                                           .arg(point.y(), 0, 'f', 1));
                else
                    QToolTip::hideText();
            });
        chart->addSeries(tools);
        chart->addSeries(api);
        auto* x = new QValueAxis;
        x->setRange(0, std::max<qsizetype>(1, days.size() - 1));
        x->setLabelsVisible(false);
        auto* y = new QValueAxis;
        y->setRange(0, 100);
        y->setLabelFormat(QStringLiteral("%.0f%%"));
        chart->addAxis(x, Qt::AlignBottom);
        chart->addAxis(y, Qt::AlignLeft);
        for (QLineSeries* s : {tools, api}) {
            s->attachAxis(x);
            s->attachAxis(y);
        }
        for (QAbstractAxis* a : chart->axes())
            styleAxis(a, pal);
        m_errors->setChart(chart);
    }
    // Tool latency percentiles (and the approvals' time to decision).
    {
        QChart* chart = newChart(tr("Tool run time percentiles (ms)"), pal);
        auto* series = new QBarSeries;
        auto* p50 = new QBarSet(QStringLiteral("p50"));
        auto* p95 = new QBarSet(QStringLiteral("p95"));
        auto* p99 = new QBarSet(QStringLiteral("p99"));
        QStringList names;
        for (const auto& t : d.tools) {
            names << t.tool;
            *p50 << double(t.durationMs.p50.value_or(0));
            *p95 << double(t.durationMs.p95.value_or(0));
            *p99 << double(t.durationMs.p99.value_or(0));
        }
        series->append({p50, p95, p99});
        chart->addSeries(series);
        auto* x = new QBarCategoryAxis;
        x->append(names);
        auto* y = new QValueAxis;
        y->setLabelFormat(QStringLiteral("%.0f"));
        chart->addAxis(x, Qt::AlignBottom);
        chart->addAxis(y, Qt::AlignLeft);
        series->attachAxis(x);
        series->attachAxis(y);
        hoverValues(series, names, QStringLiteral("%1 ms"));
        for (QAbstractAxis* a : chart->axes())
            styleAxis(a, pal);
        m_latency->setChart(chart);
    }
}

bool ChartsView::exportCsv(const QString& path, QString* error) {
    // Small enough to write here (rows stream from the query); a worker would need its own
    // connection for nothing.
    auto queries = AuditQueries::open(m_context.storeConfig());
    if (!queries) {
        if (error)
            *error = queries.error().toString();
        return false;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        if (error)
            *error = tr("Could not open %1: %2").arg(path, file.errorString());
        return false;
    }
    const auto rows = CostCsvWriter::write(**queries, range(), file, true);
    if (!rows) {
        if (error)
            *error = rows.error().toString();
        file.cancelWriting();
        return false;
    }
    if (!file.commit()) {
        if (error)
            *error = tr("Could not write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

} // namespace m1
