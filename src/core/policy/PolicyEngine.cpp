#include "policy/PolicyEngine.h"

#include "policy/ArgumentResolver.h"
#include "policy/CommandAnalyzer.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QSet>
#include <QStandardPaths>
#include <QVarLengthArray>

#include <optional>

namespace m1 {

namespace {

using Kind = PolicyDecision::Kind;
using List = PolicyRule::List;

const QString kReadFile = QStringLiteral("read_file");
const QString kWriteFile = QStringLiteral("write_file");
const QString kEditFile = QStringLiteral("edit_file");
const QString kListDirectory = QStringLiteral("list_directory");
const QString kSearchFiles = QStringLiteral("search_files");

// What evaluateCommand() asks about a program's working folder, found with one lookup.
enum FolderTrait : quint8 {
    WalksWorkingFolder = 1, // walks the working folder when given no folder
    RecursiveWithFlag = 2,  // does so when asked to recurse (-r / -R)
    ChangesFolderWithC = 4, // -C DIR changes the working folder (-CDIR too, but for git)
};
const QHash<QString, quint8> kFolderTraits = {
    {QStringLiteral("find"), WalksWorkingFolder},  {QStringLiteral("rg"), WalksWorkingFolder},
    {QStringLiteral("ag"), WalksWorkingFolder},    {QStringLiteral("ack"), WalksWorkingFolder},
    {QStringLiteral("fd"), WalksWorkingFolder},    {QStringLiteral("tree"), WalksWorkingFolder},
    {QStringLiteral("du"), WalksWorkingFolder},    {QStringLiteral("grep"), RecursiveWithFlag},
    {QStringLiteral("egrep"), RecursiveWithFlag},  {QStringLiteral("fgrep"), RecursiveWithFlag},
    {QStringLiteral("ls"), RecursiveWithFlag},     {QStringLiteral("tar"), ChangesFolderWithC},
    {QStringLiteral("git"), ChangesFolderWithC},   {QStringLiteral("make"), ChangesFolderWithC},
    {QStringLiteral("gmake"), ChangesFolderWithC}, {QStringLiteral("ninja"), ChangesFolderWithC}};

PolicyDecision decision(Kind kind, const QString& code, DecisionSource source,
                        const QString& reason, const PolicyRule* rule = nullptr) {
    PolicyDecision d;
    d.kind = kind;
    d.code = code;
    d.source = source;
    d.reason = reason;
    if (rule) {
        d.ruleText = rule->text;
        d.ruleFile = rule->file;
    }
    return d;
}

// Control and invisible characters are shown, never passed through, and long text is cut with a
// mark, so the reason cannot hide what it talks about.
bool needsShowing(char16_t u) {
    return u < 0x20 || u == 0x7f || (u >= 0x200b && u <= 0x200f) || (u >= 0x202a && u <= 0x202e) ||
           (u >= 0x2066 && u <= 0x2069) || u == 0xfeff;
}

QString visible(const QString& text, qsizetype max = 200) {
    // Most text has nothing to show or cut: then it is the text itself, shared, not rebuilt
    // character by character (the loop below gives the same for it).
    if (text.size() <= max &&
        std::none_of(text.cbegin(), text.cend(), [](QChar c) { return needsShowing(c.unicode()); }))
        return text;
    QString out;
    out.reserve(std::min(text.size(), max) + 8);
    for (QChar c : text) {
        const char16_t u = c.unicode();
        if (needsShowing(u))
            out += QStringLiteral("\\u%1").arg(static_cast<int>(u), 4, 16, QLatin1Char('0'));
        else
            out += c;
        if (out.size() > max) {
            out += QStringLiteral("…");
            break;
        }
    }
    return out;
}

// QString::startsWith for an ASCII literal, case-sensitive, inline: the per-word tests below
// mostly fail at the first character, where the call into Qt cost more than the test.
template <std::size_t N>
bool startsWithAscii(QStringView text, const char (&prefix)[N]) {
    constexpr qsizetype length = N - 1;
    if (text.size() < length)
        return false;
    for (qsizetype i = 0; i < length; ++i)
        if (text[i].unicode() != static_cast<unsigned char>(prefix[i]))
            return false;
    return true;
}

QString visible(QStringView text, qsizetype max = 200) {
    return visible(text.toString(), max);
}

QString visibleCommand(const QStringList& argv) {
    return visible(argv.join(u' '));
}

const QStringList& onlyTool(const QString& tool) {
    static const QStringList lists[] = {
        {kReadFile}, {kWriteFile}, {kEditFile}, {kListDirectory}, {kSearchFiles}};
    for (const QStringList& list : lists)
        if (list.front() == tool)
            return list;
    // Only path tools get here (PolicyRules::isPathTool); should that change, still correct.
    thread_local QStringList other;
    other = QStringList{tool};
    return other;
}

// Static lists, so that no call builds one.
const QStringList& familyForDenyAndAsk(const QString& tool) {
    static const QStringList search = {kSearchFiles, kReadFile};
    static const QStringList writes = {kWriteFile, kEditFile};
    if (tool == kSearchFiles)
        return search;
    if (tool == kWriteFile || tool == kEditFile)
        return writes;
    return onlyTool(tool);
}

} // namespace

PolicyEngine::PolicyEngine(const ToolRegistry& registry, const Workspace& workspace,
                           PolicyConfig config, PolicyRules rules)
    : m_registry(registry), m_workspace(workspace), m_config(std::move(config)),
      m_rules(std::move(rules)), m_index(std::make_shared<const RuleIndex>(m_rules.rules())),
      m_ruleTexts(std::make_shared<const RuleTexts>(RuleTexts::build(m_index->rules()))) {
    auto globs = std::make_shared<std::vector<GlobMatcher>>();
    for (const QString& pattern : protectedWritePatterns())
        globs->emplace_back(pattern, GlobMatcher::Mode::Path);
    // Every match starts with its pattern's literal prefix: the first characters of the
    // prefixes tell most paths apart without folding them (only when every pattern has one).
    for (const GlobMatcher& glob : *globs) {
        if (glob.literalPrefix().isEmpty() || glob.literalPrefix().front().unicode() >= 0x80) {
            m_protectedStarts.clear();
            break;
        }
        if (!m_protectedStarts.contains(glob.literalPrefix().front()))
            m_protectedStarts += glob.literalPrefix().front();
    }
    m_protected = std::move(globs);

    auto outside = std::make_shared<std::vector<ProtectedOutside>>();
    auto add = [&](const QString& path, bool folder, const QString& what) {
        if (path.isEmpty())
            return;
        QString clean = QDir::cleanPath(path);
        // Where the location is reached through a link, both spellings are protected.
        const QString canonical = QFileInfo(clean).canonicalFilePath();
        outside->push_back({clean, folder, what});
        if (!canonical.isEmpty() && canonical != clean)
            outside->push_back({canonical, folder, what});
    };
    const QString settingsWhat = tr("the agent's own settings and rules");
    add(QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation), true, settingsWhat);
    add(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation), true,
        tr("the agent's audit trail and token ledger"));
    add(qEnvironmentVariable("M1_SETTINGS"), false, settingsWhat);
    const QString home = QDir::homePath();
    if (!home.isEmpty() && home != QLatin1String("/")) {
        const QString startup = tr("a file the shell or the desktop runs at start-up");
        for (const char* file : {".bashrc", ".bash_profile", ".bash_login", ".bash_logout",
                                 ".profile", ".zshrc", ".zprofile", ".zshenv", ".zlogin",
                                 ".pam_environment", ".xprofile", ".xsessionrc", ".inputrc"})
            add(home + u'/' + QLatin1String(file), false, startup);
        for (const char* folder :
             {".config/autostart", ".config/systemd", ".config/fish", ".config/environment.d"})
            add(home + u'/' + QLatin1String(folder), true, startup);
        add(home + QStringLiteral("/.ssh"), true, tr("the user's SSH keys and settings"));
        add(home + QStringLiteral("/.gnupg"), true, tr("the user's GnuPG keys"));
        add(home + QStringLiteral("/.gitconfig"), false,
            tr("git's settings (they can make git run programs)"));
        add(home + QStringLiteral("/.config/git"), true,
            tr("git's settings (they can make git run programs)"));
    }
    add(QStringLiteral("/var/spool/cron"), true, tr("the crontabs"));
    m_home = home;
    m_protectedOutside = std::move(outside);
}

