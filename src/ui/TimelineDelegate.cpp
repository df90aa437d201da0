#include "TimelineDelegate.h"

#include "Format.h"
#include "ScopeStyle.h"
#include "TimelineModel.h"
#include "VisibleText.h"

#include <QApplication>
#include <QDateTime>
#include <QFontDatabase>
#include <QJsonArray>
#include <QJsonDocument>
#include <QPainter>
#include <QPainterPath>
#include <QTextLayout>

namespace m1 {

namespace {

constexpr int kMargin = 6;
constexpr int kPadding = 8;

const TimelineEntry* entryOf(const QModelIndex& index) {
    const auto* model = qobject_cast<const TimelineModel*>(index.model());
    if (!model || index.row() >= model->rowCount())
        return nullptr;
    return &model->entry(index.row());
}

QString costText(std::optional<qint64> micros) {
    if (!micros)
        return TimelineDelegate::tr("cost unknown");
    return Format::usd(*micros);
}

QString elidedText(const QFontMetrics& fm, const QString& text, int width) {
    return fm.elidedText(text, Qt::ElideRight, width);
}

} // namespace

TimelineDelegate::TimelineDelegate(QObject* parent) : QStyledItemDelegate(parent) {}

QString TimelineDelegate::argumentsSummary(const TimelineEntry& e) {
    if (e.tool == QLatin1String("run_command")) {
        QStringList parts;
        for (const QJsonValue& v : e.arguments.value(QLatin1String("argv")).toArray())
            parts << v.toString();
        return parts.join(QLatin1Char(' '));
    }
    if (e.tool == QLatin1String("update_plan")) {
        // The plan in a line: how far it is and what comes next (the detail pane has it whole).
        const QJsonArray steps = e.arguments.value(QLatin1String("steps")).toArray();
        int done = 0;
        QString next;
        for (const QJsonValue& step : steps) {
            const QJsonObject object = step.toObject();
            if (object.value(QLatin1String("status")).toString() == QLatin1String("done"))
                ++done;
            else if (next.isEmpty())
                next = object.value(QLatin1String("title")).toString();
        }
        QString text = tr("Plan: %1 of %n step(s) done", nullptr, steps.size()).arg(done);
        if (!next.isEmpty())
            text += tr(" · next: %1").arg(next);
        return text;
    }
    if (e.tool == QLatin1String("search_files")) {
        const QString pattern = e.arguments.value(QLatin1String("pattern")).toString();
        const QString glob = e.arguments.value(QLatin1String("glob")).toString();
        return glob.isEmpty() ? pattern : tr("%1 in %2").arg(pattern, glob);
    }
    const QString path = e.arguments.value(QLatin1String("path")).toString();
    if (!path.isEmpty())
        return path;
    return QString::fromUtf8(QJsonDocument(e.arguments).toJson(QJsonDocument::Compact));
}

int TimelineDelegate::cardHeight(const QStyleOptionViewItem& option, const TimelineEntry& e) const {
    const QFontMetrics fm(option.font);
    const int lines = e.tokenFingerprint.isEmpty() ? 4 : 5;
    return 2 * kMargin + 2 * kPadding + lines * fm.lineSpacing() + 6;
}

QString TimelineDelegate::tokenText(const TimelineEntry& e, qint64 nowMs) {
    if (e.tokenFingerprint.isEmpty())
        return {};
    const QString head = tr("Token %1").arg(e.tokenFingerprint);
    if (e.tokenState == QLatin1String("used"))
        return tr("%1 · used").arg(head);
    if (e.tokenState == QLatin1String("unused"))
        return tr("%1 · not used").arg(head);
    if (e.tokenState == QLatin1String("using"))
        return tr("%1 · being used by the tool").arg(head);
    if (e.tokenState != QLatin1String("live") || e.tokenExpiresMs <= 0)
        return head;
    const qint64 left = (e.tokenExpiresMs - nowMs) / 1000;
    if (left <= 0)
        return tr("%1 · expired").arg(head);
    return tr("%1 · valid for %2:%3")
        .arg(head)
        .arg(left / 60)
        .arg(left % 60, 2, 10, QLatin1Char('0'));
}

QSize TimelineDelegate::sizeHint(const QStyleOptionViewItem& option,
                                 const QModelIndex& index) const {
    const TimelineEntry* e = entryOf(index);
    const int width = option.rect.width() > 0 ? option.rect.width() : 600;
    if (!e)
        return {width, 20};
    if (e->cachedWidth == width)
        return {width, e->cachedHeight};
    const QFontMetrics fm(option.font);
    int height = 0;
    switch (e->kind) {
    case TimelineEntry::Kind::Step:
        height = fm.lineSpacing() + 2 * kMargin + 4;
        break;
    case TimelineEntry::Kind::Proposal:
        height = cardHeight(option, *e);
        break;
    case TimelineEntry::Kind::Text:
    case TimelineEntry::Kind::Notice: {
        const int textWidth = std::max(50, width - 2 * (kMargin + kPadding) - 4);
        // Only the first lines are laid out: a huge text costs no more than the shown part.
        const QString shown = VisibleText::visible(e->text.left(4000), VisibleText::Newlines::Keep);
        const QRect r = fm.boundingRect(QRect(0, 0, textWidth, 100000),
                                        Qt::TextWordWrap | Qt::TextWrapAnywhere, shown);
        height = std::min(r.height(), kMaxTextLines * fm.lineSpacing()) + 2 * kMargin + 2 * 4;
        break;
    }
    }
    e->cachedWidth = width;
    e->cachedHeight = height;
    return {width, height};
}

void TimelineDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                             const QModelIndex& index) const {
    const TimelineEntry* e = entryOf(index);
    if (!e)
        return;
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    const QPalette& pal = option.palette;
    const QFontMetrics fm(option.font);
    const bool selected = option.state & QStyle::State_Selected;

    switch (e->kind) {
    case TimelineEntry::Kind::Step: {
        const QRect r = option.rect.adjusted(kMargin, kMargin, -kMargin, -kMargin);
        QColor line = pal.color(QPalette::Mid);
        painter->setPen(line);
        const int y = r.center().y();
        const QString caption = tr("Step %1").arg(e->step);
        QString usage;
        if (e->inputTokens || e->outputTokens)
            usage = tr("%1 in · %2 out · %3")
                        .arg(e->inputTokens)
                        .arg(e->outputTokens)
                        .arg(costText(e->costMicros));
        QFont bold = option.font;
        bold.setBold(true);
        painter->setFont(bold);
        const int capW = QFontMetrics(bold).horizontalAdvance(caption) + 12;
        painter->setPen(selected ? pal.color(QPalette::HighlightedText)
                                 : pal.color(QPalette::WindowText));
        if (selected)
            painter->fillRect(option.rect, pal.color(QPalette::Highlight));
        painter->drawText(r, Qt::AlignLeft | Qt::AlignVCenter, caption);
        painter->setFont(option.font);
        const int usageW = fm.horizontalAdvance(usage) + 12;
        painter->drawText(r, Qt::AlignRight | Qt::AlignVCenter, usage);
        painter->setPen(line);
        painter->drawLine(r.left() + capW, y, r.right() - usageW, y);
        break;
    }
    case TimelineEntry::Kind::Text:
    case TimelineEntry::Kind::Notice: {
        const QRect r = option.rect.adjusted(kMargin, kMargin / 2, -kMargin, -kMargin / 2);
        if (selected)
            painter->fillRect(r, pal.color(QPalette::Highlight));
        // A bar on the left tells assistant text (accent) from notices (error or neutral).
        QColor bar = e->kind == TimelineEntry::Kind::Text
                         ? pal.color(QPalette::Highlight)
                         : (e->isError ? ScopeStyle::statusColor(QStringLiteral("failed"), pal)
                                       : pal.color(QPalette::Mid));
        painter->fillRect(QRect(r.left(), r.top(), 3, r.height()), bar);
        painter->setPen(selected
                            ? pal.color(QPalette::HighlightedText)
                            : (e->isError ? ScopeStyle::statusColor(QStringLiteral("failed"), pal)
                                          : pal.color(QPalette::Text)));
        QFont f = option.font;
        f.setItalic(e->kind == TimelineEntry::Kind::Notice);
        painter->setFont(f);
        const QRect textRect = r.adjusted(kPadding + 4, 4, -kPadding, -4);
        const QString shown = VisibleText::visible(e->text.left(4000), VisibleText::Newlines::Keep);
        painter->setClipRect(textRect);
        painter->drawText(textRect, Qt::TextWordWrap | Qt::TextWrapAnywhere, shown);
        break;
    }
    case TimelineEntry::Kind::Proposal:
        paintProposal(painter, option, *e);
        break;
    }
    if (option.state & QStyle::State_HasFocus) {
        QStyleOptionFocusRect focus;
        focus.QStyleOption::operator=(option);
        focus.rect = option.rect.adjusted(2, 2, -2, -2);
        QApplication::style()->drawPrimitive(QStyle::PE_FrameFocusRect, &focus, painter);
    }
    painter->restore();
}

