#include "monitoring/LogCategories.h"

Q_LOGGING_CATEGORY(lcRun, "m1.run")
Q_LOGGING_CATEGORY(lcPolicy, "m1.policy")
Q_LOGGING_CATEGORY(lcNet, "m1.net")
Q_LOGGING_CATEGORY(lcStore, "m1.store")
Q_LOGGING_CATEGORY(lcTools, "m1.tools")
Q_LOGGING_CATEGORY(lcTokens, "m1.tokens")
Q_LOGGING_CATEGORY(lcMonitoring, "m1.monitoring")
Q_LOGGING_CATEGORY(lcConfig, "m1.config")
Q_LOGGING_CATEGORY(lcUi, "m1.ui")
Q_LOGGING_CATEGORY(lcCli, "m1.cli")