QString PolicyEngine::protectedOutside(const QString& absolute) const {
    for (const ProtectedOutside& p : *m_protectedOutside) {
        if (absolute == p.path)
            return p.what;
        if (p.folder && absolute.size() > p.path.size() && absolute.startsWith(p.path) &&
            absolute.at(p.path.size()) == u'/')
            return p.what;
        // A folder below the home folder that holds one of them (rm -r ~/.local/share).
        if (!m_home.isEmpty() && absolute.size() > m_home.size() + 1 &&
            absolute.startsWith(m_home) && absolute.at(m_home.size()) == u'/' &&
            p.path.size() > absolute.size() && p.path.startsWith(absolute) &&
            p.path.at(absolute.size()) == u'/')
            return p.what;
    }
    return {};
}

const QStringList& PolicyEngine::protectedWritePatterns() {
    static const QStringList patterns = {
        QStringLiteral(".git/hooks/**"),
        QStringLiteral(".git/config"),
        QStringLiteral(".git/info/**"),
        QStringLiteral(".m1/**"),
        QStringLiteral(".claude/**"),
        QStringLiteral(".vscode/settings.json"),
        QStringLiteral(".vscode/tasks.json"),
        QStringLiteral(".vscode/launch.json"),
        QStringLiteral(".envrc"),
        QStringLiteral(".husky/**"),
        QStringLiteral(".githooks/**"),
        QStringLiteral(".pre-commit-config.yaml"),
    };
    return patterns;
}

QString PolicyEngine::protectedPattern(QStringView relativePath) const {
    // A path starting with an ASCII character folds to a path starting with its lower case, and
    // a match must start with one of the patterns' first characters.
    if (!m_protectedStarts.isEmpty() && !relativePath.isEmpty() &&
        relativePath.front().unicode() < 0x80 &&
        !m_protectedStarts.contains(relativePath.front().toLower()))
        return {};
    // Case-folded, so that a case-insensitive file system cannot offer a second spelling.
    const QString folded = relativePath.toString().toLower();
    for (const GlobMatcher& glob : *m_protected)
        if (glob.matches(folded))
            return glob.pattern();
    return {};
}

