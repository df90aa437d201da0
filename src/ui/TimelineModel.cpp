#include "TimelineModel.h"

#include "Format.h"
#include "ScopeStyle.h"
#include "VisibleText.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QPalette>

namespace m1 {

TimelineModel::TimelineModel(QObject* parent) : QAbstractListModel(parent) {
    // About one frame: streamed pieces and bursts of events land in one update.
    m_flushTimer.setSingleShot(true);
    m_flushTimer.setInterval(16);
    connect(&m_flushTimer, &QTimer::timeout, this, &TimelineModel::flush);
    // The token countdowns: once a second, only the rows that show one.
    m_tokenTimer.setInterval(1000);
    connect(&m_tokenTimer, &QTimer::timeout, this, &TimelineModel::tickTokens);
}

int TimelineModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : m_published;
}

QVariant TimelineModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_published)
        return {};
    const TimelineEntry& e = m_entries.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case Qt::AccessibleTextRole:
        switch (e.kind) {
        case TimelineEntry::Kind::Step:
            return tr("Step %1").arg(e.step);
        case TimelineEntry::Kind::Text:
            return e.text;
        case TimelineEntry::Kind::Notice:
            return e.text;
        case TimelineEntry::Kind::Proposal:
            return tr("%1 (%2): %3").arg(e.tool, e.scope, ScopeStyle::statusText(e.status));
        }
        return {};
    case KindRole:
        return int(e.kind);
    case CallIdRole:
        return e.callId;
    case StatusRole:
        return e.status;
    case ScopeRole:
        return e.scope;
    default:
        return {};
    }
}

int TimelineModel::rowOf(const QString& callId) const {
    const int row = m_byCallId.value(callId, -1);
    return row < m_published ? row : -1;
}

void TimelineModel::schedule() {
    if (!m_flushTimer.isActive())
        m_flushTimer.start();
}

void TimelineModel::touch(int row) {
    if (row >= m_published) {
        m_entries[row].cachedWidth = -1;
        schedule();
        return;
    }
    m_entries[row].cachedWidth = -1;
    m_dirtyFirst = m_dirtyFirst < 0 ? row : std::min(m_dirtyFirst, row);
    m_dirtyLast = std::max(m_dirtyLast, row);
    schedule();
}

void TimelineModel::flush() {
    m_flushTimer.stop();
    if (m_entries.size() > m_published) {
        beginInsertRows({}, m_published, int(m_entries.size()) - 1);
        m_published = int(m_entries.size());
        endInsertRows();
    }
    if (m_dirtyFirst >= 0) {
        const int first = m_dirtyFirst;
        const int last = std::min(m_dirtyLast, m_published - 1);
        m_dirtyFirst = m_dirtyLast = -1;
        if (first <= last)
            emit dataChanged(index(first), index(last));
    }
}

void TimelineModel::append(const TimelineEntry& entry) {
    m_entries.append(entry);
    if (entry.kind == TimelineEntry::Kind::Proposal && !entry.callId.isEmpty())
        m_byCallId.insert(entry.callId, int(m_entries.size()) - 1);
    schedule();
}

void TimelineModel::clear() {
    beginResetModel();
    m_entries.clear();
    m_byCallId.clear();
    m_liveTokens.clear();
    m_tokenTimer.stop();
    m_published = 0;
    m_textRow = m_stepRow = -1;
    m_dirtyFirst = m_dirtyLast = -1;
    endResetModel();
}

void TimelineModel::beginStep(int step) {
    TimelineEntry e;
    e.kind = TimelineEntry::Kind::Step;
    e.step = step;
    append(e);
    m_stepRow = int(m_entries.size()) - 1;
    m_textRow = -1;
}

void TimelineModel::appendText(const QString& text) {
    if (m_textRow < 0) {
        TimelineEntry e;
        e.kind = TimelineEntry::Kind::Text;
        e.step = m_stepRow >= 0 ? m_entries.at(m_stepRow).step : 0;
        e.text = text;
        append(e);
        m_textRow = int(m_entries.size()) - 1;
        return;
    }
    m_entries[m_textRow].text += text;
    touch(m_textRow);
}

void TimelineModel::discardTurnText() {
    if (m_textRow < 0)
        return;
    m_entries[m_textRow].text = tr("(retrying: the text of the failed attempt was discarded)");
    m_entries[m_textRow].isError = true;
    touch(m_textRow);
    m_textRow = -1;
}

