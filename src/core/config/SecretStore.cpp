#include "config/SecretStore.h"

#include <QEventLoop>

#include <qt6keychain/keychain.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

namespace m1 {

namespace {

const QString kService = QStringLiteral("m1-agent-control");
const QString kJwtSecretKey = QStringLiteral("jwt-secret");
const QString kApiKeyKey = QStringLiteral("anthropic-api-key");
const char kJwtSecretEnv[] = "M1_JWT_SECRET";
const char kApiKeyEnv[] = "ANTHROPIC_API_KEY";

// QtKeychain reports "no Secret Service on the bus" as NoBackendAvailable on some paths and as
// OtherError carrying the D-Bus or libsecret message on others; both mean the same to a user.
bool looksLikeMissingService(const QString& message) {
    static const char* const kMarkers[] = {
        "org.freedesktop.secrets", "not provided by any .service",
        "ServiceUnknown",          "Could not connect",
        "Failed to connect",       "Unable to autolaunch",
        "Cannot autolaunch",       "No keychain service",
        "Not connected to D-Bus",
    };
    for (const char* marker : kMarkers) {
        if (message.contains(QLatin1String(marker), Qt::CaseInsensitive))
            return true;
    }
    return false;
}

Error mapKeychainError(QKeychain::Error code, const QString& detail, const QString& key) {
    // The variable that stands in for this one entry: a message about the API key must not send
    // someone to set M1_JWT_SECRET (which may be set already), and the other way round.
    const QString variable =
        key == kApiKeyKey
            ? QString::fromLatin1(kApiKeyEnv)
            : SecretStore::tr("%1 (at least 32 bytes)").arg(QString::fromLatin1(kJwtSecretEnv));
    switch (code) {
    case QKeychain::EntryNotFound:
        return Error{QStringLiteral("secret.not_found"),
                     SecretStore::tr("The keychain has no entry \"%1\".").arg(key)};
    case QKeychain::AccessDenied:
    case QKeychain::AccessDeniedByUser:
        // Debian's QtKeychain also reports a missing Secret Service as AccessDenied (code 4).
        if (looksLikeMissingService(detail))
            break;
        return Error{QStringLiteral("secret.access_denied"),
                     SecretStore::tr("Access to the keychain was denied (%1). Unlock the keychain "
                                     "and try again, or for headless use set %2.")
                         .arg(detail, variable)};
    case QKeychain::NoBackendAvailable:
    case QKeychain::NotImplemented:
        break;
    case QKeychain::OtherError:
        if (looksLikeMissingService(detail))
            break;
        [[fallthrough]];
    default:
        return Error{QStringLiteral("secret.keychain"),
                     SecretStore::tr("The keychain failed: %1").arg(detail)};
    }
    return Error{QStringLiteral("secret.no_keychain"),
                 SecretStore::tr("No keychain service is available (%1). Start one that offers "
                                 "the Secret Service D-Bus API, such as GNOME Keyring or KWallet, "
                                 "or for headless use set the environment variable %2.")
                     .arg(detail, variable)};
}

// Starts the job and waits for it in a local event loop. The flag covers a job that finishes
// before exec() is reached.
void runJob(QKeychain::Job& job) {
    job.setAutoDelete(false);
    job.setInsecureFallback(false);
    QEventLoop loop;
    bool finished = false;
    QObject::connect(&job, &QKeychain::Job::finished, &loop, [&] {
        finished = true;
        loop.quit();
    });
    job.start();
    if (!finished)
        loop.exec();
}

QByteArray randomSecret() {
    QByteArray secret(SecretStore::kMinJwtSecretBytes, Qt::Uninitialized);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), int(secret.size())) != 1)
        return {};
    return secret;
}

void wipe(QByteArray& bytes) {
    if (!bytes.isEmpty() && !bytes.isDetached())
        return; // shared data belongs to someone else too; only a sole owner may wipe it
    OPENSSL_cleanse(bytes.data(), size_t(bytes.size()));
}

} // namespace

Result<QByteArray> SecretStore::readEntry(const QString& key) {
    QKeychain::ReadPasswordJob job(kService);
    job.setKey(key);
    runJob(job);
    if (job.error() != QKeychain::NoError)
        return std::unexpected(mapKeychainError(job.error(), job.errorString(), key));
    return job.binaryData();
}

