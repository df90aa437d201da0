#pragma once

#include "store/AuditQueries.h"
#include "util/Error.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QIODevice>
#include <QString>

namespace m1 {

// The cost report as CSV (RFC 4180): a header row, one row per UTC day and model, CRLF line
// ends, plain UTF-8 without a byte-order mark, "." decimals, ISO dates; LibreOffice Calc and
// Python's csv module read it as is. Rows are written as the query yields them, so memory stays
// flat however long the report is.
//
// Columns: date, model, runs, api_calls, input_tokens, output_tokens, cache_write_tokens,
// cache_read_tokens, cost_usd (exact, from integer micro-dollars: 12.345678), unpriced_calls
// (API calls without a known price; their cost is not in cost_usd). The optional totals row has
// "total" as its date and an empty model; its runs column sums the rows' runs (a run spanning two
// days or models counts in each).
class CostCsvWriter {
    Q_DECLARE_TR_FUNCTIONS(CostCsvWriter)

public:
    // One cell: a text that a spreadsheet could read as a formula (starting with =, +, -, @, tab
    // or carriage return; model names come partly from users) gets a leading ', then the cell is
    // quoted when it holds a comma, a quote, CR or LF (quotes doubled).
    static QByteArray cell(const QString& text);
    // Micro-dollars as dollars with six decimals, exactly.
    static QString usd(qint64 micros);
    static QByteArray headerLine();

    // Returns the number of data rows written. "export.write" when the device refuses bytes.
    static Result<qint64> write(const AuditQueries& queries, const AuditQueries::TimeRange& range,
                                QIODevice& out, bool totals);
};

} // namespace m1
