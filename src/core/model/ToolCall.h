#pragma once

#include <QJsonObject>
#include <QString>

namespace m1 {

// A proposal from the model (or a person at the command line): data, never an instruction.
struct ToolCall {
    QString id;    // the model's tool_use id, or a generated one
    QString runId; // empty outside a run (m1ctl tool exec)
    QString toolName;
    QJsonObject arguments;
};

} // namespace m1
