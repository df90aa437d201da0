#include "run/ApprovalDecision.h"

#include <pwd.h>
#include <unistd.h>

namespace m1 {

QString ApprovalDecision::localUser() {
    // The account database, not $USER: the environment is easier to get wrong by accident.
    if (const passwd* entry = ::getpwuid(::geteuid()); entry && entry->pw_name)
        return QString::fromLocal8Bit(entry->pw_name);
    return qEnvironmentVariable("USER");
}

} // namespace m1
