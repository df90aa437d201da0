#include "VisibleText.h"

#include <QJsonDocument>

namespace m1 {

namespace {

bool needsMarker(char32_t c, VisibleText::Newlines newlines) {
    if (c == U'\n')
        return newlines == VisibleText::Newlines::Mark;
    if (c == U'\t')
        return false;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
        return true;
    // Bidi embeddings, overrides and isolates, marks that change reading order.
    if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0x200e ||
        c == 0x200f || c == 0x061c)
        return true;
    // Zero-width and other invisible characters.
    if ((c >= 0x200b && c <= 0x200d) || c == 0x2060 || c == 0xfeff || c == 0x00ad || c == 0x180e ||
        (c >= 0x2061 && c <= 0x2064) || c == 0x115f || c == 0x1160 || c == 0x3164 ||
        (c >= 0xfe00 && c <= 0xfe0f) || (c >= 0xe0000 && c <= 0xe007f))
        return true;
    const auto category = QChar::category(c);
    return category == QChar::Other_Format || category == QChar::Other_Control ||
           category == QChar::Other_Surrogate || category == QChar::Separator_Line ||
           category == QChar::Separator_Paragraph;
}

} // namespace

QString VisibleText::visible(const QString& text, Newlines newlines) {
    QString out;
    out.reserve(text.size());
    for (auto it = text.cbegin(); it != text.cend(); ++it) {
        char32_t c = it->unicode();
        if (it->isHighSurrogate() && it + 1 != text.cend() && (it + 1)->isLowSurrogate()) {
            c = QChar::surrogateToUcs4(*it, *(it + 1));
            if (!needsMarker(c, newlines)) {
                out += *it;
                out += *(it + 1);
                ++it;
                continue;
            }
            ++it;
        } else if (it->isSurrogate()) {
            out += QStringLiteral("⟨U+%1⟩").arg(uint(c), 4, 16, QLatin1Char('0')).toUpper();
            continue;
        }
        if (needsMarker(c, newlines)) {
            out += QStringLiteral("⟨U+") +
                   QString::number(uint(c), 16).toUpper().rightJustified(4, QLatin1Char('0')) +
                   QStringLiteral("⟩");
            if (c == U'\n')
                out += QLatin1Char('\n');
        } else {
            out += QChar(char16_t(c));
        }
    }
    return out;
}

bool VisibleText::hasHidden(const QString& text, Newlines newlines) {
    return visible(text, newlines) != text;
}

QString VisibleText::summary(const QString& text, int maxChars) {
    QString shown = visible(text.left(maxChars * 2), Newlines::Mark);
    shown.replace(QLatin1Char('\n'), QLatin1Char(' '));
    if (shown.size() > maxChars || text.size() > maxChars * 2)
        shown = shown.left(maxChars) + QStringLiteral("…");
    return shown;
}

QString VisibleText::visibleJson(const QJsonObject& object) {
    const QString json = QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Indented));
    QString out;
    out.reserve(json.size());
    for (auto it = json.cbegin(); it != json.cend(); ++it) {
        char32_t c = it->unicode();
        const bool pair =
            it->isHighSurrogate() && it + 1 != json.cend() && (it + 1)->isLowSurrogate();
        if (pair)
            c = QChar::surrogateToUcs4(*it, *(it + 1));
        // Raw newlines in the document are its own formatting; inside strings they are escaped.
        if (c != U'\n' && (needsMarker(c, Newlines::Keep) || (!pair && it->isSurrogate()))) {
            out += QStringLiteral("\\u%1").arg(uint(it->unicode()), 4, 16, QLatin1Char('0'));
            if (pair) {
                ++it;
                out += QStringLiteral("\\u%1").arg(uint(it->unicode()), 4, 16, QLatin1Char('0'));
            }
            continue;
        }
        out += *it;
        if (pair)
            out += *++it;
    }
    return out;
}

} // namespace m1
