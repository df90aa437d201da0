// Placeholder until the command is written; replaced by its own implementation.
#include "cli/Cli.h"

namespace m1::cli {

int runExport(Cli& cli, const QStringList&) {
    return cli.error(kUsage, Cli::tr("\"export\" is not available in this version yet"));
}

} // namespace m1::cli
