#pragma once

#include "tools/Tool.h"

#include <QCoreApplication>

namespace m1 {

class WriteFileTool : public Tool {
    Q_DECLARE_TR_FUNCTIONS(WriteFileTool)

public:
    ToolSpec spec() const override;
    Result<ToolResult> execute(const QJsonObject& arguments,
                               const Workspace& workspace) const override;
};

} // namespace m1
