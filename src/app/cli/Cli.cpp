#include "cli/Cli.h"

#include <QFile>
#include <QJsonDocument>

#include <algorithm>
#include <climits>
#include <cstdio>

namespace m1::cli {

Cli::Cli() : m_out(stdout), m_err(stderr) {}

int Cli::report(int code, const QString& errorCode, const QString& message) {
    QString line = message;
    line.replace(QLatin1Char('\n'), QLatin1Char(' '));
    if (m_jsonErrors) {
        m_out << QJsonDocument(QJsonObject{{QStringLiteral("error"),
                                            QJsonObject{{QStringLiteral("code"), errorCode},
                                                        {QStringLiteral("message"), line}}}})
                     .toJson(QJsonDocument::Compact)
              << '\n';
        m_out.flush();
    }
    m_err << "m1ctl: " << line << Qt::endl;
    return code;
}

int Cli::error(int code, const QString& message) {
    QString errorCode;
    switch (code) {
    case kUsage:
        errorCode = QStringLiteral("cli.usage");
        break;
    case kRefused:
        errorCode = QStringLiteral("cli.refused");
        break;
    default:
        errorCode = QStringLiteral("cli.error");
        break;
    }
    return report(code, errorCode, message);
}

int Cli::error(int code, const Error& e) {
    // The stable code once, at the end, unless the message already names it.
    QString message = e.toString();
    if (!e.code.isEmpty() && !e.message.isEmpty() && !e.message.contains(e.code))
        message += QStringLiteral(" [%1]").arg(e.code);
    return report(code, e.code.isEmpty() ? QStringLiteral("cli.error") : e.code, message);
}

int Cli::dispatch(const QString& group, const QStringList& args, const QList<SubCommand>& commands,
                  Database database) {
    const QString sub = args.value(0);
    for (const SubCommand& command : commands) {
        if (command.name == sub)
            return command.run(*this, args.mid(1));
    }
    if (sub.isEmpty() || sub == QLatin1String("--help") || sub == QLatin1String("-h")) {
        QStringList names;
        qsizetype width = 0;
        for (const SubCommand& command : commands) {
            names.append(command.name);
            width = std::max(width, command.name.size());
        }
        QString text =
            tr("Usage: m1ctl %1%2 %3 [options]\n\n")
                .arg(database == Database::Required   ? QStringLiteral("--db PATH_OR_URL ")
                     : database == Database::Optional ? QStringLiteral("[--db PATH_OR_URL] ")
                                                      : QString(),
                     group, names.join(QLatin1Char('|')));
        for (const SubCommand& command : commands)
            text += QStringLiteral("  %1  %2\n")
                        .arg(command.name.leftJustified(width), command.summary);
        text += tr("\nRun m1ctl %1 COMMAND --help for the options.\n").arg(group);
        m_out << text;
        m_out.flush();
        if (sub.isEmpty())
            return error(kUsage, tr("%1 needs a command (see above)").arg(group));
        return kOk;
    }
    return error(kUsage, tr("unknown command \"%1 %2\" (see: m1ctl %1 --help)").arg(group, sub));
}

QString Cli::counted(const char* sourceText, qint64 n) {
    QString text = tr(sourceText, nullptr, int(std::clamp<qint64>(n, INT_MIN, INT_MAX)));
    text.replace(QLatin1String("%n"), QString::number(n)); // beyond int
    text.replace(QLatin1String("(es)"), n == 1 ? QString() : QStringLiteral("es"));
    text.replace(QLatin1String("(s)"), n == 1 ? QString() : QStringLiteral("s"));
    return text;
}

void Cli::addPositional(QCommandLineParser& parser, const QString& name,
                        const QString& description) {
    parser.addPositionalArgument(name, description);
    m_positionals.append({name, description});
}

QString Cli::helpText(const QCommandLineParser& parser, const QString& command) const {
    QString text = parser.helpText();
    // Qt names the program by its full path and leaves out the command words.
    const qsizetype firstLineEnd = text.indexOf(QLatin1Char('\n'));
    const QString usage = text.left(firstLineEnd);
    const qsizetype options = usage.indexOf(QLatin1String(" [options]"));
    if (usage.startsWith(QLatin1String("Usage: ")) && options > 0)
        text.replace(0, options, QStringLiteral("Usage: m1ctl %1").arg(command));
    // Qt wraps an argument name longer than the option names ("TOKEN_OR_JT" / "I"): the
    // arguments are listed here instead, in the options' column when they fit.
    const qsizetype arguments = text.indexOf(QLatin1String("\nArguments:\n"));
    if (arguments >= 0 && !m_positionals.isEmpty()) {
        text.truncate(arguments);
        qsizetype column = 0;
        const qsizetype helpAt = text.indexOf(QLatin1String("--help"));
        if (helpAt >= 0) {
            const qsizetype lineStart = text.lastIndexOf(QLatin1Char('\n'), helpAt) + 1;
            qsizetype i = helpAt + 6;
            while (i < text.size() && text.at(i) == QLatin1Char(' '))
                ++i;
            column = i - lineStart;
        }
        for (const auto& [name, description] : m_positionals)
            column = std::max(column, name.size() + 4);
        text += QStringLiteral("\nArguments:\n");
        for (const auto& [name, description] : m_positionals)
            text += (QStringLiteral("  ") + name).leftJustified(column) + description +
                    QLatin1Char('\n');
    }
    return text;
}

bool Cli::parse(QCommandLineParser& parser, const QStringList& arguments, const QString& command,
                const QString& description, int maxPositional, int* exitCode) {
    parser.setApplicationDescription(description);
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")},
                                  tr("Show this help."));
    parser.addOption(help);
    QStringList withProgram = arguments;
    withProgram.prepend(QStringLiteral("m1ctl %1").arg(command));
    const bool parsed = parser.parse(withProgram);
    // Errors as JSON on stdout too when the command was asked for JSON.
    m_jsonErrors = parser.optionNames().contains(QLatin1String("json"));
    if (!parsed) {
        QString hint;
        for (const QString& argument : arguments) {
            if (argument == QLatin1String("--db") || argument.startsWith(QLatin1String("--db="))) {
                hint = tr("; --db goes before the command: m1ctl --db PATH_OR_URL %1 ...")
                           .arg(command);
                break;
            }
        }
        *exitCode =
            error(kUsage, tr("%1 (see: m1ctl %2 --help)%3").arg(parser.errorText(), command, hint));
        return false;
    }
    if (parser.isSet(help)) {
        m_out << helpText(parser, command);
        m_out.flush();
        *exitCode = kOk;
        return false;
    }
    if (parser.positionalArguments().size() > maxPositional) {
        *exitCode =
            error(kUsage, tr("unexpected argument \"%1\" (see: m1ctl %2 --help)")
                              .arg(parser.positionalArguments().value(maxPositional), command));
        return false;
    }
    return true;
}

