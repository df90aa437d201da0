#include "Bench.h"

#include "Version.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#ifdef M1_BENCH_GUI
#include <QApplication>
#endif
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTextStream>
#include <QThread>

#include <cstdio>

using namespace m1::bench;

namespace {

QJsonValue number(double v) {
    return QJsonValue(v);
}

QJsonObject toJson(const Result& r, const QHash<QString, Result>& byName) {
    QJsonObject o{{QStringLiteral("name"), r.name},
                  {QStringLiteral("unit"), r.unit},
                  {QStringLiteral("n"), r.n},
                  {QStringLiteral("p50"), number(r.p50)},
                  {QStringLiteral("p99"), number(r.p99)}};
    if (!r.baseline.isEmpty() && byName.contains(r.baseline)) {
        const Result& base = byName.value(r.baseline);
        double ratio = 0;
        if (r.unit == QLatin1String("MB/s"))
            ratio = r.p50 > 0 ? base.p50 / r.p50 : 0;
        else
            ratio = base.p50 > 0 ? r.p50 / base.p50 : 0;
        o.insert(QStringLiteral("baseline"), r.baseline);
        o.insert(QStringLiteral("ratio"), qRound(ratio * 1000) / 1000.0);
    } else {
        o.insert(QStringLiteral("baseline"), QJsonValue::Null);
        o.insert(QStringLiteral("ratio"), QJsonValue::Null);
    }
    o.insert(QStringLiteral("target"), r.target.isEmpty() ? QJsonValue() : QJsonValue(r.target));
    for (auto it = r.extra.begin(); it != r.extra.end(); ++it)
        o.insert(it.key(), it.value());
    return o;
}

} // namespace

int main(int argc, char** argv) {
#ifdef M1_BENCH_GUI
    // The widget benchmarks need a QApplication; without a display they render offscreen.
    if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
#else
    QCoreApplication app(argc, argv);
#endif
    QCoreApplication::setApplicationName(QStringLiteral("m1-bench"));
    QCoreApplication::setApplicationVersion(QString::fromLatin1(m1::kVersion));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Runs M1 Agent Control's benchmarks with fixed workloads.\n"
                       "Prints a table, or one JSON object with --json. Progress goes to stderr."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption({QStringLiteral("json"), QStringLiteral("Print one JSON object.")});
    parser.addOption({QStringLiteral("filter"),
                      QStringLiteral("Run only benchmarks whose name matches REGEX."),
                      QStringLiteral("REGEX")});
    parser.addOption({QStringLiteral("list"), QStringLiteral("Print the benchmark names.")});
    parser.process(app);

    QTextStream out(stdout);
    QTextStream err(stderr);
    if (parser.isSet(QStringLiteral("list"))) {
        for (const Benchmark& b : registry())
            out << b.name << '\n';
        return 0;
    }
    const QRegularExpression filter(parser.value(QStringLiteral("filter")));
    if (!filter.isValid()) {
        err << "m1-bench: invalid --filter: " << filter.errorString() << '\n';
        return 2;
    }

    QList<Result> results;
    for (const Benchmark& b : registry()) {
        if (!filter.pattern().isEmpty() && !filter.match(b.name).hasMatch())
            continue;
        err << "running " << b.name << " ..." << Qt::endl;
        const QList<Result> rs = b.run();
        for (const Result& r : rs) {
            if (!filter.pattern().isEmpty() && !filter.match(r.name).hasMatch() &&
                !filter.match(b.name).hasMatch())
                continue;
            results.append(r);
        }
    }

    QHash<QString, Result> byName;
    for (const Result& r : results)
        byName.insert(r.name, r);

    QJsonArray array;
    for (const Result& r : results)
        array.append(toJson(r, byName));

    if (parser.isSet(QStringLiteral("json"))) {
#ifdef NDEBUG
        const QString build = QStringLiteral("Release");
#else
        const QString build = QStringLiteral("Debug");
#endif
        QJsonObject machine{{QStringLiteral("cpus"), QThread::idealThreadCount()},
                            {QStringLiteral("build"), build},
                            {QStringLiteral("qt"), QString::fromLatin1(qVersion())}};
        QJsonObject root{{QStringLiteral("machine"), machine},
                         {QStringLiteral("benchmarks"), array}};
        out << QJsonDocument(root).toJson(QJsonDocument::Compact) << '\n';
        return 0;
    }

    out << QStringLiteral("%1 %2 %3 %4 %5 %6 %7\n")
               .arg(QStringLiteral("name"), -40)
               .arg(QStringLiteral("unit"), -5)
               .arg(QStringLiteral("n"), 9)
               .arg(QStringLiteral("p50"), 12)
               .arg(QStringLiteral("p99"), 12)
               .arg(QStringLiteral("ratio"), 7)
               .arg(QStringLiteral("target"));
    for (const QJsonValue& v : array) {
        const QJsonObject o = v.toObject();
        const QString ratio = o.value(QStringLiteral("ratio")).isNull()
                                  ? QStringLiteral("-")
                                  : QString::number(o.value(QStringLiteral("ratio")).toDouble());
        out << QStringLiteral("%1 %2 %3 %4 %5 %6 %7\n")
                   .arg(o.value(QStringLiteral("name")).toString(), -40)
                   .arg(o.value(QStringLiteral("unit")).toString(), -5)
                   .arg(o.value(QStringLiteral("n")).toInteger(), 9)
                   .arg(o.value(QStringLiteral("p50")).toDouble(), 12, 'f', 1)
                   .arg(o.value(QStringLiteral("p99")).toDouble(), 12, 'f', 1)
                   .arg(ratio, 7)
                   .arg(o.value(QStringLiteral("target")).toString());
    }
    return 0;
}
