#pragma once

#include "store/AuditQueries.h"
#include "store/StoreConfig.h"

#include <QAbstractTableModel>

namespace m1 {

// Past runs, newest first, loaded lazily: fetchMore() asks a worker thread for the next keyset
// page (its own connection, read to the end and closed: SQL-09), so a store with 100 000 runs
// opens at once and scrolling loads more as needed.
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
    bool m_hasMore = true;
    bool m_loading = false;
    quint64 m_generation = 0;
    QString m_error;
};

} // namespace m1
