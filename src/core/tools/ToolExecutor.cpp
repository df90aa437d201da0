#include "tools/ToolExecutor.h"

#include "policy/PolicyEngine.h"
#include "tokens/TokenLedger.h"
#include "tokens/TokenService.h"

namespace m1 {

ToolExecutor::ToolExecutor(const ToolRegistry& registry, const Workspace& workspace,
                           const TokenService& tokens, TokenLedger& ledger)
    : m_registry(registry), m_workspace(workspace), m_tokens(tokens), m_ledger(ledger) {}

ToolExecutor::Outcome ToolExecutor::execute(const ToolCall& call, const QString& token) const {
    Outcome outcome;
    // Allowlist and schema first: a call that could never run must not spend an approval.
    const auto spec = m_registry.validateCall(call.toolName, call.arguments);
    if (!spec) {
        outcome.result = std::unexpected(spec.error());
        return outcome;
    }
    const Tool* tool = m_registry.find(call.toolName);
    if (tool == nullptr) {
        outcome.result = fail(QStringLiteral("tool.unknown"),
                              tr("\"%1\" is not a registered tool.").arg(call.toolName));
        return outcome;
    }
    if (token.isEmpty()) {
        outcome.result =
            fail(QStringLiteral("token.missing"),
                 tr("No approval token: %1 runs only with a token bound to this exact call.")
                     .arg(call.toolName));
        return outcome;
    }

    TokenService::Expectation expectation;
    expectation.toolName = call.toolName;
    expectation.scope = spec->scope;
    expectation.arguments = call.arguments;
    expectation.runId = call.runId;
    if (m_guard != nullptr) {
        // Limits and approvals were settled when the call was decided; only what denies outright
        // is checked again, against the file system as it is now.
        RunState state;
        state.runId = call.runId;
        const PolicyDecision decision = m_guard->evaluate(call, state);
        if (decision.isDeny()) {
            outcome.result =
                fail(QStringLiteral("policy.denied"),
                     tr("Denied by policy just before running: %1").arg(decision.reason));
            return outcome;
        }
    }

    const auto claims = m_tokens.verify(token, expectation, &m_ledger);
    if (!claims) {
        outcome.result = std::unexpected(claims.error());
        return outcome;
    }
    outcome.claims = *claims;

    // Consume before running: if we crash after this line the approval stays spent.
    if (auto consumed = m_ledger.consume(claims->jti, claims->exp); !consumed) {
        outcome.result = std::unexpected(consumed.error());
        return outcome;
    }
    outcome.tokenConsumed = true;
    outcome.result = tool->execute(call.arguments, m_workspace);
    return outcome;
}

} // namespace m1
