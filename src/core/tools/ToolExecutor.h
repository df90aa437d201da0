#pragma once

#include "model/ToolCall.h"
#include "tokens/TokenClaims.h"
#include "tools/ToolRegistry.h"
#include "tools/ToolResult.h"
#include "tools/Workspace.h"
#include "util/Error.h"

#include <QCoreApplication>

namespace m1 {

class PolicyEngine;
class TokenLedger;
class TokenService;

// The single place where a tool runs. A call runs only with a token that verifies and names
// exactly this call (tool, scope, run, arguments); the token's jti is consumed in the ledger
// before the tool starts, so a token runs one call, once, and a crash between consuming and
// running leaves it spent (fail closed). Holds references: all must outlive the executor.
class ToolExecutor {
    Q_DECLARE_TR_FUNCTIONS(ToolExecutor)
public:
    ToolExecutor(const ToolRegistry& registry, const Workspace& workspace,
                 const TokenService& tokens, TokenLedger& ledger);

    struct Outcome {
        // Set as soon as the token verified (also when the tool then fails), for the audit.
        std::optional<TokenClaims> claims;
        // True once the jti was consumed: the approval is spent whatever happens next.
        bool tokenConsumed = false;
        // The tool's result, or why nothing (or not all) ran: tool.unknown, tool.disabled,
        // schema.invalid, token.* refusals, ledger.write, and the tool's own errors.
        Result<ToolResult> result = fail(QStringLiteral("executor.not_run"), QString());
    };

    // Blocks while the tool runs: call it on a worker thread, never the UI thread.
    Outcome execute(const ToolCall& call, const QString& token) const;

    // With a guard, the call meets the policy once more right before it runs: a deny rule or a
    // refused path wins over any token (a token minted for a denied call, or a symlink that was
    // pointed at a denied file between approval and execution). Error "policy.denied".
    void setPolicyGuard(const PolicyEngine* guard) { m_guard = guard; }

private:
    const PolicyEngine* m_guard = nullptr;
    const ToolRegistry& m_registry;
    const Workspace& m_workspace;
    const TokenService& m_tokens;
    TokenLedger& m_ledger;
};

} // namespace m1
