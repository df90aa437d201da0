#pragma once

#include "TimelineEntry.h"

#include <QAbstractListModel>
#include <QHash>
#include <QList>
#include <QSet>
#include <QTimer>

namespace m1 {

// The rows of one run's timeline. Appends and updates are collected and published in batches
// (one beginInsertRows per event-loop pass, coalesced dataChanged), so a run that streams
// thousands of pieces or proposals keeps the view smooth. The view paints rows with
// TimelineDelegate; there is no widget per row.
class TimelineModel : public QAbstractListModel {
    Q_OBJECT
public:
    enum Role { KindRole = Qt::UserRole + 1, CallIdRole, StatusRole, ScopeRole };

    explicit TimelineModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;

    const TimelineEntry& entry(int row) const { return m_entries.at(row); }
    // Row of a proposal by call id, or -1 (also for rows not yet published).
    int rowOf(const QString& callId) const;

    void beginStep(int step);
    void appendText(const QString& text);
    // A retried attempt: the text streamed so far in this turn is void.
    void discardTurnText();
    void addProposal(const QString& callId, const QString& tool, const QString& scope,
                     const QJsonObject& arguments);
    void setAwaiting(const QString& callId, const QString& policyReason);
    void setDecided(const QString& callId, const QString& status, const QString& approverKind,
                    const QString& reason);
    void setExecuting(const QString& callId);
    // The approval token of a call: issued (shown with a live countdown), then used or not.
    void setTokenIssued(const QString& callId, const QString& fingerprint, qint64 expiresAtMs);
    void setTokenSpent(const QString& callId, bool used);
    // Rows whose token countdown is running (repainted every second).
    int liveTokenCount() const { return int(m_liveTokens.size()); }
    void setExecuted(const QString& callId, const QString& status, const QString& output);
    void addTurnUsage(qint64 inputTokens, qint64 outputTokens, std::optional<qint64> costMicros);
    void addNotice(const QString& text, bool isError = false);
    // A whole entry (the history's read-only timelines).
    void append(const TimelineEntry& entry);
    void clear();

    // Publishes what is queued now (the timer does this on its own; tests and benches call it).
    void flush();

    // Everything about one row, for the detail pane: nothing cut, hidden characters visible.
    static QString describe(const TimelineEntry& entry);

private:
    TimelineEntry* proposal(const QString& callId);
    void touch(int row);
    void schedule();
    void tickTokens();

    QList<TimelineEntry> m_entries;
    int m_published = 0;
    QHash<QString, int> m_byCallId;
    int m_textRow = -1; // the row the current turn's text goes to
    int m_stepRow = -1;
    int m_dirtyFirst = -1;
    int m_dirtyLast = -1;
    QTimer m_flushTimer;
    QSet<int> m_liveTokens;
    QTimer m_tokenTimer;
};

} // namespace m1
