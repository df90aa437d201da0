#pragma once

#include <QStyledItemDelegate>

namespace m1 {

struct TimelineEntry;

// Paints TimelineModel rows: step separators with the turn's tokens and cost, the assistant's
// text, and proposal cards (scope badge with colour and word, tool, argument summary, policy
// decision and reason, who decided, status, duration, and once approved the token's fingerprint
// with a live countdown of its lifetime until the tool uses it). Heights are cached per entry
// and width.
class TimelineDelegate : public QStyledItemDelegate {
    Q_OBJECT
public:
    explicit TimelineDelegate(QObject* parent = nullptr);

    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;

    // Long assistant texts are shown up to this many lines in the list; the detail pane has all.
    static constexpr int kMaxTextLines = 12;
    // The token line of a card ("Token 3f2a… · valid for 4:58", "· used"); empty without one.
    static QString tokenText(const TimelineEntry& e, qint64 nowMs);
    // The arguments line of a proposal card: the argv, the path, the search pattern, how far the
    // plan is; else the compact JSON.
    static QString argumentsSummary(const TimelineEntry& e);

private:
    int cardHeight(const QStyleOptionViewItem& option, const TimelineEntry& e) const;
    void paintProposal(QPainter* painter, const QStyleOptionViewItem& option,
                       const TimelineEntry& e) const;
};

} // namespace m1
