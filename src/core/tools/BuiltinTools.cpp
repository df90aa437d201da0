#include "tools/EditFileTool.h"
#include "tools/ListDirectoryTool.h"
#include "tools/ReadFileTool.h"
#include "tools/RunCommandTool.h"
#include "tools/SearchFilesTool.h"
#include "tools/ToolRegistry.h"
#include "tools/UpdatePlanTool.h"
#include "tools/WriteFileTool.h"

namespace m1 {

ToolRegistry ToolRegistry::withBuiltins() {
    ToolRegistry registry;
    // The names are fixed and distinct, so add() cannot fail here.
    (void)registry.add(std::make_unique<ReadFileTool>());
    (void)registry.add(std::make_unique<ListDirectoryTool>());
    (void)registry.add(std::make_unique<SearchFilesTool>());
    (void)registry.add(std::make_unique<WriteFileTool>());
    (void)registry.add(std::make_unique<EditFileTool>());
    (void)registry.add(std::make_unique<RunCommandTool>());
    (void)registry.add(std::make_unique<UpdatePlanTool>());
    return registry;
}

} // namespace m1
