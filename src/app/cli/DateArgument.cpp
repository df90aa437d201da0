#include "cli/DateArgument.h"

#include <QDateTime>
#include <QRegularExpression>

namespace m1::cli {

Result<qint64> DateArgument::parse(const QString& text, const QString& optionName, bool isEnd,
                                   qint64 nowMs) {
    if (nowMs < 0)
        nowMs = QDateTime::currentMSecsSinceEpoch();
    static const QRegularExpression daysAgo(QStringLiteral("^(\\d{1,5})d$"));
    if (const auto match = daysAgo.match(text); match.hasMatch())
        return nowMs - match.captured(1).toLongLong() * 86400000;
    static const QRegularExpression dayOnly(QStringLiteral("^\\d{4}-\\d{2}-\\d{2}$"));
    if (dayOnly.match(text).hasMatch()) {
        const QDate date = QDate::fromString(text, Qt::ISODate);
        if (date.isValid()) {
            const QDate day = isEnd ? date.addDays(1) : date;
            return day.startOfDay(Qt::UTC).toMSecsSinceEpoch();
        }
    } else {
        QString value = text;
        if (!value.endsWith(QLatin1Char('Z')) && !value.contains(QLatin1Char('+')))
            value += QLatin1Char('Z');
        const QDateTime moment = QDateTime::fromString(value, Qt::ISODate);
        if (moment.isValid())
            return moment.toMSecsSinceEpoch();
    }
    return fail(QStringLiteral("cli.date"),
                tr("--%1 must be a date YYYY-MM-DD, a UTC time YYYY-MM-DDTHH:MM[:SS], or Nd (N "
                   "days ago), not \"%2\"")
                    .arg(optionName, text));
}

QString DateArgument::format(qint64 ms) {
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(QStringLiteral("yyyy-MM-dd HH:mm"));
}

Result<AuditQueries::TimeRange> DateArgument::range(const QCommandLineParser& parser,
                                                    const QCommandLineOption& start,
                                                    const QCommandLineOption& end) {
    AuditQueries::TimeRange range;
    if (parser.isSet(start)) {
        const auto from = parse(parser.value(start), start.names().constFirst(), false);
        if (!from)
            return std::unexpected(from.error());
        range.fromMs = *from;
    }
    if (parser.isSet(end)) {
        const auto to = parse(parser.value(end), end.names().constFirst(), true);
        if (!to)
            return std::unexpected(to.error());
        range.toMs = *to;
    }
    // A reversed range would silently match nothing.
    if (range.fromMs && range.toMs && *range.fromMs >= *range.toMs)
        return fail(QStringLiteral("cli.date"),
                    tr("--%1 %2 is not before --%3 %4: the range is empty")
                        .arg(start.names().constFirst(), parser.value(start),
                             end.names().constFirst(), parser.value(end)));
    return range;
}

} // namespace m1::cli
