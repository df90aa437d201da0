#include "tools/WriteFileTool.h"

#include "tools/SafeFile.h"

#include <QJsonArray>

namespace m1 {

namespace {
constexpr int kMaxContent = 10 * 1024 * 1024;
}

ToolSpec WriteFileTool::spec() const {
    return ToolSpec{
        QStringLiteral("write_file"),
        QStringLiteral("Create or replace a text file inside the workspace with the given content "
                       "(missing parent folders are created; the replacement is atomic)."),
        Scope::Write,
        QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
                    {QStringLiteral("properties"),
                     QJsonObject{{QStringLiteral("path"),
                                  QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                                              {QStringLiteral("minLength"), 1},
                                              {QStringLiteral("maxLength"), 4096}}},
                                 {QStringLiteral("content"),
                                  QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                                              {QStringLiteral("maxLength"), kMaxContent}}}}},
                    {QStringLiteral("required"),
                     QJsonArray{QStringLiteral("path"), QStringLiteral("content")}},
                    {QStringLiteral("additionalProperties"), false}},
        true};
}

Result<ToolResult> WriteFileTool::execute(const QJsonObject& arguments,
                                          const Workspace& workspace) const {
    auto resolved = workspace.resolve(arguments.value(QLatin1String("path")).toString(),
                                      Workspace::Access::Write);
    if (!resolved)
        return std::unexpected(resolved.error());
    const QByteArray content = arguments.value(QLatin1String("content")).toString().toUtf8();
    bool created = false;
    if (auto written = SafeFile::writeAtomically(workspace, *resolved, content, &created); !written)
        return std::unexpected(written.error());
    const QString shown = workspace.relative(*resolved);
    ToolResult result;
    result.output = created ? tr("Created %1 (%2 bytes).").arg(shown).arg(content.size())
                            : tr("Replaced %1 (%2 bytes).").arg(shown).arg(content.size());
    result.details = QJsonObject{{QStringLiteral("path"), shown},
                                 {QStringLiteral("bytes"), content.size()},
                                 {QStringLiteral("created"), created}};
    return result;
}

} // namespace m1
