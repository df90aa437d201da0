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

class Cli {
    Q_DECLARE_TR_FUNCTIONS(Cli)
public:
    Cli();

    QTextStream& out() { return m_out; }
    QTextStream& err() { return m_err; }

    // One clear line on stderr: "m1ctl: <message>".
    int error(int code, const QString& message);
    int error(int code, const Error& error);

    // Parses `arguments` (argv without "m1ctl" and the command words) with the parser; handles
    // --help (prints the command's help, returns kOk through *exitCode) and reports unknown
    // options and stray positional arguments as usage errors.
    bool parse(QCommandLineParser& parser, const QStringList& arguments, const QString& command,
               const QString& description, int maxPositional, int* exitCode);

    // A JSON object given on the command line (--args): clear usage errors otherwise.
    Result<QJsonObject> parseJsonObject(const QString& text, const QString& optionName);

    // Reads standard input (for secrets and tokens that must not sit on the command line).
    QByteArray readStdin(qint64 maxBytes);

    void printJson(const QJsonObject& object);

    // The global --db PATH_OR_URL ("" = the default audit database in the data folder).
    void setDatabase(const QString& location) { m_database = location; }
    const QString& database() const { return m_database; }

private:
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
