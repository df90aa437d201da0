#pragma once

#include <QSyntaxHighlighter>

namespace m1 {

// Colours a unified diff: added lines, removed lines and hunk headers, with backgrounds mixed from
// the palette so they read in light and dark themes. The +/- signs stay, so colour is not the
// only signal.
class DiffHighlighter : public QSyntaxHighlighter {
    Q_OBJECT
public:
    explicit DiffHighlighter(QTextDocument* document);

protected:
    void highlightBlock(const QString& text) override;

private:
    QTextCharFormat m_added;
    QTextCharFormat m_removed;
    QTextCharFormat m_hunk;
    QTextCharFormat m_header;
};

} // namespace m1
