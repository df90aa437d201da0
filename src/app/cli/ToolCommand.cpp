#include "cli/Cli.h"
#include "cli/Services.h"

#include "model/PolicyDecision.h"
#include "store/AuditEvent.h"
#include "store/AuditWriter.h"
#include "tools/ToolExecutor.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QUuid>

namespace m1::cli {

namespace {

// One `tool exec` in the audit trail, recorded like a run with one call (agent "m1ctl", goal
// "tool exec TOOL", provider "cli"): run.started, call.proposed, call.policy, call.approved or
// call.denied, call.executed or call.failed, run.finished, each through the AuditWriter like a
// run's, and each acknowledged before the next step.
class ExecRecord {
public:
    enum Counter { Approved, Denied, Executed, Failed };

    ExecRecord(AuditWriter* writer, const ToolCall& call, const QString& workspaceRoot)
        : m_writer(writer), m_call(call), m_workspace(workspaceRoot),
          m_runId(QStringLiteral("exec_%1").arg(QUuid::createUuid().toString(QUuid::Id128))) {}

    const QString& runId() const { return m_runId; }

    Status start() {
        AuditEvent::RunStart start;
        start.agent = QStringLiteral("m1ctl");
        start.goal = QStringLiteral("tool exec %1").arg(m_call.toolName);
        start.constraints = {{QStringLiteral("command"), QStringLiteral("tool exec")}};
        // The run id the approval token is bound to (--run), when one was given.
        if (!m_call.runId.isEmpty())
            start.constraints.insert(QStringLiteral("token_run_id"), m_call.runId);
        start.provider = QStringLiteral("cli");
        start.workspace = m_workspace;
        const Status written = write(AuditEvent::runStarted(m_runId, start));
        m_started = bool(written);
        return written;
    }

    Status propose(const QString& scope) {
        return write(AuditEvent::callProposed(m_runId, m_call.id, 1, m_call.toolName, scope,
                                              m_call.arguments));
    }

    Status write(const AuditEvent& event) {
        const AuditAck ack = m_writer->write(event, kAckTimeoutMs);
        if (!ack)
            return std::unexpected(ack.error());
        return {};
    }

    void count(Counter counter) {
        switch (counter) {
        case Approved:
            ++m_totals.approved;
            break;
        case Denied:
            ++m_totals.denied;
            break;
        case Executed:
            ++m_totals.executed;
            break;
        case Failed:
            ++m_totals.failed;
            break;
        }
    }

    Status finish(const QString& stopReason = QStringLiteral("completed")) {
        m_finished = true;
        m_totals.stopReason = stopReason;
        m_totals.proposed = 1;
        m_totals.costMicros = 0; // no model was asked
        return write(AuditEvent::runFinished(m_runId, m_totals));
    }

    // An audit write failed before the tool ran: nothing runs (fail closed).
    int abandon(Cli& cli, const Error& e) {
        endAfterFailure();
        return cli.error(kError, Cli::tr("nothing ran: the audit store refused a write (%1): %2")
                                     .arg(e.code, e.message));
    }

    // The outcome could not be recorded after the executor was called.
    int lost(Cli& cli, const Error& e, bool ran) {
        endAfterFailure();
        return cli.error(
            kError,
            (ran ? Cli::tr("%1 ran, but the audit store refused to record its outcome (%2): %3")
                 : Cli::tr("%1 did not run, and the audit store refused to record that (%2): %3"))
                .arg(m_call.toolName, e.code, e.message));
    }

private:
    static constexpr int kAckTimeoutMs = 60000;

    // Best effort: the run is closed as audit_failed when the store still takes that.
    void endAfterFailure() {
        if (m_started && !m_finished)
            (void)finish(QStringLiteral("audit_failed"));
    }

