#include "run/UnifiedDiff.h"

#include <QList>
#include <QStringList>

#include <vector>

namespace m1 {

namespace {

QStringList splitLines(const QString& text) {
    if (text.isEmpty())
        return {};
    QStringList lines = text.split(QLatin1Char('\n'));
    if (text.endsWith(QLatin1Char('\n')))
        lines.removeLast();
    return lines;
}

struct Op {
    char kind; // ' ', '-', '+'
    int oldLine;
    int newLine;
    QString text;
};

} // namespace

QString UnifiedDiff::diff(const QString& oldText, const QString& newText, const QString& oldName,
                          const QString& newName, int context, int maxLines) {
    const QStringList a = splitLines(oldText);
    const QStringList b = splitLines(newText);
    const int n = int(a.size());
    const int m = int(b.size());
    QList<Op> ops;
    if (n > maxLines || m > maxLines) {
        for (int i = 0; i < n; ++i)
            ops.append({'-', i, 0, a.at(i)});
        for (int j = 0; j < m; ++j)
            ops.append({'+', n, j, b.at(j)});
    } else {
        // Longest common subsequence table, from the end so the walk goes forwards.
        std::vector<std::vector<int>> lcs(n + 1, std::vector<int>(m + 1, 0));
        for (int i = n - 1; i >= 0; --i)
            for (int j = m - 1; j >= 0; --j)
                lcs[i][j] = a.at(i) == b.at(j) ? lcs[i + 1][j + 1] + 1
                                               : std::max(lcs[i + 1][j], lcs[i][j + 1]);
        int i = 0;
        int j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && a.at(i) == b.at(j)) {
                ops.append({' ', i, j, a.at(i)});
                ++i;
                ++j;
            } else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) {
                // Removals before additions, as diff -u prints them.
                ops.append({'-', i, j, a.at(i)});
                ++i;
            } else {
                ops.append({'+', i, j, b.at(j)});
                ++j;
            }
        }
    }

    QString out = QStringLiteral("--- %1\n+++ %2\n").arg(oldName, newName);
    const int count = int(ops.size());
    int k = 0;
    while (k < count) {
        while (k < count && ops.at(k).kind == ' ')
            ++k;
        if (k >= count)
            break;
        int start = qMax(0, k - context);
        int end = k;
        // Extend the hunk while changes are closer than two contexts apart.
        while (end < count) {
            if (ops.at(end).kind != ' ') {
                ++end;
                continue;
            }
            int run = end;
            while (run < count && ops.at(run).kind == ' ')
                ++run;
            if (run >= count || run - end > 2 * context) {
                end = qMin(count, end + context);
                break;
            }
            end = run;
        }
        int oldStart = ops.at(start).oldLine;
        int newStart = ops.at(start).newLine;
        int oldCount = 0;
        int newCount = 0;
        QString body;
        for (int x = start; x < end; ++x) {
            const Op& op = ops.at(x);
            if (op.kind != '+')
                ++oldCount;
            if (op.kind != '-')
                ++newCount;
            body += QLatin1Char(op.kind) + op.text + QLatin1Char('\n');
        }
        out += QStringLiteral("@@ -%1,%2 +%3,%4 @@\n")
                   .arg(oldCount ? oldStart + 1 : oldStart)
                   .arg(oldCount)
                   .arg(newCount ? newStart + 1 : newStart)
                   .arg(newCount);
        out += body;
        k = end;
    }
    return out;
}

} // namespace m1
