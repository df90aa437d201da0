#include "policy/PolicyRules.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>

namespace m1 {

namespace {

class Tr {
    Q_DECLARE_TR_FUNCTIONS(PolicyRules)
};

const QString kInvalid = QStringLiteral("policy.rules_invalid");

QString listName(PolicyRule::List list) {
    switch (list) {
    case PolicyRule::List::Allow:
        return QStringLiteral("allow");
    case PolicyRule::List::Ask:
        return QStringLiteral("ask");
    case PolicyRule::List::Deny:
        return QStringLiteral("deny");
    }
    return QStringLiteral("deny");
}

bool isToolNameChar(QChar c) {
    return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9') ||
           c == u'_' || c == u'-';
}

int lineAt(const QByteArray& bytes, qsizetype offset) {
    offset = qBound<qsizetype>(0, offset, bytes.size());
    return 1 + static_cast<int>(QByteArrayView(bytes).first(offset).count('\n'));
}

// Walks the raw bytes of a document that QJsonDocument already accepted, to learn what the
// parsed form hides: the line of every key and entry, and duplicate keys.
class RawScanner {
public:
    explicit RawScanner(const QByteArray& bytes) : m_bytes(bytes) {}

    qsizetype pos = 0;

    void skipSpace() {
        while (pos < m_bytes.size() && (m_bytes[pos] == ' ' || m_bytes[pos] == '\t' ||
                                        m_bytes[pos] == '\n' || m_bytes[pos] == '\r'))
            ++pos;
    }
    char peek() const { return pos < m_bytes.size() ? m_bytes[pos] : '\0'; }

    // At a '"': returns the decoded string and moves past it.
    QString readString() {
        ++pos; // opening quote
        QByteArray raw;
        while (pos < m_bytes.size() && m_bytes[pos] != '"') {
            if (m_bytes[pos] == '\\')
                raw += m_bytes[pos++];
            raw += m_bytes[pos++];
        }
        ++pos; // closing quote
        // The decoding is QJsonDocument's own, so escapes mean exactly what they meant there.
        const QJsonDocument doc =
            QJsonDocument::fromJson(QByteArray("[\"") + raw + QByteArray("\"]"));
        return doc.array().at(0).toString();
    }

