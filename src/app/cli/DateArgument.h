#pragma once

#include "store/AuditQueries.h"
#include "util/Error.h"

#include <QCommandLineParser>

#include <QCoreApplication>
#include <QString>

namespace m1::cli {

// A date or time on the command line (--since, --until, --from, --to), in UTC:
//   YYYY-MM-DD            the start of that day; as an end (--until, --to) the whole day is
//                         included, i.e. the start of the next day
//   YYYY-MM-DDTHH:MM[:SS][Z]  that moment
//   Nd                    N days before now (e.g. 30d)
class DateArgument {
    Q_DECLARE_TR_FUNCTIONS(DateArgument)

public:
    // Milliseconds since the epoch; "cli.date" for anything else.
    static Result<qint64> parse(const QString& text, const QString& optionName, bool isEnd,
                                qint64 nowMs = -1);
    // The range a command's start and end options give (either may be unset).
    static Result<AuditQueries::TimeRange> range(const QCommandLineParser& parser,
                                                 const QCommandLineOption& start,
                                                 const QCommandLineOption& end);
    // "2026-01-31 14:05" (UTC) for tables.
    static QString format(qint64 ms);
};

} // namespace m1::cli
