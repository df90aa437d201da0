// Placeholder until the command is written; replaced by its own implementation.
#include "cli/Cli.h"

namespace m1::cli {

int runMetrics(Cli& cli, const QStringList&) {
    return cli.error(kUsage, Cli::tr("\"metrics\" is not available in this version yet"));
}

} // namespace m1::cli
