#include "policy/CommandAnalyzer.h"

#include "policy/ShellScriptParser.h"

#include <QCoreApplication>
#include <QHash>
#include <QRegularExpression>
#include <QSet>

#include <algorithm>

namespace m1 {

namespace {

class Tr {
    Q_DECLARE_TR_FUNCTIONS(CommandAnalyzer)
};

constexpr int kMaxDepth = 12;

enum class Privilege { None, Privileged, EnvironmentIfChanged };

// How one wrapper's own options look, so that its inner command is found exactly where the
// wrapper would find it. Option lists are space-separated names between spaces (" p pid ").
struct WrapperSpec {
    const char* name;
    const char* shortWithArg = "";
    const char* shortFlags = "";
    const char* longWithArg = " ";
    const char* longFlags = " ";
    int positionals = 0;           // words between the options and the command (timeout's duration)
    bool positionalsFirst = false; // the positionals come before the options (setarch ARCH -R)
    bool assignments = false;      // NAME=VALUE words before the command (env, sudo)
    Privilege privilege = Privilege::None;
    const char* noCommand = " ";      // options after which no command follows (ionice -p PID)
    const char* scriptOption = " ";   // options whose value is a shell script (flock -c)
    const char* splitOption = " ";    // options whose value is split into words (env -S)
    const char* changesEnv = " ";     // options that change the environment or folder (env -i)
    const char* execOption = " ";     // watch -x: run argv directly instead of `sh -c`
    bool shellWithoutCommand = false; // with no command it starts an interactive shell
    bool joinsIntoScript = false;     // the words are joined and run by sh -c (watch)
    const char* defaultCommand = nullptr;
    const char* alwaysConcern = nullptr;
};

const WrapperSpec kWrappers[] = {
    {.name = "env",
     .shortWithArg = "uCS",
     .shortFlags = "i0v",
     .longWithArg = " unset chdir split-string ",
     .longFlags = " ignore-environment null debug default-signal ignore-signal block-signal "
                  "list-signal-handling ",
     .assignments = true,
     .privilege = Privilege::EnvironmentIfChanged,
     .splitOption = " S split-string ",
     .changesEnv = " i u C S ignore-environment unset chdir split-string "},
    {.name = "sudo",
     .shortWithArg = "ugpCDrtTUhR",
     .shortFlags = "AbEeHiKklnPSsVvBN",
     .longWithArg = " user group prompt close-from chdir role type command-timeout other-user "
                    "host chroot ",
     .longFlags = " askpass background preserve-env edit set-home login remove-timestamp "
                  "reset-timestamp list non-interactive preserve-groups stdin shell version "
                  "validate bell help ",
     .assignments = true,
     .privilege = Privilege::Privileged,
     .noCommand = " e edit l list v validate k K ",
     .shellWithoutCommand = true},
    {.name = "doas",
     .shortWithArg = "uC",
     .shortFlags = "nsL",
     .privilege = Privilege::Privileged,
     .shellWithoutCommand = true},
    {.name = "pkexec",
     .longWithArg = " user ",
     .longFlags = " disable-internal-agent keep-cwd help version ",
     .privilege = Privilege::Privileged,
     .shellWithoutCommand = true},
    {.name = "runuser",
     .shortWithArg = "ugGcsw",
     .shortFlags = "lmpfP",
     .longWithArg = " user group supp-group command shell whitelist-environment ",
     .longFlags = " login preserve-environment pty ",
     .privilege = Privilege::Privileged,
     .scriptOption = " c command ",
     .shellWithoutCommand = true},
    {.name = "su",
     .shortWithArg = "gGcsw",
     .shortFlags = "lmpfP",
     .longWithArg = " group supp-group command session-command shell whitelist-environment ",
     .longFlags = " login preserve-environment pty fast ",
     .privilege = Privilege::Privileged,
     .scriptOption = " c command session-command ",
     .shellWithoutCommand = true,
     .alwaysConcern = QT_TRANSLATE_NOOP("CommandAnalyzer", "su switches to another user")},
    {.name = "chroot",
     .longWithArg = " userspec groups ",
     .longFlags = " skip-chdir ",
     .positionals = 1,
     .privilege = Privilege::Privileged,
     .shellWithoutCommand = true},
    {.name = "nice",
     .shortWithArg = "n",
     .shortFlags = "0123456789",
     .longWithArg = " adjustment "},
    {.name = "ionice",
     .shortWithArg = "cnpPu",
     .shortFlags = "t",
     .longWithArg = " class classdata pid pgid uid ",
     .longFlags = " ignore ",
     .noCommand = " p P u pid pgid uid "},
    {.name = "timeout",
     .shortWithArg = "sk",
     .shortFlags = "v",
     .longWithArg = " signal kill-after ",
     .longFlags = " preserve-status foreground verbose ",
     .positionals = 1},
    {.name = "nohup"},
    {.name = "time",
     .shortWithArg = "fo",
     .shortFlags = "pavq",
     .longWithArg = " format output ",
     .longFlags = " append portability verbose quiet "},
    {.name = "command", .shortFlags = "pvV"},
    {.name = "builtin"},
    {.name = "exec", .shortWithArg = "a", .shortFlags = "cl", .changesEnv = " c "},
    {.name = "stdbuf", .shortWithArg = "ioe", .longWithArg = " input output error "},
    {.name = "setsid", .shortFlags = "cfw", .longFlags = " ctty fork wait "},
    {.name = "flock",
     .shortWithArg = "wEc",
     .shortFlags = "sxunoFe",
     .longWithArg = " timeout conflict-exit-code command ",
     .longFlags = " shared exclusive unlock nonblock close no-fork verbose ",
     .positionals = 1,
     .scriptOption = " c command "},
    {.name = "taskset",
     .shortFlags = "apc",
     .longFlags = " all-tasks pid cpu-list ",
     .positionals = 1,
     .noCommand = " p pid "},
    {.name = "chrt",
     .shortWithArg = "TPD",
     .shortFlags = "abdefiomRrp",
     .longWithArg = " sched-runtime sched-period sched-deadline ",
     .longFlags = " all-tasks batch deadline fifo idle other rr reset-on-fork max pid verbose ",
     .positionals = 1,
     .noCommand = " p m pid max "},
    {.name = "strace",
     .shortWithArg = "abeEIoOpPsSuUX",
     .shortFlags = "cCdDfFhiknqrtTvVwxyYzZ",
     .noCommand = " p "},
    {.name = "ltrace",
     .shortWithArg = "aAeEFlnopsuwX",
     .shortFlags = "bcCDfhiLrStTV",
     .noCommand = " p "},
    {.name = "watch",
     .shortWithArg = "nq",
     .shortFlags = "dtbegcxpwhvr",
     .longWithArg = " interval ",
     .longFlags = " differences no-title beep errexit chgexit color no-color exec precise "
                  "no-wrap ",
     .execOption = " x exec ",
     .joinsIntoScript = true},
    {.name = "xargs",
     .shortWithArg = "adEILnPs",
     .shortFlags = "0prtxeil",
     .longWithArg = " arg-file delimiter eof replace max-lines max-args max-procs max-chars "
                    "process-slot-var ",
     .longFlags = " null interactive no-run-if-empty verbose exit show-limits open-tty ",
     .defaultCommand = "echo",
     .alwaysConcern = QT_TRANSLATE_NOOP("CommandAnalyzer",
                                        "xargs adds arguments read from its input to the command")},
    {.name = "unbuffer", .shortFlags = "p"},
    {.name = "fakeroot",
     .shortWithArg = "lsi",
     .shortFlags = "uv",
     .longWithArg = " lib faked ",
     .longFlags = " unknown-is-real version help ",
     .privilege = Privilege::Privileged,
     .shellWithoutCommand = true},
    {.name = "catchsegv"},
    {.name = "dbus-run-session", .longWithArg = " config-file dbus-daemon "},
    {.name = "setarch",
     .shortFlags = "v3BFLRSTXZ",
     .longFlags = " verbose 3gb 4gb uname-2.6 addr-no-randomize fdpic-funcptrs mmap-page-zero "
                  "addr-compat-layout read-implies-exec 32bit short-inode whole-seconds "
                  "sticky-timeouts ",
     .positionals = 1,
     .positionalsFirst = true,
     .shellWithoutCommand = true},
    {.name = "linux32",
     .shortFlags = "v3BFLRSTXZ",
     .longFlags = " verbose 3gb 4gb uname-2.6 addr-no-randomize fdpic-funcptrs mmap-page-zero "
                  "addr-compat-layout read-implies-exec 32bit short-inode whole-seconds "
                  "sticky-timeouts ",
     .shellWithoutCommand = true},
    {.name = "linux64",
     .shortFlags = "v3BFLRSTXZ",
     .longFlags = " verbose 3gb 4gb uname-2.6 addr-no-randomize fdpic-funcptrs mmap-page-zero "
                  "addr-compat-layout read-implies-exec 32bit short-inode whole-seconds "
                  "sticky-timeouts ",
     .shellWithoutCommand = true},
    {.name = "prlimit",
     .shortWithArg = "po",
     .longWithArg = " pid output ",
     .longFlags = " as core cpu data fsize locks memlock msgqueue nice nofile nproc rss rtprio "
                  "rttime sigpending stack noheadings raw verbose ",
     .noCommand = " p pid "},
    {.name = "ssh-agent", .shortWithArg = "aEtOP", .shortFlags = "cDdsk", .noCommand = " k "},
    {.name = "eatmydata"},
    {.name = "chronic", .shortFlags = "ev"},
    {.name = "dbus-launch",
     .longWithArg = " config-file autolaunch ",
     .longFlags = " sh-syntax csh-syntax auto-syntax binary-syntax close-stderr "
                  "exit-with-session exit-with-x11 "},
};

// Programs that run another command but whose options are not modelled: the first word that is
// not an option is taken as the command (so deny rules still see it), and the call is asked.
const QSet<QString> kOpaqueWrappers = {
    QStringLiteral("nsenter"),
    QStringLiteral("unshare"),
    QStringLiteral("firejail"),
    QStringLiteral("bwrap"),
    QStringLiteral("proot"),
    QStringLiteral("systemd-run"),
    QStringLiteral("valgrind"),
    QStringLiteral("perf"),
    QStringLiteral("gdb"),
    QStringLiteral("parallel"),
    QStringLiteral("sg"),
    QStringLiteral("newgrp"),
    QStringLiteral("script"),
    QStringLiteral("xvfb-run"),
    QStringLiteral("caffeinate"),
    QStringLiteral("run0"),
    QStringLiteral("sudoedit"),
    QStringLiteral("expect"),
    QStringLiteral("nix-shell"),
    QStringLiteral("rlwrap"),
    QStringLiteral("torsocks"),
    QStringLiteral("proxychains"),
    QStringLiteral("proxychains4"),
    QStringLiteral("cgexec"),
    QStringLiteral("numactl"),
    QStringLiteral("faketime"),
    QStringLiteral("ssh"),
    QStringLiteral("docker"),
    QStringLiteral("podman"),
    QStringLiteral("kubectl"),
    QStringLiteral("flatpak-spawn"),
    QStringLiteral("npx"),
    QStringLiteral("bunx"),
    QStringLiteral("distrobox-enter"),
    QStringLiteral("toolbox"),
    QStringLiteral("schroot"),
    QStringLiteral("systemd-nspawn"),
    QStringLiteral("ip"),
    QStringLiteral("chpst"),
    QStringLiteral("daemonize"),
    QStringLiteral("start-stop-daemon"),
};

// Tools whose subcommand runs the rest as a command (`uv run pytest`). Without options there it
// is a plain wrapper; with options (their values are not modelled) it is opaque.
const char* const kSubcommandRunners[][2] = {
    {"uv", "run"},      {"poetry", "run"},     {"pipenv", "run"},  {"pdm", "run"},
    {"hatch", "run"},   {"rye", "run"},        {"pixi", "run"},    {"conda", "run"},
    {"mamba", "run"},   {"micromamba", "run"}, {"bundle", "exec"}, {"pnpm", "exec"},
    {"yarn", "exec"},   {"npm", "exec"},       {"mise", "exec"},   {"mise", "x"},
    {"asdf", "exec"},   {"direnv", "exec"},    {"devbox", "run"},  {"nix", "run"},
    {"nix", "develop"}, {"nix", "shell"},      {"pnpm", "dlx"},    {"yarn", "dlx"},
    {"rbenv", "exec"},  {"pyenv", "exec"},     {"nvm", "exec"},    {"opam", "exec"},
};

// Programs that do not run their arguments as a command. Any other program that is not modelled
// may be an unknown runner (`frobnicate run rm -rf ~`), so its first words are also checked
// against the deny and ask rules (never the allow rules).
const QSet<QString> kPlainPrograms = {
    QStringLiteral("ls"),        QStringLiteral("cat"),      QStringLiteral("head"),
    QStringLiteral("tail"),      QStringLiteral("wc"),       QStringLiteral("echo"),
    QStringLiteral("printf"),    QStringLiteral("touch"),    QStringLiteral("stat"),
    QStringLiteral("file"),      QStringLiteral("diff"),     QStringLiteral("cmp"),
    QStringLiteral("sort"),      QStringLiteral("uniq"),     QStringLiteral("cut"),
    QStringLiteral("tr"),        QStringLiteral("tee"),      QStringLiteral("less"),
    QStringLiteral("more"),      QStringLiteral("which"),    QStringLiteral("whereis"),
    QStringLiteral("type"),      QStringLiteral("basename"), QStringLiteral("dirname"),
    QStringLiteral("realpath"),  QStringLiteral("readlink"), QStringLiteral("pwd"),
    QStringLiteral("date"),      QStringLiteral("true"),     QStringLiteral("false"),
    QStringLiteral("test"),      QStringLiteral("["),        QStringLiteral("seq"),
    QStringLiteral("sleep"),     QStringLiteral("id"),       QStringLiteral("whoami"),
    QStringLiteral("uname"),     QStringLiteral("df"),       QStringLiteral("du"),
    QStringLiteral("ps"),        QStringLiteral("kill"),     QStringLiteral("jq"),
    QStringLiteral("grep"),      QStringLiteral("egrep"),    QStringLiteral("fgrep"),
    QStringLiteral("rg"),        QStringLiteral("ag"),       QStringLiteral("ack"),
    QStringLiteral("rm"),        QStringLiteral("cp"),       QStringLiteral("mv"),
    QStringLiteral("ln"),        QStringLiteral("mkdir"),    QStringLiteral("rmdir"),
    QStringLiteral("chmod"),     QStringLiteral("chown"),    QStringLiteral("chgrp"),
    QStringLiteral("sed"),       QStringLiteral("curl"),     QStringLiteral("wget"),
    QStringLiteral("tar"),       QStringLiteral("gzip"),     QStringLiteral("gunzip"),
    QStringLiteral("zip"),       QStringLiteral("unzip"),    QStringLiteral("shred"),
    QStringLiteral("dd"),        QStringLiteral("man"),      QStringLiteral("tree"),
    QStringLiteral("fd"),        QStringLiteral("fdfind"),   QStringLiteral("make"),
    QStringLiteral("cmake"),     QStringLiteral("ninja"),    QStringLiteral("gcc"),
    QStringLiteral("g++"),       QStringLiteral("cc"),       QStringLiteral("clang"),
    QStringLiteral("clang++"),   QStringLiteral("ld"),       QStringLiteral("go"),
    QStringLiteral("java"),      QStringLiteral("javac"),    QStringLiteral("cargo"),
    QStringLiteral("rustc"),     QStringLiteral("npm"),      QStringLiteral("yarn"),
    QStringLiteral("pnpm"),      QStringLiteral("pip"),      QStringLiteral("pip3"),
    QStringLiteral("rsync"),     QStringLiteral("scp"),      QStringLiteral("patch"),
    QStringLiteral("nl"),        QStringLiteral("od"),       QStringLiteral("xxd"),
    QStringLiteral("hexdump"),   QStringLiteral("strings"),  QStringLiteral("base64"),
    QStringLiteral("sha256sum"), QStringLiteral("md5sum"),   QStringLiteral("clang-format"),
    QStringLiteral("vim"),       QStringLiteral("vi"),       QStringLiteral("nvim"),
    QStringLiteral("http"),      QStringLiteral("https"),    QStringLiteral("sqlite3"),
};
const QSet<QString> kPrivilegedOpaque = {QStringLiteral("nsenter"), QStringLiteral("unshare"),
                                         QStringLiteral("sg"),      QStringLiteral("newgrp"),
                                         QStringLiteral("run0"),    QStringLiteral("sudoedit")};

const QSet<QString> kPosixShells = {
    QStringLiteral("sh"),    QStringLiteral("bash"), QStringLiteral("dash"),
    QStringLiteral("zsh"),   QStringLiteral("ksh"),  QStringLiteral("mksh"),
    QStringLiteral("ash"),   QStringLiteral("posh"), QStringLiteral("yash"),
    QStringLiteral("rbash"), QStringLiteral("lksh"), QStringLiteral("pdksh")};
const QSet<QString> kOtherShells = {QStringLiteral("fish"),   QStringLiteral("csh"),
                                    QStringLiteral("tcsh"),   QStringLiteral("nu"),
                                    QStringLiteral("pwsh"),   QStringLiteral("powershell"),
                                    QStringLiteral("elvish"), QStringLiteral("xonsh"),
                                    QStringLiteral("rc"),     QStringLiteral("es")};

bool isAssignment(const QString& word) {
    const qsizetype eq = word.indexOf(u'=');
    if (eq <= 0)
        return false;
    const QChar first = word.front();
    if (!(first == u'_' || first.isLetter()))
        return false;
    for (qsizetype i = 0; i < eq; ++i) {
        const QChar c = word.at(i);
        if (!(c == u'_' || (c.unicode() < 128 && c.isLetterOrNumber())))
            return false;
    }
    return true;
}

bool listed(const char* list, const QString& name) {
    return QLatin1StringView(list).contains(QString(u' ' + name + u' '));
}

QString basename(const QString& program) {
    const qsizetype slash = program.lastIndexOf(u'/');
    return slash < 0 ? program : program.mid(slash + 1);
}

// ^(python|pypy)[0-9.]*$ as QRegularExpression reads it ($ also before a final newline), without
// running a regular expression for every command.
bool isPythonLike(QStringView p) {
    if (p.endsWith(u'\n'))
        p.chop(1);
    qsizetype rest;
    if (p.startsWith(u"python"))
        rest = 6;
    else if (p.startsWith(u"pypy"))
        rest = 4;
    else
        return false;
    return std::all_of(p.begin() + rest, p.end(),
                       [](QChar c) { return c == u'.' || (c >= u'0' && c <= u'9'); });
}

// How an interpreter's options look: which run inline code, which take a value (separate or
// attached), which name a module or script file (after them the code is not inline).
struct InterpreterSpec {
    const char* code = "";         // short options whose value is code (python -c)
    const char* value = "";        // short options with a value, separate or attached
    const char* attachedOnly = ""; // short options whose value can only be attached
    const char* script = "";       // short options naming a module or file to run
    const char* longCode = " ";    // " eval print "
    const char* longValue = " ";   // long options with a value
};

const InterpreterSpec* interpreterSpec(const QString& program) {
    static const InterpreterSpec python{
        .code = "c", .value = "WXQ", .script = "m", .longValue = " check-hash-based-pycs "};
    static const InterpreterSpec perl{.code = "eE", .value = "IMm"};
    static const InterpreterSpec ruby{.code = "e",
                                      .value = "IrCE",
                                      .attachedOnly = "FiKTWx0",
                                      .longValue = " encoding external-encoding "
                                                   "internal-encoding enable disable "};
    static const InterpreterSpec node{
        .code = "ep",
        .value = "rC",
        .longCode = " eval print ",
        .longValue = " require import loader experimental-loader conditions input-type title "
                     "env-file inspect-port redirect-warnings report-dir report-directory "
                     "report-filename openssl-config icu-data-dir experimental-policy "
                     "disable-warning diagnostic-dir watch-path preload cwd "};
    static const InterpreterSpec php{.code = "rRBE", .value = "dcztSF", .script = "f"};
    static const InterpreterSpec lua{.code = "e", .value = "l"};
    static const InterpreterSpec osascript{.code = "e", .value = "ls"};
    static const InterpreterSpec plain{.code = "e"};
    if (isPythonLike(program))
        return &python;
    if (program == QLatin1String("perl"))
        return &perl;
    if (program == QLatin1String("ruby"))
        return &ruby;
    if (program == QLatin1String("node") || program == QLatin1String("nodejs") ||
        program == QLatin1String("bun"))
        return &node;
    if (program == QLatin1String("php"))
        return &php;
    if (program == QLatin1String("lua") || program.startsWith(QLatin1String("lua5")) ||
        program == QLatin1String("luajit"))
        return &lua;
    if (program == QLatin1String("osascript"))
        return &osascript;
    if (program == QLatin1String("Rscript") || program == QLatin1String("tclsh") ||
        program == QLatin1String("irb"))
        return &plain;
    return nullptr;
}

// Whether the interpreter runs code given on its command line or read from its input.
bool inlineCode(const InterpreterSpec& spec, const QStringList& argv) {
    auto has = [](const char* list, QChar c) { return QLatin1StringView(list).contains(c); };
    for (qsizetype i = 1; i < argv.size(); ++i) {
        const QString& w = argv[i];
        if (w == QLatin1String("-"))
            return true;
        if (!w.startsWith(u'-'))
            return false; // the script file
        if (w == QLatin1String("--"))
            return i + 1 >= argv.size();
        if (w.startsWith(QLatin1String("--"))) {
            const QString name = w.mid(2).section(u'=', 0, 0);
            if (listed(spec.longCode, name))
                return true;
            if (listed(spec.longValue, name) && !w.contains(u'='))
                ++i;
            continue;
        }
        for (qsizetype k = 1; k < w.size(); ++k) {
            const QChar c = w.at(k);
            if (has(spec.code, c))
                return true;
            if (has(spec.script, c))
                return false;
            if (has(spec.attachedOnly, c))
                break;
            if (has(spec.value, c)) {
                if (k + 1 == w.size())
                    ++i;
                break;
            }
        }
    }
    return true; // no script: code comes from the input
}

// Options that make a program run another command. Each is a concern, and its value is
// split like a script so that the deny rules still see what it names.
struct ExecOptions {
    const char* program;
    const char* longs;  // long options (any unambiguous prefix counts)
    const char* shorts; // short options, also inside a cluster
    const char* words;  // whole words whose value follows (zip -TT)
    bool optionalValue; // the value may only be attached (git grep -O)
};
const ExecOptions kExecOptions[] = {
    {"rg", " pre hostname-bin ", "", " ", false},
    {"tar",
     " to-command use-compress-program checkpoint-action info-script new-volume-script "
     "rsh-command rmt-command ",
     "IF", " ", false},
    {"sort", " compress-program ", "", " ", false},
    {"rsync", " rsh rsync-path ", "e", " ", false},
    {"zip", " unzip-command ", "", " -TT ", false},
    {"man", " pager html ", "PH", " ", false},
    {"vim", " cmd ", "cS", " ", false},
    {"vi", " cmd ", "cS", " ", false},
    {"nvim", " cmd ", "cS", " ", false},
    {"view", " cmd ", "cS", " ", false},
    {"ex", " cmd ", "cS", " ", false},
};

// What unwrap() asks about a program name, answered by one lookup instead of one per list and a
// run of name comparisons (built once). A name in none of the lists gets the default.
struct ProgramTraits {
    bool named = false; // compared by name in unwrap() (cd, eval, git, find, ...)
    bool posixShell = false;
    bool otherShell = false;
    bool runner = false;
    bool opaque = false;
    bool privilegedOpaque = false;
    bool plain = false;
    const ExecOptions* exec = nullptr;    // the first row for the program
    const WrapperSpec* wrapper = nullptr; // the last row for the program
};

const ProgramTraits& traitsOf(const QString& program) {
    static const QHash<QString, ProgramTraits> kTraits = [] {
        QHash<QString, ProgramTraits> map;
        for (const char* name :
             {"cd",      "pushd",  "popd",      "eval", "source", ".",       "trap",  "alias",
              "unalias", "enable", "hash",      "deno", "awk",    "gawk",    "mawk",  "nawk",
              "fd",      "fdfind", "hyperfine", "git",  "find",   "busybox", "toybox"})
            map[QLatin1StringView(name)].named = true;
        for (const QString& name : kPosixShells)
            map[name].posixShell = true;
        for (const QString& name : kOtherShells)
            map[name].otherShell = true;
        for (const auto& runner : kSubcommandRunners)
            map[QLatin1StringView(runner[0])].runner = true;
        for (const QString& name : kOpaqueWrappers)
            map[name].opaque = true;
        for (const QString& name : kPrivilegedOpaque)
            map[name].privilegedOpaque = true;
        for (const QString& name : kPlainPrograms)
            map[name].plain = true;
        for (const ExecOptions& e : kExecOptions)
            if (!map[QLatin1StringView(e.program)].exec)
                map[QLatin1StringView(e.program)].exec = &e;
        for (const WrapperSpec& w : kWrappers)
            map[QLatin1StringView(w.name)].wrapper = &w;
        return map;
    }();
    static const ProgramTraits kNone;
    const auto found = kTraits.constFind(program);
    return found == kTraits.cend() ? kNone : *found;
}

// git subcommands with options that run a command: {subcommand, long options, short options}.
const char* const* gitExecOptions(const QString& subcommand) {
    static const char* const table[][3] = {
        {"grep", " open-files-in-pager ", "O"},
        {"fetch", " upload-pack ", ""},
        {"pull", " upload-pack ", ""},
        {"ls-remote", " upload-pack ", ""},
        {"clone", " upload-pack config template ", "uc"},
        {"archive", " exec ", ""},
        {"push", " receive-pack exec ", ""},
        {"send-pack", " receive-pack exec ", ""},
        {"fetch-pack", " upload-pack exec ", ""},
        {"rebase", " exec ", "x"},
        {"send-email", " smtp-server to-cmd cc-cmd header-cmd ", ""},
    };
    for (const auto& row : table)
        if (subcommand == QLatin1StringView(row[0]))
            return row;
    return nullptr;
}
} // namespace

bool CommandAnalyzer::isShell(const QString& program) {
    return kPosixShells.contains(program) || kOtherShells.contains(program);
}

CommandAnalyzer::Analysis CommandAnalyzer::analyze(const QStringList& argv) {
    Analysis out;
    out.commands.reserve(4); // most commands are one program; a short script a few
    CommandAnalyzer analyzer(out);
    analyzer.analyzeArgv(argv, 0, false);
    return out;
}

void CommandAnalyzer::concern(const QString& reason) {
    for (const Concern& c : std::as_const(m_out.concerns))
        if (c.reason == reason)
            return;
    m_out.concerns.append({Concern::Kind::Unanalysable, reason});
}

void CommandAnalyzer::privileged(const QString& reason) {
    for (const Concern& c : std::as_const(m_out.concerns))
        if (c.reason == reason)
            return;
    m_out.concerns.append({Concern::Kind::Privileged, reason});
}

void CommandAnalyzer::analyzeScript(const QString& script, int depth, qsizetype owner) {
    if (owner >= 0)
        m_out.commands[owner].scriptAnalysed = true;
    const ShellScriptParser::Script parsed = ShellScriptParser::parse(script);
    for (const QString& c : parsed.concerns)
        concern(c);
    for (const ShellScriptParser::Command& command : parsed.commands) {
        if (command.argv.isEmpty())
            continue;
        analyzeArgv(command.argv, depth + 1, true, command.inputPaths);
    }
}

void CommandAnalyzer::analyzeArgv(const QStringList& argv, int depth, bool fromShell,
                                  const QStringList& inputPaths) {
    if (depth > kMaxDepth) {
        concern(Tr::tr("the command nests wrappers or shells too deeply to analyse"));
        return;
    }
    if (argv.isEmpty())
        return;
    const QString& first = argv.front();
    Command command;
    command.argv = argv;
    command.program = basename(first);
    command.fromShell = fromShell;
    command.inputPaths = inputPaths;
    if (first.isEmpty() || first.contains(u'=') || command.program.isEmpty()) {
        if (!m_out.hasNotAProgram) {
            m_out.hasNotAProgram = true;
            m_out.notAProgram = first;
        }
        m_out.commands.append(std::move(command));
        return;
    }
    const qsizetype index = m_out.commands.size();
    m_out.commands.append(std::move(command));
    unwrap(argv, index, depth);
}

void CommandAnalyzer::unwrap(const QStringList& argv, qsizetype commandIndex, int depth) {
    const QString program = m_out.commands[commandIndex].program;
    const ProgramTraits& traits = traitsOf(program);
    auto markRunsOthers = [&] { m_out.commands[commandIndex].runsOthers = true; };

    // Shell builtins are concerns whatever their context: reached through `command`, `builtin`,
    // `time` or `exec` they act exactly as in a script.
    if (traits.named && (program == QLatin1String("cd") || program == QLatin1String("pushd") ||
                         program == QLatin1String("popd"))) {
        m_out.changesDirectory = true;
        concern(Tr::tr("the script changes the working folder (%1), so the paths after it "
                       "cannot be checked")
                    .arg(program));
        return;
    }
    if (traits.named && (program == QLatin1String("eval") || program == QLatin1String("source") ||
                         program == QLatin1String(".") || program == QLatin1String("trap"))) {
        concern(Tr::tr("\"%1\" runs text or a file as a script").arg(program));
        markRunsOthers();
        // What eval and trap run is still shown to the deny rules.
        if (program == QLatin1String("eval") && argv.size() > 1)
            analyzeScript(argv.mid(1).join(u' '), depth);
        else if (program == QLatin1String("trap") && argv.size() > 2)
            analyzeScript(argv[1], depth);
        return;
    }
    if (traits.named && (program == QLatin1String("alias") || program == QLatin1String("unalias") ||
                         program == QLatin1String("enable") || program == QLatin1String("hash"))) {
        concern(Tr::tr("\"%1\" changes what later command names run").arg(program));
        return;
    }

    // Shells.
    if (traits.posixShell) {
        markRunsOthers();
        bool hasScriptFlag = false;
        qsizetype i = 1;
        for (; i < argv.size(); ++i) {
            const QString& w = argv[i];
            if (w == QLatin1String("--") || w == QLatin1String("-")) {
                ++i;
                break;
            }
            if (w.startsWith(QLatin1String("--"))) {
                if (w == QLatin1String("--rcfile") || w == QLatin1String("--init-file"))
                    ++i;
                continue;
            }
            if ((w.startsWith(u'-') || w.startsWith(u'+')) && w.size() > 1) {
                if (w.mid(1).contains(u'c'))
                    hasScriptFlag = true;
                if (w.back() == u'o' || w.back() == u'O')
                    ++i; // -o option / -O shopt take a value
                continue;
            }
            break;
        }
        if (hasScriptFlag) {
            if (i >= argv.size()) {
                concern(Tr::tr("%1 -c has no script").arg(program));
                return;
            }
            analyzeScript(argv[i], depth, commandIndex);
            return;
        }
        if (i < argv.size())
            concern(Tr::tr("%1 runs the script file \"%2\", which is not analysed")
                        .arg(program, argv[i]));
        else
            concern(Tr::tr("%1 without -c reads commands from its input").arg(program));
        return;
    }
    if (traits.otherShell) {
        markRunsOthers();
        concern(Tr::tr("scripts for %1 are not analysed").arg(program));
        return;
    }

    // Interpreters given code inline. Options that take a value are skipped with their value
    // (`python3 -W ignore -c ...`), so only a word that is neither an option nor a value is the
    // script; the code options are found wherever they stand before it.
    if (const InterpreterSpec* interp = interpreterSpec(program)) {
        if (program == QLatin1String("bun") && argv.size() > 1 && argv[1] == QLatin1String("run"))
            return;
        if (inlineCode(*interp, argv)) {
            markRunsOthers();
            concern(Tr::tr("%1 is given code to run that is not analysed").arg(program));
        }
        return;
    }
    if (traits.named && program == QLatin1String("deno") &&
        argv.value(1) == QLatin1String("eval")) {
        concern(Tr::tr("%1 is given code to run that is not analysed").arg(program));
        return;
    }
    if (traits.named && (program == QLatin1String("awk") || program == QLatin1String("gawk") ||
                         program == QLatin1String("mawk") || program == QLatin1String("nawk"))) {
        for (qsizetype i = 1; i < argv.size(); ++i) {
            const QString& w = argv[i];
            if (w == QLatin1String("-f") || w.startsWith(QLatin1String("-f")) ||
                w.startsWith(QLatin1String("--file"))) {
                concern(Tr::tr("%1 runs a program file that is not analysed").arg(program));
                return;
            }
            if (w == QLatin1String("-v") || w == QLatin1String("-F")) {
                ++i;
                continue;
            }
            if (w.startsWith(u'-'))
                continue;
            if (w.contains(QLatin1String("system")) || w.contains(u'|') || w.contains(u'>') ||
                w.contains(QLatin1String("getline"))) {
                markRunsOthers();
                concern(Tr::tr("the %1 program can run commands or write files").arg(program));
            }
            return;
        }
        return;
    }

    if (const ExecOptions* e = traits.exec) {
        execOptions(argv, 1, program, e->longs, e->shorts, e->words, e->optionalValue, depth);
        if (program.contains(QLatin1String("vi")) || program == QLatin1String("ex"))
            for (const QString& w : argv.mid(1))
                if (w.startsWith(u'+') && w.size() > 1)
                    concern(Tr::tr("%1 runs the editor command \"%2\"").arg(program, w.left(60)));
    }

    // fd runs its -x/-X command for the files it finds, like find -exec.
    if (traits.named && (program == QLatin1String("fd") || program == QLatin1String("fdfind"))) {
        for (qsizetype i = 1; i < argv.size(); ++i) {
            const QString& w = argv[i];
            if (w == QLatin1String("-x") || w == QLatin1String("-X") ||
                w == QLatin1String("--exec") || w == QLatin1String("--exec-batch")) {
                markRunsOthers();
                qsizetype end = i + 1;
                while (end < argv.size() && argv[end] != QLatin1String(";"))
                    ++end;
                analyzeArgv(argv.mid(i + 1, end - i - 1), depth + 1, false);
                i = end;
            }
        }
        return;
    }

    // hyperfine runs each of its words through a shell.
    if (traits.named && program == QLatin1String("hyperfine")) {
        markRunsOthers();
        concern(Tr::tr("hyperfine runs its commands through a shell; its options are not "
                       "analysed"));
        for (qsizetype i = 1; i < argv.size(); ++i)
            if (!argv[i].startsWith(u'-'))
                analyzeScript(argv[i], depth);
        return;
    }

    // `uv run CMD`: a wrapper; with options before the command (values unknown) opaque.
    for (const auto& runner : kSubcommandRunners) {
        if (!traits.runner)
            break;
        if (program != QLatin1StringView(runner[0]) ||
            argv.value(1) != QLatin1StringView(runner[1]))
            continue;
        markRunsOthers();
        if (argv.size() > 2 && !argv[2].startsWith(u'-')) {
            analyzeArgv(argv.mid(2), depth + 1, m_out.commands[commandIndex].fromShell);
            return;
        }
        concern(Tr::tr("%1 %2 runs another command; its options are not analysed")
                    .arg(program, argv[1]));
        opaqueInner(argv, 2, depth);
        return;
    }

    if (traits.named && program == QLatin1String("git")) {
        for (qsizetype i = 1; i < argv.size(); ++i) {
            const QString& w = argv[i];
            if (w == QLatin1String("-c") || w.startsWith(QLatin1String("--config-env")) ||
                w.startsWith(QLatin1String("--exec-path="))) {
                concern(Tr::tr("git %1 can make git run other programs (core.pager, alias.*, "
                               "core.sshCommand, …)")
                            .arg(w.section(u'=', 0, 0)));
                ++i;
                continue;
            }
            if (w == QLatin1String("-C") || w == QLatin1String("--git-dir") ||
                w == QLatin1String("--work-tree") || w == QLatin1String("--namespace")) {
                ++i;
                continue;
            }
            if (w.startsWith(u'-'))
                continue;
            // The subcommand.
            if (w == QLatin1String("bisect") && argv.value(i + 1) == QLatin1String("run")) {
                markRunsOthers();
                analyzeArgv(argv.mid(i + 2), depth + 1, false);
            } else if (w == QLatin1String("submodule") &&
                       argv.mid(i + 1).contains(QStringLiteral("foreach"))) {
                markRunsOthers();
                const qsizetype f = argv.indexOf(QStringLiteral("foreach"), i + 1);
                analyzeScript(argv.mid(f + 1).join(u' '), depth, commandIndex);
            } else if (w == QLatin1String("config")) {
                const bool readsOnly =
                    std::any_of(argv.cbegin() + i + 1, argv.cend(), [](const QString& a) {
                        return a.startsWith(QLatin1String("--get")) || a == QLatin1String("-l") ||
                               a == QLatin1String("--list") || a == QLatin1String("get") ||
                               a == QLatin1String("list");
                    });
                if (!readsOnly)
                    concern(Tr::tr("git config can make git run other programs (core.pager, "
                                   "alias.*, core.sshCommand, hooks, …)"));
            } else if (const char* const* exec = gitExecOptions(w)) {
                execOptions(argv, i + 1, QStringLiteral("git ") + w, exec[1], exec[2], " ",
                            w == QLatin1String("grep"), depth);
            } else if (w == QLatin1String("filter-branch") || w == QLatin1String("difftool") ||
                       w == QLatin1String("mergetool")) {
                concern(Tr::tr("git %1 can run other programs").arg(w));
            }
            return;
        }
        return;
    }

    if (traits.named && program == QLatin1String("find")) {
        for (qsizetype i = 1; i < argv.size(); ++i) {
            const QString& w = argv[i];
            if (w == QLatin1String("-exec") || w == QLatin1String("-execdir") ||
                w == QLatin1String("-ok") || w == QLatin1String("-okdir")) {
                markRunsOthers();
                qsizetype end = i + 1;
                while (end < argv.size() && argv[end] != QLatin1String(";") &&
                       argv[end] != QLatin1String("+"))
                    ++end;
                analyzeArgv(argv.mid(i + 1, end - i - 1), depth + 1, false);
                i = end;
            } else if (w == QLatin1String("-fprint") || w == QLatin1String("-fprintf") ||
                       w == QLatin1String("-fprint0") || w == QLatin1String("-fls")) {
                concern(Tr::tr("find %1 writes to a file").arg(w));
            }
        }
        return;
    }

    if (traits.named &&
        (program == QLatin1String("busybox") || program == QLatin1String("toybox"))) {
        markRunsOthers();
        if (argv.size() > 1 && !argv[1].startsWith(u'-'))
            analyzeArgv(argv.mid(1), depth + 1, false);
        return;
    }

    if (traits.opaque) {
        markRunsOthers();
        if (traits.privilegedOpaque)
            privileged(Tr::tr("%1 runs a command with other privileges").arg(program));
        else
            concern(Tr::tr("%1 runs another command; its options are not analysed").arg(program));
        if (program == QLatin1String("ssh") || program == QLatin1String("docker") ||
            program == QLatin1String("podman") || program == QLatin1String("kubectl"))
            return;
        opaqueInner(argv, 1, depth);
        return;
    }

    const WrapperSpec* spec = traits.wrapper;
    if (!spec) {
        if (!traits.plain)
            probe(argv, 1, 2);
        return;
    }

    markRunsOthers();
    bool changedEnv = false;
    bool noCommand = false;
    bool exec = false;
    QString script;
    bool hasScript = false;
    QStringList split;
    auto apply = [&](const QString& name, const QString& value) {
        if (listed(spec->noCommand, name))
            noCommand = true;
        if (listed(spec->scriptOption, name)) {
            script = value;
            hasScript = true;
        }
        if (listed(spec->splitOption, name))
            split = value.split(QRegularExpression(QStringLiteral("\\s+")), Qt::SkipEmptyParts);
        if (listed(spec->changesEnv, name))
            changedEnv = true;
        if (listed(spec->execOption, name))
            exec = true;
        if (program == QLatin1String("sudo") &&
            (name == QLatin1String("E") || name == QLatin1String("preserve-env")))
            changedEnv = true;
    };
    qsizetype i = spec->positionalsFirst ? 1 + spec->positionals : 1;
    while (i < argv.size()) {
        const QString& w = argv[i];
        if (w == QLatin1String("--")) {
            ++i;
            break;
        }
        if (spec->assignments && isAssignment(w)) {
            changedEnv = true;
            ++i;
            continue;
        }
        if (w == QLatin1String("-") && program == QLatin1String("env")) {
            changedEnv = true;
            ++i;
            continue;
        }
        if (w.startsWith(QLatin1String("--")) && w.size() > 2) {
            const QString name = w.mid(2).section(u'=', 0, 0);
            const bool attached = w.contains(u'=');
            if (listed(spec->longWithArg, name)) {
                const QString value = attached ? w.section(u'=', 1) : argv.value(i + 1);
                i += attached ? 1 : 2;
                apply(name, value);
            } else {
                if (!listed(spec->longFlags, name))
                    concern(Tr::tr("%1: the option \"%2\" is not known to the analyser")
                                .arg(program, w.left(60)));
                apply(name, attached ? w.section(u'=', 1) : QString());
                ++i;
            }
            continue;
        }
        if (w.startsWith(u'-') && w.size() > 1) {
            qsizetype consumed = 1;
            for (qsizetype k = 1; k < w.size(); ++k) {
                const QChar ch = w.at(k);
                if (QLatin1StringView(spec->shortWithArg).contains(ch)) {
                    QString value = w.mid(k + 1);
                    if (value.isEmpty()) {
                        value = argv.value(i + 1);
                        consumed = 2;
                    }
                    apply(QString(ch), value);
                    break;
                }
                if (!QLatin1StringView(spec->shortFlags).contains(ch))
                    concern(Tr::tr("%1: the option \"-%2\" is not known to the analyser")
                                .arg(program, QString(ch)));
                apply(QString(ch), QString());
            }
            i += consumed;
            continue;
        }
        break;
    }

    if (spec->alwaysConcern)
        concern(QCoreApplication::translate("CommandAnalyzer", spec->alwaysConcern));
    if (spec->privilege == Privilege::Privileged)
        privileged(Tr::tr("%1 runs the command with other privileges; it is never allowed "
                          "automatically")
                       .arg(program));
    if (spec->privilege == Privilege::EnvironmentIfChanged && changedEnv)
        privileged(Tr::tr("%1 changes the environment or folder of the command; it is never "
                          "allowed automatically")
                       .arg(program));
    if (changedEnv && program == QLatin1String("sudo"))
        privileged(Tr::tr("sudo keeps or sets environment variables"));
    if (program == QLatin1String("flock") && !hasScript && i + 1 < argv.size() &&
        (argv[i + 1] == QLatin1String("-c") || argv[i + 1] == QLatin1String("--command"))) {
        // flock [options] file -c command
        script = argv.value(i + 2);
        hasScript = true;
    }
    if (hasScript) {
        analyzeScript(script, depth, commandIndex);
        return;
    }
    if (noCommand)
        return;
    if (!spec->positionalsFirst)
        i += spec->positionals;
    if (program == QLatin1String("su")) {
        concern(Tr::tr("su without -c starts a shell"));
        return;
    }
    QStringList inner = split + argv.mid(qMin(i, argv.size()));
    if (inner.isEmpty() && spec->defaultCommand)
        inner = {QString::fromLatin1(spec->defaultCommand)};
    if (inner.isEmpty()) {
        if (spec->shellWithoutCommand)
            concern(Tr::tr("%1 without a command starts an interactive shell").arg(program));
        if (program == QLatin1String("exec"))
            concern(Tr::tr("exec without a command changes the shell's open files"));
        return;
    }
    if (spec->joinsIntoScript && !exec) {
        analyzeScript(inner.join(u' '), depth, commandIndex);
        return;
    }
    analyzeArgv(inner, depth + 1, m_out.commands[commandIndex].fromShell);
}

void CommandAnalyzer::execOptions(const QStringList& argv, qsizetype from, const QString& what,
                                  const char* longs, const char* shorts, const char* words,
                                  bool optionalValue, int depth) {
    const QLatin1StringView longList(longs);
    for (qsizetype i = from; i < argv.size(); ++i) {
        const QString& w = argv[i];
        if (w == QLatin1String("--"))
            return;
        QString option;
        QString value;
        bool hit = false;
        if (w.startsWith(QLatin1String("--")) && w.size() > 3) {
            const QString name = w.mid(2).section(u'=', 0, 0);
            // Any option the name abbreviates (git and GNU getopt accept unambiguous prefixes).
            hit = longList.contains(QString(u' ' + name));
            if (hit) {
                option = w.section(u'=', 0, 0);
                value = w.contains(u'=') ? w.section(u'=', 1)
                                         : (optionalValue ? QString() : argv.value(++i));
            }
        } else if (w.startsWith(QLatin1String("-TT")) &&
                   QLatin1StringView(words).contains(QLatin1String(" -TT "))) {
            hit = true;
            option = w.left(3);
            value = w.size() > 3 ? w.mid(3) : argv.value(++i);
        } else if (w.startsWith(u'-') && !w.startsWith(QLatin1String("--")) && w.size() > 1) {
            for (qsizetype k = 1; k < w.size(); ++k)
                if (QLatin1StringView(shorts).contains(w.at(k))) {
                    hit = true;
                    option = u'-' + QString(w.at(k));
                    value = k + 1 < w.size() ? w.mid(k + 1)
                                             : (optionalValue ? QString() : argv.value(++i));
                    break;
                }
        }
        if (!hit)
            continue;
        concern(Tr::tr("%1 %2 runs another program that is not analysed").arg(what, option));
        if (value.startsWith(QLatin1String("exec=")))
            value = value.mid(5); // tar --checkpoint-action=exec=CMD
        if (!value.isEmpty())
            analyzeScript(value, depth);
    }
}

// An unmodelled runner: its first word that can be a program is analysed as the command, and
// the next few are also shown to the deny and ask rules, since option values cannot be told
// from the command (`bwrap --bind / / rm -rf ~`).
void CommandAnalyzer::opaqueInner(const QStringList& argv, qsizetype from, int depth) {
    for (qsizetype i = from; i < argv.size(); ++i) {
        const QString& w = argv[i];
        if (w.startsWith(u'-') || w.contains(u'=') || w.isEmpty() || w.endsWith(u'/'))
            continue;
        analyzeArgv(argv.mid(i), depth + 1, false);
        probe(argv, i + 1, 3);
        return;
    }
}

void CommandAnalyzer::probe(const QStringList& argv, qsizetype from, int count) {
    for (qsizetype i = from; i < argv.size() && count > 0; ++i) {
        const QString& w = argv[i];
        if (w.startsWith(u'-') || w.contains(u'=') || w.isEmpty() || w.endsWith(u'/'))
            continue;
        --count;
        Command c;
        c.argv = argv.mid(i);
        c.program = basename(w);
        c.probeOnly = true;
        m_out.commands.append(std::move(c));
    }
}

} // namespace m1