TimelineEntry* TimelineModel::proposal(const QString& callId) {
    const int row = m_byCallId.value(callId, -1);
    if (row < 0)
        return nullptr;
    touch(row);
    return &m_entries[row];
}

void TimelineModel::addProposal(const QString& callId, const QString& tool, const QString& scope,
                                const QJsonObject& arguments) {
    TimelineEntry e;
    e.kind = TimelineEntry::Kind::Proposal;
    e.step = m_stepRow >= 0 ? m_entries.at(m_stepRow).step : 0;
    e.callId = callId;
    e.tool = tool;
    e.scope = scope;
    e.arguments = arguments;
    e.status = QStringLiteral("proposed");
    append(e);
    // Text after a proposal belongs below it.
    m_textRow = -1;
}

void TimelineModel::setAwaiting(const QString& callId, const QString& policyReason) {
    if (TimelineEntry* e = proposal(callId)) {
        e->status = QStringLiteral("awaiting");
        e->policy = QStringLiteral("ask");
        e->policyReason = policyReason;
    }
}

void TimelineModel::setDecided(const QString& callId, const QString& status,
                               const QString& approverKind, const QString& reason) {
    TimelineEntry* e = proposal(callId);
    if (!e)
        return;
    e->status = status;
    e->approverKind = approverKind;
    e->decisionReason = reason;
    if (e->policy.isEmpty()) {
        // Decided without asking anyone: the policy itself allowed or denied.
        if (approverKind == QLatin1String("rule")) {
            e->policy = status == QLatin1String("approved") ? QStringLiteral("allow")
                                                            : QStringLiteral("deny");
            e->policyReason = reason;
        }
    }
}

void TimelineModel::setExecuting(const QString& callId) {
    if (TimelineEntry* e = proposal(callId)) {
        e->status = QStringLiteral("executing");
        e->startedMs = QDateTime::currentMSecsSinceEpoch();
        // The tool takes the token now (consumed before it runs): the countdown ends.
        if (e->tokenState == QLatin1String("live")) {
            e->tokenState = QStringLiteral("using");
            m_liveTokens.remove(m_byCallId.value(callId));
        }
    }
}

void TimelineModel::setTokenIssued(const QString& callId, const QString& fingerprint,
                                   qint64 expiresAtMs) {
    TimelineEntry* e = proposal(callId);
    if (!e)
        return;
    e->tokenFingerprint = fingerprint;
    e->tokenExpiresMs = expiresAtMs;
    e->tokenState = QStringLiteral("live");
    m_liveTokens.insert(m_byCallId.value(callId));
    if (!m_tokenTimer.isActive())
        m_tokenTimer.start();
}

void TimelineModel::setTokenSpent(const QString& callId, bool used) {
    TimelineEntry* e = proposal(callId);
    if (!e)
        return;
    e->tokenState = used ? QStringLiteral("used") : QStringLiteral("unused");
    m_liveTokens.remove(m_byCallId.value(callId));
    if (m_liveTokens.isEmpty())
        m_tokenTimer.stop();
}

void TimelineModel::tickTokens() {
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (auto it = m_liveTokens.begin(); it != m_liveTokens.end();) {
        const int row = *it;
        // Past its expiry the token can no longer be used: the countdown ends there.
        const bool over = m_entries.at(row).tokenExpiresMs <= now - 1000;
        if (row < m_published)
            emit dataChanged(index(row), index(row));
        it = over ? m_liveTokens.erase(it) : std::next(it);
    }
    if (m_liveTokens.isEmpty())
        m_tokenTimer.stop();
}

void TimelineModel::setExecuted(const QString& callId, const QString& status,
                                const QString& output) {
    if (TimelineEntry* e = proposal(callId)) {
        e->status = status;
        e->output = output;
        if (e->startedMs > 0)
            e->durationMs = QDateTime::currentMSecsSinceEpoch() - e->startedMs;
    }
}

void TimelineModel::addTurnUsage(qint64 inputTokens, qint64 outputTokens,
                                 std::optional<qint64> costMicros) {
    if (m_stepRow < 0)
        return;
    TimelineEntry& e = m_entries[m_stepRow];
    e.inputTokens += inputTokens;
    e.outputTokens += outputTokens;
    if (costMicros)
        e.costMicros = e.costMicros.value_or(0) + *costMicros;
    touch(m_stepRow);
}

void TimelineModel::addNotice(const QString& text, bool isError) {
    TimelineEntry e;
    e.kind = TimelineEntry::Kind::Notice;
    e.text = text;
    e.isError = isError;
    append(e);
    m_textRow = -1;
}

