// SEC-05: the secret redactor, data-driven over every form a secret can take. Fixture keys are
// plainly fake (FAKE-TEST-KEY, runs of x) yet shaped like real ones (SEC-13).
#include "monitoring/SecretRedactor.h"

#include <QUrl>
#include <QtTest>

using m1::SecretRedactor;

namespace {

QString fakeKey(const QString& kind) {
    QString body = QStringLiteral("FAKE-TEST-KEY-NOT-REAL-");
    body += QString(93 - body.size(), QLatin1Char('x'));
    return QStringLiteral("sk-ant-%1-%2AA").arg(kind, body);
}

// The configured key: not in the sk-ant shape, so only the exact-value rules can catch it.
QString configuredKey() {
    return QStringLiteral("fake_configured_key_0123456789_ABCDEFGHIJ_klmnopqrst");
}

QByteArray jwtSecret() {
    return QByteArrayLiteral("fake-jwt-secret-for-tests-0123456789abcdef");
}

QString fakeJwt() {
    return QStringLiteral("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJqdGkiOiJmYWtlIn0."
                          "ZmFrZS1zaWduYXR1cmUtZm9yLXRlc3Rz");
}

} // namespace

class TestRedactor : public QObject {
    Q_OBJECT

    SecretRedactor m_redactor;

private Q_SLOTS:
    void initTestCase() {
        m_redactor.addSecret(configuredKey());
        m_redactor.addSecret(jwtSecret());
    }

    void masks_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("secret"); // must not survive
        const QString key = configuredKey();
        for (const QString& kind : {QStringLiteral("api03"), QStringLiteral("admin01"),
                                    QStringLiteral("oat01"), QStringLiteral("ort01")})
            QTest::newRow(qPrintable(QStringLiteral("SEC-05/shape-") + kind))
                << QStringLiteral("request failed, key=") + fakeKey(kind) + QStringLiteral(" (401)")
                << fakeKey(kind).mid(14);
        QTest::newRow("SEC-05/cut-after-30")
            << QStringLiteral("key ") + fakeKey(QStringLiteral("api03")).left(30) +
                   QStringLiteral("…")
            << fakeKey(QStringLiteral("api03")).left(30).mid(13);
        QTest::newRow("SEC-05/configured-exact") << QStringLiteral("using ") + key << key;
        QTest::newRow("SEC-05/configured-url-encoded")
            << QStringLiteral("GET /?k=") +
                   QString::fromLatin1(QUrl::toPercentEncoding(key + QStringLiteral("/+")))
            << QString::fromLatin1(QUrl::toPercentEncoding(key));
        QTest::newRow("SEC-05/configured-base64")
            << QStringLiteral("blob ") + QString::fromLatin1(key.toUtf8().toBase64())
            << QString::fromLatin1(key.toUtf8().toBase64());
        QTest::newRow("SEC-05/configured-base64url")
            << QString::fromLatin1(key.toUtf8().toBase64(QByteArray::Base64UrlEncoding |
                                                         QByteArray::OmitTrailingEquals))
            << QString::fromLatin1(key.toUtf8().toBase64(QByteArray::Base64UrlEncoding |
                                                         QByteArray::OmitTrailingEquals));
        QTest::newRow("SEC-05/configured-split-first-half")
            << QStringLiteral("part ") + key.left(key.size() / 2) << key.left(key.size() / 2);
        QTest::newRow("SEC-05/configured-split-quoted")
            << QStringLiteral("\"") + key.left(25) + QStringLiteral("\" \"") + key.mid(25) +
                   QStringLiteral("\"")
            << key.mid(25);
        QTest::newRow("SEC-05/jwt-secret-raw")
            << QStringLiteral("secret=") + QString::fromLatin1(jwtSecret())
            << QString::fromLatin1(jwtSecret());
        QTest::newRow("SEC-05/jwt-secret-hex")
            << QStringLiteral("hex ") + QString::fromLatin1(jwtSecret().toHex())
            << QString::fromLatin1(jwtSecret().toHex());
        QTest::newRow("SEC-05/jwt-secret-HEX")
            << QStringLiteral("hex ") + QString::fromLatin1(jwtSecret().toHex()).toUpper()
            << QString::fromLatin1(jwtSecret().toHex()).toUpper();
        QTest::newRow("SEC-05/jwt-secret-base64")
            << QStringLiteral("b64 ") + QString::fromLatin1(jwtSecret().toBase64())
            << QString::fromLatin1(jwtSecret().toBase64());
        QTest::newRow("SEC-05/whole-token")
            << QStringLiteral("token ") + fakeJwt() + QStringLiteral(" ok") << fakeJwt().mid(10);
        QTest::newRow("SEC-09/authorization")
            << QStringLiteral("Authorization: Bearer opaque-session-value-123")
            << QStringLiteral("opaque-session-value-123");
        QTest::newRow("SEC-09/x-api-key-header")
            << QStringLiteral("x-api-key: plain-value-without-shape")
            << QStringLiteral("plain-value-without-shape");
        QTest::newRow("SEC-09/x-api-key-json")
            << QStringLiteral("{\"x-api-key\":\"another-plain-value\",\"a\":1}")
            << QStringLiteral("another-plain-value");
        QTest::newRow("SEC-09/authorization-equals")
            << QStringLiteral("authorization=basicvalue99; next") << QStringLiteral("basicvalue99");
    }
    void masks() {
        QFETCH(QString, text);
        QFETCH(QString, secret);
        const QString out = m_redactor.redact(text);
        QVERIFY2(!out.contains(secret), qPrintable(out));
        QVERIFY2(out.contains(QLatin1String(SecretRedactor::kMask)), qPrintable(out));
    }

    void leavesOrdinaryTextAlone_data() {
        QTest::addColumn<QString>("text");
        QTest::newRow("plain") << QStringLiteral("read_file src/main.cpp: 120 lines");
        QTest::newRow("sk-ant-prefix-only") << QStringLiteral("keys start with sk-ant-api03-");
        QTest::newRow("short-jwt-like") << QStringLiteral("eyJ is how JSON looks in base64");
        QTest::newRow("empty") << QString();
    }
    void leavesOrdinaryTextAlone() {
        QFETCH(QString, text);
        QCOMPARE(m_redactor.redact(text), text);
    }

    void keepsTheSchemeWord() {
        QCOMPARE(m_redactor.redact(QStringLiteral("Authorization: Bearer abcdefgh")),
                 QStringLiteral("Authorization: Bearer [REDACTED]"));
    }

    void threadSafeSwap() {
        SecretRedactor r;
        r.addSecret(QByteArrayLiteral("short")); // < 8 bytes: ignored
        QCOMPARE(r.redact(QStringLiteral("short")), QStringLiteral("short"));
        r.addSecret(QByteArrayLiteral("0123456789abcdef0123"));
        QCOMPARE(r.redact(QStringLiteral("x0123456789abcdef0123y")),
                 QStringLiteral("x[REDACTED]y"));
        r.clearSecrets();
        QCOMPARE(r.redact(QStringLiteral("x0123456789abcdef0123y")),
                 QStringLiteral("x0123456789abcdef0123y"));
    }
};

QTEST_GUILESS_MAIN(TestRedactor)
#include "tst_redactor.moc"
