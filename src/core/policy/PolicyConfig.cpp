#include "policy/PolicyConfig.h"

namespace m1 {

bool PolicyConfig::needsApproval(Scope scope) const {
    switch (scope) {
    case Scope::Read:
        return readNeedsApproval;
    case Scope::Write:
        return writeNeedsApproval;
    case Scope::Execute:
        return executeNeedsApproval;
    }
    return true;
}

} // namespace m1
