#include "monitoring/PricingTable.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QStandardPaths>

#include <cmath>

// m1core is a static library: its resources must be registered by hand before first use.
static void initCoreResources() {
    Q_INIT_RESOURCE(core);
}

namespace m1 {

namespace {

struct Multipliers {
    qint64 write5m = 1250000; // parts per million of the input price
    qint64 write1h = 2000000;
    qint64 read = 100000;
};

qint64 scaled(qint64 price, qint64 ppm) {
    return (price * ppm + 500000) / 1000000;
}

} // namespace

QString PricingTable::userFilePath() {
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation))
        .filePath(QStringLiteral("pricing.json"));
}

Result<PricingTable> PricingTable::builtin() {
    initCoreResources();
    QFile file(QStringLiteral(":/m1/pricing.json"));
    if (!file.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("pricing.unreadable"),
                    tr("The built-in price list is missing from this build."));
    return parse(file.readAll(), QStringLiteral(":/m1/pricing.json"));
}

Result<PricingTable> PricingTable::load() {
    auto table = builtin();
    if (!table)
        return table;
    QFile file(userFilePath());
    if (!file.exists())
        return table;
    if (!file.open(QIODevice::ReadOnly))
        return fail(
            QStringLiteral("pricing.unreadable"),
            tr("Cannot read the price list %1: %2").arg(file.fileName(), file.errorString()));
    auto user = parse(file.readAll(), file.fileName());
    if (!user)
        return user;
    table->merge(*user);
    return table;
}

