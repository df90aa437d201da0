#include "tools/ListDirectoryTool.h"

#include "tools/SafeFile.h"

#include <QFile>
#include <QJsonArray>

namespace m1 {

namespace {

constexpr int kMaxEntries = 2000;

struct Listing {
    QStringList lines;
    bool truncated = false;
    int folders = 0;
    int files = 0;
    int links = 0;
};

} // namespace

ToolSpec ListDirectoryTool::spec() const {
    return ToolSpec{
        QStringLiteral("list_directory"),
        QStringLiteral("List the entries of a folder inside the workspace, sorted by name, down "
                       "to the given depth (1-5); folders end with '/', links show their target "
                       "and are not followed."),
        Scope::Read,
        QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
                    {QStringLiteral("properties"),
                     QJsonObject{{QStringLiteral("path"),
                                  QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                                              {QStringLiteral("minLength"), 1},
                                              {QStringLiteral("maxLength"), 4096},
                                              {QStringLiteral("default"), QStringLiteral(".")}}},
                                 {QStringLiteral("depth"),
                                  QJsonObject{{QStringLiteral("type"), QStringLiteral("integer")},
                                              {QStringLiteral("minimum"), 1},
                                              {QStringLiteral("maximum"), 5},
                                              {QStringLiteral("default"), 1}}}}},
                    {QStringLiteral("required"), QJsonArray{}},
                    {QStringLiteral("additionalProperties"), false}},
        true};
}

namespace {

QString linkDescription(const Workspace& workspace, const QString& linkPath) {
    auto target = workspace.resolve(linkPath, Workspace::Access::Read);
    if (target)
        return QStringLiteral(" -> ") + workspace.relative(*target);
    if (target.error().code == QLatin1String("path.outside_workspace"))
        return ListDirectoryTool::tr(" -> (outside the workspace, not followed)");
    if (target.error().code == QLatin1String("path.symlink_loop"))
        return ListDirectoryTool::tr(" -> (link loop)");
    return ListDirectoryTool::tr(" -> (missing target)");
}

void listInto(const Workspace& workspace, int folderFd, const QString& folderPath,
              const QString& prefix, int depthLeft, Listing& listing) {
    auto entries = SafeFile::entries(folderFd);
    if (!entries) {
        listing.lines.append(
            prefix + ListDirectoryTool::tr("[cannot list: %1]").arg(entries.error().message));
        return;
    }
    for (const SafeFile::Entry& entry : std::as_const(*entries)) {
        if (listing.lines.size() >= kMaxEntries) {
            listing.truncated = true;
            return;
        }
        const QString name = QFile::decodeName(entry.name);
        const QString path = prefix + name;
        switch (entry.type) {
        case SafeFile::Entry::Type::Folder: {
            ++listing.folders;
            listing.lines.append(path + QLatin1Char('/'));
            if (depthLeft > 1) {
                auto child = SafeFile::openFolderAt(folderFd, entry.name);
                if (child)
                    listInto(workspace, child->get(), folderPath + QLatin1Char('/') + name,
                             path + QLatin1Char('/'), depthLeft - 1, listing);
            }
            break;
        }
        case SafeFile::Entry::Type::File:
            ++listing.files;
            listing.lines.append(path + ListDirectoryTool::tr(" (%1 bytes)").arg(entry.size));
            break;
        case SafeFile::Entry::Type::Link:
            ++listing.links;
            listing.lines.append(path + QLatin1Char('@') +
                                 linkDescription(workspace, folderPath + QLatin1Char('/') + name));
            break;
        case SafeFile::Entry::Type::Other:
            listing.lines.append(path + ListDirectoryTool::tr(" (special file)"));
            break;
        }
    }
}

} // namespace

Result<ToolResult> ListDirectoryTool::execute(const QJsonObject& arguments,
                                              const Workspace& workspace) const {
    const QString path = arguments.value(QLatin1String("path")).toString(QStringLiteral("."));
    const int depth = std::clamp(arguments.value(QLatin1String("depth")).toInt(1), 1, 5);
    auto resolved = workspace.resolve(path, Workspace::Access::Read);
    if (!resolved)
        return std::unexpected(resolved.error());
    auto folder = SafeFile::openFolder(workspace, *resolved);
    if (!folder)
        return std::unexpected(folder.error());

    Listing listing;
    listInto(workspace, folder->get(), *resolved, QString(), depth, listing);
    const QString shown = workspace.relative(*resolved);
    ToolResult result;
    result.output = listing.lines.isEmpty() ? tr("(%1 is empty)").arg(shown)
                                            : listing.lines.join(QLatin1Char('\n'));
    if (listing.truncated)
        result.output += tr("\n[truncated: only the first %1 entries are listed; list a "
                            "subfolder or use a smaller depth]")
                             .arg(kMaxEntries);
    result.details = QJsonObject{{QStringLiteral("path"), shown},
                                 {QStringLiteral("depth"), depth},
                                 {QStringLiteral("entries"), listing.lines.size()},
                                 {QStringLiteral("folders"), listing.folders},
                                 {QStringLiteral("files"), listing.files},
                                 {QStringLiteral("links"), listing.links},
                                 {QStringLiteral("truncated"), listing.truncated}};
    return result;
}

} // namespace m1