QString TimelineModel::describe(const TimelineEntry& e) {
    using VT = VisibleText;
    switch (e.kind) {
    case TimelineEntry::Kind::Step:
        return tr("Step %1\nTokens: %2 in, %3 out\nCost: %4")
            .arg(e.step)
            .arg(e.inputTokens)
            .arg(e.outputTokens)
            .arg(e.costMicros ? Format::usd(*e.costMicros) : tr("unknown"));
    case TimelineEntry::Kind::Text:
    case TimelineEntry::Kind::Notice:
        return VT::visible(e.text, VT::Newlines::Keep);
    case TimelineEntry::Kind::Proposal:
        break;
    }
    QString out;
    out += tr("Tool: %1 (%2)").arg(e.tool, ScopeStyle::badge(e.scope, QPalette()).text) +
           QLatin1Char('\n');
    out += tr("Call id: %1").arg(e.callId) + QLatin1Char('\n');
    out += tr("Status: %1").arg(ScopeStyle::statusText(e.status)) + QLatin1Char('\n');
    if (!e.policy.isEmpty()) {
        QString decision = e.policy;
        if (e.policy == QLatin1String("allow"))
            decision = tr("allow", "policy decision");
        else if (e.policy == QLatin1String("ask"))
            decision = tr("ask", "policy decision");
        else if (e.policy == QLatin1String("deny"))
            decision = tr("deny", "policy decision");
        out += tr("Policy: %1 — %2").arg(decision, VT::visible(e.policyReason)) + QLatin1Char('\n');
    }
    if (!e.approverKind.isEmpty()) {
        QString approver = e.approverKind;
        if (e.approverKind == QLatin1String("person"))
            approver = tr("you", "who decided");
        else if (e.approverKind == QLatin1String("rule"))
            approver = tr("a policy rule", "who decided");
        else if (e.approverKind == QLatin1String("token"))
            approver = tr("a pre-authorised token", "who decided");
        else if (e.approverKind == QLatin1String("auto"))
            approver = tr("automatic approval", "who decided");
        out += tr("Decided by: %1%2")
                   .arg(approver, e.decisionReason.isEmpty()
                                      ? QString()
                                      : QStringLiteral(" — ") + VT::visible(e.decisionReason)) +
               QLatin1Char('\n');
    }
    if (e.edited)
        out += tr("The arguments were edited before approval.") + QLatin1Char('\n');
    if (e.decisionMs)
        out += tr("Time to decide: %1").arg(Format::seconds(*e.decisionMs / 1000.0)) +
               QLatin1Char('\n');
    if (!e.decidedBy.isEmpty())
        out += tr("Decided by the account: %1").arg(VT::visible(e.decidedBy)) + QLatin1Char('\n');
    if (e.argsSeenWhole)
        out += (*e.argsSeenWhole ? tr("The whole arguments were scrolled into view.")
                                 : tr("Not all of the arguments were scrolled into view.")) +
               QLatin1Char('\n');
    if (e.decidedInBatch && *e.decidedInBatch)
        out += tr("Decided together with the other calls of its message.") + QLatin1Char('\n');
    if (!e.tokenFingerprint.isEmpty()) {
        QString token = tr("Approval token: fingerprint %1").arg(e.tokenFingerprint);
        if (e.tokenExpiresMs > 0)
            token += tr(", valid until %1")
                         .arg(QDateTime::fromMSecsSinceEpoch(e.tokenExpiresMs)
                                  .toString(QStringLiteral("HH:mm:ss")));
        if (e.tokenState == QLatin1String("used"))
            token += tr(", used");
        else if (e.tokenState == QLatin1String("unused"))
            token += tr(", not used");
        out += token + QLatin1Char('\n');
    }
    if (e.durationMs >= 0)
        out += tr("Duration: %1 ms").arg(e.durationMs) + QLatin1Char('\n');
    out += QLatin1Char('\n') + tr("Arguments:") + QLatin1Char('\n');
    out +=
        VT::visible(QString::fromUtf8(QJsonDocument(e.arguments).toJson(QJsonDocument::Indented)),
                    VT::Newlines::Keep);
    if (!e.output.isEmpty()) {
        out += QLatin1Char('\n') + tr("Output:") + QLatin1Char('\n');
        out += VT::visible(e.output, VT::Newlines::Keep);
    }
    return out;
}

} // namespace m1
