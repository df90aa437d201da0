#include "ScopeStyle.h"

#include <QCoreApplication>

#include <algorithm>
#include <cmath>

namespace m1 {

namespace {

double luminance(const QColor& c) {
    auto channel = [](double v) {
        v /= 255.0;
        return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * channel(c.red()) + 0.7152 * channel(c.green()) + 0.0722 * channel(c.blue());
}

double contrast(const QColor& a, const QColor& b) {
    const double la = luminance(a);
    const double lb = luminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

// A hue at a lightness that keeps 4.5:1 against `against` (WCAG AA for text).
QColor readableHue(int hue, int saturation, const QColor& against) {
    const bool darkBackground = luminance(against) < 0.2;
    int lightness = darkBackground ? 150 : 105;
    QColor c = QColor::fromHsl(hue, saturation, lightness);
    for (int i = 0; i < 20 && contrast(c, against) < 4.5; ++i) {
        lightness += darkBackground ? 8 : -8;
        c = QColor::fromHsl(hue, saturation, std::clamp(lightness, 0, 255));
    }
    return c;
}

} // namespace

bool ScopeStyle::isDark(const QPalette& palette) {
    return luminance(palette.color(QPalette::Base)) < 0.2;
}

ScopeStyle::Badge ScopeStyle::badge(const QString& scope, const QPalette& palette) {
    // Hues chosen to stay apart for the common colour-vision deficiencies (blue, orange, magenta);
    // the word carries the meaning anyway.
    int hue = 0;
    int saturation = 0;
    QString text;
    if (scope == QLatin1String("read")) {
        hue = 210;
        saturation = 160;
        text = QCoreApplication::translate("m1::ScopeStyle", "READ");
    } else if (scope == QLatin1String("write")) {
        hue = 30;
        saturation = 220;
        text = QCoreApplication::translate("m1::ScopeStyle", "WRITE");
    } else if (scope == QLatin1String("execute")) {
        hue = 330;
        saturation = 200;
        text = QCoreApplication::translate("m1::ScopeStyle", "EXECUTE");
    } else {
        hue = 0;
        saturation = 0;
        text = QCoreApplication::translate("m1::ScopeStyle", "UNKNOWN");
    }
    Badge b;
    const bool dark = isDark(palette);
    b.background = QColor::fromHsl(hue, saturation, dark ? 175 : 90);
    b.foreground = contrast(b.background, Qt::black) >= contrast(b.background, Qt::white)
                       ? QColor(Qt::black)
                       : QColor(Qt::white);
    // Guarantee 4.5:1 whatever the palette did to the lightness.
    for (int i = 0; i < 12 && contrast(b.background, b.foreground) < 4.5; ++i)
        b.background = b.foreground == QColor(Qt::white) ? b.background.darker(112)
                                                         : b.background.lighter(112);
    b.text = text;
    return b;
}

QColor ScopeStyle::statusColor(const QString& status, const QPalette& palette) {
    const QColor base = palette.color(QPalette::Base);
    if (status == QLatin1String("executed") || status == QLatin1String("approved"))
        return readableHue(130, 150, base);
    if (status == QLatin1String("denied") || status == QLatin1String("failed") ||
        status == QLatin1String("expired"))
        return readableHue(0, 180, base);
    if (status == QLatin1String("pending") || status == QLatin1String("awaiting"))
        return readableHue(40, 220, base);
    return palette.color(QPalette::Text);
}

QString ScopeStyle::statusText(const QString& status) {
    if (status == QLatin1String("proposed"))
        return QCoreApplication::translate("m1::ScopeStyle", "proposed");
    if (status == QLatin1String("awaiting"))
        return QCoreApplication::translate("m1::ScopeStyle", "waiting for you");
    if (status == QLatin1String("approved"))
        return QCoreApplication::translate("m1::ScopeStyle", "approved");
    if (status == QLatin1String("denied"))
        return QCoreApplication::translate("m1::ScopeStyle", "denied");
    if (status == QLatin1String("expired"))
        return QCoreApplication::translate("m1::ScopeStyle", "expired");
    if (status == QLatin1String("executing"))
        return QCoreApplication::translate("m1::ScopeStyle", "running");
    if (status == QLatin1String("executed"))
        return QCoreApplication::translate("m1::ScopeStyle", "executed");
    if (status == QLatin1String("failed"))
        return QCoreApplication::translate("m1::ScopeStyle", "failed");
    if (status == QLatin1String("dry_run"))
        return QCoreApplication::translate("m1::ScopeStyle", "dry run: not executed");
    if (status == QLatin1String("cancelled"))
        return QCoreApplication::translate("m1::ScopeStyle", "cancelled");
    return status;
}

QString ScopeStyle::stopReasonText(const QString& reason) {
    struct Entry {
        const char* code;
        const char* text;
    };
    static const Entry entries[] = {
        {"completed", QT_TRANSLATE_NOOP("m1::ScopeStyle", "completed")},
        {"running", QT_TRANSLATE_NOOP("m1::ScopeStyle", "running")},
        {"user_cancelled", QT_TRANSLATE_NOOP("m1::ScopeStyle", "cancelled by you")},
        {"max_steps", QT_TRANSLATE_NOOP("m1::ScopeStyle", "step limit reached")},
        {"max_tool_calls", QT_TRANSLATE_NOOP("m1::ScopeStyle", "tool call limit reached")},
        {"max_runtime", QT_TRANSLATE_NOOP("m1::ScopeStyle", "runtime limit reached")},
        {"budget_exceeded", QT_TRANSLATE_NOOP("m1::ScopeStyle", "budget exceeded")},
        {"api_error", QT_TRANSLATE_NOOP("m1::ScopeStyle", "API error")},
        {"provider_refused", QT_TRANSLATE_NOOP("m1::ScopeStyle", "the model refused")},
        {"max_tokens", QT_TRANSLATE_NOOP("m1::ScopeStyle", "output token limit reached")},
        {"context_exhausted", QT_TRANSLATE_NOOP("m1::ScopeStyle", "context window full")},
        {"audit_failed", QT_TRANSLATE_NOOP("m1::ScopeStyle", "audit trail could not be written")},
    };
    for (const Entry& e : entries)
        if (reason == QLatin1String(e.code))
            return QCoreApplication::translate("m1::ScopeStyle", e.text);
    return reason;
}

QString ScopeStyle::planStatusText(const QString& status) {
    if (status == QLatin1String("pending"))
        return QCoreApplication::translate("m1::ScopeStyle", "to do", "plan step");
    if (status == QLatin1String("in_progress"))
        return QCoreApplication::translate("m1::ScopeStyle", "in progress", "plan step");
    if (status == QLatin1String("done"))
        return QCoreApplication::translate("m1::ScopeStyle", "done", "plan step");
    return status;
}

} // namespace m1
