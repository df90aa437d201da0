#include "policy/PolicyRules.h"

#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

using m1::PolicyRule;
using m1::PolicyRules;

class TestPolicyRules : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void parsesListsWithLines() {
        const QByteArray json = "{\n"
                                "  \"allow\": [\n"
                                "    \"read_file(src/**)\",\n"
                                "    \"run_command(git status*)\"\n"
                                "  ],\n"
                                "  \"ask\": [\"run_command(git push*)\"],\n"
                                "  \"deny\": [\n"
                                "    \"run_command(rm -rf *)\", \"run_command\"\n"
                                "  ]\n"
                                "}\n";
        const auto rules = PolicyRules::parse(json, QStringLiteral("rules.json"));
        QVERIFY2(rules.has_value(), qPrintable(rules ? QString() : rules.error().message));
        const QList<PolicyRule>& list = rules->rules();
        QCOMPARE(list.size(), 5);
        QCOMPARE(list[0].list, PolicyRule::List::Allow);
        QCOMPARE(list[0].tool, QStringLiteral("read_file"));
        QCOMPARE(list[0].pattern, QStringLiteral("src/**"));
        QVERIFY(list[0].hasPattern);
        QCOMPARE(list[0].line, 3);
        QCOMPARE(list[0].file, QStringLiteral("rules.json"));
        QCOMPARE(list[1].line, 4);
        QCOMPARE(list[2].list, PolicyRule::List::Ask);
        QCOMPARE(list[2].line, 6);
        QCOMPARE(list[3].list, PolicyRule::List::Deny);
        QCOMPARE(list[3].pattern, QStringLiteral("rm -rf *"));
        QCOMPARE(list[3].line, 8);
        QCOMPARE(list[4].tool, QStringLiteral("run_command"));
        QVERIFY(!list[4].hasPattern);
        QCOMPARE(list[4].line, 8);
    }

    // SBX-17: one malformed rule refuses the whole file, naming the line and the reason.
    void refusesMalformed_data() {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<int>("line");
        QTest::addColumn<QString>("reason");
        const QByteArray head = "{\n \"allow\": [\"read_file(src/**)\"],\n \"deny\": [\n";
        const QByteArray tail = "\n ]\n}\n";
        auto withDeny = [&](const QByteArray& entry) { return head + "  " + entry + tail; };
        QTest::newRow("SBX-17/unbalanced-open")
            << withDeny("\"read_file(.env\"") << 4 << "unbalanced parentheses";
        QTest::newRow("SBX-17/unbalanced-close")
            << withDeny("\"read_file(.env))\"") << 4 << "unbalanced parentheses";
        QTest::newRow("SBX-17/stray-close")
            << withDeny("\"read_file)\"") << 4 << "unbalanced parentheses";
        QTest::newRow("SBX-17/empty-string") << withDeny("\"\"") << 4 << "empty rule";
        QTest::newRow("SBX-17/empty-pattern")
            << withDeny("\"read_file()\"") << 4 << "empty pattern";
        QTest::newRow("SBX-17/non-string") << withDeny("42") << 4 << "not a string";
        QTest::newRow("SBX-17/object-entry") << withDeny("{\"x\":1}") << 4 << "not a string";
        QTest::newRow("SBX-17/bad-tool-name")
            << withDeny("\"read file(x)\"") << 4 << "not a tool name";
        QTest::newRow("SBX-17/unknown-tool")
            << withDeny("\"delete_everything\"") << 4 << "unknown tool \"delete_everything\"";
        QTest::newRow("SBX-17/typo-tool")
            << withDeny("\"read_fil(.env)\"") << 4 << "unknown tool \"read_fil\"";
        QTest::newRow("SBX-17/case-tool") << withDeny("\"Read_File(.env)\"") << 4 << "unknown tool";
        QTest::newRow("SBX-17/spaces") << withDeny("\" read_file(.env)\"") << 4 << "spaces";
        QTest::newRow("SBX-17/absolute-path")
            << withDeny("\"read_file(/etc/passwd)\"") << 4 << "relative to the workspace";
        QTest::newRow("SBX-17/dotdot") << withDeny("\"read_file(src/../../x)\"") << 4 << "\"..\"";
        QTest::newRow("SBX-17/assignment-program")
            << withDeny("\"run_command(TZ=x rm)\"") << 4 << "not an assignment";
        QTest::newRow("SBX-17/second-of-three")
            << QByteArray("{\"deny\": [\n\"read_file(.env)\",\n\"read_file(\",\n"
                          "\"run_command(rm -rf *)\"]}")
            << 3 << "unbalanced";
        QTest::newRow("SBX-17/unknown-key")
            << QByteArray("{\n \"allow\": [],\n \"denny\": [\"read_file(.env)\"]\n}") << 3
            << "unknown key \"denny\"";
        QTest::newRow("SBX-17/duplicate-key")
            << QByteArray("{\n \"deny\": [\"read_file(.env)\"],\n \"deny\": []\n}") << 3
            << "appears twice";
        QTest::newRow("SBX-17/list-not-array")
            << QByteArray("{\n \"deny\":\n \"read_file(.env)\"\n}") << 3 << "list of strings";
        QTest::newRow("SBX-17/invalid-json")
            << QByteArray("{\n \"deny\": [\n  \"read_file(.env)\"\n  \"run_command\"\n ]\n}") << 4
            << "invalid JSON";
        QTest::newRow("SBX-17/top-level-array")
            << QByteArray("[\"read_file\"]") << 1 << "JSON object";
    }
    void refusesMalformed() {
        QFETCH(QByteArray, json);
        QFETCH(int, line);
        QFETCH(QString, reason);
        const auto rules = PolicyRules::parse(json, QStringLiteral("rules.json"));
        QVERIFY(!rules.has_value());
        QCOMPARE(rules.error().code, QStringLiteral("policy.rules_invalid"));
        const QString message = rules.error().message;
        QVERIFY2(message.startsWith(QStringLiteral("rules.json:%1:").arg(line)),
                 qPrintable(message));
        QVERIFY2(message.contains(reason), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("not loaded")), qPrintable(message));
    }

    void patternForToolThatTakesNone() {
        const QStringList known = PolicyRules::builtinToolNames() << QStringLiteral("web_fetch");
        QVERIFY(PolicyRules::parse("{\"allow\":[\"web_fetch\"]}", QStringLiteral("r.json"), known)
                    .has_value());
        const auto bad =
            PolicyRules::parse("{\"allow\":[\"web_fetch(x)\"]}", QStringLiteral("r.json"), known);
        QVERIFY(!bad.has_value());
        QVERIFY2(bad.error().message.contains(QStringLiteral("takes no pattern")),
                 qPrintable(bad.error().message));
        // Without the registry's names, the tool is unknown.
        QVERIFY(!PolicyRules::parse("{\"allow\":[\"web_fetch\"]}", QStringLiteral("r.json"))
                     .has_value());
    }

    void sameRuleInAllowAndDenyIsAccepted() {
        const auto rules = PolicyRules::parse(
            "{\"allow\":[\"run_command(git push)\"],\"deny\":[\"run_command(git push)\"]}", {});
        QVERIFY(rules.has_value());
        QCOMPARE(rules->rules().size(), 2);
    }

    void roundTrip() {
        const QByteArray json =
            "{\"deny\":[\"read_file(.env)\",\"run_command(rm -rf *)\"],"
            "\"allow\":[\"read_file(src/**)\",\"run_command(git status*)\",\"list_directory\"],"
            "\"ask\":[\"write_file(**/*.md)\",\"run_command(sh -c \\\"x (y)\\\")\"]}";
        const auto first = PolicyRules::parse(json, QStringLiteral("a.json"));
        QVERIFY2(first.has_value(), qPrintable(first ? QString() : first.error().message));
        const QByteArray serialised = first->toJson();
        const auto second = PolicyRules::parse(serialised, QStringLiteral("b.json"));
        QVERIFY(second.has_value());
        QCOMPARE(second->toJson(), serialised);
        QCOMPARE(second->rules().size(), first->rules().size());
        for (const PolicyRule& rule : first->rules()) {
            const bool found = std::any_of(
                second->rules().cbegin(), second->rules().cend(),
                [&](const PolicyRule& r) { return r.text == rule.text && r.list == rule.list; });
            QVERIFY2(found, qPrintable(rule.text));
        }
    }

    // FUZZ-07 (a deterministic slice): random files built from valid and broken rules either
    // load completely and round-trip, or are refused with a line number.
    void fuzzRoundTrip() {
        const QStringList pool = {QStringLiteral("read_file(src/**)"),
                                  QStringLiteral("run_command(git status*)"),
                                  QStringLiteral("read_file(.env)"),
                                  QStringLiteral("write_file(**/*.md)"),
                                  QStringLiteral("run_command"),
                                  QStringLiteral("read_file("),
                                  QStringLiteral(""),
                                  QStringLiteral("nope(x)"),
                                  QStringLiteral("list_directory(x))"),
                                  QStringLiteral("run_command(a (b) c)"),
                                  QStringLiteral("edit_file(ä/ü*.txt)"),
                                  QStringLiteral("search_files(\\\"q\\\")")};
        const QStringList lists = {QStringLiteral("allow"), QStringLiteral("ask"),
                                   QStringLiteral("deny")};
        QRandomGenerator random(1234);
        for (int iteration = 0; iteration < 400; ++iteration) {
            QString json = QStringLiteral("{");
            bool expectBad = false;
            const int keys = 1 + random.bounded(3);
            for (int k = 0; k < keys; ++k) {
                json += QStringLiteral("%1\n\"%2\": [").arg(k ? "," : "", lists[k]);
                const int n = random.bounded(5);
                for (int i = 0; i < n; ++i) {
                    const int pick = random.bounded(pool.size());
                    expectBad = expectBad || (pick >= 5 && pick <= 8);
                    json += QStringLiteral("%1\n\"%2\"").arg(i ? "," : "", pool[pick]);
                }
                json += QStringLiteral("]");
            }
            json += QStringLiteral("\n}");
            const auto rules = PolicyRules::parse(json.toUtf8(), QStringLiteral("f.json"));
            QCOMPARE(rules.has_value(), !expectBad);
            if (!rules) {
                QVERIFY(rules.error().message.contains(QRegularExpression("^f\\.json:\\d+:")));
                continue;
            }
            const QByteArray once = rules->toJson();
            const auto again = PolicyRules::parse(once, QStringLiteral("g.json"));
            QVERIFY(again.has_value());
            QCOMPARE(again->toJson(), once);
        }
    }

    void loadFileReportsMissingFile() {
        const auto rules = PolicyRules::loadFile(QStringLiteral("/nonexistent/rules.json"));
        QVERIFY(!rules.has_value());
        QCOMPARE(rules.error().code, QStringLiteral("policy.rules_invalid"));
        QVERIFY(rules.error().message.contains(QStringLiteral("/nonexistent/rules.json")));
    }

    void loadFileNamesThePath() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("rules.json"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("{\"deny\": [\n\"read_file(.env)\",\n\"bogus(\"]}");
        file.close();
        const auto rules = PolicyRules::loadFile(path);
        QVERIFY(!rules.has_value());
        QVERIFY2(rules.error().message.startsWith(path + QStringLiteral(":3:")),
                 qPrintable(rules.error().message));
    }
};

QTEST_GUILESS_MAIN(TestPolicyRules)
#include "tst_policyrules.moc"