Result<QJsonObject> Cli::parseJsonObject(const QString& text, const QString& optionName) {
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8(), &parseError);
    // Qt parses only objects and arrays at the top: a lone value (null, 3, "x") is valid JSON
    // that is not an object, not a syntax error.
    QJsonParseError asElement;
    const bool isValue = parseError.error != QJsonParseError::NoError &&
                         (QJsonDocument::fromJson("[" + text.toUtf8() + "]", &asElement),
                          asElement.error == QJsonParseError::NoError);
    if (parseError.error != QJsonParseError::NoError && !isValue)
        return fail(QStringLiteral("cli.json"), tr("--%1 is not valid JSON: %2 at character %3")
                                                    .arg(optionName, parseError.errorString())
                                                    .arg(parseError.offset));
    if (!doc.isObject())
        return fail(
            QStringLiteral("cli.json"),
            tr("--%1 must be a JSON object, e.g. '{\"path\":\"README.md\"}'").arg(optionName));
    return doc.object();
}

QByteArray Cli::readStdin(qint64 maxBytes) {
    QFile in;
    if (!in.open(stdin, QIODevice::ReadOnly))
        return {};
    return in.read(maxBytes);
}

void Cli::printJson(const QJsonObject& object) {
    m_out << QJsonDocument(object).toJson(QJsonDocument::Compact) << '\n';
    m_out.flush();
}

} // namespace m1::cli
