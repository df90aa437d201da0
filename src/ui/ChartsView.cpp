#include "ChartsView.h"

#include "AppContext.h"
#include "Background.h"
#include "Format.h"
#include "Icons.h"

#include "store/CostCsvWriter.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QCategoryAxis>
#include <QChart>
#include <QChartView>
#include <QDateEdit>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHorizontalBarSeries>
#include <QLabel>
#include <QLegend>
#include <QLineSeries>
#include <QLocale>
#include <QLogValueAxis>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QStackedBarSeries>
#include <QTimeZone>
#include <QToolTip>
#include <QValueAxis>

#include <cmath>
#include <limits>

namespace m1 {

struct ChartsView::Data {
    QString error;
    QList<AuditQueries::CostRow> costs;
    QList<AuditQueries::TokenDay> tokens;
    QList<AuditQueries::ToolStat> tools;
    AuditQueries::ApprovalMetrics approvals;
    QList<AuditQueries::ErrorRatePoint> errors;
    QList<AuditQueries::LatencyDay> apiLatency;
    AuditQueries::MonthlyProjection projection;
    qint64 fromDay = 0;
    qint64 toDay = 0;
};

namespace {

constexpr qint64 kDayMs = 86400000;
constexpr double kNone = std::numeric_limits<double>::quiet_NaN();

QString dayText(qint64 day, const QString& format) {
    return QDateTime::fromMSecsSinceEpoch(day * kDayMs, QTimeZone::utc()).toString(format);
}

QChartView* makeChartView(const QString& accessibleName, QWidget* parent) {
    auto* view = new QChartView(parent);
    view->setRenderHint(QPainter::Antialiasing);
    view->setAccessibleName(accessibleName);
    view->setMinimumSize(320, 220);
    return view;
}

// One chart's data: per named series a value for each category (kNone: no value, a gap in a
// line).
struct Series {
    QString name;
    QList<double> values;
};

struct ChartSpec {
    QString title;
    QStringList categories;  // what the axis shows
    QStringList hoverLabels; // what a tooltip names (empty: the categories)
    QList<Series> series;
    QString axisFormat = QStringLiteral("%.0f");
    QString prefix = {}; // around the value in a tooltip: "$" before, " ms" after
    QString suffix = {};
    int decimals = 0;
    bool categoryLabels = true;
    // Categories on the left, values along the bottom (room for long names).
    bool horizontal = false;
    // Values on a base-10 log scale from 1 (run times that span milliseconds to minutes).
    bool logScale = false;
};

QString hoverText(const ChartSpec& spec, int index, const QString& series, double value) {
    const QStringList& labels = spec.hoverLabels.isEmpty() ? spec.categories : spec.hoverLabels;
    return QStringLiteral("%1 · %2: %3%4%5")
        .arg(labels.value(index), series, spec.prefix,
             QLocale().toString(value, 'f', spec.decimals), spec.suffix);
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

void styleAxes(QChart* chart, const QPalette& palette) {
    for (QAbstractAxis* axis : chart->axes()) {
        axis->setLabelsColor(palette.color(QPalette::Text));
        axis->setTitleBrush(palette.color(QPalette::Text));
        axis->setGridLineColor(palette.color(QPalette::Midlight));
        axis->setLinePenColor(palette.color(QPalette::Mid));
    }
}

// Bars over the categories: stacked or side by side, upright or lying, as the series given.
QChart* barChart(ChartSpec spec, QAbstractBarSeries* bars, const QPalette& palette) {
    QChart* chart = newChart(spec.title, palette);
    // Lying bars are drawn bottom up: reversed, the first category reads first (at the top).
    if (spec.horizontal) {
        std::reverse(spec.categories.begin(), spec.categories.end());
        std::reverse(spec.hoverLabels.begin(), spec.hoverLabels.end());
        for (Series& s : spec.series)
            std::reverse(s.values.begin(), s.values.end());
    }
    // The longest bar: the largest value, or the largest sum when stacked.
    const bool stacked = qobject_cast<QStackedBarSeries*>(bars) != nullptr;
    QList<double> lengths(spec.categories.size(), 0.0);
    for (const Series& s : spec.series) {
        auto* set = new QBarSet(s.name);
        set->append(s.values);
        bars->append(set);
        for (int i = 0; i < s.values.size() && i < lengths.size(); ++i)
            lengths[i] =
                stacked ? lengths[i] + s.values.at(i) : std::max(lengths[i], s.values.at(i));
    }
    const double top = lengths.isEmpty() ? 0 : *std::max_element(lengths.begin(), lengths.end());
    chart->addSeries(bars);
    auto* categories = new QBarCategoryAxis;
    categories->append(spec.categories);
    categories->setLabelsVisible(spec.categoryLabels);
    categories->setTruncateLabels(false); // tool names are short; "..." says nothing
    QAbstractAxis* values = nullptr;
    if (spec.logScale) {
        auto* log = new QLogValueAxis;
        log->setBase(10);
        log->setLabelFormat(QStringLiteral("%g"));
        log->setMinorTickCount(-1);
        values = log;
    } else {
        auto* linear = new QValueAxis;
        linear->setLabelFormat(spec.axisFormat);
        values = linear;
    }
    chart->addAxis(categories, spec.horizontal ? Qt::AlignLeft : Qt::AlignBottom);
    chart->addAxis(values, spec.horizontal ? Qt::AlignBottom : Qt::AlignLeft);
    bars->attachAxis(categories);
    bars->attachAxis(values);
    // Round ticks: 0, 500, 1000 rather than 0, 2139, 4278.
    if (auto* log = qobject_cast<QLogValueAxis*>(values))
        log->setRange(1, std::max(10.0, std::pow(10, std::ceil(std::log10(std::max(top, 1.0))))));
    else if (auto* linear = qobject_cast<QValueAxis*>(values)) {
        linear->setRange(0, std::max(top, 1.0));
        linear->applyNiceNumbers();
    }
    QObject::connect(
        bars, &QAbstractBarSeries::hovered, bars, [spec](bool on, int index, QBarSet* set) {
            if (on)
                QToolTip::showText(QCursor::pos(),
                                   hoverText(spec, index, set->label(), set->at(index)));
            else
                QToolTip::hideText();
        });
    styleAxes(chart, palette);
    return chart;
}

// A line per series over the categories (x = the category's index), a few of them labelled; the
// value axis from 0 to the data's maximum in round steps.
QChart* lineChart(const ChartSpec& spec, const QPalette& palette) {
    QChart* chart = newChart(spec.title, palette);
    const int n = int(spec.categories.size());
    auto* x = new QCategoryAxis;
    x->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    x->setRange(0, std::max(1, n - 1));
    const int step = std::max(1, (n + 4) / 5);
    for (int i = 0; i < n; i += step)
        x->append(spec.categories.at(i), i);
    auto* y = new QValueAxis;
    y->setLabelFormat(spec.axisFormat);
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    double top = 0;
    for (const Series& s : spec.series) {
        auto* line = new QLineSeries;
        line->setName(s.name);
        line->setPointsVisible(true);
        for (int i = 0; i < s.values.size(); ++i) {
            if (!std::isnan(s.values.at(i))) {
                line->append(i, s.values.at(i));
                top = std::max(top, s.values.at(i));
            }
        }
        chart->addSeries(line);
        line->attachAxis(x);
        line->attachAxis(y);
        // The exact value of the nearest day, not the line's height between two points.
        QObject::connect(
            line, &QLineSeries::hovered, line, [spec, s](const QPointF& point, bool on) {
                const int i = qRound(point.x());
                if (on && i >= 0 && i < s.values.size() && !std::isnan(s.values.at(i)))
                    QToolTip::showText(QCursor::pos(), hoverText(spec, i, s.name, s.values.at(i)));
                else
                    QToolTip::hideText();
            });
    }
    y->setRange(0, std::max(1.0, top));
    y->applyNiceNumbers();
    styleAxes(chart, palette);
    return chart;
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
    m_export = new QPushButton(Icons::icon(Icons::Export), tr("Export cost report (&CSV)…"), this);
    m_export->setObjectName(QStringLiteral("exportCsv"));
    m_summary = new QLabel(this);
    m_summary->setTextFormat(Qt::PlainText);
    m_summary->setObjectName(QStringLiteral("chartsSummary"));
    m_busy = makeBusyBar(this, tr("Reading the charts or writing the report"));
    bar->addWidget(fromLabel);
    bar->addWidget(m_from);
    bar->addWidget(toLabel);
    bar->addWidget(m_to);
    bar->addSpacing(12);
    bar->addWidget(m_summary, 1);
    bar->addWidget(m_busy);
    bar->addWidget(m_export);
    layout->addLayout(bar);

    auto* grid = new QGridLayout;
    m_cost = makeChartView(tr("Cost per day by model"), this);
    m_tokens = makeChartView(tr("Tokens per day by kind"), this);
    m_tools = makeChartView(tr("Tool calls by tool"), this);
    m_approvals = makeChartView(tr("Approval outcomes"), this);
    m_errors = makeChartView(tr("Error rate over time"), this);
    m_toolLatency = makeChartView(tr("Tool run time percentiles"), this);
    m_apiLatency = makeChartView(tr("API latency percentiles per day"), this);
    grid->addWidget(m_cost, 0, 0, 1, 2);
    grid->addWidget(m_tokens, 0, 2);
    grid->addWidget(m_toolLatency, 1, 0);
    grid->addWidget(m_apiLatency, 1, 1);
    grid->addWidget(m_errors, 1, 2);
    grid->addWidget(m_tools, 2, 0, 1, 2);
    grid->addWidget(m_approvals, 2, 2);
    grid->setRowStretch(0, 3);
    grid->setRowStretch(1, 3);
    grid->setRowStretch(2, 2);
    layout->addLayout(grid, 1);

    m_throttle.setSingleShot(true);
    m_throttle.setInterval(3000);
    connect(&m_throttle, &QTimer::timeout, this, &ChartsView::refresh);
    connect(m_from, &QDateEdit::dateChanged, this, &ChartsView::refresh);
    connect(m_to, &QDateEdit::dateChanged, this, &ChartsView::refresh);
    connect(m_export, &QPushButton::clicked, this, &ChartsView::chooseAndExport);
    connect(&context, &AppContext::storeOpened, this, [this] {
        if (isVisible())
            refresh();
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

void ChartsView::updateBusy() {
    m_busy->setVisible(m_load.busy() || m_exporting);
}

void ChartsView::refresh() {
    if (!m_context.isStoreOpen()) {
        m_summary->setText(
            m_context.storeError().code.isEmpty()
                ? tr("Opening the audit database…")
                : tr("No audit database: %1").arg(m_context.storeError().toString()));
        return;
    }
    if (!m_load.begin())
        return;
    updateBusy();
    m_summary->setText(tr("Loading…"));
    const StoreConfig store = m_context.storeConfig();
    const AuditQueries::TimeRange r = range();
    runInBackground(
        this,
        [store, r] {
            Data d;
            d.fromDay = *r.fromMs / kDayMs;
            d.toDay = *r.toMs / kDayMs - 1;
            auto q = AuditQueries::open(store);
            if (!q) {
                d.error = q.error().toString();
                return d;
            }
            const auto take = [&d](auto result, auto& into) {
                if (result)
                    into = std::move(*result);
                else
                    d.error = result.error().toString();
            };
            take((*q)->costByModelDay(r), d.costs);
            take((*q)->tokensByDay(r), d.tokens);
            take((*q)->toolStats(r), d.tools);
            take((*q)->approvalMetrics(r), d.approvals);
            take((*q)->errorRate(AuditQueries::Interval::Day, r), d.errors);
            take((*q)->apiLatencyByDay(r), d.apiLatency);
            take((*q)->monthlyProjection(), d.projection);
            return d;
        },
        [this](const Data& data) {
            const bool again = m_load.end();
            updateBusy();
            show(data);
            emit refreshed();
            if (again)
                refresh();
        });
}

void ChartsView::show(const Data& d) {
    const QPalette pal = palette();
    if (!d.error.isEmpty()) {
        m_summary->setText(tr("The charts could not be read: %1").arg(d.error));
        return;
    }
    // Day labels must be unique on a category axis: the day of the month while the range fits
    // in one, else month and day.
    const int dayCount = int(std::max<qint64>(0, d.toDay - d.fromDay + 1));
    const QString dayFormat = dayCount <= 31 ? QStringLiteral("dd") : QStringLiteral("MM-dd");
    QStringList days;
    QStringList dates;
    for (qint64 day = d.fromDay; day <= d.toDay; ++day) {
        days << dayText(day, dayFormat);
        dates << dayText(day, QStringLiteral("yyyy-MM-dd"));
    }
    auto dayIndex = [&](qint64 day) { return int(day - d.fromDay); };
    const auto perDay = [&](const QString& name, double initial = 0) {
        return Series{name, QList<double>(days.size(), initial)};
    };

    // Cost per day stacked by model, with the average day of the projection and the budget.
    {
        QMap<QString, Series> byModel;
        qint64 total = 0;
        for (const auto& row : d.costs) {
            auto it = byModel.find(row.model);
            if (it == byModel.end())
                it = byModel.insert(row.model, perDay(row.model));
            const int i = dayIndex(row.day);
            if (i >= 0 && i < days.size())
                it->values[i] += double(row.costMicros) / 1e6;
            total += row.costMicros;
        }
        ChartSpec spec{tr("Cost per day by model (USD)"), days, dates, byModel.values()};
        spec.axisFormat = QStringLiteral("$%.2f");
        spec.prefix = QStringLiteral("$");
        spec.decimals = 4;
        QChart* chart = barChart(spec, new QStackedBarSeries, pal);
        auto* y = qobject_cast<QValueAxis*>(chart->axes(Qt::Vertical).value(0));
        auto addLine = [&](const QString& name, double value, Qt::PenStyle style) {
            auto* line = new QLineSeries;
            line->setName(name);
            line->append(-0.5, value);
            line->append(days.size() - 0.5, value);
            line->setPen(QPen(pal.color(QPalette::Text), 1.5, style));
            chart->addSeries(line);
            auto* lx = new QValueAxis;
            lx->setRange(-0.5, days.size() - 0.5);
            lx->setVisible(false);
            chart->addAxis(lx, Qt::AlignTop);
            line->attachAxis(lx);
            line->attachAxis(y);
            if (y->max() < value * 1.1) {
                y->setMax(value * 1.1);
                y->applyNiceNumbers();
            }
        };
        if (d.projection.dailyAverageMicros > 0)
            addLine(tr("average day (projection)"), double(d.projection.dailyAverageMicros) / 1e6,
                    Qt::DashLine);
        if (const auto daily = m_context.settings().monitoring.dailyBudgetMicros)
            addLine(tr("daily budget"), double(*daily) / 1e6, Qt::DotLine);
        else if (const auto monthly = m_context.settings().monitoring.monthlyBudgetMicros)
            addLine(tr("monthly budget per day"), double(*monthly) / 1e6 / 30.0, Qt::DotLine);
        if (QAbstractAxis* x = chart->axes(Qt::Horizontal).value(0); x && !dates.isEmpty()) {
            x->setTitleText(tr("day (UTC), %1 to %2").arg(dates.first(), dates.last()));
            x->setTitleBrush(pal.color(QPalette::Text));
        }
        m_cost->setChart(chart);
        m_summary->setText(tr("Cost in range: %1 · month to date %2 · projected month %3")
                               .arg(Format::usd(total, 2))
                               .arg(Format::usd(d.projection.monthToDateMicros, 2))
                               .arg(Format::usd(d.projection.projectedMonthMicros, 2)));
    }
    // Tokens per day by kind.
    {
        QList<Series> kinds{perDay(tr("input")), perDay(tr("output")), perDay(tr("cache write")),
                            perDay(tr("cache read"))};
        for (const auto& t : d.tokens) {
            const int i = dayIndex(t.day);
            if (i < 0 || i >= days.size())
                continue;
            kinds[0].values[i] = double(t.inputTokens);
            kinds[1].values[i] = double(t.outputTokens);
            kinds[2].values[i] = double(t.cacheWriteTokens);
            kinds[3].values[i] = double(t.cacheReadTokens);
        }
        ChartSpec spec{tr("Tokens per day"), days, dates, kinds};
        spec.categoryLabels = false;
        m_tokens->setChart(barChart(spec, new QStackedBarSeries, pal));
    }
    // Tool calls by tool (executed, failed, denied) and their run time percentiles.
    {
        QStringList tools;
        QList<Series> outcomes{{tr("executed"), {}}, {tr("failed"), {}}, {tr("denied"), {}}};
        QList<Series> percentiles{
            {QStringLiteral("p50"), {}}, {QStringLiteral("p95"), {}}, {QStringLiteral("p99"), {}}};
        for (const auto& t : d.tools) {
            tools << t.tool;
            outcomes[0].values << double(t.executed);
            outcomes[1].values << double(t.failed);
            outcomes[2].values << double(t.denied);
            percentiles[0].values << double(t.durationMs.p50.value_or(0));
            percentiles[1].values << double(t.durationMs.p95.value_or(0));
            percentiles[2].values << double(t.durationMs.p99.value_or(0));
        }
        m_tools->setChart(
            barChart({tr("Tool calls by tool"), tools, {}, outcomes}, new QStackedBarSeries, pal));
        ChartSpec spec{tr("Tool run time percentiles (ms, log scale)"), tools, {}, percentiles};
        spec.suffix = tr(" ms");
        spec.horizontal = true;
        spec.logScale = true;
        m_toolLatency->setChart(barChart(spec, new QHorizontalBarSeries, pal));
    }
    // API latency percentiles per day (every attempt, failed ones too).
    {
        QList<Series> percentiles{perDay(QStringLiteral("p50"), kNone),
                                  perDay(QStringLiteral("p95"), kNone),
                                  perDay(QStringLiteral("p99"), kNone)};
        QStringList labels = dates;
        for (const auto& day : d.apiLatency) {
            const int i = dayIndex(day.day);
            if (i < 0 || i >= days.size())
                continue;
            const auto& p = day.latencyMs;
            percentiles[0].values[i] = p.p50 ? double(*p.p50) : kNone;
            percentiles[1].values[i] = p.p95 ? double(*p.p95) : kNone;
            percentiles[2].values[i] = p.p99 ? double(*p.p99) : kNone;
            labels[i] = tr("%1 (%n API call(s))", nullptr, int(p.n)).arg(dates.at(i));
        }
        ChartSpec spec{tr("API latency per day (ms)"), days, labels, percentiles};
        spec.suffix = tr(" ms");
        m_apiLatency->setChart(lineChart(spec, pal));
    }
    // Approval outcomes by who decided.
    {
        QStringList kinds;
        QList<Series> outcomes{{tr("approved"), {}}, {tr("denied"), {}}};
        for (const auto& k : d.approvals.byApproverKind) {
            kinds << k.kind;
            outcomes[0].values << double(k.approved);
            outcomes[1].values << double(k.denied);
        }
        m_approvals->setChart(
            barChart({tr("Approval outcomes"), kinds, {}, outcomes}, new QStackedBarSeries, pal));
    }
    // Error rate per day (tools and API), in percent.
    {
        QList<Series> rates{perDay(tr("tool runs"), kNone), perDay(tr("API calls"), kNone)};
        for (const auto& p : d.errors) {
            const int i = dayIndex(p.bucketStartMs / kDayMs);
            if (i < 0 || i >= days.size())
                continue;
            rates[0].values[i] = p.toolRuns > 0 ? 100.0 * p.toolErrorRate() : kNone;
            rates[1].values[i] = p.apiCalls > 0 ? 100.0 * p.apiErrorRate() : kNone;
        }
        ChartSpec spec{tr("Error rate per day (%)"), days, dates, rates};
        spec.axisFormat = QStringLiteral("%.0f%%");
        spec.suffix = QStringLiteral(" %");
        spec.decimals = 1;
        m_errors->setChart(lineChart(spec, pal));
    }
}

void ChartsView::chooseAndExport() {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export cost report"),
        QStringLiteral("costs-%1-%2.csv")
            .arg(m_from->date().toString(Qt::ISODate), m_to->date().toString(Qt::ISODate)),
        tr("CSV (*.csv)"));
    if (!path.isEmpty())
        exportCsv(path);
}

bool ChartsView::exportCsv(const QString& path) {
    if (m_exporting)
        return false;
    m_exporting = true;
    m_export->setEnabled(false);
    m_export->setToolTip(tr("Writing %1…").arg(path));
    updateBusy();
    const StoreConfig store = m_context.storeConfig();
    const AuditQueries::TimeRange r = range();
    const bool open = m_context.isStoreOpen();
    runInBackground(
        this,
        [store, r, path, open]() -> QString {
            if (!open)
                return tr("The audit database is not open yet.");
            // Rows stream from the query to the file: memory stays flat for a long range.
            auto queries = AuditQueries::open(store);
            if (!queries)
                return queries.error().toString();
            QSaveFile file(path);
            if (!file.open(QIODevice::WriteOnly))
                return tr("Could not open %1: %2").arg(path, file.errorString());
            const auto rows = CostCsvWriter::write(**queries, r, file, true);
            if (!rows) {
                file.cancelWriting();
                return rows.error().toString();
            }
            if (!file.commit())
                return tr("Could not write %1: %2").arg(path, file.errorString());
            return {};
        },
        [this, path](const QString& error) {
            m_exporting = false;
            m_export->setEnabled(true);
            m_export->setToolTip(error.isEmpty() ? tr("Last report: %1").arg(path) : QString());
            updateBusy();
            emit exported(path, error);
            if (error.isEmpty())
                return;
            auto* box = new QMessageBox(QMessageBox::Warning, tr("Export failed"),
                                        tr("The cost report was not written: %1").arg(error),
                                        QMessageBox::Close, this);
            box->setObjectName(QStringLiteral("exportErrorBox"));
            box->setInformativeText(
                tr("Choose another file or folder (one you may write to, with free space) and "
                   "export again. If the database is the problem, the Alerts and History pages "
                   "show whether it can be read."));
            box->setAttribute(Qt::WA_DeleteOnClose);
            box->open();
        });
    return true;
}

} // namespace m1
