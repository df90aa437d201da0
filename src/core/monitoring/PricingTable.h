#pragma once

#include "util/Error.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QDate>
#include <QList>
#include <QString>

#include <optional>

namespace m1 {

// Prices in pico-dollars per token, which is the same number as micro-dollars per million tokens
// ("3 USD per million" = 3 000 000). Integers, so that costs add up exactly.
struct TokenPrices {
    qint64 input = 0;
    qint64 output = 0;
    qint64 cacheWrite5m = 0;
    qint64 cacheWrite1h = 0;
    qint64 cacheRead = 0;
};

struct PricingEntry {
    QString id;          // exact model id, or
    QString prefix;      // a prefix (longest wins) when no id matches
    bool priced = false; // false: the model is known but its price is not ("input" missing)
    TokenPrices prices;
    // Prompts (input + cache write + cache read tokens) above this many tokens are billed at
    // `above` for the whole call.
    std::optional<qint64> aboveLimit;
    TokenPrices above;
    bool confirmed = true;
    QDate date; // when the figure was checked or took effect
    QString status;
    QString note;
};

// The price list: the shipped :/m1/pricing.json, overridden entry by entry by the user's
// <AppConfigLocation>/pricing.json (same format, see docs/monitoring.md and claude-api.md §6).
//
// Lookup: the exact id, then the id without a -YYYYMMDD suffix, then the longest prefix. Cache
// prices not given on an entry follow the file's multipliers (cache_write_5m 1.25, cache_write_1h
// 2, cache_read 0.1 of the input price); `batch` (0.5) scales a Batch API call's whole cost.
// Errors: "pricing.invalid" (naming the file and the key), "pricing.unreadable".
class PricingTable {
    Q_DECLARE_TR_FUNCTIONS(PricingTable)

public:
    static Result<PricingTable> parse(const QByteArray& json, const QString& source);
    static Result<PricingTable> builtin();
    // Shipped table + the user's file (a missing file is fine).
    static Result<PricingTable> load();
    static QString userFilePath();

    // Entries of `other` replace those with the same id or prefix; its batch factor wins when
    // it gives one.
    void merge(const PricingTable& other);

    std::optional<PricingEntry> find(const QString& model) const;
    const QList<PricingEntry>& entries() const { return m_entries; }
    // The Batch API factor in parts per million (500 000 = half price).
    qint64 batchPartsPerMillion() const { return m_batchPpm; }
    QString currency() const { return m_currency; }

private:
    QList<PricingEntry> m_entries;
    qint64 m_batchPpm = 500000;
    bool m_batchGiven = false;
    QString m_currency = QStringLiteral("USD");
};

} // namespace m1
