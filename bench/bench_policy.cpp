#include "Bench.h"

#include "policy/PolicyEngine.h"
#include "policy/PolicyRules.h"
#include "tools/ToolRegistry.h"
#include "tools/Workspace.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>

using namespace m1;

namespace {

// 1,000 rules in the proportions a large team policy might have: mostly command rules (many
// programs, a few wildcard programs), path rules spread over many folders, a few `**/` rules.
QByteArray thousandRules() {
    QJsonArray allow, ask, deny;
    int count = 0;
    for (int i = 0; i < 150; ++i, ++count)
        allow.append(QStringLiteral("read_file(src/module%1/**)").arg(i));
    for (int i = 0; i < 60; ++i, ++count)
        allow.append(QStringLiteral("write_file(docs/section%1/*.md)").arg(i));
    for (int i = 0; i < 60; ++i, ++count)
        deny.append(QStringLiteral("read_file(secrets%1/**)").arg(i));
    for (int i = 0; i < 30; ++i, ++count)
        ask.append(QStringLiteral("edit_file(config/app%1.json)").arg(i));
    for (const char* r : {"read_file(**/*.pem)", "read_file(**/.env)", "write_file(**/*.lock)",
                          "read_file(**/id_rsa*)"}) {
        deny.append(QString::fromLatin1(r));
        ++count;
    }
    for (int i = 0; i < 200; ++i, ++count)
        allow.append(QStringLiteral("run_command(npm run task%1*)").arg(i));
    for (int i = 0; i < 150; ++i, ++count)
        allow.append(QStringLiteral("run_command(make target%1)").arg(i));
    for (int i = 0; i < 100; ++i, ++count)
        ask.append(QStringLiteral("run_command(docker compose -p proj%1 *)").arg(i));
    for (int i = 0; i < 100; ++i, ++count)
        deny.append(QStringLiteral("run_command(rm -rf dir%1*)").arg(i));
    for (const char* r :
         {"run_command(git status*)", "run_command(git log *)", "run_command(git diff *)",
          "run_command(ls *)", "run_command(cat *)", "run_command(sh -c *)",
          "run_command(git push*)", "run_command(curl)", "run_command(rm -rf *)",
          "run_command(*-dangerous *)", "list_directory"}) {
        if (QByteArray(r).contains("push"))
            ask.append(QString::fromLatin1(r));
        else if (QByteArray(r).contains("curl") || QByteArray(r).contains("rm -rf") ||
                 QByteArray(r).contains("dangerous"))
            deny.append(QString::fromLatin1(r));
        else
            allow.append(QString::fromLatin1(r));
        ++count;
    }
    for (int i = 0; count < 1000; ++i, ++count)
        allow.append(QStringLiteral("run_command(python3 -m tool%1 *)").arg(i));
    const QJsonObject root{{QStringLiteral("allow"), allow},
                           {QStringLiteral("ask"), ask},
                           {QStringLiteral("deny"), deny}};
    return QJsonDocument(root).toJson();
}

QJsonObject command(const QStringList& argv) {
    return QJsonObject{{QStringLiteral("argv"), QJsonArray::fromStringList(argv)}};
}

QList<bench::Result> run() {
    QTemporaryDir dir;
    const QDir root(dir.path());
    for (const char* file : {"src/module42/a.cpp", "src/module7/sub/b.cpp", "docs/section3/x.md",
                             "secrets5/key", "README.md", "config/app3.json"}) {
        const QString path = root.filePath(QString::fromLatin1(file));
        root.mkpath(QFileInfo(path).path());
        QFile f(path);
        if (f.open(QIODevice::WriteOnly))
            f.write("x\n");
    }
    auto workspace = Workspace::open(dir.path());
    auto rules = PolicyRules::parse(thousandRules(), QStringLiteral("bench-rules.json"));
    if (!workspace || !rules || rules->rules().size() != 1000)
        qFatal("bench_policy: setup failed");
    const ToolRegistry registry = ToolRegistry::withBuiltins();
    const PolicyEngine engine(registry, *workspace, {}, *rules);

    auto call = [](const char* tool, const QJsonObject& args) {
        return ToolCall{QStringLiteral("id"), QStringLiteral("run"), QString::fromLatin1(tool),
                        args};
    };
    const QList<ToolCall> calls = {
        call("read_file", {{"path", "src/module42/a.cpp"}}),
        call("read_file", {{"path", "src/module7/sub/b.cpp"}}),
        call("read_file", {{"path", "secrets5/key"}}),
        call("read_file", {{"path", "README.md"}}),
        call("write_file", {{"path", "docs/section3/x.md"}, {"content", "y"}}),
        call("list_directory", {{"path", "src"}}),
        call("run_command", command({"git", "status"})),
        call("run_command", command({"npm", "run", "task150", "--", "--watch"})),
        call("run_command", command({"make", "target99"})),
        call("run_command", command({"rm", "-fr", "dir42"})),
        call("run_command", command({"sudo", "rm", "-rf", "/"})),
        call("run_command", command({"sh", "-c", "git status && make target3 | cat"})),
        call("run_command", command({"git", "push", "origin", "main"})),
        call("run_command", command({"cat", "src/module42/a.cpp"})),
    };
    const RunState state;
    qsizetype next = 0;
    bench::Result r =
        bench::measureEachNs(QStringLiteral("policy_evaluate_1000_rules"), 20000, [&] {
            const PolicyDecision d = engine.evaluate(calls[next], state);
            bench::doNotOptimize(d.kind);
            next = (next + 1) % calls.size();
        });
    r.target = QStringLiteral("p99 < 10000 ns");
    // The median of each call on its own, to see which kind of call costs what.
    QJsonObject perCall;
    for (qsizetype i = 0; i < calls.size(); ++i) {
        const bench::Result one = bench::measureEachNs(QStringLiteral("one"), 2000, [&] {
            bench::doNotOptimize(engine.evaluate(calls[i], state).kind);
        });
        perCall.insert(QStringLiteral("%1 %2").arg(
                           calls[i].toolName,
                           QString::fromUtf8(
                               QJsonDocument(calls[i].arguments).toJson(QJsonDocument::Compact))),
                       one.p50);
    }
    r.extra.insert(QStringLiteral("p50_by_call"), perCall);
    r.extra.insert(QStringLiteral("rules"), 1000);
    r.extra.insert(QStringLiteral("distinct_calls"), static_cast<int>(calls.size()));
    // The rule matching alone (no file system, schema or analysis): what 1,000 rules cost.
    const RuleIndex index(rules->rules());
    const QStringList readTools = {QStringLiteral("read_file"), QStringLiteral("search_files")};
    const QStringList paths = {QStringLiteral("src/module42/a.cpp"), QStringLiteral("secrets5/key"),
                               QStringLiteral("README.md"), QStringLiteral("docs/section3/x.md")};
    const QList<QStringList> argvs = {{"git", "status"},
                                      {"npm", "run", "task150", "--", "--watch"},
                                      {"rm", "-fr", "dir42"},
                                      {"make", "target99"}};
    std::vector<CommandMatcher::Shape> shapes;
    for (const QStringList& argv : argvs)
        shapes.push_back(CommandMatcher::shape(argv));
    qsizetype k = 0;
    bench::Result lookup =
        bench::measureEachNs(QStringLiteral("policy_rule_lookup_1000_rules"), 20000, [&] {
            const qsizetype i = k++ % 4;
            bench::doNotOptimize(index.path(PolicyRule::List::Deny, readTools, paths[i]));
            bench::doNotOptimize(index.path(PolicyRule::List::Allow, readTools, paths[i]));
            bench::doNotOptimize(index.commandLoosely(PolicyRule::List::Deny, shapes[i]));
            bench::doNotOptimize(index.commandLoosely(PolicyRule::List::Ask, shapes[i]));
            bench::doNotOptimize(
                index.commandStrictly(PolicyRule::List::Allow, shapes[i].program, argvs[i]));
        });
    lookup.baseline = r.name;
    lookup.target = QStringLiteral("p99 < 10000 ns");
    return {r, lookup};
}

} // namespace

M1_BENCHMARK("policy_evaluate_1000_rules", run);
