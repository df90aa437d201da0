#pragma once

#include "tools/Tool.h"

#include <QCoreApplication>

namespace m1 {

class ReadFileTool : public Tool {
    Q_DECLARE_TR_FUNCTIONS(ReadFileTool)

public:
    struct Limits {
        // Off by default: a hard link inside the workspace may name a secret outside it (see
        // SafeFile::HardLinks). When on, the content is returned with a visible note.
        bool allowHardLinks = false;
    };

    ReadFileTool() = default;
    explicit ReadFileTool(Limits limits) : m_limits(limits) {}

    ToolSpec spec() const override;
    Result<ToolResult> execute(const QJsonObject& arguments,
                               const Workspace& workspace) const override;

private:
    Limits m_limits;
};

} // namespace m1
