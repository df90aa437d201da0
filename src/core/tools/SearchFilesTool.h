#pragma once

#include "tools/Tool.h"

#include <QCoreApplication>

namespace m1 {

class SearchFilesTool : public Tool {
    Q_DECLARE_TR_FUNCTIONS(SearchFilesTool)

public:
    struct Limits {
        // Off by default: hard-linked files are skipped (and counted), since one of their names
        // may lie outside the workspace (see SafeFile::HardLinks).
        bool allowHardLinks = false;
    };

    SearchFilesTool() = default;
    explicit SearchFilesTool(Limits limits) : m_limits(limits) {}

    ToolSpec spec() const override;
    Result<ToolResult> execute(const QJsonObject& arguments,
                               const Workspace& workspace) const override;

private:
    Limits m_limits;
};

} // namespace m1
