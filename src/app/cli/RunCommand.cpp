// Placeholder until the command is written; replaced by its own implementation.
#include "cli/Cli.h"

namespace m1::cli {

int runRun(Cli& cli, const QStringList&) {
    return cli.error(kUsage, Cli::tr("\"run\" is not available in this version yet"));
}

} // namespace m1::cli
