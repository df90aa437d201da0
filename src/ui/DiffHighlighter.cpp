#include "DiffHighlighter.h"

#include "ScopeStyle.h"

#include <QApplication>
#include <QPalette>

namespace m1 {

namespace {

QColor mix(const QColor& a, const QColor& b, double t) {
    return QColor::fromRgbF(a.redF() * (1 - t) + b.redF() * t,
                            a.greenF() * (1 - t) + b.greenF() * t,
                            a.blueF() * (1 - t) + b.blueF() * t);
}

} // namespace

DiffHighlighter::DiffHighlighter(QTextDocument* document) : QSyntaxHighlighter(document) {
    const QPalette pal = QApplication::palette();
    const QColor base = pal.color(QPalette::Base);
    const bool dark = ScopeStyle::isDark(pal);
    const double share = dark ? 0.30 : 0.22;
    m_added.setBackground(mix(base, QColor(40, 170, 70), share));
    m_removed.setBackground(mix(base, QColor(210, 50, 50), share));
    m_hunk.setForeground(ScopeStyle::statusColor(QStringLiteral("other"), pal));
    m_hunk.setBackground(mix(base, QColor(60, 110, 220), share * 0.7));
    m_header.setFontWeight(QFont::Bold);
}

void DiffHighlighter::highlightBlock(const QString& text) {
    if (text.startsWith(QLatin1String("+++")) || text.startsWith(QLatin1String("---")))
        setFormat(0, int(text.size()), m_header);
    else if (text.startsWith(QLatin1Char('+')))
        setFormat(0, int(text.size()), m_added);
    else if (text.startsWith(QLatin1Char('-')))
        setFormat(0, int(text.size()), m_removed);
    else if (text.startsWith(QLatin1String("@@")))
        setFormat(0, int(text.size()), m_hunk);
}

} // namespace m1
