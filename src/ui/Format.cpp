#include "Format.h"

#include <QLocale>

namespace m1::Format {

QString usd(qint64 micros, int decimals) {
    return QStringLiteral("$") + QLocale().toString(double(micros) / 1e6, 'f', decimals);
}

QString seconds(double seconds, int decimals) {
    return QLocale().toString(seconds, 'f', decimals) + QStringLiteral(" s");
}

} // namespace m1::Format
