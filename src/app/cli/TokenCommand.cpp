#include "cli/Cli.h"
#include "cli/Services.h"

#include "model/Scope.h"

#include <QDateTime>
#include <QRegularExpression>

namespace m1::cli {

namespace {

// Tokens are bearer credentials; "-" reads one from standard input so it stays off the
// command line (where other users' `ps` could see it).
QString tokenArgument(Cli& cli, const QString& value) {
    if (value == QLatin1String("-"))
        return QString::fromUtf8(cli.readStdin(100 * 1024)).trimmed();
    return value;
}

int tokenMint(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    const QCommandLineOption toolOpt(QStringLiteral("tool"), Cli::tr("Tool name."),
                                     QStringLiteral("NAME"));
    const QCommandLineOption scopeOpt(QStringLiteral("scope"),
                                      Cli::tr("read, write or execute (the tool's scope)."),
                                      QStringLiteral("SCOPE"));
    const QCommandLineOption argsOpt(QStringLiteral("args"),
                                     Cli::tr("The exact arguments the token approves (JSON)."),
                                     QStringLiteral("JSON"));
    const QCommandLineOption runOpt(QStringLiteral("run"),
                                    Cli::tr("Run id the token is bound to (default: none)."),
                                    QStringLiteral("ID"));
    const QCommandLineOption ttlOpt(QStringLiteral("ttl"),
                                    Cli::tr("Lifetime in seconds, 1 to 300 (default 300)."),
                                    QStringLiteral("SECONDS"));
    const QCommandLineOption jsonOpt(QStringLiteral("json"),
                                     Cli::tr("Print {\"token\":...,\"claims\":{...}}."));
    parser.addOptions({toolOpt, scopeOpt, argsOpt, runOpt, ttlOpt, jsonOpt});
    int exitCode = kOk;
    if (!cli.parse(parser, args, QStringLiteral("token mint"),
                   Cli::tr("Mints an approval token for one exact call: this tool, these "
                           "arguments, this run. It runs that call once, within its lifetime.\n"
                           "Exit status: 0 minted, 1 error (e.g. no keychain), 2 usage."),
                   0, &exitCode))
        return exitCode;
    if (!parser.isSet(toolOpt) || !parser.isSet(scopeOpt) || !parser.isSet(argsOpt))
        return cli.error(kUsage, Cli::tr("--tool, --scope and --args are required (see: m1ctl "
                                         "token mint --help)"));
    const auto scope = scopeFromString(parser.value(scopeOpt));
    if (!scope)
        return cli.error(kUsage, Cli::tr("--scope must be read, write or execute, not \"%1\"")
                                     .arg(parser.value(scopeOpt)));
    const auto arguments = cli.parseJsonObject(parser.value(argsOpt), QStringLiteral("args"));
    if (!arguments)
        return cli.error(kUsage, arguments.error());
    qint64 ttl = 0;
    if (parser.isSet(ttlOpt)) {
        bool ok = false;
        ttl = parser.value(ttlOpt).toLongLong(&ok);
        if (!ok || ttl <= 0)
            return cli.error(kUsage, Cli::tr("--ttl must be a whole number of seconds > 0"));
    }

    const ToolRegistry registry = ToolRegistry::withBuiltins();
    const auto spec = registry.spec(parser.value(toolOpt));
    if (!spec)
        return cli.error(kUsage, spec.error());
    if (spec->scope != *scope)
        cli.err() << "m1ctl: "
                  << Cli::tr("warning: %1 needs scope %2; a %3 token will be refused when it runs")
                         .arg(spec->name, scopeToString(spec->scope), scopeToString(*scope))
                  << Qt::endl;

    const auto settings = Services::settings();
    if (!settings)
        return cli.error(kError, settings.error());
    const auto service = Services::tokenService(*settings);
    if (!service)
        return cli.error(kError, service.error());
    const auto token = service->mint(spec->name, *scope, *arguments, parser.value(runOpt), ttl);
    if (!token)
        return cli.error(token.error().code == QLatin1String("token.ttl") ? kUsage : kError,
                         token.error());
    if (parser.isSet(jsonOpt)) {
        const auto claims = service->verify(*token, {});
        QJsonObject o{{QStringLiteral("token"), *token}};
        if (claims)
            o.insert(QStringLiteral("claims"), claims->toJson());
        cli.printJson(o);
    } else {
        cli.out() << *token << Qt::endl;
    }
    return kOk;
}

int tokenVerify(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    cli.addPositional(parser, QStringLiteral("TOKEN"),
                      Cli::tr("The token, or - to read it from standard input."));
    const QCommandLineOption toolOpt(QStringLiteral("tool"),
                                     Cli::tr("Also check the token is for this tool (and its "
                                             "scope)."),
                                     QStringLiteral("NAME"));
    const QCommandLineOption argsOpt(QStringLiteral("args"),
                                     Cli::tr("Also check it approves exactly these arguments."),
                                     QStringLiteral("JSON"));
    const QCommandLineOption runOpt(QStringLiteral("run"),
                                    Cli::tr("Also check it is bound to this run."),
                                    QStringLiteral("ID"));
    const QCommandLineOption jsonOpt(QStringLiteral("json"),
                                     Cli::tr("Print {\"valid\":true,\"claims\":{...}} or "
                                             "{\"valid\":false,\"code\":...,\"reason\":...}."));
    parser.addOptions({toolOpt, argsOpt, runOpt, jsonOpt});
    int exitCode = kOk;
    if (!cli.parse(parser, args, QStringLiteral("token verify"),
                   Cli::tr("Verifies an approval token: signature, lifetime, issuer, and that it "
                           "was neither consumed nor revoked; with --tool/--args/--run also that "
                           "it covers that exact call.\n"
                           "Exit status: 0 valid, 3 refused (the reason is printed), 1 error, "
                           "2 usage."),
                   1, &exitCode))
        return exitCode;
    if (parser.positionalArguments().isEmpty())
        return cli.error(kUsage, Cli::tr("TOKEN is required (see: m1ctl token verify --help)"));
    const QString token = tokenArgument(cli, parser.positionalArguments().first());
    if (token.isEmpty())
        return cli.error(kUsage,
                         Cli::tr("no token given: the argument or standard input is empty"));

    TokenService::Expectation expectation;
    if (parser.isSet(toolOpt)) {
        expectation.toolName = parser.value(toolOpt);
        const ToolRegistry registry = ToolRegistry::withBuiltins();
        if (const auto spec = registry.spec(parser.value(toolOpt)))
            expectation.scope = spec->scope;
        else
            return cli.error(kUsage, spec.error());
    }
    if (parser.isSet(argsOpt)) {
        const auto arguments = cli.parseJsonObject(parser.value(argsOpt), QStringLiteral("args"));
        if (!arguments)
            return cli.error(kUsage, arguments.error());
        expectation.arguments = *arguments;
    }
    if (parser.isSet(runOpt))
        expectation.runId = parser.value(runOpt);

    const auto settings = Services::settings();
    if (!settings)
        return cli.error(kError, settings.error());
    const auto service = Services::tokenService(*settings);
    if (!service)
        return cli.error(kError, service.error());
    const auto ledger = Services::ledger(cli.database());
    if (!ledger)
        return cli.error(kError, ledger.error());

    const auto claims = service->verify(token, expectation, ledger->get());
    const bool json = parser.isSet(jsonOpt);
    if (!claims) {
        if (json) {
            cli.printJson({{QStringLiteral("valid"), false},
                           {QStringLiteral("code"), claims.error().code},
                           {QStringLiteral("reason"), claims.error().message}});
            return kRefused;
        }
        // The refusal already says "Approval token ... refused (code): reason".
        return cli.error(kRefused, claims.error());
    }
    if (json) {
        cli.printJson(
            {{QStringLiteral("valid"), true}, {QStringLiteral("claims"), claims->toJson()}});
        return kOk;
    }
    const auto when = [](qint64 seconds) {
        return QDateTime::fromSecsSinceEpoch(seconds).toUTC().toString(Qt::ISODate);
    };
    QTextStream& out = cli.out();
    out << Cli::tr("valid") << '\n';
    out << "  toolName    " << claims->toolName << '\n';
    out << "  scope       " << scopeToString(claims->scope) << '\n';
    out << "  runId       " << (claims->runId.isEmpty() ? QStringLiteral("-") : claims->runId)
        << '\n';
    out << "  argsSha256  " << claims->argsSha256 << '\n';
    out << "  jti         " << claims->jti << '\n';
    out << "  issued      " << when(claims->iat) << '\n';
    const qint64 left = claims->exp - service->now();
    out << "  expires     " << when(claims->exp);
    if (left >= 0)
        out << Cli::tr(" (in %1 s)").arg(left);
    else
        out << Cli::tr(" (%1 s ago; still accepted for %2 s within the %3 s clock leeway)")
                   .arg(-left)
                   .arg(service->options().leewaySeconds + left)
                   .arg(service->options().leewaySeconds);
    out << Qt::endl;
    return kOk;
}

int tokenRevoke(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    cli.addPositional(parser, QStringLiteral("TOKEN_OR_JTI"),
                      Cli::tr("A token (- reads it from standard input) or its jti."));
    int exitCode = kOk;
    if (!cli.parse(parser, args, QStringLiteral("token revoke"),
                   Cli::tr("Revokes an approval token so it can never run. Revocation is "
                           "permanent and survives restarts.\n"
                           "Exit status: 0 revoked, 3 the token's signature does not verify, "
                           "1 error, 2 usage."),
                   1, &exitCode))
        return exitCode;
    if (parser.positionalArguments().isEmpty())
        return cli.error(kUsage,
                         Cli::tr("TOKEN_OR_JTI is required (see: m1ctl token revoke --help)"));
    const QString value = tokenArgument(cli, parser.positionalArguments().first());
    if (value.isEmpty())
        return cli.error(kUsage,
                         Cli::tr("no token or jti given: the argument or standard input is empty"));

    const auto settings = Services::settings();
    if (!settings)
        return cli.error(kError, settings.error());
    static const QRegularExpression uuid(
        QStringLiteral("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"));
    QString jti;
    qint64 expiresAt = 0;
    if (uuid.match(value).hasMatch()) {
        jti = value;
    } else {
        const auto service = Services::tokenService(*settings);
        if (!service)
            return cli.error(kError, service.error());
        const auto parsed = service->jtiOf(value);
        if (!parsed)
            return cli.error(
                parsed.error().code == QLatin1String("token.signature") ? kRefused : kUsage,
                Error{parsed.error().code, Cli::tr("not a jti, and not a token signed here: %1")
                                               .arg(parsed.error().message)});
        jti = *parsed;
    }
    // A jti without its token: keep the entry for longer than any token can live.
    expiresAt = QDateTime::currentSecsSinceEpoch() + 3600;
    const auto ledger = Services::ledger(cli.database());
    if (!ledger)
        return cli.error(kError, ledger.error());
    if (auto revoked = (*ledger)->revoke(jti, expiresAt); !revoked)
        return cli.error(kError, revoked.error());
    cli.out() << Cli::tr("revoked %1").arg(jti) << Qt::endl;
    return kOk;
}

} // namespace

int runToken(Cli& cli, const QStringList& args) {
    return cli.dispatch(
        QStringLiteral("token"), args,
        {
            {QStringLiteral("mint"), Cli::tr("mint an approval token for one exact call"),
             &tokenMint},
            {QStringLiteral("verify"),
             Cli::tr("verify a token (and optionally the call it covers)"), &tokenVerify},
            {QStringLiteral("revoke"), Cli::tr("revoke a token or jti for good"), &tokenRevoke},
        },
        Cli::Database::Optional);
}

} // namespace m1::cli
