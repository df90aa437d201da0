#include "HistoryModel.h"

#include "ScopeStyle.h"
#include <QDateTime>
#include <QFutureWatcher>
#include <QLocale>
#include <QtConcurrent/QtConcurrentRun>

namespace m1 {

HistoryModel::HistoryModel(StoreConfig store, QObject* parent)
    : QAbstractTableModel(parent), m_store(std::move(store)) {}

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
    // Sort role: raw values, so the proxy sorts numbers as numbers.
    if (role == Qt::UserRole) {
        switch (index.column()) {
        case Started:
            return r.startedAt;
        case Steps:
            return r.steps;
        case Calls:
            return r.callsProposed;
        case Tokens:
            return r.inputTokens + r.outputTokens;
        case Cost:
            return r.costMicros.value_or(-1);
        case Duration:
            return r.durationMs.value_or(-1);
        default:
            break;
        }
        role = Qt::DisplayRole;
    }
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
        return r.costMicros ? QStringLiteral("$%1%2")
                                  .arg(double(*r.costMicros) / 1e6, 0, 'f', 4)
                                  .arg(r.costComplete ? QString() : QStringLiteral("+"))
                            : tr("unknown");
    case Duration:
        return r.durationMs ? QStringLiteral("%1 s").arg(double(*r.durationMs) / 1000, 0, 'f', 1)
                            : QString();
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
    auto* watcher = new QFutureWatcher<PageResult>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        if (generation != m_generation)
            return;
        m_loading = false;
        const PageResult page = watcher->result();
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
    // A connection of its own on the worker: QtSql connections never cross threads.
    watcher->setFuture(QtConcurrent::run([store, filter, cursor]() -> PageResult {
        auto queries = AuditQueries::open(store);
        if (!queries)
            return std::unexpected(queries.error());
        return cursor.isValid() ? (*queries)->history(filter, kPageSize, cursor)
                                : (*queries)->history(filter, kPageSize);
    }));
}

void HistoryModel::setFilter(const AuditQueries::HistoryFilter& filter) {
    m_filter = filter;
    reload();
}

void HistoryModel::reload() {
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
