#include "tools/SearchFilesTool.h"

#include "tools/SafeFile.h"

#include <QFile>
#include <QJsonArray>
#include <QRegularExpression>
#include <QStringDecoder>

namespace m1 {

namespace {

constexpr int kDefaultResults = 200;
constexpr int kMaxResults = 1000;
constexpr qint64 kMaxFileBytes = 8 * 1024 * 1024;
constexpr int kMaxFiles = 50000;
constexpr int kMaxDepth = 64;
constexpr int kMaxLineShown = 400;

// "**/" spans any number of folders, "*" and "?" stay within one name. A glob without '/'
// matches the file name at any depth ("*.cpp"), as in .gitignore.
QRegularExpression globToExpression(const QString& glob) {
    QString pattern;
    for (qsizetype i = 0; i < glob.size(); ++i) {
        const QChar c = glob.at(i);
        if (c == QLatin1Char('*')) {
            if (i + 1 < glob.size() && glob.at(i + 1) == QLatin1Char('*')) {
                ++i;
                if (i + 1 < glob.size() && glob.at(i + 1) == QLatin1Char('/')) {
                    ++i;
                    pattern += QStringLiteral("(?:.*/)?");
                } else {
                    pattern += QStringLiteral(".*");
                }
            } else {
                pattern += QStringLiteral("[^/]*");
            }
        } else if (c == QLatin1Char('?')) {
            pattern += QStringLiteral("[^/]");
        } else {
            pattern += QRegularExpression::escape(QString(c));
        }
    }
    return QRegularExpression(QRegularExpression::anchoredPattern(pattern));
}

struct Search {
    QRegularExpression expression;
    QRegularExpression glob;
    bool globHasFolders = false;
    int maxResults = kDefaultResults;
    QStringList matches;
    bool truncated = false;
    int filesSearched = 0;
    int skippedBinary = 0;
    int skippedLarge = 0;
    int skippedLinks = 0;
    int skippedHardLinks = 0;
    SafeFile::HardLinks hardLinks = SafeFile::HardLinks::Refuse;
    bool fileLimitHit = false;

    bool done() const { return truncated || fileLimitHit; }

    bool globMatches(const QString& relativePath, const QString& name) const {
        if (!glob.isValid() || glob.pattern().isEmpty())
            return true;
        return glob.match(globHasFolders ? relativePath : name).hasMatch();
    }

    void searchFile(int folderFd, const QByteArray& name, const QString& shownPath) {
        if (++filesSearched > kMaxFiles) {
            fileLimitHit = true;
            return;
        }
        auto file = SafeFile::readAt(folderFd, name, kMaxFileBytes, hardLinks);
        if (!file) {
            if (file.error().code == QLatin1String("file.hard_link"))
                ++skippedHardLinks;
            return;
        }
        if (file->truncated) {
            ++skippedLarge;
            return;
        }
        QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
        if (file->data.contains('\0')) {
            ++skippedBinary;
            return;
        }
        const QString text = decoder.decode(file->data);
        if (decoder.hasError()) {
            ++skippedBinary;
            return;
        }
        qsizetype lineNumber = 0;
        for (QStringView line : QStringView(text).split(QLatin1Char('\n'))) {
            ++lineNumber;
            if (!expression.match(line).hasMatch())
                continue;
            if (matches.size() >= maxResults) {
                truncated = true;
                return;
            }
            QString shownLine = line.left(kMaxLineShown).toString();
            if (line.size() > kMaxLineShown)
                shownLine += QStringLiteral(" …");
            matches.append(
                QStringLiteral("%1:%2: %3").arg(shownPath).arg(lineNumber).arg(shownLine));
        }
    }

