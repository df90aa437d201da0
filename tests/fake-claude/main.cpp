// m1-fake-claude: the test suite's fake Claude server as a program, for manual runs and demos.
//   m1-fake-claude --port N --scenario FILE
// Listens on 127.0.0.1 only and prints its base URL on stdout.
#include "FakeClaudeServer.h"
#include "SseScript.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("m1-fake-claude"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Fake Claude Messages API on loopback."));
    parser.addHelpOption();
    parser.addOption({QStringLiteral("port"), QStringLiteral("TCP port (0 = any free)."),
                      QStringLiteral("N"), QStringLiteral("0")});
    parser.addOption({QStringLiteral("scenario"), QStringLiteral("Scenario JSON file."),
                      QStringLiteral("FILE")});
    parser.process(app);

    QTextStream err(stderr);
    m1::test::FakeClaudeServer server;
    if (parser.isSet(QStringLiteral("scenario"))) {
        QFile f(parser.value(QStringLiteral("scenario")));
        if (!f.open(QIODevice::ReadOnly)) {
            err << "m1-fake-claude: cannot read " << f.fileName() << '\n';
            return 2;
        }
        QJsonParseError parseError;
        const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &parseError);
        QString error;
        if (!doc.isObject() ||
            !server.loadScenario(doc.object(), QFileInfo(f).absolutePath(), &error)) {
            err << "m1-fake-claude: invalid scenario: "
                << (error.isEmpty() ? parseError.errorString() : error) << '\n';
            return 2;
        }
    } else {
        server.setRepeatLast(true);
        server.enqueue(m1::test::FakeClaudeServer::Reply::stream(
            m1::test::SseScript::textTurn(QStringLiteral("Hello from the fake."))));
    }
    if (!server.listen(quint16(parser.value(QStringLiteral("port")).toUInt()))) {
        err << "m1-fake-claude: cannot listen\n";
        return 1;
    }
    QTextStream(stdout) << server.url().toString() << Qt::endl;
    QObject::connect(&server, &m1::test::FakeClaudeServer::requestReceived, [&server, &err] {
        const auto& r = server.requests().last();
        err << r.method << ' ' << r.target << " (" << r.body.size() << " bytes)" << Qt::endl;
    });
    return app.exec();
}
