#include "monitoring/MetricsExporter.h"

#include <charconv>
#include <cmath>

namespace m1 {

namespace {

// HELP text escapes only backslash and line feed (format 0.0.4).
QByteArray escapeHelp(const QString& help) {
    QByteArray out;
    for (const char c : help.toUtf8()) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

void appendUnsigned(QByteArray& out, quint64 value) {
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr - buffer);
}

const char* typeName(MetricsRegistry::Type type) {
    switch (type) {
    case MetricsRegistry::Type::Counter:
        return "counter";
    case MetricsRegistry::Type::Gauge:
        return "gauge";
    case MetricsRegistry::Type::Histogram:
        return "histogram";
    }
    return "untyped";
}

void appendFamily(QByteArray& out, const MetricsRegistry::Family& family) {
    const QByteArray name = family.name.toUtf8();
    out += "# HELP ";
    out += name;
    out += ' ';
    out += escapeHelp(family.help);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += typeName(family.type);
    out += '\n';
    if (family.type != MetricsRegistry::Type::Histogram) {
        for (const auto& s : family.series) {
            out += name;
            out += s->renderedLabels;
            out += ' ';
            if (family.type == MetricsRegistry::Type::Counter)
                appendUnsigned(out, s->counter.load(std::memory_order_relaxed));
            else
                MetricsExporter::appendValue(out, s->gauge.load(std::memory_order_relaxed));
            out += '\n';
        }
        return;
    }
    QList<QByteArray> leLabels;
    for (const double bound : family.exposedBounds) {
        QByteArray le("le=\"");
        MetricsExporter::appendValue(le, bound);
        le += "\"}";
        leLabels.append(le);
    }
    for (const auto& s : family.series) {
        const HistogramSnapshot snapshot = MetricsRegistry::snapshotOf(family.layout, *s);
        // {a="x"} -> {a="x",   ;   "" -> {
        QByteArray prefix = s->renderedLabels;
        if (prefix.isEmpty())
            prefix = "{";
        else
            prefix[prefix.size() - 1] = ',';
        quint64 cumulative = 0;
        int counted = 0; // buckets 0 .. counted-1 are in `cumulative`
        for (qsizetype i = 0; i < family.exposedBuckets.size(); ++i) {
            const int upTo = family.exposedBuckets.at(i);
            for (; counted <= upTo; ++counted)
                cumulative += snapshot.buckets()[size_t(counted)];
            out += name;
            out += "_bucket";
            out += prefix;
            out += leLabels.at(i);
            out += ' ';
            appendUnsigned(out, cumulative);
            out += '\n';
        }
        out += name;
        out += "_bucket";
        out += prefix;
        out += "le=\"+Inf\"} ";
        appendUnsigned(out, snapshot.count());
        out += '\n';
        out += name;
        out += "_sum";
        out += s->renderedLabels;
        out += ' ';
        MetricsExporter::appendValue(out, snapshot.sum());
        out += '\n';
        out += name;
        out += "_count";
        out += s->renderedLabels;
        out += ' ';
        appendUnsigned(out, snapshot.count());
        out += '\n';
    }
}

} // namespace

void MetricsExporter::appendValue(QByteArray& out, double value) {
    if (std::isnan(value)) {
        out += "NaN";
        return;
    }
    if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
        return;
    }
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr - buffer);
}

QByteArray MetricsExporter::prometheusText(const MetricsRegistry& process,
                                           const MetricsRegistry* history) {
    QList<const MetricsRegistry*> registries{&process};
    if (history)
        registries.append(history);
    return prometheusText(registries);
}

QByteArray MetricsExporter::prometheusText(const QList<const MetricsRegistry*>& registries) {
    QByteArray out;
    out.reserve(64 * 1024);
    for (const MetricsRegistry* registry : registries) {
        if (!registry)
            continue;
        registry->forEachFamily(
            [&out](const MetricsRegistry::Family& family) { appendFamily(out, family); });
    }
    return out;
}

} // namespace m1
