#include "store/CostCsvWriter.h"

#include <QDate>

namespace m1 {

namespace {

const QByteArray kLineEnd = QByteArrayLiteral("\r\n");

QByteArray number(qint64 value) {
    return QByteArray::number(value);
}

QByteArray line(const AuditQueries::CostRow& row, const QString& date) {
    QByteArray out;
    out.reserve(160);
    out += CostCsvWriter::cell(date);
    out += ',';
    out += CostCsvWriter::cell(row.model);
    for (qint64 value : {row.runs, row.apiCalls, row.inputTokens, row.outputTokens,
                         row.cacheWriteTokens, row.cacheReadTokens}) {
        out += ',';
        out += number(value);
    }
    out += ',';
    out += CostCsvWriter::usd(row.costMicros).toLatin1();
    out += ',';
    out += number(row.unpricedCalls);
    out += kLineEnd;
    return out;
}

} // namespace

QByteArray CostCsvWriter::cell(const QString& text) {
    QString value = text;
    if (!value.isEmpty()) {
        const QChar first = value.front();
        if (first == QLatin1Char('=') || first == QLatin1Char('+') || first == QLatin1Char('-') ||
            first == QLatin1Char('@') || first == QLatin1Char('\t') || first == QLatin1Char('\r'))
            value.prepend(QLatin1Char('\''));
    }
    QByteArray bytes = value.toUtf8();
    if (bytes.contains(',') || bytes.contains('"') || bytes.contains('\r') ||
        bytes.contains('\n')) {
        bytes.replace("\"", "\"\"");
        bytes.prepend('"');
        bytes.append('"');
    }
    return bytes;
}

QString CostCsvWriter::usd(qint64 micros) {
    const bool negative = micros < 0;
    // Unsigned, so that the most negative value does not overflow when negated.
    const quint64 magnitude =
        negative ? static_cast<quint64>(-(micros + 1)) + 1 : static_cast<quint64>(micros);
    return QStringLiteral("%1%2.%3")
        .arg(negative ? QStringLiteral("-") : QString())
        .arg(magnitude / 1000000)
        .arg(magnitude % 1000000, 6, 10, QLatin1Char('0'));
}

QByteArray CostCsvWriter::headerLine() {
    return QByteArrayLiteral("date,model,runs,api_calls,input_tokens,output_tokens,"
                             "cache_write_tokens,cache_read_tokens,cost_usd,unpriced_calls") +
           kLineEnd;
}

Result<qint64> CostCsvWriter::write(const AuditQueries& queries,
                                    const AuditQueries::TimeRange& range, QIODevice& out,
                                    bool totals) {
    bool writeFailed = false;
    const auto put = [&](const QByteArray& bytes) {
        if (out.write(bytes) != bytes.size())
            writeFailed = true;
        return !writeFailed;
    };
    if (!put(headerLine()))
        return fail(QStringLiteral("export.write"),
                    tr("Cannot write the cost report: %1").arg(out.errorString()));
    qint64 rows = 0;
    AuditQueries::CostRow sum;
    const Status read = queries.forEachCostRow(range, [&](const AuditQueries::CostRow& row) {
        ++rows;
        sum.runs += row.runs;
        sum.apiCalls += row.apiCalls;
        sum.inputTokens += row.inputTokens;
        sum.outputTokens += row.outputTokens;
        sum.cacheWriteTokens += row.cacheWriteTokens;
        sum.cacheReadTokens += row.cacheReadTokens;
        sum.costMicros += row.costMicros;
        sum.unpricedCalls += row.unpricedCalls;
        return put(line(row, QDate(1970, 1, 1).addDays(row.day).toString(Qt::ISODate)));
    });
    if (!read)
        return std::unexpected(read.error());
    if (!writeFailed && totals)
        put(line(sum, QStringLiteral("total")));
    if (writeFailed)
        return fail(QStringLiteral("export.write"),
                    tr("Cannot write the cost report: %1").arg(out.errorString()));
    return rows;
}

} // namespace m1
