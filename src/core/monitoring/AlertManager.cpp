#include "monitoring/AlertManager.h"

#include "monitoring/Telemetry.h"
#include "store/AuditEvent.h"

#include <QDateTime>
#include <QUuid>

#include <algorithm>
#include <limits>

namespace m1 {

AlertManager::AlertManager(AuditWriter* writer, QString readConnection, Options options,
                           QObject* parent)
    : QObject(parent), m_writer(writer), m_repository(readConnection),
      m_hasStore(!readConnection.isEmpty()), m_options(std::move(options)) {
    qRegisterMetaType<m1::Alert>();
}

AlertManager::~AlertManager() = default;

qint64 AlertManager::now() const {
    return m_options.clock ? m_options.clock() : QDateTime::currentMSecsSinceEpoch();
}

AlertManager::Raised AlertManager::raise(Alert::Category category, Alert::Level level,
                                         const QString& message, const QString& runId,
                                         const QJsonObject& details, const QString& dedupeKey) {
    const qint64 at = now();
    const QString key = Alert::categoryName(category) + QChar(0x1f) +
                        (dedupeKey.isEmpty() ? message : dedupeKey) + QChar(0x1f) + runId;
    Alert alert;
    QList<Callback> callbacks;
    {
        QMutexLocker lock(&m_mutex);
        const QString existingId = m_openByDedupeKey.value(key);
        if (!existingId.isEmpty()) {
            const Alert& existing = m_alerts[existingId];
            if (existing.isOpen() && at - existing.raisedAt < m_options.dedupeWindowMs) {
                ++m_suppressed;
                return {existingId, true};
            }
        }
        std::deque<qint64>& recent = m_recentByCategory[category];
        while (!recent.empty() && at - recent.front() >= 60 * 1000)
            recent.pop_front();
        if (int(recent.size()) >= m_options.maxPerCategoryPerMinute) {
            ++m_suppressed;
            return {QString(), true};
        }
        recent.push_back(at);

        alert.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
        alert.category = category;
        alert.level = level;
        alert.message = message;
        alert.runId = runId;
        alert.details = details;
        alert.raisedAt = at;
        m_alerts.insert(alert.id, alert);
        m_openByDedupeKey.insert(key, alert.id);
        persist(AuditEvent::alertRaised(alert.id, Alert::categoryName(category),
                                        Alert::levelName(level), message, runId, details, at));
        for (const Subscription& s : std::as_const(m_subscriptions))
            if (!s.category || *s.category == category)
                callbacks.append(s.callback);
    }
    if (m_telemetry)
        m_telemetry->recordAlert(Alert::categoryName(category), Alert::levelName(level));
    for (const Callback& callback : callbacks)
        callback(alert);
    emit alertRaised(alert);
    return {alert.id, false};
}

void AlertManager::setWriter(AuditWriter* writer) {
    QMutexLocker lock(&m_mutex);
    if (m_writer || !writer)
        return;
    m_writer = writer;
    for (const AuditEvent& event : std::as_const(m_unwritten))
        m_pending.append(m_writer->submit(event));
    m_unwritten.clear();
}

void AlertManager::persist(const AuditEvent& event) {
    if (m_writer)
        m_pending.append(m_writer->submit(event));
    else
        m_unwritten.append(event);
}

Status AlertManager::resolve(const QString& alertId, const QString& note) {
    std::optional<Alert> alert;
    {
        QMutexLocker lock(&m_mutex);
        if (m_alerts.contains(alertId))
            alert = m_alerts.value(alertId);
    }
    if (!alert && m_hasStore) {
        auto stored = m_repository.find(alertId);
        if (!stored)
            return std::unexpected(stored.error());
        alert = *stored;
    }
    if (!alert)
        return fail(QStringLiteral("alert.not_found"), tr("No alert with the id %1.").arg(alertId));
    return resolveKnown(*alert, note);
}

Status AlertManager::resolve(const Alert& stored, const QString& note) {
    Alert alert = stored;
    {
        QMutexLocker lock(&m_mutex);
        if (m_alerts.contains(stored.id))
            alert = m_alerts.value(stored.id);
    }
    return resolveKnown(alert, note);
}

Status AlertManager::resolveKnown(Alert alert, const QString& note) {
    if (!alert.isOpen())
        return fail(QStringLiteral("alert.already_resolved"),
                    tr("The alert %1 is already resolved.").arg(alert.id));
    const qint64 at = now();
    {
        QMutexLocker lock(&m_mutex);
        alert.resolvedAt = at;
        alert.resolutionNote = note;
        m_alerts.insert(alert.id, alert);
        persist(AuditEvent::alertResolved(alert.id, note, at));
    }
    emit alertResolved(alert.id);
    return {};
}

Status AlertManager::flush(int timeoutMs) {
    QList<AuditWriter::Ticket> pending;
    AuditWriter* writer = nullptr;
    {
        QMutexLocker lock(&m_mutex);
        pending.swap(m_pending);
        writer = m_writer;
    }
    Status result;
    for (const AuditWriter::Ticket& ticket : pending) {
        const AuditAck ack = writer->waitForAck(ticket, timeoutMs);
        if (!ack && result)
            result = std::unexpected(ack.error());
    }
    return result;
}

Result<QList<Alert>> AlertManager::list(const AlertFilter& filter) const {
    QList<Alert> alerts;
    if (m_hasStore) {
        auto stored = m_repository.list(filter);
        if (!stored)
            return std::unexpected(stored.error());
        alerts = *stored;
    }
    return merge(std::move(alerts), filter);
}

QList<Alert> AlertManager::merge(QList<Alert> alerts, const AlertFilter& filter) const {
    QMutexLocker lock(&m_mutex);
    // This process's view is newer than the store's until the writer caught up.
    for (Alert& a : alerts)
        if (m_alerts.contains(a.id))
            a = m_alerts.value(a.id);
    for (const Alert& mine : std::as_const(m_alerts)) {
        const bool listed = std::any_of(alerts.begin(), alerts.end(),
                                        [&](const Alert& a) { return a.id == mine.id; });
        if (!listed && m_repository.matches(mine, filter))
            alerts.append(mine);
    }
    alerts.erase(std::remove_if(alerts.begin(), alerts.end(),
                                [&](const Alert& a) { return !m_repository.matches(a, filter); }),
                 alerts.end());
    std::sort(alerts.begin(), alerts.end(), [](const Alert& a, const Alert& b) {
        return a.raisedAt != b.raisedAt ? a.raisedAt > b.raisedAt : a.id < b.id;
    });
    if (alerts.size() > filter.limit)
        alerts.resize(filter.limit);
    return alerts;
}

Result<std::optional<Alert>> AlertManager::find(const QString& alertId) const {
    {
        QMutexLocker lock(&m_mutex);
        if (m_alerts.contains(alertId))
            return std::optional<Alert>(m_alerts.value(alertId));
    }
    if (!m_hasStore)
        return std::optional<Alert>();
    return m_repository.find(alertId);
}

Result<QHash<Alert::Category, AlertCategoryStats>> AlertManager::statistics() const {
    AlertFilter all;
    all.limit = std::numeric_limits<int>::max();
    auto alerts = list(all);
    if (!alerts)
        return std::unexpected(alerts.error());
    QHash<Alert::Category, AlertCategoryStats> stats;
    for (const Alert& a : std::as_const(*alerts)) {
        AlertCategoryStats& s = stats[a.category];
        ++s.total;
        if (a.isOpen())
            ++s.open;
        switch (a.level) {
        case Alert::Level::Critical:
            ++s.critical;
            break;
        case Alert::Level::Warning:
            ++s.warning;
            break;
        case Alert::Level::Info:
            ++s.info;
            break;
        }
    }
    return stats;
}

quint64 AlertManager::suppressedCount() const {
    QMutexLocker lock(&m_mutex);
    return m_suppressed;
}

int AlertManager::subscribe(std::optional<Alert::Category> category, Callback callback) {
    QMutexLocker lock(&m_mutex);
    const int id = m_nextSubscription++;
    m_subscriptions.append({id, category, std::move(callback)});
    return id;
}

void AlertManager::unsubscribe(int id) {
    QMutexLocker lock(&m_mutex);
    m_subscriptions.removeIf([id](const Subscription& s) { return s.id == id; });
}

} // namespace m1
