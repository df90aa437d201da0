#include "tools/UpdatePlanTool.h"

#include <QJsonArray>

namespace m1 {

ToolSpec UpdatePlanTool::spec() const {
    const QJsonObject stepSchema{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("properties"),
         QJsonObject{{QStringLiteral("title"),
                      QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                                  {QStringLiteral("minLength"), 1},
                                  {QStringLiteral("maxLength"), 300}}},
                     {QStringLiteral("status"),
                      QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                                  {QStringLiteral("enum"), QJsonArray{QStringLiteral("pending"),
                                                                      QStringLiteral("in_progress"),
                                                                      QStringLiteral("done")}}}}}},
        {QStringLiteral("required"), QJsonArray{QStringLiteral("title"), QStringLiteral("status")}},
        {QStringLiteral("additionalProperties"), false}};
    return ToolSpec{
        QStringLiteral("update_plan"),
        QStringLiteral("Publish or update your numbered plan for this run: the whole list of "
                       "steps each time, each with a status (pending, in_progress, done). The "
                       "person watching the run sees it. No other effect."),
        Scope::Read,
        QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
                    {QStringLiteral("properties"),
                     QJsonObject{{QStringLiteral("steps"),
                                  QJsonObject{{QStringLiteral("type"), QStringLiteral("array")},
                                              {QStringLiteral("items"), stepSchema},
                                              {QStringLiteral("minItems"), 1},
                                              {QStringLiteral("maxItems"), 50}}}}},
                    {QStringLiteral("required"), QJsonArray{QStringLiteral("steps")}},
                    {QStringLiteral("additionalProperties"), false}},
        true};
}

Result<ToolResult> UpdatePlanTool::execute(const QJsonObject& arguments, const Workspace&) const {
    const QJsonArray steps = arguments.value(QLatin1String("steps")).toArray();
    int done = 0;
    for (const QJsonValue& step : steps)
        if (step.toObject().value(QLatin1String("status")).toString() == QLatin1String("done"))
            ++done;
    ToolResult result;
    result.output = tr("Plan updated: %1 steps, %2 done.").arg(steps.size()).arg(done);
    result.details = QJsonObject{{QStringLiteral("steps"), steps}};
    return result;
}

} // namespace m1
