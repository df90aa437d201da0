#include "JsonReader.h"

#include "util/Utf8.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

namespace m1 {

namespace {

constexpr int kMaxDepth = 256;              // Qt's own limit is 1024; deeper documents go to Qt
constexpr qsizetype kReaderMinBytes = 2048; // measured crossover with escapes: about 200 bytes
constexpr quint64 kOnes = 0x0101010101010101ULL;
constexpr quint64 kHighs = 0x8080808080808080ULL;
constexpr bool kLittleEndian = std::endian::native == std::endian::little;

// The high bit of every byte of x that is '"', '\\' or below 0x20. Bits above the lowest set
// one may be spurious (borrows), the lowest is exact, and only the lowest is used.
inline quint64 specialBytes(quint64 x) {
    const quint64 quote = x ^ (kOnes * '"');
    const quint64 backslash = x ^ (kOnes * '\\');
    return (((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) |
            ((x - kOnes * 0x20) & ~x)) &
           kHighs;
}

inline bool isSpecial(char c) {
    return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
}

int hexValue(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool readHex4(const char*& p, const char* end, char32_t& value) {
    if (end - p < 4)
        return false;
    value = 0;
    for (int i = 0; i < 4; ++i) {
        const int h = hexValue(p[i]);
        if (h < 0)
            return false;
        value = (value << 4) | char32_t(h);
    }
    p += 4;
    return true;
}

struct RawOut {
    char*& w;
    void push_back(char c) { *w++ = c; }
};

inline bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

// Recursive descent over the subset described in the header; false means "let Qt decide".
class Reader {
public:
    Reader(const char* p, const char* end, char* scratch)
        : m_p(p), m_end(end), m_scratch(scratch) {}

    bool document(QJsonDocument& out) {
        skipSpace();
        if (m_p >= m_end)
            return false;
        if (*m_p == '{') {
            ++m_p;
            QJsonObject object;
            if (!parseObject(object, 1))
                return false;
            out = QJsonDocument(object);
        } else if (*m_p == '[') {
            ++m_p;
            QJsonArray array;
            if (!parseArray(array, 1))
                return false;
            out = QJsonDocument(array);
        } else {
            return false;
        }
        skipSpace();
        return m_p == m_end;
    }

private:
    void skipSpace() {
        while (m_p < m_end && (*m_p == ' ' || *m_p == '\n' || *m_p == '\r' || *m_p == '\t'))
            ++m_p;
    }

    // m_p is after the opening quote.
    bool parseString(QString& out) {
        char* const w = JsonReader::decodeString(m_p, m_end, m_scratch);
        if (!w)
            return false;
        // QString::fromUtf8 drops a leading byte order mark; Qt's parser keeps U+FEFF when
        // the string had escapes and compares keys by their bytes: leave such strings to Qt.
        if (w - m_scratch >= 3 && std::memcmp(m_scratch, "\xEF\xBB\xBF", 3) == 0)
            return false;
        out = QString::fromUtf8(m_scratch, w - m_scratch);
        return true;
    }

    bool literal(const char* text, qsizetype n) {
        if (m_end - m_p < n || std::memcmp(m_p, text, size_t(n)) != 0)
            return false;
        m_p += n;
        return true;
    }

    // Qt's rules (qjsonparser.cpp): a token without exponent whose fraction is all zeros is
    // tried as qint64 first; otherwise the double, stored as an integer when it is integral.
    // Doubles beyond 2^53 and numbers that fail to convert are left to Qt.
    bool parseNumber(QJsonValue& out) {
        const char* start = m_p;
        if (m_p < m_end && *m_p == '-')
            ++m_p;
        if (m_p >= m_end)
            return false;
        if (*m_p == '0') {
            ++m_p;
        } else if (*m_p >= '1' && *m_p <= '9') {
            while (m_p < m_end && isDigit(*m_p))
                ++m_p;
        } else {
            return false;
        }
        bool isInt = true;
        if (m_p < m_end && *m_p == '.') {
            ++m_p;
            const char* digits = m_p;
            while (m_p < m_end && isDigit(*m_p)) {
                isInt = isInt && *m_p == '0';
                ++m_p;
            }
            if (m_p == digits)
                return false;
        }
        if (m_p < m_end && (*m_p == 'e' || *m_p == 'E')) {
            isInt = false;
            ++m_p;
            if (m_p < m_end && (*m_p == '+' || *m_p == '-'))
                ++m_p;
            const char* digits = m_p;
            while (m_p < m_end && isDigit(*m_p))
                ++m_p;
            if (m_p == digits)
                return false;
        }
        if (m_p >= m_end)
            return false;
        const QByteArray token = QByteArray::fromRawData(start, m_p - start);
        if (isInt) {
            bool ok = false;
            const qlonglong n = token.toLongLong(&ok);
            if (ok) {
                out = QJsonValue(qint64(n));
                return true;
            }
        }
        bool ok = false;
        const double d = token.toDouble(&ok);
        if (!ok || !(std::fabs(d) <= 9007199254740992.0))
            return false;
        if (d == std::trunc(d))
            out = QJsonValue(qint64(d));
        else
            out = QJsonValue(d);
        return true;
    }

    bool parseValue(QJsonValue& out, int depth) {
        if (m_p >= m_end)
            return false;
        switch (*m_p) {
        case '"': {
            ++m_p;
            QString s;
            if (!parseString(s))
                return false;
            out = QJsonValue(s);
            return true;
        }
        case '{': {
            ++m_p;
            QJsonObject object;
            if (!parseObject(object, depth + 1))
                return false;
            out = QJsonValue(std::move(object));
            return true;
        }
        case '[': {
            ++m_p;
            QJsonArray array;
            if (!parseArray(array, depth + 1))
                return false;
            out = QJsonValue(std::move(array));
            return true;
        }
        case 't':
            out = QJsonValue(true);
            return literal("true", 4);
        case 'f':
            out = QJsonValue(false);
            return literal("false", 5);
        case 'n':
            out = QJsonValue(QJsonValue::Null);
            return literal("null", 4);
        default:
            return parseNumber(out);
        }
    }

    // m_p is after '{'.
    bool parseObject(QJsonObject& out, int depth) {
        if (depth > kMaxDepth)
            return false;
        skipSpace();
        if (m_p < m_end && *m_p == '}') {
            ++m_p;
            return true;
        }
        std::vector<std::pair<QString, QJsonValue>> members;
        for (;;) {
            if (m_p >= m_end || *m_p != '"')
                return false;
            ++m_p;
            QString key;
            if (!parseString(key))
                return false;
            skipSpace();
            if (m_p >= m_end || *m_p != ':')
                return false;
            ++m_p;
            skipSpace();
            QJsonValue value;
            if (!parseValue(value, depth))
                return false;
            members.emplace_back(std::move(key), std::move(value));
            skipSpace();
            if (m_p >= m_end)
                return false;
            if (*m_p == '}') {
                ++m_p;
                break;
            }
            if (*m_p != ',')
                return false;
            ++m_p;
            skipSpace();
        }
        // Inserting in key order appends; a duplicate key is left to Qt (which keeps the last).
        std::sort(members.begin(), members.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
        for (size_t i = 1; i < members.size(); ++i)
            if (members[i - 1].first == members[i].first)
                return false;
        for (const auto& [key, value] : members)
            out.insert(key, value);
        return true;
    }

    // m_p is after '['.
    bool parseArray(QJsonArray& out, int depth) {
        if (depth > kMaxDepth)
            return false;
        skipSpace();
        if (m_p < m_end && *m_p == ']') {
            ++m_p;
            return true;
        }
        for (;;) {
            QJsonValue value;
            if (!parseValue(value, depth))
                return false;
            out.append(value);
            skipSpace();
            if (m_p >= m_end)
                return false;
            if (*m_p == ']') {
                ++m_p;
                return true;
            }
            if (*m_p != ',')
                return false;
            ++m_p;
            skipSpace();
        }
    }

    const char* m_p;
    const char* m_end;
    char* m_scratch; // room for any decoded string: decoding never lengthens
};

} // namespace

char* JsonReader::decodeString(const char*& p, const char* end, char* w) {
    // Invariant: w advanced no more than p did, so w has room for end - p more bytes; the
    // word loop may store all 8 bytes of a word before advancing by fewer.
    for (;;) {
        if constexpr (kLittleEndian) {
            while (end - p >= 8) {
                quint64 x;
                std::memcpy(&x, p, 8);
                std::memcpy(w, &x, 8);
                const quint64 special = specialBytes(x);
                if (special) {
                    const int k = std::countr_zero(special) >> 3;
                    p += k;
                    w += k;
                    break;
                }
                p += 8;
                w += 8;
            }
        }
        while (p < end && !isSpecial(*p))
            *w++ = *p++;
        if (p >= end)
            return nullptr;
        const char c = *p;
        if (c == '"') {
            ++p;
            return w;
        }
        if (c != '\\' || end - p < 2)
            return nullptr; // a control character, or a backslash at the very end
        const char e = p[1];
        p += 2;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            *w++ = e;
            break;
        case 'b':
            *w++ = '\b';
            break;
        case 'f':
            *w++ = '\f';
            break;
        case 'n':
            *w++ = '\n';
            break;
        case 'r':
            *w++ = '\r';
            break;
        case 't':
            *w++ = '\t';
            break;
        case 'u': {
            char32_t cp;
            if (!readHex4(p, end, cp))
                return nullptr;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                char32_t low;
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
                    return nullptr;
                p += 2;
                if (!readHex4(p, end, low) || low < 0xDC00 || low > 0xDFFF)
                    return nullptr;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return nullptr;
            }
            RawOut out{w};
            appendUtf8(out, cp);
            break;
        }
        default:
            return nullptr;
        }
    }
}

bool JsonReader::appendString(const char*& p, const char* end, QByteArray& out) {
    const qsizetype base = out.size();
    out.resize(base + (end - p));
    const char* q = p;
    char* const w = decodeString(q, end, out.data() + base);
    if (!w) {
        out.resize(base);
        return false;
    }
    out.resize(w - out.constData());
    p = q;
    return true;
}

bool JsonReader::parseFast(QByteArrayView json, QJsonDocument& out) {
    if (json.isEmpty() || !isValidUtf8(json.data(), json.size()))
        return false;
    // One scratch buffer for every decoded string; untouched pages cost nothing.
    const std::unique_ptr<char[]> scratch(new char[size_t(json.size())]);
    Reader reader(json.data(), json.data() + json.size(), scratch.get());
    QJsonDocument doc;
    if (!reader.document(doc))
        return false;
    out = std::move(doc);
    return true;
}

QJsonDocument JsonReader::parse(QByteArrayView json, QJsonParseError* error) {
    // Qt's parser is faster on small documents and on strings without escapes (it copies
    // those as they are): the reader is for the long escaped strings it decodes slowly.
    const bool worthIt =
        json.size() >= kReaderMinBytes && std::memchr(json.data(), '\\', size_t(json.size()));
    QJsonDocument doc;
    if (worthIt && parseFast(json, doc)) {
        if (error) {
            error->error = QJsonParseError::NoError;
            error->offset = 0;
        }
        return doc;
    }
    return QJsonDocument::fromJson(QByteArray::fromRawData(json.data(), json.size()), error);
}

} // namespace m1