    AuditWriter* m_writer;
    ToolCall m_call;
    QString m_workspace;
    QString m_runId;
    AuditEvent::RunTotals m_totals;
    bool m_started = false;
    bool m_finished = false;
};

int toolExec(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    const QCommandLineOption workspaceOpt(QStringLiteral("workspace"),
                                          Cli::tr("The workspace folder the tool is confined to."),
                                          QStringLiteral("DIR"));
    const QCommandLineOption toolOpt(QStringLiteral("tool"), Cli::tr("Tool name."),
                                     QStringLiteral("NAME"));
    const QCommandLineOption argsOpt(QStringLiteral("args"),
                                     Cli::tr("The call's arguments as a JSON object."),
                                     QStringLiteral("JSON"));
    const QCommandLineOption tokenOpt(
        QStringLiteral("token"),
        Cli::tr("Approval token for this exact call (- reads it from standard input). Needed "
                "when the policy asks for approval."),
        QStringLiteral("TOKEN"));
    const QCommandLineOption rulesOpt(QStringLiteral("rules"),
                                      Cli::tr("Rules file (default: the user's policy.json)."),
                                      QStringLiteral("FILE"));
    const QCommandLineOption runOpt(QStringLiteral("run"),
                                    Cli::tr("Run id the token is bound to (default: none)."),
                                    QStringLiteral("ID"));
    const QCommandLineOption jsonOpt(QStringLiteral("json"),
                                     Cli::tr("Print the decision and the result as one JSON "
                                             "object."));
    parser.addOptions({workspaceOpt, toolOpt, argsOpt, tokenOpt, rulesOpt, runOpt, jsonOpt});
    int exitCode = kOk;
    if (!cli.parse(
            parser, args, QStringLiteral("tool exec"),
            Cli::tr("Runs one tool call through the policy and the tool executor.\n"
                    "A call the policy allows runs with a token minted for it; a call that needs "
                    "approval runs only with --token for exactly this call; a denied call never "
                    "runs. Each token runs one call, once.\n"
                    "Every call, refusals included, is recorded in the audit trail (--db) as a "
                    "run with one call (agent m1ctl, goal \"tool exec NAME\"; see m1ctl history "
                    "list --agent m1ctl); the approval is recorded before the tool runs, and "
                    "nothing runs when the store refuses that write.\n"
                    "Exit status: 0 the tool succeeded, 5 the tool ran and reported failure, "
                    "3 refused (the policy denies, e.g. a path outside the workspace; approval "
                    "missing; token refused), 1 error (e.g. no keychain, the audit store refused "
                    "a write, the tool could not start), 2 usage."),
            0, &exitCode))
        return exitCode;
    if (!parser.isSet(toolOpt) || !parser.isSet(argsOpt))
        return cli.error(kUsage,
                         Cli::tr("--tool and --args are required (see: m1ctl tool exec --help)"));

    auto context = Services::callContext(cli, parser.value(workspaceOpt), parser.value(rulesOpt),
                                         parser.value(argsOpt), &exitCode);
    if (!context)
        return exitCode;
    const Settings& settings = context->settings;
    const Workspace& workspace = context->workspace;

    const ToolRegistry registry = ToolRegistry::withBuiltins();
    const PolicyEngine engine(registry, workspace, settings.policy, context->rules);
    const ToolCall call{QStringLiteral("cli_%1").arg(QUuid::createUuid().toString(QUuid::Id128)),
                        parser.value(runOpt), parser.value(toolOpt), context->arguments};
    const bool json = parser.isSet(jsonOpt);

    // Every step is recorded before the next one, like a run's: no tool runs without its
    // acknowledged approval.
    const auto store = Services::store(cli.database());
    if (!store)
        return cli.error(kError, Cli::tr("nothing ran: %1").arg(store.error().toString()));
    auto writer = (*store)->startWriter();
    if (!writer)
        return cli.error(kError, Cli::tr("nothing ran: %1").arg(writer.error().toString()));
    ExecRecord record(writer->get(), call, workspace.root());
    if (const Status started = record.start(); !started)
        return record.abandon(cli, started.error());
    const auto spec = registry.spec(call.toolName);
    if (const Status proposed =
            record.propose(spec ? scopeToString(spec->scope) : QStringLiteral("unknown"));
        !proposed)
        return record.abandon(cli, proposed.error());

    RunState state;
    state.runId = call.runId;
    const PolicyDecision decision = engine.evaluate(call, state);
    QJsonObject report{{QStringLiteral("runId"), record.runId()},
                       {QStringLiteral("policy"), decision.toJson()}};
    if (const Status checked =
            record.write(AuditEvent::policyChecked(record.runId(), call.id, decision));
        !checked)
        return record.abandon(cli, checked.error());

    auto refuse = [&](const QString& code, const QString& reason) -> int {
        if (json) {
            report.insert(QStringLiteral("executed"), false);
            report.insert(
                QStringLiteral("error"),
                QJsonObject{{QStringLiteral("code"), code}, {QStringLiteral("message"), reason}});
            cli.printJson(report);
            return kRefused;
        }
        return cli.error(kRefused, Error{code, reason});
    };
    // A refusal is recorded as the call's denial; the command says so only once it is recorded.
    auto deny = [&](const QString& approverKind, const QString& approver, const QString& code,
                    const QString& reason, const QString& shown, int exitCode) -> int {
        const Status denied = record.write(
            AuditEvent::callDenied(record.runId(), call.id, approverKind, approver, reason));
        if (!denied)
            return record.abandon(cli, denied.error());
        record.count(ExecRecord::Denied);
        if (const Status finished = record.finish(); !finished)
            return record.abandon(cli, finished.error());
        if (exitCode == kRefused)
            return refuse(code, shown);
        return cli.error(exitCode, shown);
    };

    if (decision.isDeny())
        return deny(QStringLiteral("rule"), QStringLiteral("policy"), decision.code,
                    decision.reason, Cli::tr("denied by policy: %1").arg(decision.reason),
                    kRefused);

    const auto service = Services::tokenService(settings);
    if (!service)
        return deny(QStringLiteral("rule"), QStringLiteral("token service"), service.error().code,
                    service.error().toString(), service.error().toString(), kError);
    const auto ledger = Services::ledger(cli.database());
    if (!ledger)
        return deny(QStringLiteral("rule"), QStringLiteral("token ledger"), ledger.error().code,
                    ledger.error().toString(), ledger.error().toString(), kError);

    QString token;
    QString approverKind;
    QString approver;
    QString jti;
    if (parser.isSet(tokenOpt)) {
        token = parser.value(tokenOpt);
        if (token == QLatin1String("-"))
            token = QString::fromUtf8(cli.readStdin(100 * 1024)).trimmed();
        // Checked before the approval is recorded: a refused token is a denial, not an approval
        // that then fails. The executor checks it again and consumes it.
        TokenService::Expectation expectation;
        expectation.toolName = call.toolName;
        expectation.scope = spec ? std::optional<Scope>(spec->scope) : std::nullopt;
        expectation.arguments = call.arguments;
        expectation.runId = call.runId;
        const auto claims = service->verify(token, expectation, ledger->get());
        if (!claims || !spec) {
            const Error e = claims ? Error{QStringLiteral("tool.unknown"),
                                           Cli::tr("unknown tool \"%1\"").arg(call.toolName)}
                                   : claims.error();
            return deny(QStringLiteral("token"), QStringLiteral("--token"), e.code,
                        QStringLiteral("%1: %2").arg(e.code, e.message),
                        Cli::tr("refused, nothing ran: %1").arg(e.message), kRefused);
        }
        approverKind = QStringLiteral("token");
        approver = QStringLiteral("--token %1").arg(claims->jti);
        jti = claims->jti;
    } else if (decision.isAllow()) {
        // The policy approved it: the policy's approval is a token like a person's.
        const auto minted =
            service->mint(call.toolName, spec.value().scope, call.arguments, call.runId);
        if (!minted)
            return deny(QStringLiteral("rule"), QStringLiteral("token service"),
                        minted.error().code, minted.error().toString(), minted.error().toString(),
                        kError);
        token = *minted;
        approverKind = QStringLiteral("rule");
        approver = QStringLiteral("policy");
        jti = service->jtiOf(token).value_or(QString());
    } else {
        // A command the person can paste to approve exactly this call.
        QString argsJson =
            QString::fromUtf8(QJsonDocument(call.arguments).toJson(QJsonDocument::Compact));
        argsJson.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
        // Nobody could decide (no --token): approver kind "none", as in m1ctl run.
        return deny(QStringLiteral("none"), QStringLiteral("no approver"),
                    QStringLiteral("approval.required"),
                    Cli::tr("approval required and no --token given: %1").arg(decision.reason),
                    Cli::tr("approval required, nothing ran. %1 To approve exactly this call: "
                            "m1ctl token mint --tool %2 --scope %3 --args '%4', then pass the "
                            "token with --token.")
                        .arg(decision.reason, call.toolName,
                             scopeToString(registry.spec(call.toolName).value().scope), argsJson),
                    kRefused);
    }

    // Fail closed: the approval must be durable before the tool runs.
    if (const Status approved = record.write(
            AuditEvent::callApproved(record.runId(), call.id, approverKind, approver, jti));
        !approved)
        return record.abandon(cli, approved.error());
    record.count(ExecRecord::Approved);

    ToolExecutor executor(registry, workspace, *service, **ledger);
    executor.setPolicyGuard(&engine);
    QElapsedTimer clock;
    clock.start();
    const ToolExecutor::Outcome outcome = executor.execute(call, token);
    const qint64 durationMs = clock.elapsed();
    report.insert(QStringLiteral("approver"), approverKind);
    if (outcome.claims)
        report.insert(QStringLiteral("jti"), outcome.claims->jti);

    if (!outcome.result) {
        const Error& e = outcome.result.error();
        const Status failed = record.write(AuditEvent::callFailed(
            record.runId(), call.id, call.arguments,
            QStringLiteral("%1: %2").arg(e.code, e.message), QString(), durationMs));
        record.count(ExecRecord::Failed);
        const Status finished = failed ? record.finish() : failed;
        if (!finished)
            return record.lost(cli, finished.error(), outcome.tokenConsumed);
        const bool refused = e.code.startsWith(QLatin1String("token.")) ||
                             e.code.startsWith(QLatin1String("tool.")) ||
                             e.code.startsWith(QLatin1String("schema.")) ||
                             e.code.startsWith(QLatin1String("policy."));
        if (refused && !outcome.tokenConsumed)
            return refuse(e.code, Cli::tr("refused, nothing ran: %1").arg(e.message));
        if (json) {
            report.insert(QStringLiteral("executed"), false);
            report.insert(QStringLiteral("error"),
                          QJsonObject{{QStringLiteral("code"), e.code},
                                      {QStringLiteral("message"), e.message}});
            cli.printJson(report);
            return kError;
        }
        return cli.error(kError,
                         Cli::tr("%1 failed (%2): %3").arg(call.toolName, e.code, e.message));
    }

    const ToolResult& result = *outcome.result;
    const Status recorded = record.write(
        result.isError ? AuditEvent::callFailed(record.runId(), call.id, call.arguments,
                                                Cli::tr("the tool reported failure"), result.output,
                                                durationMs)
                       : AuditEvent::callExecuted(record.runId(), call.id, call.arguments,
                                                  result.output, durationMs));
    record.count(result.isError ? ExecRecord::Failed : ExecRecord::Executed);
    const Status finished = recorded ? record.finish() : recorded;
    if (json) {
        report.insert(QStringLiteral("executed"), true);
        report.insert(QStringLiteral("result"),
                      QJsonObject{{QStringLiteral("isError"), result.isError},
                                  {QStringLiteral("output"), result.output},
                                  {QStringLiteral("details"), result.details}});
        cli.printJson(report);
    } else {
        cli.out() << result.output;
        if (!result.output.isEmpty() && !result.output.endsWith(QLatin1Char('\n')))
            cli.out() << '\n';
        cli.out().flush();
    }
    if (!finished)
        return record.lost(cli, finished.error(), true);
    return result.isError ? kToolFailed : kOk;
}

int toolList(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    const QCommandLineOption jsonOpt(QStringLiteral("json"),
                                     Cli::tr("Print the tool definitions sent to the model."));
    parser.addOption(jsonOpt);
    int exitCode = kOk;
    if (!cli.parse(parser, args, QStringLiteral("tool list"),
                   Cli::tr("Lists the registered tools (the allowlist) with their scopes."), 0,
                   &exitCode))
        return exitCode;
    const ToolRegistry registry = ToolRegistry::withBuiltins();
    if (parser.isSet(jsonOpt)) {
        cli.printJson({{QStringLiteral("tools"), registry.modelDefinitions()}});
        return kOk;
    }
    for (const QString& name : registry.enabledNames()) {
        const auto spec = registry.spec(name);
        cli.out() << QStringLiteral("%1 %2 %3\n")
                         .arg(name, -16)
                         .arg(scopeToString(spec->scope), -8)
                         .arg(spec->description);
    }
    cli.out().flush();
    return kOk;
}

} // namespace

int runTool(Cli& cli, const QStringList& args) {
    return cli.dispatch(
        QStringLiteral("tool"), args,
        {
            {QStringLiteral("exec"),
             Cli::tr("run one tool call through policy and the tool executor"), &toolExec},
            {QStringLiteral("list"), Cli::tr("list the registered tools"), &toolList},
        },
        Cli::Database::Optional);
}

} // namespace m1::cli
