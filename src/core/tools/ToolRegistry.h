#pragma once

#include "model/ToolSpec.h"
#include "tools/CompiledSchema.h"
#include "tools/Tool.h"
#include "util/Error.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QStringList>

#include <map>
#include <memory>

namespace m1 {

// The allowlist: only registered, enabled tools are offered to the model or executed.
// Lookup is exact (case-sensitive, no normalisation): "Read_File" or a homoglyph is unknown.
class ToolRegistry {
    Q_DECLARE_TR_FUNCTIONS(ToolRegistry)
public:
    // All built-in tools (read_file, list_directory, search_files, write_file, edit_file,
    // run_command, update_plan), enabled.
    static ToolRegistry withBuiltins();

    // Error "tool.duplicate" when the name is taken, "tool.invalid_name" when it does not match
    // ^[a-zA-Z0-9_-]{1,64}$.
    Status add(std::unique_ptr<Tool> tool);

    // Error "tool.unknown" (a name that is not registered).
    Status setEnabled(const QString& name, bool enabled);

    // nullptr when unknown or disabled.
    const Tool* find(const QString& name) const;
    // The spec of an enabled tool; "tool.unknown" or "tool.disabled" otherwise.
    Result<ToolSpec> spec(const QString& name) const;

    // Allowlist + schema in one step: "tool.unknown", "tool.disabled", "schema.invalid".
    Result<ToolSpec> validateCall(const QString& name, const QJsonObject& arguments) const;

    // The same two steps without copying the spec, for the policy engine, which checks every
    // proposed call. enabledSpec() is nullptr when the tool is unknown or disabled (spec() then
    // says which); the pointer is valid while the registry is not changed. validateArguments()
    // is validateCall's schema step, with the same error, for a spec from enabledSpec().
    const ToolSpec* enabledSpec(const QString& name) const;
    Status validateArguments(const ToolSpec& enabled, const QJsonObject& arguments) const;

    QStringList enabledNames() const;
    // The tool definitions sent to the model, enabled tools only, sorted by name.
    QJsonArray modelDefinitions() const;

private:
    struct Entry {
        std::shared_ptr<const Tool> tool;
        ToolSpec spec;
        bool enabled = true;
        std::optional<CompiledSchema> schema; // fast check of valid arguments, when compilable
    };
    std::map<QString, Entry> m_tools;
};

} // namespace m1