void TimelineDelegate::paintProposal(QPainter* painter, const QStyleOptionViewItem& option,
                                     const TimelineEntry& e) const {
    const QPalette& pal = option.palette;
    const QFontMetrics fm(option.font);
    const bool selected = option.state & QStyle::State_Selected;
    const QRect card = option.rect.adjusted(kMargin, kMargin, -kMargin, -kMargin);

    QPainterPath path;
    path.addRoundedRect(QRectF(card).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6);
    painter->fillPath(path, selected ? pal.color(QPalette::Highlight)
                                     : pal.color(QPalette::AlternateBase));
    const bool awaiting = e.status == QLatin1String("awaiting");
    QPen border(awaiting ? ScopeStyle::statusColor(QStringLiteral("pending"), pal)
                         : pal.color(QPalette::Mid));
    border.setWidthF(awaiting ? 2.0 : 1.0);
    painter->setPen(border);
    painter->drawPath(path);

    const QColor text = selected ? pal.color(QPalette::HighlightedText) : pal.color(QPalette::Text);
    const QRect inner = card.adjusted(kPadding, kPadding, -kPadding, -kPadding);
    const int line = fm.lineSpacing();
    int y = inner.top();

    // Line 1: badge, tool, status; duration right.
    const ScopeStyle::Badge badge = ScopeStyle::badge(e.scope, pal);
    QFont small = option.font;
    small.setBold(true);
    small.setPointSizeF(std::max(6.0, option.font.pointSizeF() * 0.85));
    const QFontMetrics sfm(small);
    const QRect badgeRect(inner.left(), y + (line - sfm.height() - 2) / 2,
                          sfm.horizontalAdvance(badge.text) + 10, sfm.height() + 2);
    QPainterPath badgePath;
    badgePath.addRoundedRect(badgeRect, 3, 3);
    painter->fillPath(badgePath, badge.background);
    painter->setFont(small);
    painter->setPen(badge.foreground);
    painter->drawText(badgeRect, Qt::AlignCenter, badge.text);

    QFont bold = option.font;
    bold.setBold(true);
    painter->setFont(bold);
    painter->setPen(text);
    const int toolX = badgeRect.right() + 8;
    const QString tool = VisibleText::visible(e.tool);
    painter->drawText(QRect(toolX, y, inner.width(), line), Qt::AlignLeft | Qt::AlignVCenter, tool);
    const int statusX = toolX + QFontMetrics(bold).horizontalAdvance(tool) + 12;
    painter->setFont(option.font);
    painter->setPen(selected ? text : ScopeStyle::statusColor(e.status, pal));
    QString status = ScopeStyle::statusText(e.status);
    if (e.edited)
        status += tr(" (edited)");
    painter->drawText(QRect(statusX, y, inner.right() - statusX, line),
                      Qt::AlignLeft | Qt::AlignVCenter, QStringLiteral("● ") + status);
    painter->setPen(text);
    if (e.durationMs >= 0)
        painter->drawText(QRect(inner.left(), y, inner.width(), line),
                          Qt::AlignRight | Qt::AlignVCenter, tr("%1 ms").arg(e.durationMs));
    y += line + 2;

    // Line 2: arguments in short (the detail pane and the approval dialog show them whole).
    QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    mono.setPointSizeF(option.font.pointSizeF());
    painter->setFont(mono);
    painter->drawText(QRect(inner.left(), y, inner.width(), line), Qt::AlignLeft | Qt::AlignVCenter,
                      elidedText(QFontMetrics(mono), VisibleText::summary(argumentsSummary(e), 400),
                                 inner.width()));
    y += line;
    painter->setFont(option.font);

    // Line 3: the policy's decision and reason.
    QString policy;
    if (e.policy == QLatin1String("ask"))
        policy = tr("Policy: ask — %1").arg(VisibleText::summary(e.policyReason, 300));
    else if (e.policy == QLatin1String("allow"))
        policy = tr("Policy: allow — %1").arg(VisibleText::summary(e.policyReason, 300));
    else if (e.policy == QLatin1String("deny"))
        policy = tr("Policy: deny — %1").arg(VisibleText::summary(e.policyReason, 300));
    else
        policy = tr("Policy: checking…");
    painter->drawText(QRect(inner.left(), y, inner.width(), line), Qt::AlignLeft | Qt::AlignVCenter,
                      elidedText(fm, policy, inner.width()));
    y += line;

    // Line 4: who decided.
    QString who;
    if (e.approverKind == QLatin1String("person"))
        who = tr("Decided by you");
    else if (e.approverKind == QLatin1String("rule"))
        who = tr("Decided by the policy");
    else if (e.approverKind == QLatin1String("token"))
        who = tr("Covered by a pre-authorised token");
    else if (e.approverKind == QLatin1String("auto"))
        who = tr("Approved automatically");
    else if (awaiting)
        who = tr("Waiting for your decision");
    if (!who.isEmpty() && !e.decisionReason.isEmpty() && e.approverKind != QLatin1String("rule"))
        who += QStringLiteral(" — ") + VisibleText::summary(e.decisionReason, 300);
    QColor dim = text;
    dim.setAlphaF(selected ? 1.0 : 0.75);
    painter->setPen(dim);
    painter->drawText(QRect(inner.left(), y, inner.width(), line), Qt::AlignLeft | Qt::AlignVCenter,
                      elidedText(fm, who, inner.width()));
    y += line;

    // Line 5, once approved: the token's fingerprint (compare it with the dialog's) and its
    // lifetime, counting down until the tool uses it.
    const QString token = tokenText(e, QDateTime::currentMSecsSinceEpoch());
    if (!token.isEmpty()) {
        painter->setFont(mono);
        painter->setPen(e.tokenState == QLatin1String("live") && !selected
                            ? ScopeStyle::statusColor(QStringLiteral("approved"), pal)
                            : dim);
        painter->drawText(QRect(inner.left(), y, inner.width(), line),
                          Qt::AlignLeft | Qt::AlignVCenter,
                          elidedText(QFontMetrics(mono), token, inner.width()));
        painter->setFont(option.font);
    }
}

} // namespace m1