namespace {

QString formatRuleWhere(const QString& withFile, const QString& inApplication,
                        const PolicyRule& rule) {
    if (rule.file.isEmpty())
        return inApplication.arg(rule.text);
    // One pass (text that contains "%3" stays as written), and QString::number rather than
    // arg(int), which goes through the locale code: together a fifth of a decision's time.
    return withFile.arg(rule.text, rule.file, QString::number(rule.line));
}

QString whereWithFile() {
    return PolicyEngine::tr("\"%1\" (%2, line %3)");
}
QString whereInApplication() {
    return PolicyEngine::tr("\"%1\" (rules set in the application)");
}
QString allowedByTemplate() {
    return PolicyEngine::tr("Allowed by the rule %1.");
}

QString outsideWarning(const QString& absolute, const QString& what) {
    return PolicyEngine::tr("Warning: the command names \"%1\", outside the workspace: %2. "
                            "Changing it can make programs run on this machine or change the "
                            "agent's own settings or records.")
        .arg(visible(absolute), what);
}

// Whether text contains needle, inline: QString::contains(QLatin1String) converts and calls into
// Qt, for every word of a command.
bool containsText(QStringView text, QStringView needle) {
    return std::search(text.begin(), text.end(), needle.begin(), needle.end()) != text.end();
}

} // namespace

PolicyEngine::RuleTexts PolicyEngine::RuleTexts::build(const QList<PolicyRule>& rules) {
    RuleTexts texts{whereWithFile(), whereInApplication(), allowedByTemplate(), {}, {}};
    texts.where.reserve(rules.size());
    texts.allowed.reserve(rules.size());
    for (const PolicyRule& rule : rules) {
        texts.where.push_back(formatRuleWhere(texts.withFile, texts.inApplication, rule));
        texts.allowed.push_back(QString(texts.allowedBy).arg(texts.where.back()));
    }
    return texts;
}

qsizetype PolicyEngine::textIndex(const PolicyRule& rule) const {
    const QList<PolicyRule>& rules = m_index->rules();
    if (rules.isEmpty() || &rule < rules.constData() || &rule >= rules.constData() + rules.size())
        return -1;
    return &rule - rules.constData();
}

// A rule's place as a reason shows it. Formatted once per rule when the engine is built, and
// used while the translation gives the same wording as then (the language may change).
bool PolicyEngine::sameWhereTemplate(const PolicyRule& rule) const {
    return rule.file.isEmpty() ? whereInApplication() == m_ruleTexts->inApplication
                               : whereWithFile() == m_ruleTexts->withFile;
}

QString PolicyEngine::ruleWhere(const PolicyRule& rule) const {
    const qsizetype index = textIndex(rule);
    if (index >= 0 && sameWhereTemplate(rule))
        return m_ruleTexts->where[index];
    return formatRuleWhere(whereWithFile(), whereInApplication(), rule);
}

PolicyDecision PolicyEngine::denyByRule(const PolicyRule& rule, const QString& what) const {
    return decision(Kind::Deny, QStringLiteral("policy.rule_deny"), DecisionSource::Rule,
                    what.isEmpty() ? tr("Denied by the rule %1.").arg(ruleWhere(rule))
                                   : tr("Denied by the rule %1: %2.").arg(ruleWhere(rule), what),
                    &rule);
}

PolicyDecision PolicyEngine::askByRule(const PolicyRule& rule, const QString& what) const {
    return decision(Kind::Ask, QStringLiteral("policy.rule_ask"), DecisionSource::Rule,
                    what.isEmpty()
                        ? tr("The rule %1 asks for approval.").arg(ruleWhere(rule))
                        : tr("The rule %1 asks for approval: %2.").arg(ruleWhere(rule), what),
                    &rule);
}

PolicyDecision PolicyEngine::allowByRule(const PolicyRule& rule) const {
    const qsizetype index = textIndex(rule);
    const QString allowedBy = allowedByTemplate();
    if (index >= 0 && allowedBy == m_ruleTexts->allowedBy && sameWhereTemplate(rule))
        return decision(Kind::Allow, QStringLiteral("policy.rule_allow"), DecisionSource::Rule,
                        m_ruleTexts->allowed[index], &rule);
    return decision(Kind::Allow, QStringLiteral("policy.rule_allow"), DecisionSource::Rule,
                    QString(allowedBy).arg(ruleWhere(rule)), &rule);
}

PolicyDecision PolicyEngine::scopeDecision(const ToolSpec& spec, const QString& prefix) const {
    const QString scope = scopeToString(spec.scope);
    const QString lead = prefix.isEmpty() ? tr("No rule decided this call") : prefix;
    if (m_config.needsApproval(spec.scope))
        return decision(Kind::Ask, QStringLiteral("policy.scope_requires_approval"),
                        DecisionSource::ScopeRequirement,
                        tr("%1; %2 has the scope %3, and %3 tools need a person's approval.")
                            .arg(lead, spec.name, scope));
    return decision(Kind::Allow, QStringLiteral("policy.scope_allowed"),
                    DecisionSource::ScopeRequirement,
                    tr("%1; %2 has the scope %3, and %3 tools run without approval.")
                        .arg(lead, spec.name, scope));
}

