#include "policy/RuleIndex.h"

#include <algorithm>

namespace m1 {

namespace {

QStringView firstSegment(QStringView path) {
    // Inline; QStringView::indexOf is a call into Qt (once per path lookup).
    return QStringView(path.begin(), std::find(path.begin(), path.end(), u'/'));
}

bool hasWildcard(QStringView s) {
    return s.contains(u'*') || s.contains(u'?');
}

} // namespace

QString RuleIndex::normalisePathPattern(const QString& pattern) {
    QString p = pattern;
    while (p.contains(QLatin1String("//")))
        p.replace(QLatin1String("//"), QLatin1String("/"));
    while (p.startsWith(QLatin1String("./")))
        p.remove(0, 2);
    p.replace(QLatin1String("/./"), QLatin1String("/"));
    while (p.size() > 1 && p.endsWith(u'/'))
        p.chop(1);
    if (p.endsWith(QLatin1String("/.")))
        p.chop(2);
    if (p.isEmpty())
        p = QStringLiteral(".");
    return p;
}

RuleIndex::RuleIndex(const QList<PolicyRule>& rules) : m_rules(rules) {
    for (int i = 0; i < m_rules.size(); ++i) {
        const PolicyRule& rule = m_rules[i];
        ListIndex& index = m_lists[static_cast<int>(rule.list)];
        if (!rule.hasPattern) {
            if (!index.bare.contains(rule.tool))
                index.bare.insert(rule.tool, i);
            continue;
        }
        if (PolicyRules::isPathTool(rule.tool)) {
            // Deny and ask rules match whatever the case (a case-insensitive file system offers
            // other spellings of the same file; over-matching them is safe); allow rules do not.
            const QString pattern = rule.list == List::Allow
                                        ? normalisePathPattern(rule.pattern)
                                        : normalisePathPattern(rule.pattern).toLower();
            PathRule compiled{i, GlobMatcher(pattern, GlobMatcher::Mode::Path)};
            auto found = std::find_if(index.paths.begin(), index.paths.end(),
                                      [&](const auto& entry) { return entry.first == rule.tool; });
            if (found == index.paths.end())
                found = index.paths.insert(index.paths.end(), {rule.tool, PathBucket()});
            const QStringView first = firstSegment(pattern);
            for (PathBucket* bucket : {&found->second, &index.anyPathTool}) {
                if (hasWildcard(first))
                    bucket->wildcard.push_back(compiled);
                else
                    bucket->byFirstSegment[first.toString()].push_back(compiled);
                bucket->all.push_back(compiled);
            }
        } else if (PolicyRules::isCommandTool(rule.tool)) {
            CommandRule compiled{i, CommandMatcher(rule.pattern)};
            if (compiled.matcher.programKey().isEmpty()) {
                index.commandsWildcard.push_back(compiled);
                continue;
            }
            index.commandsByProgram[compiled.matcher.programKey()].push_back(compiled);
            StrictBucket& strict = index.strictByProgram[compiled.matcher.programKey()];
            const QStringList& words = compiled.matcher.words();
            if (words.size() >= 2 && !hasWildcard(words[1]))
                strict.bySecondWord[words[1]].push_back(compiled);
            else
                strict.anySecondWord.push_back(compiled);
        }
    }
}

const PolicyRule* RuleIndex::bare(List list, const QString& tool) const {
    const ListIndex& index = lists(list);
    auto it = index.bare.constFind(tool);
    return it == index.bare.cend() ? nullptr : ruleAt(*it);
}

const PolicyRule* RuleIndex::path(List list, const QStringList& tools,
                                  QStringView relativePath) const {
    if (list != List::Allow && std::any_of(relativePath.begin(), relativePath.end(),
                                           [](QChar c) { return c.isUpper(); })) {
        const QString folded = relativePath.toString().toLower();
        return path(list, tools, folded, true);
    }
    return path(list, tools, relativePath, true);
}

int RuleIndex::firstMatch(const PathBucket& bucket, QStringView relativePath, int best) {
    auto consider = [&](const std::vector<PathRule>& rules) {
        for (const PathRule& r : rules) {
            if (best >= 0 && r.rule > best)
                break; // rules are stored in order
            if (r.glob.matches(relativePath))
                best = best < 0 ? r.rule : std::min(best, r.rule);
        }
    };
    if (!bucket.byFirstSegment.empty()) {
        auto it = bucket.byFirstSegment.find(firstSegment(relativePath));
        if (it != bucket.byFirstSegment.end())
            consider(it->second);
    }
    consider(bucket.wildcard);
    return best;
}

const PolicyRule* RuleIndex::path(List list, const QStringList& tools, QStringView relativePath,
                                  bool) const {
    const ListIndex& index = lists(list);
    int best = -1;
    for (const QString& tool : tools)
        if (const PathBucket* bucket = index.pathBucket(tool))
            best = firstMatch(*bucket, relativePath, best);
    return ruleAt(best);
}

const PolicyRule* RuleIndex::pathAnyTool(List list, QStringView relativePath) const {
    const ListIndex& index = lists(list);
    if (index.paths.empty())
        return nullptr;
    if (list != List::Allow && std::any_of(relativePath.begin(), relativePath.end(),
                                           [](QChar c) { return c.isUpper(); })) {
        const QString folded = relativePath.toString().toLower();
        return ruleAt(firstMatch(index.anyPathTool, folded, -1));
    }
    return ruleAt(firstMatch(index.anyPathTool, relativePath, -1));
}

const PolicyRule* RuleIndex::pathBelow(List list, const QStringList& tools, QStringView dir) const {
    if (list != List::Allow &&
        std::any_of(dir.begin(), dir.end(), [](QChar c) { return c.isUpper(); })) {
        const QString folded = dir.toString().toLower();
        return pathBelowFolded(list, tools, folded);
    }
    return pathBelowFolded(list, tools, dir);
}

int RuleIndex::firstBelow(const PathBucket& bucket, QStringView dir, int best) {
    for (const PathRule& r : bucket.all)
        if ((best < 0 || r.rule < best) && r.glob.mayMatchBelow(dir))
            best = r.rule;
    return best;
}

const PolicyRule* RuleIndex::pathBelowFolded(List list, const QStringList& tools,
                                             QStringView dir) const {
    const ListIndex& index = lists(list);
    int best = -1;
    for (const QString& tool : tools)
        if (const PathBucket* bucket = index.pathBucket(tool))
            best = firstBelow(*bucket, dir, best);
    return ruleAt(best);
}

const PolicyRule* RuleIndex::pathBelowAnyTool(List list, QStringView dir) const {
    const ListIndex& index = lists(list);
    if (index.paths.empty())
        return nullptr;
    if (list != List::Allow &&
        std::any_of(dir.begin(), dir.end(), [](QChar c) { return c.isUpper(); })) {
        const QString folded = dir.toString().toLower();
        return ruleAt(firstBelow(index.anyPathTool, folded, -1));
    }
    return ruleAt(firstBelow(index.anyPathTool, dir, -1));
}

bool RuleIndex::hasPathRules(List list) const {
    return !lists(list).paths.empty();
}

const RuleIndex::PathBucket* RuleIndex::ListIndex::pathBucket(const QString& tool) const {
    for (const auto& [name, bucket] : paths)
        if (name == tool)
            return &bucket;
    return nullptr;
}

const PolicyRule* RuleIndex::commandLoosely(List list, const CommandMatcher::Shape& shape) const {
    const ListIndex& index = lists(list);
    int best = -1;
    auto consider = [&](const std::vector<CommandRule>& rules) {
        for (const CommandRule& r : rules) {
            if (best >= 0 && r.rule > best)
                break;
            if (r.matcher.matchesLoosely(shape))
                best = best < 0 ? r.rule : std::min(best, r.rule);
        }
    };
    auto it = index.commandsByProgram.constFind(shape.program);
    if (it != index.commandsByProgram.cend())
        consider(*it);
    consider(index.commandsWildcard);
    return ruleAt(best);
}

const PolicyRule* RuleIndex::commandStrictly(List list, const QString& program,
                                             const QStringList& argv, bool scriptAnalysed) const {
    const ListIndex& index = lists(list);
    int best = -1;
    const CommandMatcher::UnsafeElements unsafe =
        CommandMatcher::unsafeElements(argv, scriptAnalysed);
    auto consider = [&](const std::vector<CommandRule>& rules) {
        for (const CommandRule& r : rules) {
            if (best >= 0 && r.rule > best)
                break;
            if (r.matcher.matchesStrictly(argv, unsafe))
                best = best < 0 ? r.rule : std::min(best, r.rule);
        }
    };
    auto it = index.strictByProgram.constFind(program);
    if (it != index.strictByProgram.cend()) {
        if (argv.size() > 1) {
            auto second = it->bySecondWord.constFind(argv[1]);
            if (second != it->bySecondWord.cend())
                consider(*second);
        }
        consider(it->anySecondWord);
    }
    consider(index.commandsWildcard);
    return ruleAt(best);
}

} // namespace m1