Status SecretStore::writeEntry(const QString& key, const QByteArray& value) {
    QKeychain::WritePasswordJob job(kService);
    job.setKey(key);
    job.setBinaryData(value);
    runJob(job);
    if (job.error() != QKeychain::NoError)
        return std::unexpected(mapKeychainError(job.error(), job.errorString(), key));
    return {};
}

Status SecretStore::deleteEntry(const QString& key) {
    QKeychain::DeletePasswordJob job(kService);
    job.setKey(key);
    runJob(job);
    if (job.error() != QKeychain::NoError)
        return std::unexpected(mapKeychainError(job.error(), job.errorString(), key));
    return {};
}

Result<QByteArray> SecretStore::jwtSecret() {
    if (qEnvironmentVariableIsSet(kJwtSecretEnv)) {
        QByteArray secret = qgetenv(kJwtSecretEnv);
        if (secret.size() < kMinJwtSecretBytes)
            return fail(QStringLiteral("secret.too_short"),
                        tr("M1_JWT_SECRET holds %1 bytes; it needs at least %2 random bytes "
                           "(for example the output of: openssl rand -base64 48).")
                            .arg(secret.size())
                            .arg(kMinJwtSecretBytes));
        return secret;
    }
    Result<QByteArray> stored = readEntry(kJwtSecretKey);
    if (stored) {
        if (stored->size() < kMinJwtSecretBytes)
            return fail(QStringLiteral("secret.too_short"),
                        tr("The keychain's JWT secret is shorter than %1 bytes; rotate it.")
                            .arg(kMinJwtSecretBytes));
        return stored;
    }
    if (stored.error().code != QLatin1String("secret.not_found"))
        return stored;

    QByteArray created = randomSecret();
    if (created.isEmpty())
        return fail(QStringLiteral("secret.keychain"),
                    tr("OpenSSL could not provide random bytes for the JWT secret."));
    const Status written = writeEntry(kJwtSecretKey, created);
    wipe(created);
    if (!written)
        return std::unexpected(written.error());
    // Read back rather than return what was written: of two processes creating the secret at
    // once, both then use whichever write the keychain kept.
    return readEntry(kJwtSecretKey);
}

Status SecretStore::rotateJwtSecret() {
    if (qEnvironmentVariableIsSet(kJwtSecretEnv))
        return fail(QStringLiteral("secret.env_override"),
                    tr("M1_JWT_SECRET is set and overrides the keychain; rotating the keychain's "
                       "secret would not change the secret in use. Change the variable instead."));
    QByteArray fresh = randomSecret();
    if (fresh.isEmpty())
        return fail(QStringLiteral("secret.keychain"),
                    tr("OpenSSL could not provide random bytes for the JWT secret."));
    // One write replaces the item; if it fails the keychain still holds the old secret.
    const Status written = writeEntry(kJwtSecretKey, fresh);
    wipe(fresh);
    return written;
}

Result<QString> SecretStore::apiKey() {
    const QString fromEnv = qEnvironmentVariable(kApiKeyEnv);
    if (!fromEnv.isEmpty())
        return fromEnv;
    Result<QByteArray> stored = readEntry(kApiKeyKey);
    if (!stored) {
        if (stored.error().code == QLatin1String("secret.not_found"))
            return fail(QStringLiteral("secret.not_found"),
                        tr("No API key configured: set ANTHROPIC_API_KEY or save a key in the "
                           "settings."));
        return std::unexpected(stored.error());
    }
    const QString key = QString::fromUtf8(*stored).trimmed();
    if (key.isEmpty())
        return fail(QStringLiteral("secret.not_found"),
                    tr("No API key configured: the keychain entry is empty. Set "
                       "ANTHROPIC_API_KEY or save a key in the settings."));
    return key;
}

Status SecretStore::setApiKey(const QString& key) {
    const QString trimmed = key.trimmed();
    if (trimmed.isEmpty())
        return fail(QStringLiteral("secret.empty"), tr("An empty API key cannot be saved."));
    return writeEntry(kApiKeyKey, trimmed.toUtf8());
}

Status SecretStore::deleteApiKey() {
    return deleteEntry(kApiKeyKey);
}

} // namespace m1
