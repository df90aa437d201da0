// Costs from the shipped price list, against figures computed by hand for every model in it:
// cost in micro-dollars = tokens × USD per million tokens (claude-api.md §6). Default token mix:
// 10 000 input, 2 000 output, 4 000 cache writes (5 min), 1 000 cache writes (1 h), 50 000 cache
// reads, so the expected value is 10000·in + 2000·out + 4000·w5m + 1000·w1h + 50000·read.
#include "monitoring/AlertManager.h"
#include "monitoring/CostTracker.h"
#include "monitoring/PricingTable.h"

#include <QtTest>

using m1::CostTracker;
using m1::PricingTable;

Q_DECLARE_METATYPE(std::optional<qint64>)

namespace {

CostTracker::Tokens mix(qint64 in, qint64 out, qint64 w5, qint64 w1, qint64 read) {
    CostTracker::Tokens t;
    t.input = in;
    t.output = out;
    t.cacheWrite5m = w5;
    t.cacheWrite1h = w1;
    t.cacheRead = read;
    return t;
}

const CostTracker::Tokens kMix = mix(10000, 2000, 4000, 1000, 50000);

} // namespace

class TestCost : public QObject {
    Q_OBJECT

    PricingTable m_table;

private Q_SLOTS:
    void initTestCase() {
        auto table = PricingTable::builtin();
        QVERIFY2(table, table ? "" : qPrintable(table.error().message));
        m_table = *table;
    }

