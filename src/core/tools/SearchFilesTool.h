#pragma once

#include "tools/Tool.h"

#include <QCoreApplication>

namespace m1 {

class SearchFilesTool : public Tool {
    Q_DECLARE_TR_FUNCTIONS(SearchFilesTool)

public:
    struct Limits {
        // Off by default: hard-linked files are skipped (and counted), since one of their names
        // may lie outside the workspace (see SafeFile::HardLinks).
        bool allowHardLinks = false;
        // The model's pattern may backtrack exponentially ("(a+)+$"), so one call gets a
        // wall-clock budget (checked before every file and after every line) and a budget of
        // bytes read; running out ends the search with a visible "truncated" note.
        int timeBudgetMs = 10000;
        qint64 maxScannedBytes = 512LL * 1024 * 1024;
        // PCRE2 limits written in front of the pattern ((*LIMIT_MATCH=n)(*LIMIT_DEPTH=n)); the
        // pattern itself can only lower them. A line that hits one is reported, never taken as
        // "no match". The JIT honours the match limit only.
        int matchLimit = 1000000;
        int depthLimit = 100000;
    };

    SearchFilesTool() = default;
    explicit SearchFilesTool(Limits limits) : m_limits(limits) {}

    ToolSpec spec() const override;
    Result<ToolResult> execute(const QJsonObject& arguments,
                               const Workspace& workspace) const override;

private:
    Limits m_limits;
};

} // namespace m1
