#pragma once

#include "store/AuditChain.h"
#include "store/AuditEvent.h"
#include "store/StoreConfig.h"
#include "store/StoreConnection.h"
#include "util/Error.h"

#include <QCoreApplication>
#include <QObject>
#include <QSqlQuery>

#include <map>
#include <memory>

namespace m1 {

// The part of AuditWriter that lives on the writer thread: it owns the connection, the chain and
// the prepared statements, all created and destroyed on that thread. Only AuditWriter calls it.
class AuditWriterWorker : public QObject {
    Q_OBJECT

public:
    explicit AuditWriterWorker(StoreConfig config);
    ~AuditWriterWorker() override;

    Status openConnection();
    void closeConnection();
    // One transaction: the chain rows and the projection rows of these events, in order; all or
    // nothing. The committed seq of the last event (0 for an empty list, nothing written).
    Result<qint64> write(const QList<AuditEvent>& events);
    Result<qint64> setSqliteMaxPageCount(qint64 pages);

private:
    Status project(const AuditEvent& event, const QJsonObject& stored);
    QSqlQuery* statement(const QString& sql);
    Status exec(QSqlQuery* query, const QString& what);
    Status execOne(QSqlQuery* query, const AuditEvent& event, const QString& transition);
    QJsonObject storedData(const AuditEvent& event) const;
    QJsonValue filtered(const QJsonValue& value) const;
    void rollback();

    StoreConfig m_config;
    std::unique_ptr<StoreConnection> m_connection;
    std::unique_ptr<AuditChain> m_chain;
    std::map<QString, std::unique_ptr<QSqlQuery>> m_statements;
    std::unique_ptr<QSqlQuery> m_failedStatement;
};

} // namespace m1
