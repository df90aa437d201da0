#pragma once

#include <QByteArray>
#include <QList>
#include <QMutex>
#include <QString>

#include <memory>

namespace m1 {

// Masks secrets in text before it is logged or stored (I3, SEC-05). Applied to every log line
// (JsonLogger) and to every text the audit store writes, by installing it as the store's filter:
//   StoreConfig config = ...;
//   config.textFilter = SecretRedactor::global().textFilter();
// What it masks, each replaced by "[REDACTED]":
// - the exact values of the secrets it was given (the API key setting, the JWT secret), and their
//   URL-encoded, base64 (standard and URL alphabet, with and without padding) and hex forms; also
//   any run of at least kMinFragment characters of one of these forms (a key split over two
//   arguments of a log message, or cut short);
// - anything shaped like an Anthropic key: sk-ant-<kind>-<8 or more of [A-Za-z0-9_-]> (api03,
//   admin01, oat01, ort01 and others, whole or cut);
// - JWTs (eyJ…, three base64url segments), i.e. approval tokens;
// - the values of Authorization, Proxy-Authorization and x-api-key headers (as "Name: value",
//   "name=value" or JSON "name": "value").
// Thread-safe: redact() works on an immutable snapshot of the rules; adding a secret swaps it.
class SecretRedactor {
public:
    static constexpr int kMinFragment = 16;
    static constexpr const char* kMask = "[REDACTED]";

    SecretRedactor();
    ~SecretRedactor();

    // The instance the logger and the store filter use.
    static SecretRedactor& global();

    // Secrets shorter than 8 bytes are ignored (masking them would shred ordinary text).
    void addSecret(const QByteArray& secret);
    void addSecret(const QString& secret) { addSecret(secret.toUtf8()); }
    // ANTHROPIC_API_KEY and M1_JWT_SECRET when set (the keychain values are added by whoever
    // reads them: SecretStore callers).
    void addSecretsFromEnvironment();
    void clearSecrets();

    QString redact(const QString& text) const;
    // A copy that captures this redactor (which must outlive the store using it).
    std::function<QString(const QString&)> textFilter();

private:
    struct Rules;
    std::shared_ptr<const Rules> rules() const;

    mutable QMutex m_mutex;
    std::shared_ptr<const Rules> m_rules;
    QList<QByteArray> m_secrets;
};

} // namespace m1
