#include "tools/EditFileTool.h"

#include "tools/SafeFile.h"

#include <QJsonArray>
#include <QStringDecoder>

#include <vector>

namespace m1 {

namespace {
constexpr qint64 kMaxFileBytes = 16 * 1024 * 1024;
constexpr int kMaxArgument = 1024 * 1024;

// Overlapping occurrences count too: "aa" in "aaa" is ambiguous. Knuth-Morris-Pratt keeps this
// linear in text + needle whatever their content: QString::indexOf restarted after every hit (or
// its Boyer-Moore on a near miss such as "baaa..." in "aaaa...") costs text x needle, up to 10^13
// comparisons for a 16 MiB file and a 1 MiB needle. Code units are compared exactly, as indexOf
// does with Qt::CaseSensitive.
qsizetype countOccurrences(QStringView text, QStringView needle, qsizetype* first) {
    *first = -1;
    const qsizetype m = needle.size();
    if (m == 0 || m > text.size())
        return 0;
    // border[i]: length of the longest proper prefix of needle[0..i] that is also its suffix.
    std::vector<qsizetype> border(static_cast<size_t>(m), 0);
    for (qsizetype i = 1, k = 0; i < m; ++i) {
        while (k > 0 && needle[i] != needle[k])
            k = border[k - 1];
        if (needle[i] == needle[k])
            ++k;
        border[i] = k;
    }
    qsizetype count = 0;
    for (qsizetype i = 0, k = 0; i < text.size(); ++i) {
        while (k > 0 && text[i] != needle[k])
            k = border[k - 1];
        if (text[i] == needle[k])
            ++k;
        if (k == m) {
            if (count == 0)
                *first = i - m + 1;
            ++count;
            k = border[k - 1];
        }
    }
    return count;
}
} // namespace

ToolSpec EditFileTool::spec() const {
    const QJsonObject text{{QStringLiteral("type"), QStringLiteral("string")},
                           {QStringLiteral("maxLength"), kMaxArgument}};
    QJsonObject oldText = text;
    oldText.insert(QStringLiteral("minLength"), 1);
    return ToolSpec{
        QStringLiteral("edit_file"),
        QStringLiteral("Replace the one occurrence of old_string with new_string in a text file "
                       "inside the workspace; old_string must occur exactly once."),
        Scope::Write,
        QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
                    {QStringLiteral("properties"),
                     QJsonObject{{QStringLiteral("path"),
                                  QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                                              {QStringLiteral("minLength"), 1},
                                              {QStringLiteral("maxLength"), 4096}}},
                                 {QStringLiteral("old_string"), oldText},
                                 {QStringLiteral("new_string"), text}}},
                    {QStringLiteral("required"),
                     QJsonArray{QStringLiteral("path"), QStringLiteral("old_string"),
                                QStringLiteral("new_string")}},
                    {QStringLiteral("additionalProperties"), false}},
        true};
}

Result<ToolResult> EditFileTool::execute(const QJsonObject& arguments,
                                         const Workspace& workspace) const {
    const QString oldString = arguments.value(QLatin1String("old_string")).toString();
    const QString newString = arguments.value(QLatin1String("new_string")).toString();
    if (oldString.isEmpty())
        return fail(QStringLiteral("edit.empty_old_string"),
                    tr("old_string is empty; give the exact text to replace."));
    if (oldString == newString)
        return fail(QStringLiteral("edit.no_change"),
                    tr("old_string and new_string are the same; nothing would change."));

    // Read access: the file must exist; a link to a file inside is edited at its target, which
    // the canonical path names, and the write below never follows a link.
    auto resolved = workspace.resolve(arguments.value(QLatin1String("path")).toString(),
                                      Workspace::Access::Read);
    if (!resolved)
        return std::unexpected(resolved.error());
    const QString shown = workspace.relative(*resolved);
    auto writable = workspace.resolve(*resolved, Workspace::Access::Write);
    if (!writable)
        return std::unexpected(writable.error());

    auto file = SafeFile::read(workspace, *resolved, kMaxFileBytes,
                               m_limits.allowHardLinks ? SafeFile::HardLinks::Allow
                                                       : SafeFile::HardLinks::Refuse);
    if (!file)
        return std::unexpected(file.error());
    if (file->truncated)
        return fail(
            QStringLiteral("file.too_large"),
            tr("\"%1\" is larger than 16 MiB; it cannot be edited with edit_file.").arg(shown));
    if (file->data.contains('\0'))
        return fail(QStringLiteral("file.binary"),
                    tr("\"%1\" looks like a binary file (it contains NUL bytes); only text files "
                       "can be edited.")
                        .arg(shown));
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString text = decoder.decode(file->data);
    if (decoder.hasError())
        return fail(
            QStringLiteral("file.not_utf8"),
            tr("\"%1\" is not valid UTF-8 text; only UTF-8 text files can be edited.").arg(shown));

    qsizetype at = -1;
    const qsizetype count = countOccurrences(text, oldString, &at);
    if (count == 0)
        return fail(QStringLiteral("edit.no_match"),
                    tr("old_string was not found in \"%1\"; it must match the file exactly, "
                       "including whitespace and indentation.")
                        .arg(shown));
    if (count > 1)
        return fail(QStringLiteral("edit.ambiguous"),
                    tr("old_string occurs %1 times in \"%2\"; it must occur exactly once. Include "
                       "more surrounding lines to make it unique.")
                        .arg(count)
                        .arg(shown));

    QString edited = text;
    edited.replace(at, oldString.size(), newString);
    const QByteArray content = edited.toUtf8();
    if (auto written = SafeFile::writeAtomically(workspace, *writable, content); !written)
        return std::unexpected(written.error());

    const qsizetype line = QStringView(text).left(at).count(QLatin1Char('\n')) + 1;
    ToolResult result;
    result.output = tr("Edited %1: replaced 1 occurrence at line %2.").arg(shown).arg(line);
    result.details = QJsonObject{{QStringLiteral("path"), shown},
                                 {QStringLiteral("line"), line},
                                 {QStringLiteral("bytesBefore"), file->data.size()},
                                 {QStringLiteral("bytesAfter"), content.size()}};
    return result;
}

} // namespace m1
