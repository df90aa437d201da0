#include "store/AuditStore.h"

#include <QDateTime>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

namespace m1 {

AuditStore::AuditStore(std::unique_ptr<StoreConnection> connection)
    : m_connection(std::move(connection)) {}

Result<std::unique_ptr<AuditStore>> AuditStore::open(const QString& location,
                                                     const StoreConfig& options) {
    auto parsed = StoreConfig::fromLocation(location);
    if (!parsed)
        return std::unexpected(parsed.error());
    StoreConfig config = *parsed;
    config.busyTimeoutMs = options.busyTimeoutMs;
    config.readOnly = options.readOnly;
    config.maxStoredOutputBytes = options.maxStoredOutputBytes;
    config.textFilter = options.textFilter;
    return open(config);
}

Result<std::unique_ptr<AuditStore>> AuditStore::open(const StoreConfig& config) {
    auto connection =
        StoreConnection::open(config, QStringLiteral("store"), StoreConnection::Schema::Migrate);
    if (!connection)
        return std::unexpected(connection.error());
    return std::unique_ptr<AuditStore>(new AuditStore(std::move(*connection)));
}

Result<std::unique_ptr<AuditWriter>> AuditStore::startWriter() const {
    return AuditWriter::start(config());
}

Result<AuditChain::VerifyReport> AuditStore::verify() const {
    return AuditChain::verify(connectionName(), dialect());
}

Result<AuditRetention::Report> AuditStore::prune(int olderThanDays, bool dryRun,
                                                 qint64 nowMs) const {
    return AuditRetention::prune(connectionName(), dialect(), olderThanDays, dryRun,
                                 nowMs < 0 ? QDateTime::currentMSecsSinceEpoch() : nowMs);
}

Result<QString> AuditStore::integrityCheck() const {
    if (!dialect().isSqlite())
        return QStringLiteral("ok");
    QSqlQuery query(m_connection->database());
    if (!query.exec(QStringLiteral("PRAGMA integrity_check")))
        return std::unexpected(dialect().toError(query.lastError(), QStringLiteral("store.read"),
                                                 tr("Checking the audit database")));
    QStringList lines;
    while (query.next())
        lines.append(query.value(0).toString());
    return lines.join(QLatin1Char('\n'));
}

Status AuditStore::recordJti(const QString& jti, qint64 expiresAt, const QString& state) {
    if (jti.isEmpty())
        return fail(QStringLiteral("token.jti"), tr("The approval token has no id (jti)."));
    QSqlQuery query(m_connection->database());
    query.prepare(QStringLiteral("INSERT INTO token_ledger (jti, state, expires_at, recorded_at) "
                                 "VALUES (?, ?, ?, ?) ON CONFLICT (jti) DO NOTHING"));
    query.addBindValue(jti);
    query.addBindValue(state);
    query.addBindValue(expiresAt);
    query.addBindValue(QDateTime::currentMSecsSinceEpoch());
    if (!query.exec()) {
        const Error error = dialect().toError(query.lastError(), QStringLiteral("store.write"),
                                              tr("Recording the approval token"));
        return fail(QStringLiteral("ledger.write"), error.message);
    }
    if (query.numRowsAffected() == 1)
        return {};
    // The jti was there already: its first state wins.
    auto current = jtiState(jti);
    if (!current)
        return std::unexpected(current.error());
    if (state == QLatin1String("revoked"))
        return {};
    if (*current == JtiState::Revoked)
        return fail(QStringLiteral("token.revoked"), tr("The approval token was revoked."));
    return fail(QStringLiteral("token.consumed"),
                tr("The approval token was already used; each token allows one execution."));
}

Status AuditStore::consumeJti(const QString& jti, qint64 expiresAt) {
    return recordJti(jti, expiresAt, QStringLiteral("consumed"));
}

Status AuditStore::revokeJti(const QString& jti, qint64 expiresAt) {
    return recordJti(jti, expiresAt, QStringLiteral("revoked"));
}

Result<AuditStore::JtiState> AuditStore::jtiState(const QString& jti) const {
    QSqlQuery query(m_connection->database());
    query.prepare(QStringLiteral("SELECT state FROM token_ledger WHERE jti = ?"));
    query.addBindValue(jti);
    if (!query.exec()) {
        const Error error = dialect().toError(query.lastError(), QStringLiteral("store.read"),
                                              tr("Reading the approval token ledger"));
        return fail(QStringLiteral("ledger.read"), error.message);
    }
    if (!query.next())
        return JtiState::Unknown;
    return query.value(0).toString() == QLatin1String("revoked") ? JtiState::Revoked
                                                                 : JtiState::Consumed;
}

Result<qint64> AuditStore::purgeExpiredJtis(qint64 olderThanMs) {
    QSqlQuery query(m_connection->database());
    query.prepare(QStringLiteral("DELETE FROM token_ledger WHERE expires_at < ?"));
    query.addBindValue(olderThanMs);
    if (!query.exec())
        return std::unexpected(dialect().toError(query.lastError(), QStringLiteral("store.write"),
                                                 tr("Cleaning the approval token ledger")));
    return query.numRowsAffected();
}

} // namespace m1
