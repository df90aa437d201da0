#pragma once

#include "model/Scope.h"

#include <QJsonObject>
#include <QString>

namespace m1 {

// The claims of an approval token. iss is always "m1-agent-control", sub always "approval".
struct TokenClaims {
    QString toolName;
    Scope scope = Scope::Read;
    qint64 iat = 0; // seconds since the epoch
    qint64 exp = 0;
    QString jti;        // UUID v4, lowercase, without braces
    QString runId;      // may be empty outside a run
    QString argsSha256; // lowercase hex SHA-256 of CanonicalJson::serialize(arguments)

    QJsonObject toJson() const;
};

} // namespace m1
