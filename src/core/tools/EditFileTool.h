#pragma once

#include "tools/Tool.h"

#include <QCoreApplication>

namespace m1 {

class EditFileTool : public Tool {
    Q_DECLARE_TR_FUNCTIONS(EditFileTool)

public:
    struct Limits {
        // Off by default: editing a hard-linked file would copy the content of an inode that may
        // lie outside the workspace into a new file inside it (the write replaces the name), where
        // read_file could then show it; the match/no-match answer alone is an oracle too.
        bool allowHardLinks = false;
    };

    EditFileTool() = default;
    explicit EditFileTool(Limits limits) : m_limits(limits) {}

    ToolSpec spec() const override;
    Result<ToolResult> execute(const QJsonObject& arguments,
                               const Workspace& workspace) const override;

private:
    Limits m_limits;
};

} // namespace m1