PolicyDecision PolicyEngine::evaluate(const ToolCall& call, const RunState& runState) const {
    // 1. Allowlist and schema.
    // The spec is looked up once and not copied (on a refusal, spec() says why).
    const ToolSpec* spec = m_registry.enabledSpec(call.toolName);
    if (!spec) {
        const Result<ToolSpec> refused = m_registry.spec(call.toolName);
        const bool disabled = !refused && refused.error().code == QLatin1String("tool.disabled");
        return decision(Kind::Deny,
                        disabled ? QStringLiteral("policy.tool_disabled")
                                 : QStringLiteral("policy.unknown_tool"),
                        DecisionSource::Allowlist,
                        disabled ? tr("The tool \"%1\" is disabled.").arg(visible(call.toolName))
                                 : tr("\"%1\" is not an available tool; only registered tools "
                                      "can run (names are exact and case-sensitive).")
                                       .arg(visible(call.toolName, 80)));
    }
    if (const auto valid = m_registry.validateArguments(*spec, call.arguments); !valid)
        // The registry's message already names the tool and the schema: said once.
        return decision(Kind::Deny, QStringLiteral("policy.schema"), DecisionSource::Schema,
                        visible(valid.error().message, 400));

    // 2. Run limits and rate limits (a value of 0 or less switches a limit off).
    if (m_config.maxToolCallsPerRun > 0 && runState.toolCallsSoFar >= m_config.maxToolCallsPerRun)
        return decision(Kind::Deny, QStringLiteral("policy.limit.tool_calls"),
                        DecisionSource::Limit,
                        tr("This run has reached its limit of %1 tool calls.")
                            .arg(m_config.maxToolCallsPerRun));
    if (m_config.maxStepsPerRun > 0 && runState.stepsSoFar > m_config.maxStepsPerRun)
        return decision(
            Kind::Deny, QStringLiteral("policy.limit.steps"), DecisionSource::Limit,
            tr("This run has gone past its limit of %1 steps.").arg(m_config.maxStepsPerRun));
    if (m_config.maxRuntimeSeconds > 0 && runState.elapsedSeconds >= m_config.maxRuntimeSeconds)
        return decision(Kind::Deny, QStringLiteral("policy.limit.runtime"), DecisionSource::Limit,
                        tr("This run has reached its time limit of %1 seconds.")
                            .arg(m_config.maxRuntimeSeconds));
    if (const auto rate = m_config.rateLimits.constFind(call.toolName);
        rate != m_config.rateLimits.cend() && rate->maxCalls > 0) {
        const QList<qint64> times = runState.callTimesByTool.value(call.toolName);
        const qint64 windowStart = runState.nowSeconds - qMax(1, rate->perSeconds);
        const auto recent =
            std::count_if(times.cbegin(), times.cend(), [&](qint64 t) { return t > windowStart; });
        if (recent >= rate->maxCalls)
            return decision(Kind::Deny, QStringLiteral("policy.rate_limit"),
                            DecisionSource::RateLimit,
                            tr("%1 was called %2 times in the last %3 seconds; the limit is %4.")
                                .arg(call.toolName)
                                .arg(recent)
                                .arg(rate->perSeconds)
                                .arg(rate->maxCalls));
    }

    // 3. Protections and rules, by kind of tool.
    if (PolicyRules::isPathTool(call.toolName))
        return evaluatePathTool(call, *spec);
    if (PolicyRules::isCommandTool(call.toolName))
        return evaluateCommand(call, *spec);
    return evaluateOtherTool(call, *spec);
}

PolicyDecision PolicyEngine::evaluateOtherTool(const ToolCall& call, const ToolSpec& spec) const {
    if (const PolicyRule* r = m_index->bare(List::Deny, call.toolName))
        return denyByRule(*r, {});
    if (const PolicyRule* r = m_index->bare(List::Ask, call.toolName))
        return askByRule(*r, {});
    if (const PolicyRule* r = m_index->bare(List::Allow, call.toolName))
        return allowByRule(*r);
    return scopeDecision(spec);
}