    void skipValue() {
        const char c = peek();
        if (c == '"') {
            readString();
            return;
        }
        if (c == '{' || c == '[') {
            int depth = 0;
            while (pos < m_bytes.size()) {
                const char d = m_bytes[pos];
                if (d == '"') {
                    readString();
                    continue;
                }
                if (d == '{' || d == '[')
                    ++depth;
                else if (d == '}' || d == ']') {
                    if (--depth == 0) {
                        ++pos;
                        return;
                    }
                }
                ++pos;
            }
            return;
        }
        while (pos < m_bytes.size() && !QByteArrayView(",]} \t\r\n").contains(m_bytes[pos]))
            ++pos;
    }

private:
    const QByteArray& m_bytes;
};

} // namespace

QStringList PolicyRules::builtinToolNames() {
    return {QStringLiteral("read_file"),    QStringLiteral("write_file"),
            QStringLiteral("edit_file"),    QStringLiteral("list_directory"),
            QStringLiteral("search_files"), QStringLiteral("run_command"),
            QStringLiteral("update_plan")};
}

bool PolicyRules::isPathTool(const QString& tool) {
    return tool == QLatin1String("read_file") || tool == QLatin1String("write_file") ||
           tool == QLatin1String("edit_file") || tool == QLatin1String("list_directory") ||
           tool == QLatin1String("search_files");
}

bool PolicyRules::isCommandTool(const QString& tool) {
    return tool == QLatin1String("run_command");
}

Result<PolicyRule> PolicyRules::parseRule(const QString& text, PolicyRule::List list,
                                          const QStringList& knownTools) {
    auto bad = [](const QString& reason) { return fail(kInvalid, reason); };
    if (text.isEmpty())
        return bad(Tr::tr("empty rule"));
    if (text.front().isSpace() || text.back().isSpace())
        return bad(Tr::tr("spaces before or after the rule"));
    PolicyRule rule;
    rule.list = list;
    rule.text = text;
    const qsizetype open = text.indexOf(u'(');
    if (open < 0 && text.contains(u')'))
        return bad(Tr::tr("unbalanced parentheses"));
    rule.tool = open < 0 ? text : text.left(open);
    if (rule.tool.isEmpty())
        return bad(Tr::tr("the rule does not start with a tool name"));
    if (rule.tool.size() > 64 || !std::all_of(rule.tool.cbegin(), rule.tool.cend(), isToolNameChar))
        return bad(Tr::tr("\"%1\" is not a tool name (letters, digits, '_' and '-')")
                       .arg(rule.tool.left(80)));
    if (open >= 0) {
        if (!text.endsWith(u')'))
            return bad(Tr::tr("unbalanced parentheses: the pattern must end with ')'"));
        rule.pattern = text.mid(open + 1, text.size() - open - 2);
        int depth = 0;
        for (QChar c : std::as_const(rule.pattern)) {
            if (c == u'(')
                ++depth;
            else if (c == u')' && --depth < 0)
                break;
        }
        if (depth != 0)
            return bad(Tr::tr("unbalanced parentheses"));
        if (rule.pattern.trimmed().isEmpty())
            return bad(Tr::tr("empty pattern; write \"%1\" alone to match every call of the tool")
                           .arg(rule.tool));
        rule.hasPattern = true;
    }
    if (!knownTools.contains(rule.tool))
        return bad(Tr::tr("unknown tool \"%1\" (known tools: %2)")
                       .arg(rule.tool, knownTools.join(QStringLiteral(", "))));
    if (rule.hasPattern && !isPathTool(rule.tool) && !isCommandTool(rule.tool))
        return bad(Tr::tr("the tool \"%1\" takes no pattern; write \"%1\" alone").arg(rule.tool));
    if (rule.hasPattern && isPathTool(rule.tool)) {
        const QString& p = rule.pattern;
        if (p.startsWith(u'/') || p.startsWith(u'~'))
            return bad(Tr::tr("path patterns are relative to the workspace; \"%1\" is not").arg(p));
        const QStringList segments = p.split(u'/');
        if (segments.contains(QStringLiteral("..")))
            return bad(Tr::tr("path patterns may not contain \"..\""));
        if (p.contains(QChar(0)))
            return bad(Tr::tr("the pattern contains a NUL character"));
    }
    if (rule.hasPattern && isCommandTool(rule.tool)) {
        const QString program =
            rule.pattern.trimmed().section(QRegularExpression(QStringLiteral("\\s+")), 0, 0);
        if (program.contains(u'='))
            return bad(Tr::tr("a command rule starts with a program, not an assignment (\"%1\")")
                           .arg(program));
        if (program.startsWith(u'-'))
            return bad(Tr::tr("a command rule starts with a program, not an option (\"%1\")")
                           .arg(program));
    }
    return rule;
}

Result<PolicyRules> PolicyRules::parse(const QByteArray& json, const QString& fileName) {
    return parse(json, fileName, builtinToolNames());
}

Result<PolicyRules> PolicyRules::parse(const QByteArray& json, const QString& fileName,
                                       const QStringList& knownTools) {
    const QString file = fileName.isEmpty() ? Tr::tr("(rules)") : fileName;
    auto bad = [&](qsizetype offset, const QString& reason) {
        return fail(kInvalid, Tr::tr("%1:%2: %3; the rules file was not loaded")
                                  .arg(file)
                                  .arg(lineAt(json, offset))
                                  .arg(reason));
    };

    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError)
        return bad(error.offset, Tr::tr("invalid JSON (%1)").arg(error.errorString()));
    if (!doc.isObject())
        return bad(0, Tr::tr("the rules file must be a JSON object with the lists \"allow\", "
                             "\"ask\" and \"deny\""));

