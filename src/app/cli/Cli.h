#pragma once

#include "util/Error.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonObject>
#include <QStringList>
#include <QTextStream>

namespace m1::cli {

// Exit statuses, documented in `m1ctl --help`.
enum ExitCode {
    kOk = 0,         // success; policy allows; token valid
    kError = 1,      // could not do it (keychain, file, database, tool failed to start)
    kUsage = 2,      // bad command line
    kRefused = 3,    // policy denies; token refused; approval missing
    kAsk = 4,        // policy check: a person must approve
    kToolFailed = 5, // tool exec: the tool ran and reported failure
};

class Cli;

// One sub-command of a command group ("history list"): its word, a one-line summary for the
// group's help, and the function that runs it with the arguments after the word.
struct SubCommand {
    QString name;
    QString summary;
    int (*run)(Cli& cli, const QStringList& args);
};

class Cli {
    Q_DECLARE_TR_FUNCTIONS(Cli)
public:
    Cli();

    QTextStream& out() { return m_out; }
    QTextStream& err() { return m_err; }

    // One clear line on stderr: "m1ctl: <message>"; an Error ends with its stable code in
    // brackets ("m1ctl: <message> [store.readonly]"). When the command was given --json, the
    // same error also goes to stdout as {"error":{"code":...,"message":...}} (usage errors:
    // code "cli.usage").
    int error(int code, const QString& message);
    int error(int code, const Error& error);

    // Runs the sub-command of group named by args[0] with the rest of args; "--help" (or no
    // sub-command: usage error) prints the group's sub-commands; an unknown word is a usage
    // error. database: whether the group uses the store given by the global --db, and whether
    // --db must be given (shown in the group's usage line).
    enum class Database { None, Optional, Required };
    int dispatch(const QString& group, const QStringList& args, const QList<SubCommand>& commands,
                 Database database);

    // Parses `arguments` (argv without "m1ctl" and the command words) with the parser; handles
    // --help (prints the command's help, returns kOk through *exitCode) and reports unknown
    // options and stray positional arguments as usage errors.
    bool parse(QCommandLineParser& parser, const QStringList& arguments, const QString& command,
               const QString& description, int maxPositional, int* exitCode);

    // parser.addPositionalArgument, remembered so that --help lists the argument unwrapped.
    void addPositional(QCommandLineParser& parser, const QString& name, const QString& description);

    // A count in words: sourceText has %n and "(s)" or "(es)" (mark it with QT_TR_NOOP), e.g.
    // "%n run(s)". It goes through tr() with n; m1ctl loads no catalogue, so the English plural
    // is chosen here: "1 run", "2 runs".
    static QString counted(const char* sourceText, qint64 n);

    // A JSON object given on the command line (--args): clear usage errors otherwise.
    Result<QJsonObject> parseJsonObject(const QString& text, const QString& optionName);

    // Reads standard input (for secrets and tokens that must not sit on the command line).
    QByteArray readStdin(qint64 maxBytes);

    void printJson(const QJsonObject& object);

    // The global --db PATH_OR_URL ("" = the default audit database in the data folder).
    void setDatabase(const QString& location) { m_database = location; }
    const QString& database() const { return m_database; }

private:
    int report(int code, const QString& errorCode, const QString& message);
    QString helpText(const QCommandLineParser& parser, const QString& command) const;

    QList<QPair<QString, QString>> m_positionals;
    bool m_jsonErrors = false;
    QString m_database;
    QTextStream m_out;
    QTextStream m_err;
};

int runPolicy(Cli& cli, const QStringList& args);
int runToken(Cli& cli, const QStringList& args);
int runTool(Cli& cli, const QStringList& args);
int runSecret(Cli& cli, const QStringList& args);
// Each in its own file under cli/ (HistoryCommand.cpp, ...).
int runHistory(Cli& cli, const QStringList& args);
int runExport(Cli& cli, const QStringList& args);
int runMetrics(Cli& cli, const QStringList& args);
int runAudit(Cli& cli, const QStringList& args);
int runDev(Cli& cli, const QStringList& args);
int runRun(Cli& cli, const QStringList& args);
int runAlerts(Cli& cli, const QStringList& args);

} // namespace m1::cli
