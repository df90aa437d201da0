#include "tools/SearchFilesTool.h"

#include "tools/SafeFile.h"

#include <QDeadlineTimer>
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
constexpr int kMaxLimitPlacesShown = 10;

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
    QDeadlineTimer deadline;
    bool timeBudgetHit = false;
    qint64 maxScannedBytes = 0;
    qint64 bytesScanned = 0;
    bool byteBudgetHit = false;
    int matchLimitLines = 0;
    QStringList matchLimitPlaces;

    bool done() const { return truncated || fileLimitHit || timeBudgetHit || byteBudgetHit; }

    bool outOfTime() {
        if (!timeBudgetHit && deadline.hasExpired())
            timeBudgetHit = true;
        return timeBudgetHit;
    }

    bool globMatches(const QString& relativePath, const QString& name) const {
        if (!glob.isValid() || glob.pattern().isEmpty())
            return true;
        return glob.match(globHasFolders ? relativePath : name).hasMatch();
    }

    void searchFile(int folderFd, const QByteArray& name, const QString& shownPath, qint64 size) {
        if (outOfTime())
            return;
        if (bytesScanned + std::min(size, kMaxFileBytes) > maxScannedBytes) {
            byteBudgetHit = true;
            return;
        }
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
        bytesScanned += file->data.size();
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
            const QRegularExpressionMatch match = expression.match(line);
            // Invalid means pcre2_match failed (match or depth limit), not "no match".
            if (!match.isValid()) {
                if (++matchLimitLines <= kMaxLimitPlacesShown)
                    matchLimitPlaces.append(QStringLiteral("%1:%2").arg(shownPath).arg(lineNumber));
            }
            if (outOfTime())
                return;
            if (!match.hasMatch())
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
            if (done() || outOfTime())
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
                searchFile(folderFd, entry.name, path, entry.size);
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
    // A limit the pattern sets itself would replace ours rather than lower it (measured with the
    // JIT: "(*LIMIT_MATCH=1000000000)" restored PCRE2's default of ten million).
    if (pattern.contains(QLatin1String("(*LIMIT_"), Qt::CaseInsensitive))
        return fail(QStringLiteral("search.invalid_pattern"),
                    tr("The pattern \"%1\" sets its own resource limit ((*LIMIT_...)); limits "
                       "are set by the tool, remove that part.")
                        .arg(pattern));
    const QString limits = QStringLiteral("(*LIMIT_MATCH=%1)(*LIMIT_DEPTH=%2)")
                               .arg(std::max(1, m_limits.matchLimit))
                               .arg(std::max(1, m_limits.depthLimit));
    QRegularExpression expression(limits + pattern);
    if (pattern.isEmpty() || !expression.isValid())
        return fail(
            QStringLiteral("search.invalid_pattern"),
            tr("The pattern \"%1\" is not a valid regular expression: %2 (at offset %3).")
                .arg(pattern, expression.errorString())
                .arg(std::max<qsizetype>(0, expression.patternErrorOffset() - limits.size())));
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
    search.deadline = QDeadlineTimer(std::max(0, m_limits.timeBudgetMs));
    search.maxScannedBytes = m_limits.maxScannedBytes;
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
    // No match is a successful search with an empty answer, not a failure of the tool.
    result.isError = false;
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
    if (search.timeBudgetHit)
        result.output += tr("\n[truncated: time budget of %1 ms used up after %2 files; narrow "
                            "the pattern, the path or the glob]")
                             .arg(m_limits.timeBudgetMs)
                             .arg(search.filesSearched);
    if (search.byteBudgetHit)
        result.output += tr("\n[truncated: byte budget of %1 bytes read used up after %2 files; "
                            "narrow the path or the glob]")
                             .arg(m_limits.maxScannedBytes)
                             .arg(search.filesSearched);
    if (search.matchLimitLines > 0)
        result.output +=
            tr("\n[%n line(s) could not be searched to the end: the pattern needs too many "
               "backtracking steps (match limit); they may hold matches: %1]",
               nullptr, search.matchLimitLines)
                .arg(search.matchLimitPlaces.join(QStringLiteral(", ")) +
                     (search.matchLimitLines > kMaxLimitPlacesShown ? QStringLiteral(", ...")
                                                                    : QString()));
    if (search.skippedHardLinks > 0)
        result.output += tr("\n[%n file(s) with more than one hard link skipped: a hard link may "
                            "name a file outside the workspace]",
                            nullptr, search.skippedHardLinks);
    result.details = QJsonObject{{QStringLiteral("path"), base},
                                 {QStringLiteral("pattern"), pattern},
                                 {QStringLiteral("glob"), globText},
                                 {QStringLiteral("matches"), search.matches.size()},
                                 {QStringLiteral("truncated"), search.done()},
                                 {QStringLiteral("timeBudgetHit"), search.timeBudgetHit},
                                 {QStringLiteral("byteBudgetHit"), search.byteBudgetHit},
                                 {QStringLiteral("bytesScanned"), search.bytesScanned},
                                 {QStringLiteral("matchLimitLines"), search.matchLimitLines},
                                 {QStringLiteral("filesSearched"), search.filesSearched},
                                 {QStringLiteral("skippedBinary"), search.skippedBinary},
                                 {QStringLiteral("skippedLarge"), search.skippedLarge},
                                 {QStringLiteral("skippedLinks"), search.skippedLinks},
                                 {QStringLiteral("skippedHardLinks"), search.skippedHardLinks}};
    return result;
}

} // namespace m1
