#pragma once

#include "store/AuditQueries.h"
#include "store/StoreConfig.h"

#include <QAbstractTableModel>

namespace m1 {

// Past runs, loaded lazily: fetchMore() asks a worker thread for the next keyset page (its own
// connection, read to the end and closed: SQL-09), so a store with 100 000 runs opens at once and
// scrolling loads more as needed. Sorting happens in the store: sort() reloads from the first
// page in the new order (AuditQueries::HistorySort, an index for each), so the first rows are
// the first of all matching runs, not of those loaded so far. Nothing loads before setFilter()
// or reload().
class HistoryModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        Started,
        Goal,
        Agent,
        Model,
        StopReason,
        Steps,
        Calls,
        Tokens,
        Cost,
        Duration,
        ColumnCount
    };
    static constexpr int kPageSize = 200;

    explicit HistoryModel(StoreConfig store, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
    bool canFetchMore(const QModelIndex& parent) const override;
    void fetchMore(const QModelIndex& parent) override;
    // Columns without a store order (the goal) are ignored.
    void sort(int column, Qt::SortOrder order) override;
    static bool isSortable(int column);
    int sortColumn() const;
    Qt::SortOrder sortOrder() const;

    // Keeps the current order (the filter's own sort fields are ignored).
    void setFilter(const AuditQueries::HistoryFilter& filter);
    // Reloads from the first page (new runs appear).
    void reload();
    const AuditQueries::RunSummary& run(int row) const { return m_runs.at(row); }
    bool isLoading() const { return m_loading; }
    QString lastError() const { return m_error; }

signals:
    void pageLoaded(int rows);
    void failed(const QString& message);

private:
    StoreConfig m_store;
    AuditQueries::HistoryFilter m_filter;
    QList<AuditQueries::RunSummary> m_runs;
    AuditQueries::HistoryCursor m_next;
    bool m_hasMore = false;
    bool m_loading = false;
    bool m_active = false; // setFilter() or reload() was called
    quint64 m_generation = 0;
    QString m_error;
};

} // namespace m1
