#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace m1 {

// Lowercase hex SHA-256 of `first` followed by `second`, through OpenSSL (hardware SHA extensions
// where the CPU has them; several times faster than QCryptographicHash). The one SHA-256 of the
// program: the audit chain, output digests and the tokens' argsSha256.
QByteArray sha256Hex(QByteArrayView first, QByteArrayView second = {});

} // namespace m1
