#pragma once

#include <QString>

namespace m1 {

// A line-based unified diff (like `diff -u`), for showing a person what a write would change.
class UnifiedDiff {
public:
    // Texts above maxLines lines on either side are not diffed line by line: the result then
    // lists the whole old and new text as one hunk.
    static QString diff(const QString& oldText, const QString& newText, const QString& oldName,
                        const QString& newName, int context = 3, int maxLines = 4000);
};

} // namespace m1
