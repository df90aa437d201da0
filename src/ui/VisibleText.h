#pragma once

#include <QJsonObject>
#include <QString>

namespace m1 {

// Text from the model or a tool, made safe to show a person deciding on it: control characters,
// bidi overrides and invisible characters become visible markers (⟨U+202E⟩), so what is shown is
// exactly what will run (SBX-22).
class VisibleText {
public:
    enum class Newlines { Keep, Mark };
    static QString visible(const QString& text, Newlines newlines = Newlines::Mark);
    // True when visible() would change the text (a hint worth showing next to it).
    static bool hasHidden(const QString& text, Newlines newlines = Newlines::Mark);
    // One line for a summary cell: newlines marked, cut to maxChars with an ellipsis. Only for
    // overviews; every place that asks for a decision shows the whole text.
    static QString summary(const QString& text, int maxChars);
    // Indented JSON in which every hidden character is written as a \uXXXX escape: still valid
    // JSON (it parses back to the same value) and nothing in it is invisible.
    static QString visibleJson(const QJsonObject& object);
};

} // namespace m1