PolicyDecision PolicyEngine::evaluatePathTool(const ToolCall& call, const ToolSpec& spec) const {
    const QString& tool = call.toolName;
    const bool writes = tool == kWriteFile || tool == kEditFile;
    QString path = call.arguments.value(QStringLiteral("path")).toString();
    if (path.isEmpty() && (tool == kSearchFiles || tool == kListDirectory))
        path = QStringLiteral(".");
    Result<QString> resolved =
        m_workspace.resolve(path, writes ? Workspace::Access::Write : Workspace::Access::Read);
    if (!resolved && !writes && resolved.error().code == QLatin1String("path.not_found"))
        resolved = m_workspace.resolve(path, Workspace::Access::Write); // for matching only
    if (!resolved)
        return decision(
            Kind::Deny, QStringLiteral("policy.path_refused"), DecisionSource::Protection,
            tr("The path \"%1\" is refused: %2").arg(visible(path), resolved.error().toString()));
    const QStringView relative = m_workspace.relativeView(*resolved);
    const QStringList& family = familyForDenyAndAsk(tool);
    // Built only for a decision that shows it.
    const auto what = [&] { return tr("%1 of \"%2\"").arg(tool, visible(relative)); };

    if (const PolicyRule* r = m_index->bare(List::Deny, tool))
        return denyByRule(*r, what());
    if (const PolicyRule* r = m_index->path(List::Deny, family, relative))
        return denyByRule(*r, what());

    if (writes) {
        const QString hit = protectedPattern(relative);
        if (!hit.isEmpty())
            return decision(Kind::Ask, QStringLiteral("policy.protected_path"),
                            DecisionSource::Protection,
                            tr("Warning: \"%1\" is a protected path (%2). Changing it can make "
                               "programs run on this machine or change the agent's own "
                               "settings, so a person must approve it whatever the allow rules "
                               "say.")
                                .arg(visible(relative), hit));
    }

    if (const PolicyRule* r = m_index->bare(List::Ask, tool))
        return askByRule(*r, what());
    if (const PolicyRule* r = m_index->path(List::Ask, family, relative))
        return askByRule(*r, what());

    if (tool == kSearchFiles) {
        const PolicyRule* hidden = m_index->pathBelow(List::Deny, family, relative);
        if (!hidden)
            hidden = m_index->pathBelow(List::Ask, family, relative);
        if (hidden)
            return decision(Kind::Ask, QStringLiteral("policy.unanalysable"),
                            DecisionSource::Analysis,
                            tr("Warning: searching \"%1\" may read files that the rule %2 "
                               "covers; a person must approve it.")
                                .arg(visible(relative), ruleWhere(*hidden)),
                            hidden);
    }

    // A listing deeper than one level shows the names inside the folders below.
    if (tool == kListDirectory && call.arguments.value(QStringLiteral("depth")).toInt(1) > 1) {
        static const QStringList listOrRead = {kListDirectory, kReadFile};
        const PolicyRule* hidden = m_index->pathBelow(List::Deny, listOrRead, relative);
        if (!hidden)
            hidden = m_index->pathBelow(List::Ask, listOrRead, relative);
        if (hidden)
            return decision(Kind::Ask, QStringLiteral("policy.unanalysable"),
                            DecisionSource::Analysis,
                            tr("Warning: listing \"%1\" this deep may list names inside folders "
                               "that the rule %2 covers; a person must approve it.")
                                .arg(visible(relative), ruleWhere(*hidden)),
                            hidden);
    }

    if (const PolicyRule* r = m_index->bare(List::Allow, tool))
        return allowByRule(*r);
    if (const PolicyRule* r = m_index->path(List::Allow, onlyTool(tool), relative))
        return allowByRule(*r);
    return scopeDecision(spec);
}

