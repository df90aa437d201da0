#pragma once

#include <QJsonObject>
#include <QString>

namespace m1 {

// The outcome of one executed tool call. `output` is what goes back to the model (already capped);
// `details` carries structured facts (exit code, truncation, bytes, resolved paths) for the audit.
struct ToolResult {
    bool isError = false; // the tool ran but failed (non-zero exit, no match, ...)
    QString output;
    QJsonObject details;
};

} // namespace m1
