#pragma once

#include "tools/Tool.h"

#include <QCoreApplication>

namespace m1 {

// update_plan: the model publishes its numbered plan (steps with a status). Read scope and no
// side effects: the run loop stores the plan with the run and shows it; the tool only checks it.
class UpdatePlanTool : public Tool {
    Q_DECLARE_TR_FUNCTIONS(UpdatePlanTool)

public:
    ToolSpec spec() const override;
    Result<ToolResult> execute(const QJsonObject& arguments,
                               const Workspace& workspace) const override;
};

} // namespace m1
