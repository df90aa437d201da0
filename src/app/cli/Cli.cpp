#include "cli/Cli.h"

#include <QFile>
#include <QJsonDocument>

#include <cstdio>

namespace m1::cli {

Cli::Cli() : m_out(stdout), m_err(stderr) {}

int Cli::error(int code, const QString& message) {
    QString line = message;
    line.replace(QLatin1Char('\n'), QLatin1Char(' '));
    m_err << "m1ctl: " << line << Qt::endl;
    return code;
}

int Cli::error(int code, const Error& e) {
    return error(code, e.toString());
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
    if (!parser.parse(withProgram)) {
        *exitCode = error(kUsage, tr("%1 (see: m1ctl %2 --help)").arg(parser.errorText(), command));
        return false;
    }
    if (parser.isSet(help)) {
        QString text = parser.helpText();
        text.replace(QStringLiteral("Usage: m1ctl %1").arg(command),
                     QStringLiteral("Usage: m1ctl %1").arg(command));
        m_out << text;
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
    if (parseError.error != QJsonParseError::NoError)
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
