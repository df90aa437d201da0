#pragma once

#include "util/Error.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QString>

namespace m1 {

// Secrets live in the OS keychain (QtKeychain, service "m1-agent-control"), or for headless use in
// environment variables. There is never a plaintext fallback: QtKeychain's insecure fallback stays
// off. Jobs are asynchronous; these calls wait in a local event loop, so call them from the CLI or
// a worker, never while the UI thread must stay responsive.
//
// Error codes: "secret.no_keychain" (no secret service; the message names the environment
// variable to use instead), "secret.access_denied", "secret.keychain" (other keychain failures),
// "secret.too_short" (M1_JWT_SECRET shorter than 32 bytes), "secret.not_found".
class SecretStore {
    Q_DECLARE_TR_FUNCTIONS(SecretStore)

public:
    static constexpr int kMinJwtSecretBytes = 32;

    // M1_JWT_SECRET if set (at least 32 bytes), else the keychain entry "jwt-secret"; when the
    // keychain has none, 32 bytes from OpenSSL's RAND_bytes are created and saved first.
    static Result<QByteArray> jwtSecret();
    // Replaces the keychain's JWT secret with 32 new random bytes; on failure the old one stays.
    static Status rotateJwtSecret();

    // ANTHROPIC_API_KEY if set and non-empty, else the keychain entry "anthropic-api-key".
    // "secret.not_found" when neither holds a key (an empty key is never returned).
    static Result<QString> apiKey();
    static Status setApiKey(const QString& key);
    static Status deleteApiKey();

    // Raw keychain access (service "m1-agent-control"), exposed for tests and the settings UI.
    static Result<QByteArray> readEntry(const QString& key);
    static Status writeEntry(const QString& key, const QByteArray& value);
    static Status deleteEntry(const QString& key);
};

} // namespace m1