    void walk(int folderFd, const QString& prefix, int depth) {
        auto entries = SafeFile::entries(folderFd);
        if (!entries || depth > kMaxDepth)
            return;
        for (const SafeFile::Entry& entry : std::as_const(*entries)) {
            if (done())
                return;
            const QString name = QFile::decodeName(entry.name);
            const QString path = prefix.isEmpty() ? name : prefix + QLatin1Char('/') + name;
            if (entry.type == SafeFile::Entry::Type::Folder) {
                auto child = SafeFile::openFolderAt(folderFd, entry.name);
                if (child)
                    walk(child->get(), path, depth + 1);
            } else if (entry.type == SafeFile::Entry::Type::Link) {
                // Never followed: a link inside points at something searched in its own place,
                // one outside must not be read at all.
                ++skippedLinks;
            } else if (entry.type == SafeFile::Entry::Type::File && globMatches(path, name)) {
                searchFile(folderFd, entry.name, path);
            }
        }
    }
};

} // namespace

ToolSpec SearchFilesTool::spec() const {
    return ToolSpec{
        QStringLiteral("search_files"),
        QStringLiteral("Search the text files inside the workspace (or a folder of it) line by "
                       "line for a regular expression, optionally only files matching a glob such "
                       "as \"**/*.cpp\"; returns path:line: text for each match."),
        Scope::Read,
        QJsonObject{
            {QStringLiteral("type"), QStringLiteral("object")},
            {QStringLiteral("properties"),
             QJsonObject{{QStringLiteral("pattern"),
                          QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                                      {QStringLiteral("minLength"), 1},
                                      {QStringLiteral("maxLength"), 1000},
                                      {QStringLiteral("description"),
                                       QStringLiteral("Perl-compatible regular expression.")}}},
                         {QStringLiteral("path"),
                          QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                                      {QStringLiteral("minLength"), 1},
                                      {QStringLiteral("maxLength"), 4096},
                                      {QStringLiteral("default"), QStringLiteral(".")}}},
                         {QStringLiteral("glob"),
                          QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                                      {QStringLiteral("minLength"), 1},
                                      {QStringLiteral("maxLength"), 1000}}},
                         {QStringLiteral("max_results"),
                          QJsonObject{{QStringLiteral("type"), QStringLiteral("integer")},
                                      {QStringLiteral("minimum"), 1},
                                      {QStringLiteral("maximum"), kMaxResults},
                                      {QStringLiteral("default"), kDefaultResults}}}}},
            {QStringLiteral("required"), QJsonArray{QStringLiteral("pattern")}},
            {QStringLiteral("additionalProperties"), false}},
        true};
}

Result<ToolResult> SearchFilesTool::execute(const QJsonObject& arguments,
                                            const Workspace& workspace) const {
    const QString pattern = arguments.value(QLatin1String("pattern")).toString();
    QRegularExpression expression(pattern);
    if (pattern.isEmpty() || !expression.isValid())
        return fail(QStringLiteral("search.invalid_pattern"),
                    tr("The pattern \"%1\" is not a valid regular expression: %2 (at offset %3).")
                        .arg(pattern, expression.errorString())
                        .arg(expression.patternErrorOffset()));
    const QString globText = arguments.value(QLatin1String("glob")).toString();
    const QRegularExpression glob =
        globText.isEmpty() ? QRegularExpression() : globToExpression(globText);
    if (!globText.isEmpty() && !glob.isValid())
        return fail(QStringLiteral("search.invalid_glob"),
                    tr("The glob \"%1\" is not valid.").arg(globText));

    auto resolved =
        workspace.resolve(arguments.value(QLatin1String("path")).toString(QStringLiteral(".")),
                          Workspace::Access::Read);
    if (!resolved)
        return std::unexpected(resolved.error());
    auto folder = SafeFile::openFolder(workspace, *resolved);
    if (!folder)
        return std::unexpected(folder.error());

    Search search;
    search.hardLinks =
        m_limits.allowHardLinks ? SafeFile::HardLinks::Allow : SafeFile::HardLinks::Refuse;
    search.expression = expression;
    search.glob = glob;
    search.globHasFolders = globText.contains(QLatin1Char('/'));
    search.maxResults = std::clamp(
        arguments.value(QLatin1String("max_results")).toInt(kDefaultResults), 1, kMaxResults);
    const QString base = workspace.relative(*resolved);
    search.walk(folder->get(), base == QLatin1String(".") ? QString() : base, 0);

    ToolResult result;
    result.isError = search.matches.isEmpty();
    result.output = search.matches.isEmpty() ? tr("No matches for \"%1\".").arg(pattern)
                                             : search.matches.join(QLatin1Char('\n'));
    if (search.truncated)
        result.output += tr("\n[truncated: stopped after %1 matches; narrow the pattern, the "
                            "path or the glob]")
                             .arg(search.maxResults);
    if (search.fileLimitHit)
        result.output +=
            tr("\n[truncated: stopped after searching %1 files; narrow the path or the glob]")
                .arg(kMaxFiles);
    if (search.skippedHardLinks > 0)
        result.output += tr("\n[%n file(s) with more than one hard link skipped: a hard link may "
                            "name a file outside the workspace]",
                            nullptr, search.skippedHardLinks);
    result.details =
        QJsonObject{{QStringLiteral("path"), base},
                    {QStringLiteral("pattern"), pattern},
                    {QStringLiteral("glob"), globText},
                    {QStringLiteral("matches"), search.matches.size()},
                    {QStringLiteral("truncated"), search.truncated || search.fileLimitHit},
                    {QStringLiteral("filesSearched"), search.filesSearched},
                    {QStringLiteral("skippedBinary"), search.skippedBinary},
                    {QStringLiteral("skippedLarge"), search.skippedLarge},
                    {QStringLiteral("skippedLinks"), search.skippedLinks},
                    {QStringLiteral("skippedHardLinks"), search.skippedHardLinks}};
    return result;
}

} // namespace m1
