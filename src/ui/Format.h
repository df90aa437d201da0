#pragma once

#include <QString>
#include <QtGlobal>

namespace m1::Format {

// Amounts and durations in the system's number format (German "$0,0221", "12,5 s"), like the
// token counts beside them: one decimal separator per window.
QString usd(qint64 micros, int decimals = 4);
QString seconds(double seconds, int decimals = 1);

} // namespace m1::Format
