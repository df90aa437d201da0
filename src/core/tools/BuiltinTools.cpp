// TEMPORARY skeleton: the built-in tools are being written; until then the registry is empty.
#include "tools/ToolRegistry.h"

namespace m1 {
ToolRegistry ToolRegistry::withBuiltins() {
    return ToolRegistry();
}
} // namespace m1