    void everyModel_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<std::optional<qint64>>("expected");
        using O = std::optional<qint64>;
        // Opus 5.5: 4 / 20, cache 5 / 8 / 0.20: 40000 + 40000 + 20000 + 8000 + 10000
        QTest::newRow("claude-opus-5-5") << QStringLiteral("claude-opus-5-5") << O(118000);
        // 5 / 25, cache 6.25 / 10 / 0.50: 50000 + 50000 + 25000 + 10000 + 25000
        QTest::newRow("claude-opus-5") << QStringLiteral("claude-opus-5") << O(160000);
        QTest::newRow("claude-opus-4-8") << QStringLiteral("claude-opus-4-8") << O(160000);
        QTest::newRow("claude-opus-4-7") << QStringLiteral("claude-opus-4-7") << O(160000);
        QTest::newRow("claude-opus-4-6") << QStringLiteral("claude-opus-4-6") << O(160000);
        QTest::newRow("claude-opus-4-5") << QStringLiteral("claude-opus-4-5") << O(160000);
        QTest::newRow("claude-opus-4-5-20251101")
            << QStringLiteral("claude-opus-4-5-20251101") << O(160000);
        // 2 / 10, cache 2.50 / 4 / 0.20: 20000 + 20000 + 10000 + 4000 + 10000
        QTest::newRow("claude-sonnet-5-5") << QStringLiteral("claude-sonnet-5-5") << O(64000);
        QTest::newRow("claude-sonnet-5") << QStringLiteral("claude-sonnet-5") << O(64000);
        // 3 / 15, cache 3.75 / 6 / 0.30: 30000 + 30000 + 15000 + 6000 + 15000
        QTest::newRow("claude-sonnet-4-6") << QStringLiteral("claude-sonnet-4-6") << O(96000);
        QTest::newRow("claude-sonnet-4-5") << QStringLiteral("claude-sonnet-4-5") << O(96000);
        QTest::newRow("claude-sonnet-4-5-20250929")
            << QStringLiteral("claude-sonnet-4-5-20250929") << O(96000);
        // 0.10 / 0.50, cache 0.125 / 0.20 / 0.01: 1000 + 1000 + 500 + 200 + 500 (prompt 65 000)
        QTest::newRow("claude-haiku-5-5") << QStringLiteral("claude-haiku-5-5") << O(3200);
        // 1 / 5, cache 1.25 / 2 / 0.10: 10000 + 10000 + 5000 + 2000 + 5000
        QTest::newRow("claude-haiku-4-5") << QStringLiteral("claude-haiku-4-5") << O(32000);
        QTest::newRow("claude-haiku-4-5-20251001")
            << QStringLiteral("claude-haiku-4-5-20251001") << O(32000);
        // 10 / 50, cache 12.50 / 20 / 0.25: 100000 + 100000 + 50000 + 20000 + 12500
        QTest::newRow("claude-fable-5-1") << QStringLiteral("claude-fable-5-1") << O(282500);
        QTest::newRow("claude-mythos-5-1") << QStringLiteral("claude-mythos-5-1") << O(282500);
        // 10 / 50, cache 12.50 / 20 / 1.00: 100000 + 100000 + 50000 + 20000 + 50000
        QTest::newRow("claude-fable-5") << QStringLiteral("claude-fable-5") << O(320000);
        QTest::newRow("claude-mythos-5") << QStringLiteral("claude-mythos-5") << O(320000);
        // Price unknown: unknown, never 0, and no prefix guess.
        QTest::newRow("claude-fable-5-2") << QStringLiteral("claude-fable-5-2") << O();
        QTest::newRow("claude-mythos-5-2") << QStringLiteral("claude-mythos-5-2") << O();
        // Retired, still in old audit rows. Opus 4/4.1: 15 / 75, cache 18.75 / 30 / 1.50:
        // 150000 + 150000 + 75000 + 30000 + 75000
        QTest::newRow("claude-opus-4-1-20250805")
            << QStringLiteral("claude-opus-4-1-20250805") << O(480000);
        QTest::newRow("claude-opus-4-1") << QStringLiteral("claude-opus-4-1") << O(480000);
        QTest::newRow("claude-opus-4-20250514")
            << QStringLiteral("claude-opus-4-20250514") << O(480000);
        QTest::newRow("claude-opus-4-0") << QStringLiteral("claude-opus-4-0") << O(480000);
        QTest::newRow("claude-sonnet-4-20250514")
            << QStringLiteral("claude-sonnet-4-20250514") << O(96000);
        QTest::newRow("claude-sonnet-4-0") << QStringLiteral("claude-sonnet-4-0") << O(96000);
        QTest::newRow("claude-3-7-sonnet-20250219")
            << QStringLiteral("claude-3-7-sonnet-20250219") << O(96000);
        // Haiku 3.5: 0.80 / 4, cache 1.00 / 1.60 / 0.08: 8000 + 8000 + 4000 + 1600 + 4000
        QTest::newRow("claude-3-5-haiku-20241022")
            << QStringLiteral("claude-3-5-haiku-20241022") << O(25600);
        QTest::newRow("claude-3-5-haiku-latest")
            << QStringLiteral("claude-3-5-haiku-latest") << O(25600);
        // Prefix guesses (confirmed: false).
        QTest::newRow("prefix-opus") << QStringLiteral("claude-opus-9") << O(160000);
        QTest::newRow("prefix-sonnet") << QStringLiteral("claude-sonnet-9-1-20300101") << O(96000);
        QTest::newRow("prefix-haiku") << QStringLiteral("claude-haiku-7") << O(32000);
        // Unknown.
        QTest::newRow("gpt") << QStringLiteral("gpt-4o") << O();
        QTest::newRow("empty") << QStringLiteral("") << O();
        QTest::newRow("fable-prefix-not-guessed") << QStringLiteral("claude-fable-6") << O();
    }
    void everyModel() {
        QFETCH(QString, model);
        QFETCH(std::optional<qint64>, expected);
        CostTracker tracker(m_table);
        QCOMPARE(tracker.costMicros(model, kMix), expected);
    }

    void everyShippedIdIsTested() {
        // everyModel_data() has one row per id of pricing.json (27): a new entry needs a row.
        QStringList tested;
        for (const m1::PricingEntry& e : m_table.entries())
            if (!e.id.isEmpty())
                tested << e.id;
        QCOMPARE(tested.size(), 27);
    }

    void tiersRoundingAndBatch_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<qint64>("in");
        QTest::addColumn<qint64>("out");
        QTest::addColumn<qint64>("w5");
        QTest::addColumn<qint64>("w1");
        QTest::addColumn<qint64>("read");
        QTest::addColumn<bool>("batch");
        QTest::addColumn<qint64>("expected");
        // Haiku 5.5 above 100 000 prompt tokens: 0.50 / 2.50 / 0.625 / 1.00 / 0.05 for the call:
        // prompt 155 000: 50000 + 5000 + 2500 + 1000 + 2500
        QTest::newRow("haiku-5-5-above")
            << QStringLiteral("claude-haiku-5-5") << qint64(100000) << qint64(2000) << qint64(4000)
            << qint64(1000) << qint64(50000) << false << qint64(61000);
        // Exactly at the limit: the base tier. 100000 × 0.10
        QTest::newRow("haiku-5-5-at-limit")
            << QStringLiteral("claude-haiku-5-5") << qint64(100000) << qint64(0) << qint64(0)
            << qint64(0) << qint64(0) << false << qint64(10000);
        // One token over: 100001 × 0.50 = 50000.5 -> 50001 (half up)
        QTest::newRow("haiku-5-5-over-limit")
            << QStringLiteral("claude-haiku-5-5") << qint64(100001) << qint64(0) << qint64(0)
            << qint64(0) << qint64(0) << false << qint64(50001);
        // 5 × 0.10 = 0.5 -> 1; 4 × 0.10 = 0.4 -> 0
        QTest::newRow("half-up") << QStringLiteral("claude-haiku-5-5") << qint64(5) << qint64(0)
                                 << qint64(0) << qint64(0) << qint64(0) << false << qint64(1);
        QTest::newRow("below-half") << QStringLiteral("claude-haiku-5-5") << qint64(4) << qint64(0)
                                    << qint64(0) << qint64(0) << qint64(0) << false << qint64(0);
        // Rounded once: 2 × 3.75 = 7.5 and 5 × 0.30 = 1.5 sum to 9 (per-kind rounding gives 10).
        QTest::newRow("round-once") << QStringLiteral("claude-sonnet-4-6") << qint64(0) << qint64(0)
                                    << qint64(2) << qint64(0) << qint64(5) << false << qint64(9);
        // Batch halves the whole call: 96000 / 2
        QTest::newRow("batch") << QStringLiteral("claude-sonnet-4-6") << qint64(10000)
                               << qint64(2000) << qint64(4000) << qint64(1000) << qint64(50000)
                               << true << qint64(48000);
        // 15 × 0.10 = 1.5, halved 0.75 -> 1
        QTest::newRow("batch-rounding")
            << QStringLiteral("claude-haiku-5-5") << qint64(15) << qint64(0) << qint64(0)
            << qint64(0) << qint64(0) << true << qint64(1);
        // A billion output tokens of Opus 4: 75 000 USD, no overflow.
        QTest::newRow("large") << QStringLiteral("claude-opus-4-0") << qint64(0)
                               << qint64(1000000000) << qint64(0) << qint64(0) << qint64(0) << false
                               << qint64(75000000000);
    }
    void tiersRoundingAndBatch() {
        QFETCH(QString, model);
        QFETCH(qint64, in);
        QFETCH(qint64, out);
        QFETCH(qint64, w5);
        QFETCH(qint64, w1);
        QFETCH(qint64, read);
        QFETCH(bool, batch);
        QFETCH(qint64, expected);
        CostTracker tracker(m_table);
        QCOMPARE(tracker.costMicros(model, mix(in, out, w5, w1, read), batch),
                 std::optional<qint64>(expected));
    }

    void fromTokenUsage() {
        CostTracker tracker(m_table);
        m1::TokenUsage usage;
        QVERIFY(!tracker.costMicros(QStringLiteral("claude-sonnet-4-6"), usage)); // not known
        usage.known = true;
        usage.inputTokens = 1000;
        usage.outputTokens = 100;
        usage.cacheCreationInputTokens = 4000; // no 5m/1h breakdown: all at the 5m rate
        // 3000 + 1500 + 15000
        QCOMPARE(tracker.costMicros(QStringLiteral("claude-sonnet-4-6"), usage),
                 std::optional<qint64>(19500));
        usage.cacheCreation5mInputTokens = 3000;
        usage.cacheCreation1hInputTokens = 1000;
        // 3000 + 1500 + 3000 × 3.75 + 1000 × 6 = 3000 + 1500 + 11250 + 6000
        QCOMPARE(tracker.costMicros(QStringLiteral("claude-sonnet-4-6"), usage),
                 std::optional<qint64>(21750));
    }

    void estimateTurnCost() {
        CostTracker tracker(m_table);
        // input 10000 × 3 + reads 50000 × 0.30 + writes 4000 × 3.75 + max_tokens 2000 × 15
        QCOMPARE(
            tracker.estimateTurnCost(QStringLiteral("claude-sonnet-4-6"), 10000, 50000, 4000, 2000),
            std::optional<qint64>(90000));
        QVERIFY(!tracker.estimateTurnCost(QStringLiteral("gpt-4o"), 1, 0, 0, 1));
    }

    void unknownModelRaisesOneAlert() {
        m1::AlertManager alerts;
        CostTracker tracker(m_table, &alerts);
        QVERIFY(!tracker.costMicros(QStringLiteral("claude-fable-5-2"), kMix));
        QVERIFY(!tracker.costMicros(QStringLiteral("claude-fable-5-2"), kMix));
        QVERIFY(tracker.costMicros(QStringLiteral("claude-sonnet-4-6"), kMix));
        const auto list = alerts.list();
        QVERIFY(list);
        QCOMPARE(list->size(), 1);
        QCOMPARE(list->first().category, m1::Alert::Category::CostThreshold);
        QVERIFY(list->first().message.contains(QLatin1String("claude-fable-5-2")));
    }

    void userFileOverrides() {
        const QByteArray user = "{\"schema\": 1, \"multipliers\": {\"batch\": 0.6}, \"models\": ["
                                "{\"id\": \"claude-sonnet-4-6\", \"input\": 4, \"output\": 20, "
                                "\"date\": \"2027-01-01\"},"
                                "{\"id\": \"my-local-model\", \"input\": 0, \"output\": 0}]}";
        auto parsed = PricingTable::parse(user, QStringLiteral("user.json"));
        QVERIFY2(parsed, parsed ? "" : qPrintable(parsed.error().message));
        PricingTable merged = m_table;
        merged.merge(*parsed);
        CostTracker tracker(merged);
        // 40000 + 40000 + 4000 × 5 + 1000 × 8 + 50000 × 0.4
        QCOMPARE(tracker.costMicros(QStringLiteral("claude-sonnet-4-6"), kMix),
                 std::optional<qint64>(128000));
        QCOMPARE(tracker.costMicros(QStringLiteral("claude-haiku-4-5"), kMix),
                 std::optional<qint64>(32000));
        QCOMPARE(tracker.costMicros(QStringLiteral("my-local-model"), kMix),
                 std::optional<qint64>(0));
        QCOMPARE(merged.batchPartsPerMillion(), qint64(600000));
        QCOMPARE(merged.find(QStringLiteral("claude-sonnet-4-6"))->date, QDate(2027, 1, 1));
        QVERIFY(!merged.find(QStringLiteral("claude-sonnet-5-5"))->confirmed);
    }

    void invalidFiles_data() {
        QTest::addColumn<QByteArray>("json");
        QTest::newRow("not-json") << QByteArray("{");
        QTest::newRow("negative") << QByteArray(
            "{\"models\": [{\"id\": \"x\", \"input\": -1, \"output\": 1}]}");
        QTest::newRow("no-output") << QByteArray("{\"models\": [{\"id\": \"x\", \"input\": 1}]}");
        QTest::newRow("id-and-prefix") << QByteArray(
            "{\"models\": [{\"id\": \"x\", \"prefix\": \"y\", \"input\": 1, \"output\": 1}]}");
        QTest::newRow("bad-date") << QByteArray(
            "{\"models\": [{\"id\": \"x\", \"input\": 1, \"output\": 1, \"date\": \"soon\"}]}");
        QTest::newRow("bad-tier") << QByteArray(
            "{\"models\": [{\"id\": \"x\", \"input\": 1, \"output\": 1, \"above_prompt_tokens\": "
            "{\"input\": 1, \"output\": 1}}]}");
    }
    void invalidFiles() {
        QFETCH(QByteArray, json);
        auto parsed = PricingTable::parse(json, QStringLiteral("bad.json"));
        QVERIFY(!parsed);
        QCOMPARE(parsed.error().code, QStringLiteral("pricing.invalid"));
        QVERIFY(parsed.error().message.contains(QLatin1String("bad.json")));
    }

    void monthlyProjection() {
        QCOMPARE(CostTracker::monthlyProjection(10000000, QDate(2026, 11, 10)), qint64(30000000));
        QCOMPARE(CostTracker::monthlyProjection(3100000, QDate(2026, 12, 31)), qint64(3100000));
    }
};

QTEST_GUILESS_MAIN(TestCost)
#include "tst_cost.moc"
