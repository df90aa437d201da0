#include "monitoring/SecretRedactor.h"

#include <QRegularExpression>
#include <QUrl>

#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace m1 {

struct SecretRedactor::Rules {
    std::vector<QString> exact;
    std::vector<std::u16string> fragmentSources;
    std::unordered_set<std::u16string_view> fragments;
};

namespace {

std::u16string_view viewOf(const QString& text, qsizetype from, qsizetype length) {
    return std::u16string_view(reinterpret_cast<const char16_t*>(text.utf16()) + from,
                               size_t(length));
}

const QList<QRegularExpression>& patterns() {
    static const QList<QRegularExpression> list{
        // Anthropic keys of any kind, whole or cut (broader than a detector's pattern).
        QRegularExpression(QStringLiteral("sk-ant-[A-Za-z0-9]+-[A-Za-z0-9_-]{8,}")),
        // JWTs: approval tokens and anything else signed.
        QRegularExpression(
            QStringLiteral("eyJ[A-Za-z0-9_-]{2,}\\.eyJ[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]*")),
    };
    return list;
}

// The value of a credential header in "Name: value", "name=value" or JSON form; group 1.
const QRegularExpression& headerPattern() {
    static const QRegularExpression pattern(
        QStringLiteral("\\b(?:proxy-authorization|authorization|x-api-key)[\"']?\\s*[:=]\\s*"
                       "[\"']?([^\"'\\r\\n,;}]+)"),
        QRegularExpression::CaseInsensitiveOption);
    return pattern;
}

} // namespace

SecretRedactor::SecretRedactor() : m_rules(std::make_shared<Rules>()) {}

SecretRedactor::~SecretRedactor() = default;

SecretRedactor& SecretRedactor::global() {
    static SecretRedactor instance;
    return instance;
}

std::shared_ptr<const SecretRedactor::Rules> SecretRedactor::rules() const {
    QMutexLocker lock(&m_mutex);
    return m_rules;
}

void SecretRedactor::clearSecrets() {
    QMutexLocker lock(&m_mutex);
    m_secrets.clear();
    m_rules = std::make_shared<Rules>();
}

void SecretRedactor::addSecretsFromEnvironment() {
    for (const char* name : {"ANTHROPIC_API_KEY", "M1_JWT_SECRET"}) {
        const QByteArray value = qgetenv(name);
        if (!value.isEmpty())
            addSecret(value);
    }
}

void SecretRedactor::addSecret(const QByteArray& secret) {
    if (secret.size() < 8)
        return;
    QMutexLocker lock(&m_mutex);
    if (m_secrets.contains(secret))
        return;
    m_secrets.append(secret);

    auto rules = std::make_shared<Rules>();
    QStringList forms;
    for (const QByteArray& s : std::as_const(m_secrets)) {
        const QString raw = QString::fromUtf8(s);
        if (!raw.contains(QChar::ReplacementCharacter))
            forms << raw;
        const QByteArray percent = QUrl::toPercentEncoding(QString::fromLatin1(s));
        forms << QString::fromLatin1(percent) << QString::fromLatin1(percent).toLower();
        forms << QString::fromLatin1(QUrl::toPercentEncoding(raw));
        for (const QByteArray::Base64Options options :
             {QByteArray::Base64Options(QByteArray::Base64Encoding),
              QByteArray::Base64Options(QByteArray::Base64UrlEncoding),
              QByteArray::Base64Encoding | QByteArray::OmitTrailingEquals,
              QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals})
            forms << QString::fromLatin1(s.toBase64(options));
        forms << QString::fromLatin1(s.toHex()) << QString::fromLatin1(s.toHex()).toUpper();
    }
    forms.removeDuplicates();
    for (const QString& form : std::as_const(forms)) {
        if (form.size() < 8)
            continue;
        rules->exact.push_back(form);
        if (form.size() >= kMinFragment)
            rules->fragmentSources.push_back(form.toStdU16String());
    }
    // Views into fragmentSources, which no longer changes size.
    for (const std::u16string& source : rules->fragmentSources) {
        const std::u16string_view view(source);
        for (size_t i = 0; i + kMinFragment <= view.size(); ++i)
            rules->fragments.insert(view.substr(i, kMinFragment));
    }
    m_rules = std::move(rules);
}

QString SecretRedactor::redact(const QString& text) const {
    if (text.isEmpty())
        return text;
    const std::shared_ptr<const Rules> r = rules();
    std::vector<std::pair<qsizetype, qsizetype>> ranges; // [begin, end)

    for (const QString& form : r->exact) {
        for (qsizetype at = text.indexOf(form); at >= 0; at = text.indexOf(form, at + 1))
            ranges.emplace_back(at, at + form.size());
    }
    if (!r->fragments.empty() && text.size() >= kMinFragment) {
        for (qsizetype i = 0; i + kMinFragment <= text.size(); ++i)
            if (r->fragments.count(viewOf(text, i, kMinFragment)))
                ranges.emplace_back(i, i + kMinFragment);
    }
    for (const QRegularExpression& pattern : patterns()) {
        auto it = pattern.globalMatch(text);
        while (it.hasNext()) {
            const QRegularExpressionMatch m = it.next();
            ranges.emplace_back(m.capturedStart(), m.capturedEnd());
        }
    }
    {
        auto it = headerPattern().globalMatch(text);
        while (it.hasNext()) {
            const QRegularExpressionMatch m = it.next();
            // Keep a scheme word ("Bearer", "Basic") readable; mask what follows it.
            qsizetype start = m.capturedStart(1);
            const QString value = m.captured(1);
            const qsizetype space = value.indexOf(QLatin1Char(' '));
            if (space > 0 && space < 8 && value.left(space).front().isLetter())
                start += space + 1;
            if (start < m.capturedEnd(1))
                ranges.emplace_back(start, m.capturedEnd(1));
        }
    }
    if (ranges.empty())
        return text;

    std::sort(ranges.begin(), ranges.end());
    QString out;
    out.reserve(text.size());
    qsizetype copied = 0;
    qsizetype i = 0;
    while (i < qsizetype(ranges.size())) {
        qsizetype begin = ranges[size_t(i)].first;
        qsizetype end = ranges[size_t(i)].second;
        for (++i; i < qsizetype(ranges.size()) && ranges[size_t(i)].first <= end; ++i)
            end = std::max(end, ranges[size_t(i)].second);
        out += QStringView(text).mid(copied, begin - copied);
        out += QLatin1String(kMask);
        copied = end;
    }
    out += QStringView(text).mid(copied);
    return out;
}

std::function<QString(const QString&)> SecretRedactor::textFilter() {
    return [this](const QString& text) { return redact(text); };
}

} // namespace m1