PolicyDecision PolicyEngine::evaluateCommand(const ToolCall& call, const ToolSpec& spec) const {
    const QJsonArray argvValues = call.arguments.value(QStringLiteral("argv")).toArray();
    QStringList argv;
    argv.reserve(argvValues.size());
    for (const QJsonValue& v : argvValues) {
        if (!v.isString())
            return decision(Kind::Deny, QStringLiteral("policy.schema"), DecisionSource::Schema,
                            tr("Every element of argv must be a string."));
        argv.append(v.toString());
    }
    if (argv.isEmpty())
        return decision(Kind::Deny, QStringLiteral("policy.not_a_program"),
                        DecisionSource::Protection, tr("The command is empty."));

    const CommandAnalyzer::Analysis analysis = CommandAnalyzer::analyze(argv);
    if (analysis.hasNotAProgram)
        return decision(Kind::Deny, QStringLiteral("policy.not_a_program"),
                        DecisionSource::Protection,
                        tr("\"%1\" is not a program. A command starts with a program name; "
                           "variable assignments such as NAME=value are not accepted, and the "
                           "environment is never taken from the model.")
                            .arg(visible(analysis.notAProgram, 80)));

    // The working folder, for the path arguments.
    const QString cwdArgument = call.arguments.value(QStringLiteral("cwd")).toString();
    FileDescriptor cwdFolder; // kept for the lookups of the words below it
    // No working folder, or one spelled with "." and "/" only, is the root: the words are looked
    // up from the root's descriptor opened with the Workspace, without opening the root again.
    // Any other one is resolved and confined now.
    const bool atRoot = cwdArgument.isEmpty() ||
                        (std::all_of(cwdArgument.cbegin(), cwdArgument.cend(),
                                     [](QChar c) { return c == u'.' || c == u'/'; }) &&
                         !cwdArgument.startsWith(u'/') && !containsText(cwdArgument, u".."));
    const Result<QString> cwd = atRoot ? Result<QString>(m_workspace.root())
                                       : m_workspace.resolveFolder(cwdArgument, &cwdFolder);
    if (!cwd)
        return decision(Kind::Deny, QStringLiteral("policy.path_refused"),
                        DecisionSource::Protection,
                        tr("The working folder \"%1\" is refused: %2")
                            .arg(visible(cwdArgument), cwd.error().toString()));
    const QString cwdRelative = m_workspace.relative(*cwd);

    std::vector<CommandMatcher::Shape> shapes;
    shapes.reserve(analysis.commands.size());
    for (const CommandAnalyzer::Command& c : analysis.commands)
        shapes.push_back(CommandMatcher::shape(c.argv));

    // Deny rules on the commands.
    const auto whole = [&] { return tr("the command \"%1\"").arg(visibleCommand(argv)); };
    if (const PolicyRule* r = m_index->bare(List::Deny, call.toolName))
        return denyByRule(*r, whole());
    for (qsizetype i = 0; i < analysis.commands.size(); ++i)
        if (const PolicyRule* r = m_index->commandLoosely(List::Deny, shapes[i]))
            return denyByRule(*r, analysis.commands[i].argv == argv
                                      ? whole()
                                      : tr("\"%1\" runs \"%2\"")
                                            .arg(visibleCommand(argv),
                                                 visibleCommand(analysis.commands[i].argv)));

    // Path arguments meet the same deny and ask rules as the path tools.
    const PolicyRule* askRule = nullptr;
    QString askWhat;
    QString protectedWarning;
    QString reachWarning;
    const PolicyRule* reachRule = nullptr;
    const bool anyPathRules = m_index->hasPathRules(List::Deny) || m_index->hasPathRules(List::Ask);
    auto checkReach = [&](QStringView dirRelative) {
        if (!anyPathRules || reachRule)
            return;
        const PolicyRule* r = m_index->pathBelowAnyTool(List::Deny, dirRelative);
        if (!r)
            r = m_index->pathBelowAnyTool(List::Ask, dirRelative);
        if (r) {
            reachRule = r;
            reachWarning = tr("Warning: the command may read or change paths inside \"%1\" that "
                              "the rule %2 covers (denied paths may be read).")
                               .arg(visible(dirRelative), ruleWhere(*r));
        }
    };
    ArgumentResolver arguments(*cwd, atRoot || cwdFolder.isValid(),
                               atRoot ? m_workspace.rootDescriptor() : cwdFolder.get());
    const QString& root = m_workspace.root();
    const auto inside = [&](const QString& absolute) {
        return root == QLatin1String("/") || absolute == root ||
               (absolute.startsWith(root) && absolute.at(root.size()) == u'/');
    };
    // Root or one of its ancestors: everything in the workspace is within reach.
    const auto ancestorOfRoot = [&](const QString& absolute) {
        return absolute == QLatin1String("/") ||
               (root.size() > absolute.size() && root.startsWith(absolute) &&
                root.at(absolute.size()) == u'/');
    };
    QStringList pathConcerns;
    const auto pathConcern = [&](const QString& text) {
        if (!pathConcerns.contains(text))
            pathConcerns.append(text);
    };
    // Words that name a process's own files cannot be resolved here (this process is not the
    // command's); the working folder of the command itself is known.
    const auto throughProc = [&](QString& word) {
        for (const QLatin1String prefix :
             {QLatin1String("/proc/self/cwd"), QLatin1String("/proc/thread-self/cwd")})
            if (word.startsWith(prefix) &&
                (word.size() == prefix.size() || word.at(prefix.size()) == u'/')) {
                word = *cwd + word.mid(prefix.size());
                return true;
            }
        const bool procOfProcess = word.startsWith(QLatin1String("/proc/")) && [&] {
            const QString second = word.section(u'/', 2, 2);
            if (second == QLatin1String("self") || second == QLatin1String("thread-self"))
                return true;
            bool number = false;
            second.toLongLong(&number);
            return number;
        }();
        if (procOfProcess || word.startsWith(QLatin1String("/dev/fd/")) ||
            word == QLatin1String("/dev/fd") || word == QLatin1String("/dev/stdin") ||
            word.startsWith(QLatin1String("/dev/stdin/"))) {
            pathConcern(tr("\"%1\" names a file of a running process, which cannot be checked")
                            .arg(visible(word, 80)));
            return false;
        }
        return true;
    };
    for (qsizetype i = 0; i < analysis.commands.size(); ++i) {
        const CommandAnalyzer::Command& command = analysis.commands[i];
        if (command.probeOnly)
            continue;
        QStringList words = command.inputPaths;
        if (command.argv.size() > 1) // room for the words and a value or two, grown once
            words.reserve(words.size() + 2 * (command.argv.size() - 1));
        QStringList rootRelative; // git rev:path words, relative to the repository's top
        QStringList folders;      // -C / --directory: later words are relative to them
        const bool isGit = command.program == QLatin1String("git");
        const quint8 folderTraits = kFolderTraits.value(command.program, 0);
        const bool takesC = folderTraits & ChangesFolderWithC;
        // Values after `=` and `@` name files too (dd if=F, curl -d @F, gcc @F, httpie f=@F).
        const auto addValue = [&](const QString& value) {
            words.append(value);
            if (value.startsWith(u'@') && value.size() > 1)
                words.append(value.mid(1));
        };
        for (qsizetype k = 1; k < command.argv.size(); ++k) {
            const QString& w = command.argv[k];
            if (startsWithAscii(w, "--")) {
                const qsizetype eq = w.indexOf(u'=');
                const QString name = w.mid(2, eq < 0 ? -1 : eq - 2);
                const bool changesFolder =
                    name.size() >= 3 && (QStringLiteral("directory").startsWith(name) ||
                                         QStringLiteral("chdir").startsWith(name));
                if (eq > 0)
                    addValue(w.mid(eq + 1));
                if (changesFolder)
                    folders.append(eq > 0 ? w.mid(eq + 1) : command.argv.value(k + 1));
                continue;
            }
            if (w.startsWith(u'-') && w.size() > 1) {
                const qsizetype eq = w.indexOf(u'=');
                if (eq > 0)
                    addValue(w.mid(eq + 1));
                if (takesC && w == QLatin1String("-C"))
                    folders.append(command.argv.value(k + 1));
                else if (takesC && command.program != QLatin1String("git") &&
                         w.startsWith(QLatin1String("-C")))
                    folders.append(w.mid(2));
                // A value attached to a short option (grep -f.env, grep -rf.env).
                if (eq < 0 && w.size() > 2)
                    words.append(w.mid(2));
                if (eq < 0 && w.size() > 3)
                    words.append(w.mid(3));
                continue;
            }
            words.append(w);
            if (const qsizetype eq = w.indexOf(u'='); eq > 0)
                addValue(w.mid(eq + 1));
            if (w.startsWith(u'@') && w.size() > 1)
                words.append(w.mid(1));
            if (startsWithAscii(w, "file://")) {
                QString path = w.mid(7);
                if (!path.startsWith(u'/'))
                    path = path.indexOf(u'/') < 0 ? QString() : path.mid(path.indexOf(u'/'));
                if (!path.isEmpty())
                    words.append(path);
            }
            if (isGit && !containsText(w, u"://")) {
                if (const qsizetype colon = w.indexOf(u':'); colon >= 0 && colon + 1 < w.size()) {
                    const QString path = w.mid(colon + 1);
                    words.append(path);
                    if (!path.startsWith(u'/') && !path.startsWith(QLatin1String("./")) &&
                        !path.startsWith(QLatin1String("../")))
                        rootRelative.append(root + u'/' + path);
                }
            }
        }
        std::vector<ArgumentResolver> elsewhere; // resolvers for the -C folders
        for (const QString& folder : std::as_const(folders)) {
            const std::optional<ArgumentResolver::Path> dir =
                folder.isEmpty() ? std::nullopt : arguments.resolve(folder);
            if (!dir || !dir->isDirectory) {
                pathConcern(tr("%1 changes its working folder to \"%2\", which cannot be checked")
                                .arg(command.program, visible(folder, 80)));
                continue;
            }
            elsewhere.emplace_back(dir->absolute, true);
        }
        words += rootRelative;

        bool reachedDirectory = false;
        bool hadExistingPath = false;
        const qsizetype ownWords = words.size() - rootRelative.size();
        for (qsizetype n = 0; n < words.size(); ++n) {
            QString word = words[n];
            if (word.isEmpty() || containsText(word, u"://") || word.contains(QChar(0)))
                continue;
            if (startsWithAscii(word, "/proc/") || startsWithAscii(word, "/dev/"))
                if (!throughProc(word))
                    continue;
            QVarLengthArray<ArgumentResolver::Path, 2> resolved;
            if (std::optional<ArgumentResolver::Path> p = arguments.resolve(word))
                resolved.push_back(std::move(*p));
            if (n < ownWords && !word.startsWith(u'/'))
                for (ArgumentResolver& other : elsewhere)
                    if (std::optional<ArgumentResolver::Path> p = other.resolve(word))
                        resolved.push_back(std::move(*p));
            if (protectedWarning.isEmpty() &&
                (word.startsWith(u'/') || containsText(word, u".."))) {
                // The lexical reading, for locations whose folders do not exist yet.
                const QString lexical =
                    QDir::cleanPath(word.startsWith(u'/') ? word : *cwd + u'/' + word);
                if (!inside(lexical)) {
                    const QString what = protectedOutside(lexical);
                    if (!what.isEmpty())
                        protectedWarning = outsideWarning(lexical, what);
                }
            }
            for (const ArgumentResolver::Path& path : resolved) {
                if (!inside(path.absolute)) {
                    if (ancestorOfRoot(path.absolute) && anyPathRules) {
                        reachedDirectory = true;
                        checkReach(QStringLiteral("."));
                    }
                    if (protectedWarning.isEmpty()) {
                        const QString what = protectedOutside(path.absolute);
                        if (!what.isEmpty())
                            protectedWarning = outsideWarning(path.absolute, what);
                    }
                    continue; // no workspace rule speaks about it
                }
                const QStringView relative = m_workspace.relativeView(path.absolute);
                hadExistingPath = hadExistingPath || path.exists;
                if (const PolicyRule* r = m_index->pathAnyTool(List::Deny, relative))
                    return denyByRule(*r, tr("the command \"%1\" names the path \"%2\"")
                                              .arg(visibleCommand(argv), visible(relative)));
                if (protectedWarning.isEmpty()) {
                    const QString hit = protectedPattern(relative);
                    if (!hit.isEmpty())
                        protectedWarning =
                            tr("Warning: the command names \"%1\", a protected path (%2); "
                               "changing it can make programs run on this machine or change the "
                               "agent's own settings.")
                                .arg(visible(relative), hit);
                }
                if (!askRule)
                    if (const PolicyRule* r = m_index->pathAnyTool(List::Ask, relative)) {
                        askRule = r;
                        askWhat = tr("the command names the path \"%1\"").arg(visible(relative));
                    }
                if (path.isDirectory && anyPathRules) {
                    reachedDirectory = true;
                    checkReach(relative);
                }
            }
        }
        if (!reachedDirectory && !hadExistingPath) {
            const CommandMatcher::Shape& s = shapes[i];
            const bool recursive =
                (folderTraits & WalksWorkingFolder) ||
                ((folderTraits & RecursiveWithFlag) &&
                 (std::binary_search(s.flags.begin(), s.flags.end(), QStringLiteral("-r")) ||
                  std::binary_search(s.flags.begin(), s.flags.end(), QStringLiteral("-R"))));
            if (recursive)
                checkReach(cwdRelative);
        }
    }

    // Ask: protections first (their warning must be seen), then ask rules, then what could not
    // be analysed.
    QStringList warnings;
    if (!reachWarning.isEmpty())
        warnings.append(reachWarning);
    QStringList concernTexts;
    bool privileged = false;
    for (const CommandAnalyzer::Concern& c : analysis.concerns) {
        concernTexts.append(c.reason);
        privileged = privileged || c.kind == CommandAnalyzer::Concern::Kind::Privileged;
    }
    concernTexts += pathConcerns;
    auto withWarnings = [&](PolicyDecision d) {
        if (!warnings.isEmpty())
            d.reason += u' ' + warnings.join(u' ');
        return d;
    };

    if (!protectedWarning.isEmpty()) {
        if (!concernTexts.isEmpty())
            warnings.append(tr("Also: %1.").arg(concernTexts.join(QStringLiteral("; "))));
        return withWarnings(decision(Kind::Ask, QStringLiteral("policy.protected_path"),
                                     DecisionSource::Protection,
                                     protectedWarning + u' ' +
                                         tr("A person must approve it whatever the allow rules "
                                            "say.")));
    }
    if (const PolicyRule* r = m_index->bare(List::Ask, call.toolName))
        return withWarnings(askByRule(*r, whole()));
    for (qsizetype i = 0; i < analysis.commands.size(); ++i)
        if (const PolicyRule* r = m_index->commandLoosely(List::Ask, shapes[i])) {
            // The command itself (most often) is joined and shown once.
            const QString shown = visibleCommand(argv);
            return withWarnings(
                askByRule(*r, tr("\"%1\" runs \"%2\"")
                                  .arg(shown, analysis.commands[i].argv == argv
                                                  ? shown
                                                  : visibleCommand(analysis.commands[i].argv))));
        }
    if (askRule)
        return withWarnings(askByRule(*askRule, askWhat));
    if (!concernTexts.isEmpty())
        return withWarnings(decision(
            Kind::Ask,
            privileged ? QStringLiteral("policy.privileged")
                       : QStringLiteral("policy.unanalysable"),
            DecisionSource::Analysis,
            tr("The command \"%1\" cannot be allowed automatically: %2. A person must approve "
               "it.")
                .arg(visibleCommand(argv), concernTexts.join(QStringLiteral("; ")))));
    if (reachRule)
        return decision(Kind::Ask, QStringLiteral("policy.unanalysable"), DecisionSource::Analysis,
                        reachWarning + u' ' + tr("A person must approve it."), reachRule);

    // Allow: every program that would run must be allowed, each by its own argv.
    if (const PolicyRule* r = m_index->bare(List::Allow, call.toolName))
        return allowByRule(*r);
    QList<const PolicyRule*> allowing;
    const auto runs = std::count_if(analysis.commands.cbegin(), analysis.commands.cend(),
                                    [](const CommandAnalyzer::Command& c) { return !c.probeOnly; });
    for (const CommandAnalyzer::Command& c : analysis.commands) {
        if (c.probeOnly)
            continue;
        const PolicyRule* r = m_index->commandStrictly(
            List::Allow, CommandMatcher::programBasename(c.argv.front()), c.argv, c.scriptAnalysed);
        if (!r) {
            // A rule that would allow the command but for an argument with a shell character,
            // which no wildcard covers: say so, not "no rule", when "ls *" exists.
            const PolicyRule* near =
                c.scriptAnalysed
                    ? nullptr
                    : m_index->commandStrictly(List::Allow,
                                               CommandMatcher::programBasename(c.argv.front()),
                                               c.argv, true);
            if (near) {
                const CommandMatcher::UnsafeElements unsafe =
                    CommandMatcher::unsafeElements(c.argv, false);
                QString element;
                for (qsizetype e = 0; e < unsafe.size() && element.isEmpty(); ++e)
                    if (unsafe[e])
                        element = c.argv.at(e);
                return scopeDecision(
                    spec, tr("The allow rule %1 does not apply to \"%2\": a wildcard never "
                             "stands for an argument with a shell character such as \"%3\" "
                             "(the argument is passed as written; a variable like $HOME is not "
                             "expanded)")
                              .arg(ruleWhere(*near), visibleCommand(c.argv), visible(element, 80)));
            }
            if (!allowing.isEmpty() || runs > 1)
                return scopeDecision(spec, tr("No allow rule covers \"%1\" in \"%2\"")
                                               .arg(visibleCommand(c.argv), visibleCommand(argv)));
            return scopeDecision(spec, tr("No rule decided \"%1\"").arg(visibleCommand(argv)));
        }
        if (!allowing.contains(r))
            allowing.append(r);
    }
    if (allowing.size() == 1)
        return allowByRule(*allowing.front());
    // ruleWhere for each, with each wording checked against the translation once, not per rule.
    // The places joined by ", " as they come, without a list to join afterwards.
    QString all;
    all.reserve(64 * allowing.size());
    std::optional<bool> sameWithFile;
    std::optional<bool> sameInApplication;
    for (const PolicyRule* r : std::as_const(allowing)) {
        const qsizetype index = textIndex(*r);
        std::optional<bool>& same = r->file.isEmpty() ? sameInApplication : sameWithFile;
        if (index >= 0 && !same)
            same = sameWhereTemplate(*r);
        if (r != allowing.front())
            all += u", ";
        all += index >= 0 && *same ? m_ruleTexts->where[index]
                                   : formatRuleWhere(whereWithFile(), whereInApplication(), *r);
    }
    return decision(Kind::Allow, QStringLiteral("policy.rule_allow"), DecisionSource::Rule,
                    tr("Every program of the command is allowed, by the rules %1.").arg(all),
                    allowing.front());
}

} // namespace m1
