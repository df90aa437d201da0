#include "run/TerminalApprovalGate.h"

#include "run/UnifiedDiff.h"
#include "tools/SafeFile.h"
#include "tools/Workspace.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

namespace m1 {

namespace {

bool invisible(char32_t c) {
    return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0xad ||
           (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
           (c >= 0x2060 && c <= 0x2069) || c == 0x2028 || c == 0x2029 || c == 0xfeff;
}

} // namespace

std::unique_ptr<TerminalApprovalGate> TerminalApprovalGate::open(QObject* parent) {
    if (::isatty(STDIN_FILENO))
        return std::unique_ptr<TerminalApprovalGate>(
            new TerminalApprovalGate(STDIN_FILENO, STDERR_FILENO, false, parent));
    // Input piped in but a person watching the output: ask on the controlling terminal. With
    // both redirected (scripts, tests) nobody is there to ask.
    if (!::isatty(STDERR_FILENO))
        return nullptr;
    const int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return nullptr;
    return std::unique_ptr<TerminalApprovalGate>(new TerminalApprovalGate(fd, fd, true, parent));
}

TerminalApprovalGate::TerminalApprovalGate(int inFd, int outFd, bool ownsFd, QObject* parent)
    : ApprovalGate(parent), m_in(inFd), m_out(outFd), m_ownsFd(ownsFd) {
    m_notifier = std::make_unique<QSocketNotifier>(m_in, QSocketNotifier::Read);
    m_notifier->setEnabled(false);
    connect(m_notifier.get(), &QSocketNotifier::activated, this, &TerminalApprovalGate::onReadable);
}

TerminalApprovalGate::~TerminalApprovalGate() {
    m_notifier.reset();
    if (m_ownsFd)
        ::close(m_in);
}

QString TerminalApprovalGate::visible(const QString& text) {
    QString out;
    for (const char32_t c : text.toUcs4()) {
        if (invisible(c) && c != U'\n')
            out += QStringLiteral("<U+%1>").arg(uint(c), 4, 16, QLatin1Char('0')).toUpper();
        else
            out += QString::fromUcs4(&c, 1);
    }
    return out;
}

QString TerminalApprovalGate::rememberKey(const PendingApproval& p) {
    const QJsonObject& args = p.call.arguments;
    QJsonObject key;
    if (p.call.toolName == QLatin1String("run_command"))
        key = QJsonObject{{QStringLiteral("argv"), args.value(QLatin1String("argv"))},
                          {QStringLiteral("cwd"), args.value(QLatin1String("cwd"))}};
    else if (args.contains(QLatin1String("path")))
        key = QJsonObject{{QStringLiteral("path"),
                           QDir::cleanPath(args.value(QLatin1String("path")).toString())}};
    else
        key = args;
    return p.call.runId + QLatin1Char('\x1f') + p.call.toolName + QLatin1Char('\x1f') +
           QString::fromUtf8(QJsonDocument(key).toJson(QJsonDocument::Compact));
}

QString TerminalApprovalGate::describe(const PendingApproval& p) {
    QString text;
    text += tr("\n=== Approval needed: %1 (scope %2), step %3, call %4\n")
                .arg(p.call.toolName, scopeToString(p.scope))
                .arg(p.step)
                .arg(p.call.id);
    if (p.batchSize > 1)
        text += tr("Proposal %1 of %2 in this message needing a decision (asked one at a time, "
                   "run in the message's order)\n")
                    .arg(p.batchIndex + 1)
                    .arg(p.batchSize);
    text += tr("Policy: %1\n").arg(visible(p.decision.reason));
    const QJsonObject& args = p.call.arguments;
    if (p.call.toolName == QLatin1String("run_command")) {
        text += tr("Command (argv, one element per line, no shell):\n");
        const QJsonArray argv = args.value(QLatin1String("argv")).toArray();
        for (qsizetype i = 0; i < argv.size(); ++i)
            text += QStringLiteral("  [%1] %2\n").arg(i).arg(visible(argv.at(i).toString()));
        if (args.contains(QLatin1String("cwd")))
            text +=
                tr("  in folder: %1\n").arg(visible(args.value(QLatin1String("cwd")).toString()));
    } else if (p.call.toolName == QLatin1String("write_file") ||
               p.call.toolName == QLatin1String("edit_file")) {
        const QString path = args.value(QLatin1String("path")).toString();
        QString current;
        bool exists = false;
        QString unreadable;
        if (!p.workspaceRoot.isEmpty()) {
            // Read the way the tool will reach it: confined to the workspace, no link followed.
            const auto workspace = Workspace::open(p.workspaceRoot);
            const auto resolved = workspace ? workspace->resolve(path, Workspace::Access::Write)
                                            : Result<QString>(std::unexpected(workspace.error()));
            const auto file = resolved
                                  ? SafeFile::read(*workspace, *resolved, 4 * 1024 * 1024,
                                                   SafeFile::HardLinks::Allow)
                                  : Result<SafeFile::ReadResult>(std::unexpected(resolved.error()));
            if (file) {
                current = QString::fromUtf8(file->data);
                exists = true;
            } else if (file.error().code != QLatin1String("path.not_found")) {
                unreadable = file.error().message;
            }
        }
        if (!unreadable.isEmpty())
            text += tr("(the current file cannot be read: %1 The diff compares with an empty "
                       "file.)\n")
                        .arg(visible(unreadable));
        QString proposed;
        if (p.call.toolName == QLatin1String("write_file")) {
            proposed = args.value(QLatin1String("content")).toString();
        } else {
            proposed = current;
            const QString oldString = args.value(QLatin1String("old_string")).toString();
            const qsizetype at = oldString.isEmpty() ? -1 : current.indexOf(oldString);
            if (at >= 0)
                proposed.replace(at, oldString.size(),
                                 args.value(QLatin1String("new_string")).toString());
            else
                text += tr("(old_string does not occur in the current file: the edit would "
                           "fail)\n");
        }
        text += tr("File: %1%2\n").arg(visible(path), exists ? QString() : tr(" (new file)"));
        text += visible(UnifiedDiff::diff(
            current, proposed, exists ? QStringLiteral("a/") + path : QStringLiteral("/dev/null"),
            QStringLiteral("b/") + path));
    } else {
        text += tr("Arguments: %1\n")
                    .arg(visible(
                        QString::fromUtf8(QJsonDocument(args).toJson(QJsonDocument::Indented))));
    }
    return text;
}

void TerminalApprovalGate::request(const PendingApproval& pending) {
    if (m_remembered.contains(rememberKey(pending))) {
        const QString runId = pending.call.runId;
        const QString callId = pending.call.id;
        write(tr("Approved (same call approved earlier for this run): %1\n")
                  .arg(pending.call.toolName));
        QMetaObject::invokeMethod(
            this,
            [this, runId, callId] {
                emit decided(runId, callId,
                             ApprovalDecision::approve(QStringLiteral("person"),
                                                       QStringLiteral("terminal (remembered)"),
                                                       tr("approved earlier for this run")));
            },
            Qt::QueuedConnection);
        return;
    }
    m_queue.append(pending);
    if (!m_showing)
        showNext();
}

void TerminalApprovalGate::cancel(const QString& runId, const QString& callId) {
    for (qsizetype i = 0; i < m_queue.size(); ++i) {
        if (m_queue.at(i).call.runId == runId && m_queue.at(i).call.id == callId) {
            const bool wasShown = i == 0 && m_showing;
            m_queue.removeAt(i);
            if (wasShown) {
                write(tr("\n(withdrawn: the run no longer waits for this decision)\n"));
                m_showing = false;
                m_wantFeedback = false;
                m_notifier->setEnabled(false);
                showNext();
            }
            return;
        }
    }
}

void TerminalApprovalGate::showNext() {
    if (m_queue.isEmpty())
        return;
    m_showing = true;
    m_wantFeedback = false;
    // Typeahead must not answer a prompt the person has not seen yet.
    ::tcflush(m_in, TCIFLUSH);
    m_buffer.clear();
    write(describe(m_queue.first()));
    m_shown.start();
    write(tr("Approve? [y] once  [a] this exact call for the rest of the run  [n] deny  "
             "[f] deny with feedback: "));
    m_notifier->setEnabled(true);
}

void TerminalApprovalGate::onReadable() {
    char chunk[1024];
    const ssize_t n = ::read(m_in, chunk, sizeof chunk);
    if (n <= 0) {
        // The terminal went away: nobody can approve, so the open request is denied.
        m_notifier->setEnabled(false);
        if (m_showing && !m_queue.isEmpty()) {
            const PendingApproval p = m_queue.takeFirst();
            m_showing = false;
            emit decided(p.call.runId, p.call.id,
                         ApprovalDecision::deny(QStringLiteral("person"),
                                                QStringLiteral("terminal"),
                                                tr("the terminal closed before a decision")));
        }
        return;
    }
    m_buffer.append(chunk, n);
    qsizetype nl;
    while (m_showing && (nl = m_buffer.indexOf('\n')) >= 0) {
        const QString line = QString::fromUtf8(m_buffer.left(nl)).trimmed();
        m_buffer.remove(0, nl + 1);
        onLine(line);
    }
}

void TerminalApprovalGate::onLine(const QString& line) {
    if (m_queue.isEmpty())
        return;
    const PendingApproval p = m_queue.first();
    auto done = [&](ApprovalDecision d) {
        // SBX-27: the whole call was printed; whether it was read cannot be known here.
        d.decisionMs = m_shown.isValid() ? m_shown.elapsed() : 0;
        d.inBatch = false;
        d.decidedBy = ApprovalDecision::localUser();
        m_queue.removeFirst();
        m_showing = false;
        m_wantFeedback = false;
        m_notifier->setEnabled(false);
        emit decided(p.call.runId, p.call.id, d);
        showNext();
    };
    if (m_wantFeedback) {
        done(ApprovalDecision::deny(QStringLiteral("person"), QStringLiteral("terminal"),
                                    tr("denied by the person at the terminal"), line));
        return;
    }
    const QString key = line.toLower();
    if (key == QLatin1String("y") || key == QLatin1String("yes")) {
        done(ApprovalDecision::approve(QStringLiteral("person"), QStringLiteral("terminal"),
                                       tr("approved once at the terminal")));
    } else if (key == QLatin1String("a")) {
        m_remembered.insert(rememberKey(p));
        done(ApprovalDecision::approve(QStringLiteral("person"), QStringLiteral("terminal"),
                                       tr("approved at the terminal for the rest of the run")));
    } else if (key == QLatin1String("n") || key == QLatin1String("no")) {
        done(ApprovalDecision::deny(QStringLiteral("person"), QStringLiteral("terminal"),
                                    tr("denied by the person at the terminal")));
    } else if (key == QLatin1String("f")) {
        m_wantFeedback = true;
        write(tr("Feedback for the model (one line): "));
    } else {
        write(tr("Please answer y, a, n or f: "));
    }
}

void TerminalApprovalGate::write(const QString& text) {
    const QByteArray bytes = text.toUtf8();
    qsizetype done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(m_out, bytes.constData() + done, size_t(bytes.size() - done));
        if (n <= 0)
            return;
        done += n;
    }
}

} // namespace m1
