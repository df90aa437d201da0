#include "tokens/TokenLedger.h"

#include "store/AuditStore.h"

namespace m1 {

namespace {

// The ledger API speaks JWT seconds; the store keeps every time in milliseconds.
qint64 toMs(qint64 seconds) {
    return seconds * 1000;
}

} // namespace

TokenLedger::TokenLedger(std::unique_ptr<AuditStore> store) : m_store(std::move(store)) {}

TokenLedger::~TokenLedger() = default;

QString TokenLedger::defaultPath() {
    return StoreConfig::defaultSqlitePath();
}

Result<std::unique_ptr<TokenLedger>> TokenLedger::open(const QString& location) {
    auto store = AuditStore::open(location);
    if (!store)
        return fail(QStringLiteral("ledger.open"),
                    tr("Cannot open the token ledger in the audit database (%1): %2")
                        .arg(store.error().code, store.error().message));
    return std::unique_ptr<TokenLedger>(new TokenLedger(std::move(*store)));
}

Result<TokenLedger::State> TokenLedger::state(const QString& jti) const {
    const auto state = m_store->jtiState(jti);
    if (!state)
        return std::unexpected(state.error());
    switch (*state) {
    case AuditStore::JtiState::Unknown:
        return State::Unknown;
    case AuditStore::JtiState::Consumed:
        return State::Consumed;
    case AuditStore::JtiState::Revoked:
        return State::Revoked;
    }
    // Unreachable unless the enum grows; fail closed.
    return State::Revoked;
}

Status TokenLedger::consume(const QString& jti, qint64 expiresAt) {
    const Status consumed = m_store->consumeJti(jti, toMs(expiresAt));
    if (!consumed && consumed.error().code == QLatin1String("token.consumed"))
        return fail(consumed.error().code,
                    tr("Approval token %1 was already used; approve the call again.").arg(jti));
    if (!consumed && consumed.error().code == QLatin1String("token.revoked"))
        return fail(consumed.error().code, tr("Approval token %1 was revoked.").arg(jti));
    return consumed;
}

Status TokenLedger::revoke(const QString& jti, qint64 expiresAt) {
    return m_store->revokeJti(jti, toMs(expiresAt));
}

} // namespace m1
