#include "HistoryModel.h"

#include "Background.h"
#include "Format.h"
#include "ScopeStyle.h"

#include <QDateTime>
#include <QLocale>

namespace m1 {

namespace {

using Sort = AuditQueries::HistorySort;

// The store's order for each column (none for the goal: free text, found with the filter).
std::optional<Sort> sortOf(int column) {
    switch (column) {
    case HistoryModel::Started:
        return Sort::Started;
    case HistoryModel::Agent:
        return Sort::Agent;
    case HistoryModel::Model:
        return Sort::Model;
    case HistoryModel::StopReason:
        return Sort::StopReason;
    case HistoryModel::Steps:
        return Sort::Steps;
    case HistoryModel::Calls:
        return Sort::Calls;
    case HistoryModel::Tokens:
        return Sort::Tokens;
    case HistoryModel::Cost:
        return Sort::Cost;
    case HistoryModel::Duration:
        return Sort::Duration;
    default:
        return std::nullopt;
    }
}

} // namespace

HistoryModel::HistoryModel(StoreConfig store, QObject* parent)
    : QAbstractTableModel(parent), m_store(std::move(store)) {}

bool HistoryModel::isSortable(int column) {
    return sortOf(column).has_value();
}

int HistoryModel::sortColumn() const {
    for (int c = 0; c < ColumnCount; ++c) {
        if (sortOf(c) == m_filter.sort)
            return c;
    }
    return Started;
}

Qt::SortOrder HistoryModel::sortOrder() const {
    return m_filter.descending ? Qt::DescendingOrder : Qt::AscendingOrder;
}

void HistoryModel::sort(int column, Qt::SortOrder order) {
    const auto sort = sortOf(column);
    if (!sort)
        return;
    const bool descending = order == Qt::DescendingOrder;
    if (*sort == m_filter.sort && descending == m_filter.descending)
        return;
    m_filter.sort = *sort;
    m_filter.descending = descending;
    if (m_active)
        reload();
}

int HistoryModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_runs.size());
}

int HistoryModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant HistoryModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Started:
        return tr("Started");
    case Goal:
        return tr("Goal");
    case Agent:
        return tr("Agent");
    case Model:
        return tr("Model");
    case StopReason:
        return tr("Stop reason");
    case Steps:
        return tr("Steps");
    case Calls:
        return tr("Calls (ok / denied)");
    case Tokens:
        return tr("Tokens");
    case Cost:
        return tr("Cost");
    case Duration:
        return tr("Duration");
    default:
        return {};
    }
}

QVariant HistoryModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_runs.size())
        return {};
    const AuditQueries::RunSummary& r = m_runs.at(index.row());
    if (role == Qt::ToolTipRole && index.column() == Goal)
        return r.goal;
    if (role == Qt::TextAlignmentRole && index.column() >= Steps)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case Started:
        return QDateTime::fromMSecsSinceEpoch(r.startedAt)
            .toString(QStringLiteral("yyyy-MM-dd HH:mm"));
    case Goal: {
        QString g = r.goal.simplified();
        return g.size() > 120 ? g.left(120) + QStringLiteral("…") : g;
    }
    case Agent:
        return r.agent;
    case Model:
        return r.model;
    case StopReason:
        return r.stopReason.isEmpty() ? tr("running") : ScopeStyle::stopReasonText(r.stopReason);
    case Steps:
        return r.steps;
    case Calls:
        return QStringLiteral("%1 (%2 / %3)")
            .arg(r.callsProposed)
            .arg(r.callsApproved)
            .arg(r.callsDenied);
    case Tokens:
        return QLocale().toString(r.inputTokens + r.outputTokens);
    case Cost:
        return r.costMicros
                   ? Format::usd(*r.costMicros) + (r.costComplete ? QString() : QStringLiteral("+"))
                   : tr("unknown");
    case Duration:
        return r.durationMs ? Format::seconds(double(*r.durationMs) / 1000) : QString();
    default:
        return {};
    }
}

bool HistoryModel::canFetchMore(const QModelIndex& parent) const {
    return !parent.isValid() && m_hasMore && !m_loading;
}

void HistoryModel::fetchMore(const QModelIndex& parent) {
    if (parent.isValid() || !m_hasMore || m_loading)
        return;
    m_loading = true;
    const StoreConfig store = m_store;
    const auto filter = m_filter;
    const auto cursor = m_next;
    const quint64 generation = m_generation;
    using PageResult = Result<AuditQueries::HistoryPage>;
    // A connection of its own on the worker: QtSql connections never cross threads.
    runInBackground(
        this,
        [store, filter, cursor]() -> PageResult {
            auto queries = AuditQueries::open(store);
            if (!queries)
                return std::unexpected(queries.error());
            return (*queries)->history(filter, kPageSize, cursor);
        },
        [this, generation](const PageResult& page) {
            if (generation != m_generation)
                return;
            m_loading = false;
            if (!page) {
                m_hasMore = false;
                m_error = page.error().toString();
                emit failed(m_error);
                return;
            }
            m_error.clear();
            if (!page->runs.isEmpty()) {
                beginInsertRows({}, int(m_runs.size()), int(m_runs.size() + page->runs.size()) - 1);
                m_runs.append(page->runs);
                endInsertRows();
            }
            m_hasMore = page->hasMore;
            m_next = page->next;
            emit pageLoaded(int(page->runs.size()));
        });
}

void HistoryModel::setFilter(const AuditQueries::HistoryFilter& filter) {
    const Sort sort = m_filter.sort;
    const bool descending = m_filter.descending;
    m_filter = filter;
    m_filter.sort = sort;
    m_filter.descending = descending;
    reload();
}

void HistoryModel::reload() {
    m_active = true;
    ++m_generation;
    beginResetModel();
    m_runs.clear();
    m_next = {};
    m_hasMore = true;
    m_loading = false;
    endResetModel();
    fetchMore({});
}

} // namespace m1