Result<PricingTable> PricingTable::parse(const QByteArray& json, const QString& source) {
    auto invalid = [&source](const QString& what) {
        return fail(QStringLiteral("pricing.invalid"),
                    tr("The price list %1 is invalid: %2").arg(source, what));
    };
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError)
        return invalid(tr("%1 at byte %2").arg(error.errorString()).arg(error.offset));
    if (!doc.isObject())
        return invalid(tr("the top level must be a JSON object"));
    const QJsonObject root = doc.object();
    if (root.value(QStringLiteral("schema")).toInt(1) != 1)
        return invalid(
            tr("unsupported schema %1").arg(root.value(QStringLiteral("schema")).toInt()));

    PricingTable table;
    table.m_currency = root.value(QStringLiteral("currency")).toString(QStringLiteral("USD"));
    const double per = root.value(QStringLiteral("per")).toDouble(1000000);
    if (!(per > 0))
        return invalid(tr("\"per\" must be a positive number of tokens"));

    // A price per `per` tokens as pico-dollars per token; whole pico-dollars are far below any
    // published price's precision (0.01 USD per million is 10 000).
    auto price = [&](const QJsonValue& value, const QString& path) -> Result<qint64> {
        const double usd = value.toDouble(-1);
        if (!value.isDouble() || !(usd >= 0) || usd > 1.0e6)
            return invalid(tr("%1 must be a non-negative number").arg(path));
        return qint64(std::llround(usd * 1.0e12 / per));
    };
    auto multiplier = [&](const QJsonObject& o, const char* key, qint64& target) -> Status {
        const QJsonValue v = o.value(QLatin1String(key));
        if (v.isUndefined())
            return {};
        if (!v.isDouble() || !(v.toDouble() >= 0) || v.toDouble() > 100)
            return invalid(
                tr("multipliers.%1 must be a number from 0 to 100").arg(QLatin1String(key)));
        target = qint64(std::llround(v.toDouble() * 1.0e6));
        return {};
    };

    Multipliers m;
    const QJsonObject mult = root.value(QStringLiteral("multipliers")).toObject();
    for (const auto& [key, target] : {std::pair<const char*, qint64*>{"cache_write_5m", &m.write5m},
                                      {"cache_write_1h", &m.write1h},
                                      {"cache_read", &m.read},
                                      {"batch", &table.m_batchPpm}})
        if (auto s = multiplier(mult, key, *target); !s)
            return std::unexpected(s.error());
    table.m_batchGiven = mult.contains(QStringLiteral("batch"));

    auto readPrices = [&](const QJsonObject& o, const QString& path,
                          TokenPrices& prices) -> Status {
        auto in = price(o.value(QStringLiteral("input")), path + QStringLiteral(".input"));
        if (!in)
            return std::unexpected(in.error());
        auto out = price(o.value(QStringLiteral("output")), path + QStringLiteral(".output"));
        if (!out)
            return std::unexpected(out.error());
        prices.input = *in;
        prices.output = *out;
        prices.cacheWrite5m = scaled(*in, m.write5m);
        prices.cacheWrite1h = scaled(*in, m.write1h);
        prices.cacheRead = scaled(*in, m.read);
        for (const auto& [key, target] :
             {std::pair<const char*, qint64*>{"cache_write_5m", &prices.cacheWrite5m},
              {"cache_write_1h", &prices.cacheWrite1h},
              {"cache_read", &prices.cacheRead}}) {
            const QJsonValue v = o.value(QLatin1String(key));
            if (v.isUndefined())
                continue;
            auto p = price(v, path + QLatin1Char('.') + QLatin1String(key));
            if (!p)
                return std::unexpected(p.error());
            *target = *p;
        }
        return {};
    };

    const QJsonValue models = root.value(QStringLiteral("models"));
    if (!models.isArray())
        return invalid(tr("\"models\" must be an array"));
    static const QRegularExpression datePattern(QStringLiteral("^\\d{4}-\\d{2}-\\d{2}$"));
    int index = 0;
    for (const QJsonValue& value : models.toArray()) {
        const QString path = QStringLiteral("models[%1]").arg(index++);
        if (!value.isObject())
            return invalid(tr("%1 must be an object").arg(path));
        const QJsonObject o = value.toObject();
        PricingEntry entry;
        entry.id = o.value(QStringLiteral("id")).toString();
        entry.prefix = o.value(QStringLiteral("prefix")).toString();
        if (entry.id.isEmpty() == entry.prefix.isEmpty())
            return invalid(tr("%1 needs exactly one of \"id\" and \"prefix\"").arg(path));
        entry.confirmed = o.value(QStringLiteral("confirmed")).toBool(true);
        entry.status = o.value(QStringLiteral("status")).toString();
        entry.note = o.value(QStringLiteral("note")).toString();
        if (o.contains(QStringLiteral("date"))) {
            const QString date = o.value(QStringLiteral("date")).toString();
            entry.date = QDate::fromString(date, Qt::ISODate);
            if (!datePattern.match(date).hasMatch() || !entry.date.isValid())
                return invalid(tr("%1.date must be a date YYYY-MM-DD").arg(path));
        }
        // No input price: a model known to have no published price, so that a prefix does not
        // guess one for it.
        entry.priced = !o.value(QStringLiteral("input")).isUndefined() &&
                       !o.value(QStringLiteral("input")).isNull();
        if (entry.priced) {
            if (auto s = readPrices(o, path, entry.prices); !s)
                return std::unexpected(s.error());
            const QJsonValue above = o.value(QStringLiteral("above_prompt_tokens"));
            if (!above.isUndefined()) {
                const QJsonObject a = above.toObject();
                const QJsonValue limit = a.value(QStringLiteral("limit"));
                if (!above.isObject() || !limit.isDouble() || limit.toDouble() < 1 ||
                    limit.toDouble() != std::floor(limit.toDouble()))
                    return invalid(
                        tr("%1.above_prompt_tokens needs a whole-number \"limit\"").arg(path));
                entry.aboveLimit = qint64(limit.toDouble());
                if (auto s =
                        readPrices(a, path + QStringLiteral(".above_prompt_tokens"), entry.above);
                    !s)
                    return std::unexpected(s.error());
            }
        }
        table.m_entries.append(entry);
    }
    return table;
}

void PricingTable::merge(const PricingTable& other) {
    for (const PricingEntry& entry : other.m_entries) {
        bool replaced = false;
        for (PricingEntry& mine : m_entries) {
            if (mine.id == entry.id && mine.prefix == entry.prefix) {
                mine = entry;
                replaced = true;
                break;
            }
        }
        if (!replaced)
            m_entries.append(entry);
    }
    if (other.m_batchGiven) {
        m_batchPpm = other.m_batchPpm;
        m_batchGiven = true;
    }
}

std::optional<PricingEntry> PricingTable::find(const QString& model) const {
    auto byId = [this](const QString& id) -> std::optional<PricingEntry> {
        for (const PricingEntry& e : m_entries)
            if (!e.id.isEmpty() && e.id == id)
                return e;
        return std::nullopt;
    };
    if (model.isEmpty())
        return std::nullopt;
    if (auto e = byId(model))
        return e;
    static const QRegularExpression dated(QStringLiteral("-\\d{8}$"));
    const QRegularExpressionMatch match = dated.match(model);
    if (match.hasMatch())
        if (auto e = byId(model.left(match.capturedStart())))
            return e;
    const PricingEntry* best = nullptr;
    for (const PricingEntry& e : m_entries)
        if (!e.prefix.isEmpty() && model.startsWith(e.prefix) &&
            (!best || e.prefix.size() > best->prefix.size()))
            best = &e;
    if (best)
        return *best;
    return std::nullopt;
}

} // namespace m1