    PolicyRules result;
    RawScanner scan(json);
    scan.skipSpace();
    ++scan.pos; // '{'
    QSet<QString> seenKeys;
    while (true) {
        scan.skipSpace();
        if (scan.peek() == '}' || scan.peek() == '\0')
            break;
        if (scan.peek() == ',') {
            ++scan.pos;
            continue;
        }
        const qsizetype keyOffset = scan.pos;
        const QString key = scan.readString();
        if (seenKeys.contains(key))
            return bad(keyOffset, Tr::tr("the key \"%1\" appears twice").arg(key));
        seenKeys.insert(key);
        PolicyRule::List list;
        if (key == QLatin1String("allow"))
            list = PolicyRule::List::Allow;
        else if (key == QLatin1String("ask"))
            list = PolicyRule::List::Ask;
        else if (key == QLatin1String("deny"))
            list = PolicyRule::List::Deny;
        else
            return bad(keyOffset, Tr::tr("unknown key \"%1\" (expected \"allow\", \"ask\" or "
                                         "\"deny\")")
                                      .arg(key.left(80)));
        scan.skipSpace();
        ++scan.pos; // ':'
        scan.skipSpace();
        if (scan.peek() != '[')
            return bad(scan.pos, Tr::tr("\"%1\" must be a list of strings").arg(key));
        ++scan.pos;
        int index = 0;
        while (true) {
            scan.skipSpace();
            if (scan.peek() == ']') {
                ++scan.pos;
                break;
            }
            if (scan.peek() == ',') {
                ++scan.pos;
                continue;
            }
            if (scan.peek() == '\0')
                break;
            ++index;
            const qsizetype entryOffset = scan.pos;
            if (scan.peek() != '"')
                return bad(entryOffset,
                           Tr::tr("entry %1 in \"%2\" is not a string").arg(index).arg(key));
            const QString text = scan.readString();
            auto rule = parseRule(text, list, knownTools);
            if (!rule)
                return bad(
                    entryOffset,
                    Tr::tr("%1 rule \"%2\": %3").arg(key, text.left(200), rule.error().message));
            rule->file = fileName;
            rule->line = lineAt(json, entryOffset);
            result.m_rules.append(*rule);
        }
    }
    return result;
}

Result<PolicyRules> PolicyRules::loadFile(const QString& path) {
    return loadFile(path, builtinToolNames());
}

Result<PolicyRules> PolicyRules::loadFile(const QString& path, const QStringList& knownTools) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(kInvalid, Tr::tr("%1: cannot read the rules file (%2); no rules were loaded")
                                  .arg(path, file.errorString()));
    constexpr qint64 kMaxBytes = 4 * 1024 * 1024;
    if (file.size() > kMaxBytes)
        return fail(kInvalid, Tr::tr("%1: the rules file is larger than 4 MiB; no rules were "
                                     "loaded")
                                  .arg(path));
    return parse(file.readAll(), path, knownTools);
}

void PolicyRules::append(const PolicyRules& other) {
    m_rules.append(other.m_rules);
}

Status PolicyRules::add(PolicyRule::List list, const QString& text, const QString& file,
                        const QStringList& knownTools) {
    auto rule = parseRule(text, list, knownTools);
    if (!rule)
        return fail(
            rule.error().code,
            Tr::tr("%1 rule \"%2\": %3").arg(listName(list), text.left(200), rule.error().message));
    rule->file = file;
    m_rules.append(*rule);
    return {};
}

QByteArray PolicyRules::toJson() const {
    QJsonArray allow, ask, deny;
    for (const PolicyRule& rule : m_rules) {
        switch (rule.list) {
        case PolicyRule::List::Allow:
            allow.append(rule.text);
            break;
        case PolicyRule::List::Ask:
            ask.append(rule.text);
            break;
        case PolicyRule::List::Deny:
            deny.append(rule.text);
            break;
        }
    }
    const QJsonObject root{{QStringLiteral("allow"), allow},
                           {QStringLiteral("ask"), ask},
                           {QStringLiteral("deny"), deny}};
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

} // namespace m1
