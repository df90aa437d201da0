#pragma once

#include "model/ToolSpec.h"
#include "tools/ToolResult.h"
#include "tools/Workspace.h"
#include "util/Error.h"

#include <QJsonObject>

namespace m1 {

// A built-in tool. Implementations are called only by ToolExecutor after the token was verified
// and consumed, with arguments that already passed the schema. They must still confine every path
// through the workspace. execute() may block (it runs on a worker thread, never the UI thread).
class Tool {
public:
    virtual ~Tool() = default;
    virtual ToolSpec spec() const = 0;
    // An Error means the call could not be carried out (path refused, file missing, ...);
    // a ToolResult with isError means the tool ran and reported failure (e.g. exit code 1).
    virtual Result<ToolResult> execute(const QJsonObject& arguments,
                                       const Workspace& workspace) const = 0;
};

} // namespace m1
