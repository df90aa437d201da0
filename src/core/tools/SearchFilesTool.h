#pragma once

#include "tools/Tool.h"

#include <QCoreApplication>

namespace m1 {

class SearchFilesTool : public Tool {
    Q_DECLARE_TR_FUNCTIONS(SearchFilesTool)

public:
    ToolSpec spec() const override;
    Result<ToolResult> execute(const QJsonObject& arguments,
                               const Workspace& workspace) const override;
};

} // namespace m1
