#include "tools/ToolRegistry.h"

#include "tools/JsonSchema.h"

#include <QRegularExpression>

namespace m1 {

Status ToolRegistry::add(std::unique_ptr<Tool> tool) {
    ToolSpec spec = tool->spec();
    static const QRegularExpression namePattern(QStringLiteral("^[a-zA-Z0-9_-]{1,64}$"));
    if (!namePattern.match(spec.name).hasMatch())
        return fail(QStringLiteral("tool.invalid_name"),
                    tr("Tool name \"%1\" is not allowed (letters, digits, '_' and "
                       "'-', at most 64).")
                        .arg(spec.name));
    if (m_tools.contains(spec.name))
        return fail(QStringLiteral("tool.duplicate"),
                    tr("A tool named \"%1\" is already registered.").arg(spec.name));
    const bool enabled = spec.enabled;
    const QString name = spec.name;
    std::optional<CompiledSchema> schema = CompiledSchema::compile(spec.inputSchema);
    m_tools.emplace(name, Entry{std::shared_ptr<const Tool>(std::move(tool)), std::move(spec),
                                enabled, std::move(schema)});
    return {};
}

Status ToolRegistry::setEnabled(const QString& name, bool enabled) {
    auto it = m_tools.find(name);
    if (it == m_tools.end())
        return fail(QStringLiteral("tool.unknown"), tr("Unknown tool \"%1\".").arg(name));
    it->second.enabled = enabled;
    it->second.spec.enabled = enabled;
    return {};
}

const Tool* ToolRegistry::find(const QString& name) const {
    auto it = m_tools.find(name);
    if (it == m_tools.end() || !it->second.enabled)
        return nullptr;
    return it->second.tool.get();
}

Result<ToolSpec> ToolRegistry::spec(const QString& name) const {
    auto it = m_tools.find(name);
    if (it == m_tools.end())
        return fail(QStringLiteral("tool.unknown"),
                    QStringLiteral("\"%1\" is not a registered tool; only registered tools can "
                                   "run.")
                        .arg(name));
    if (!it->second.enabled)
        return fail(QStringLiteral("tool.disabled"), tr("The tool \"%1\" is disabled.").arg(name));
    return it->second.spec;
}

Result<ToolSpec> ToolRegistry::validateCall(const QString& name,
                                            const QJsonObject& arguments) const {
    auto found = spec(name);
    if (!found)
        return found;
    if (auto valid = validateArguments(*found, arguments); !valid)
        return std::unexpected(std::move(valid.error()));
    return found;
}

const ToolSpec* ToolRegistry::enabledSpec(const QString& name) const {
    const auto it = m_tools.find(name);
    return it == m_tools.end() || !it->second.enabled ? nullptr : &it->second.spec;
}

Status ToolRegistry::validateArguments(const ToolSpec& enabled,
                                       const QJsonObject& arguments) const {
    // The compiled check only ever says "valid"; the full validator decides the rest and words
    // the error.
    if (const auto it = m_tools.find(enabled.name);
        it != m_tools.end() && it->second.schema && it->second.schema->accepts(arguments))
        return {};
    if (auto valid = JsonSchema::validate(arguments, enabled.inputSchema); !valid)
        return fail(valid.error().code, tr("Arguments for %1 do not match its schema: %2")
                                            .arg(enabled.name, valid.error().message));
    return {};
}

QStringList ToolRegistry::enabledNames() const {
    QStringList names;
    for (const auto& [name, entry] : m_tools)
        if (entry.enabled)
            names.append(name);
    return names;
}

QJsonArray ToolRegistry::modelDefinitions() const {
    QJsonArray definitions;
    for (const auto& [name, entry] : m_tools)
        if (entry.enabled)
            definitions.append(entry.spec.toModelDefinition());
    return definitions;
}

} // namespace m1
