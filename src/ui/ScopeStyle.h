#pragma once

#include <QColor>
#include <QPalette>
#include <QString>

namespace m1 {

// How a scope (read, write, execute) or a status looks: a colour derived from the current palette
// (readable in light and dark themes) and always a word next to it, so colour is never the only
// signal.
class ScopeStyle {
public:
    struct Badge {
        QColor background;
        QColor foreground;
        QString text;
    };
    static Badge badge(const QString& scope, const QPalette& palette);
    // Text colour for a status word (approved, denied, executed, failed, ...), readable on base.
    static QColor statusColor(const QString& status, const QPalette& palette);
    static QString statusText(const QString& status);
    // Words for a run's stop reason (completed, max_steps, ...) and a plan step's status
    // (pending, in_progress, done); an unknown value is shown as it is.
    static QString stopReasonText(const QString& reason);
    static QString planStatusText(const QString& status);
    static bool isDark(const QPalette& palette);
};

} // namespace m1
