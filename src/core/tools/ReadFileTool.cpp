#include "tools/ReadFileTool.h"

#include "tools/SafeFile.h"

#include <QJsonArray>
#include <QStringDecoder>

#include <climits>

namespace m1 {

namespace {

constexpr qint64 kReturnedBytes = 256 * 1024;
// Line ranges may reach past the returned cap, so more is read than returned.
constexpr qint64 kReadBytes = 16 * 1024 * 1024;

// Drops an incomplete UTF-8 sequence at the end (the read cap may cut a character in two).
QByteArray withoutPartialCharacter(QByteArray data) {
    qsizetype start = data.size();
    for (int back = 1; back <= 4 && back <= data.size(); ++back) {
        const unsigned char byte = static_cast<unsigned char>(data.at(data.size() - back));
        if ((byte & 0xC0) != 0x80) {
            start = data.size() - back;
            const int length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1;
            if (length > back)
                data.truncate(start);
            break;
        }
    }
    return data;
}

} // namespace

ToolSpec ReadFileTool::spec() const {
    const QJsonObject line{{QStringLiteral("type"), QStringLiteral("integer")},
                           {QStringLiteral("minimum"), 1}};
    return ToolSpec{
        QStringLiteral("read_file"),
        QStringLiteral("Read a UTF-8 text file inside the workspace, optionally only lines "
                       "start_line to end_line (1-based, inclusive); at most 256 KiB are "
                       "returned."),
        Scope::Read,
        QJsonObject{
            {QStringLiteral("type"), QStringLiteral("object")},
            {QStringLiteral("properties"),
             QJsonObject{{QStringLiteral("path"),
                          QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                                      {QStringLiteral("minLength"), 1},
                                      {QStringLiteral("maxLength"), 4096},
                                      {QStringLiteral("description"),
                                       QStringLiteral("File path relative to the workspace.")}}},
                         {QStringLiteral("start_line"), line},
                         {QStringLiteral("end_line"), line}}},
            {QStringLiteral("required"), QJsonArray{QStringLiteral("path")}},
            {QStringLiteral("additionalProperties"), false}},
        true};
}

Result<ToolResult> ReadFileTool::execute(const QJsonObject& arguments,
                                         const Workspace& workspace) const {
    const QString path = arguments.value(QLatin1String("path")).toString();
    auto resolved = workspace.resolve(path, Workspace::Access::Read);
    if (!resolved)
        return std::unexpected(resolved.error());
    const QString shown = workspace.relative(*resolved);
    auto file = SafeFile::read(workspace, *resolved, kReadBytes,
                               m_limits.allowHardLinks ? SafeFile::HardLinks::Allow
                                                       : SafeFile::HardLinks::Refuse);
    if (!file)
        return std::unexpected(file.error());

    const QByteArray bytes = file->truncated ? withoutPartialCharacter(file->data) : file->data;
    if (bytes.contains('\0'))
        return fail(QStringLiteral("file.binary"),
                    tr("\"%1\" looks like a binary file (it contains NUL bytes); only text files "
                       "can be read.")
                        .arg(shown));
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    QString text = decoder.decode(bytes);
    if (decoder.hasError())
        return fail(
            QStringLiteral("file.not_utf8"),
            tr("\"%1\" is not valid UTF-8 text; only UTF-8 text files can be read.").arg(shown));

    QStringList lines = text.split(QLatin1Char('\n'));
    // A final newline ends the last line; it does not start another one.
    if (lines.size() > 1 && lines.last().isEmpty())
        lines.removeLast();
    const qsizetype totalLines = text.isEmpty() ? 0 : lines.size();
    const qint64 startLine = arguments.value(QLatin1String("start_line")).toInteger(1);
    // Without end_line the range runs to the end; on an empty file that end (0) lies before line
    // 1, which must still read as empty content rather than as a range error.
    const bool endGiven = arguments.contains(QLatin1String("end_line"));
    qint64 endLine = endGiven ? arguments.value(QLatin1String("end_line")).toInteger()
                              : std::max<qint64>(totalLines, startLine);
    if (endLine < startLine)
        return fail(QStringLiteral("file.range"),
                    tr("end_line (%1) is before start_line (%2).").arg(endLine).arg(startLine));
    if (startLine > std::max<qsizetype>(totalLines, 1))
        return fail(QStringLiteral("file.range"),
                    tr("start_line %1 is beyond the end of \"%2\" (%n line(s)%3).", nullptr,
                       int(std::min<qint64>(totalLines, INT_MAX)))
                        .arg(startLine)
                        .arg(shown)
                        .arg(file->truncated ? tr(" in the first 16 MiB") : QString()));
    endLine = std::min<qint64>(endLine, totalLines);

    QString output;
    qint64 outputBytes = 0;
    qint64 lastShown = startLine - 1;
    bool cut = false;
    for (qint64 number = startLine; number <= endLine; ++number) {
        const QString& line = lines.at(number - 1);
        const qint64 lineBytes = line.toUtf8().size() + 1;
        if (outputBytes + lineBytes > kReturnedBytes) {
            cut = true;
            break;
        }
        output += line;
        if (number < totalLines || text.endsWith(QLatin1Char('\n')))
            output += QLatin1Char('\n');
        outputBytes += lineBytes;
        lastShown = number;
    }
    const bool fileCut = file->truncated && endLine == totalLines;
    if (cut || fileCut) {
        if (lastShown < startLine)
            output +=
                tr("[line %1 alone is longer than 256 KiB; it was not returned]\n").arg(startLine);
        output += tr("[truncated: showing lines %1-%2 of %3%4; the file has %5 bytes. Use "
                     "start_line and end_line to read further.]")
                      .arg(startLine)
                      .arg(lastShown)
                      .arg(totalLines)
                      .arg(fileCut ? tr(" (counted in the first 16 MiB)") : QString())
                      .arg(file->fileSize);
    }

    if (file->linkCount > 1)
        output += tr("\n[note: this file has %1 hard links; one of them may lie outside the "
                     "workspace]")
                      .arg(file->linkCount);

    ToolResult result;
    result.output = output;
    result.details = QJsonObject{{QStringLiteral("path"), shown},
                                 {QStringLiteral("fileBytes"), file->fileSize},
                                 {QStringLiteral("totalLines"), totalLines},
                                 {QStringLiteral("startLine"), startLine},
                                 {QStringLiteral("endLine"), lastShown},
                                 {QStringLiteral("truncated"), cut || fileCut}};
    if (file->linkCount > 1)
        result.details.insert(QStringLiteral("hardLinks"), file->linkCount);
    return result;
}

} // namespace m1
