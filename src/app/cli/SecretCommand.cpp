#include "cli/Cli.h"

#include "config/SecretStore.h"

namespace m1::cli {

namespace {

int secretStatus(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    int exitCode = kOk;
    if (!cli.parse(parser, args, QStringLiteral("secret status"),
                   Cli::tr("Says where the JWT secret and the API key come from, without showing "
                           "them. Exit status 0 when the JWT secret is usable, 1 otherwise."),
                   0, &exitCode))
        return exitCode;
    const bool jwtFromEnv = !qEnvironmentVariableIsEmpty("M1_JWT_SECRET");
    const auto jwt = SecretStore::jwtSecret();
    if (jwt)
        cli.out() << Cli::tr("JWT secret: usable (%1)")
                         .arg(jwtFromEnv ? Cli::tr("from M1_JWT_SECRET")
                                         : Cli::tr("from the keychain"))
                  << '\n';
    else
        cli.out() << Cli::tr("JWT secret: not usable: %1").arg(jwt.error().message) << '\n';
    const bool keyFromEnv = !qEnvironmentVariableIsEmpty("ANTHROPIC_API_KEY");
    const auto key = SecretStore::apiKey();
    if (key)
        cli.out() << Cli::tr("API key: configured (%1)")
                         .arg(keyFromEnv ? Cli::tr("from ANTHROPIC_API_KEY")
                                         : Cli::tr("from the keychain"))
                  << '\n';
    else
        cli.out() << Cli::tr("API key: not configured: %1").arg(key.error().message) << '\n';
    cli.out().flush();
    return jwt ? kOk : kError;
}

int secretRotate(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    int exitCode = kOk;
    if (!cli.parse(parser, args, QStringLiteral("secret rotate-jwt"),
                   Cli::tr("Replaces the JWT secret in the keychain with 32 new random bytes. "
                           "Every outstanding approval token stops verifying. If the keychain "
                           "write fails, the old secret stays."),
                   0, &exitCode))
        return exitCode;
    if (!qEnvironmentVariableIsEmpty("M1_JWT_SECRET"))
        return cli.error(kError, Cli::tr("M1_JWT_SECRET is set and overrides the keychain; "
                                         "change that variable instead."));
    if (auto rotated = SecretStore::rotateJwtSecret(); !rotated)
        return cli.error(kError, rotated.error());
    cli.out() << Cli::tr("JWT secret rotated; outstanding approval tokens are void.") << Qt::endl;
    return kOk;
}

int secretSetApiKey(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    int exitCode = kOk;
    if (!cli.parse(parser, args, QStringLiteral("secret set-api-key"),
                   Cli::tr("Reads an Anthropic API key from standard input and stores it in the "
                           "OS keychain (never on the command line, never in a file)."),
                   0, &exitCode))
        return exitCode;
    const QString key = QString::fromUtf8(cli.readStdin(4096)).trimmed();
    if (key.isEmpty())
        return cli.error(kUsage, Cli::tr("no key on standard input"));
    if (auto stored = SecretStore::setApiKey(key); !stored)
        return cli.error(kError, stored.error());
    cli.out() << Cli::tr("API key stored in the keychain.") << Qt::endl;
    return kOk;
}

int secretDeleteApiKey(Cli& cli, const QStringList& args) {
    QCommandLineParser parser;
    int exitCode = kOk;
    if (!cli.parse(parser, args, QStringLiteral("secret delete-api-key"),
                   Cli::tr("Removes the API key from the OS keychain."), 0, &exitCode))
        return exitCode;
    if (auto deleted = SecretStore::deleteApiKey(); !deleted)
        return cli.error(kError, deleted.error());
    cli.out() << Cli::tr("API key removed from the keychain.") << Qt::endl;
    return kOk;
}

} // namespace

int runSecret(Cli& cli, const QStringList& args) {
    return cli.dispatch(
        QStringLiteral("secret"), args,
        {
            {QStringLiteral("status"), Cli::tr("where the secrets come from (never their values)"),
             &secretStatus},
            {QStringLiteral("rotate-jwt"), Cli::tr("new JWT secret; voids outstanding tokens"),
             &secretRotate},
            {QStringLiteral("set-api-key"),
             Cli::tr("store the API key (read from stdin) in the keychain"), &secretSetApiKey},
            {QStringLiteral("delete-api-key"), Cli::tr("remove the API key from the keychain"),
             &secretDeleteApiKey},
        },
        Cli::Database::None);
}

} // namespace m1::cli
