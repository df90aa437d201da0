#include "cli/InterruptHandler.h"

#include <QSocketNotifier>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <unistd.h>

namespace m1::cli {

namespace {

// Shared with the signal handler: set before the handlers are installed, cleared after they are
// restored, never touched by the handler except g_signals.
int g_pipe[2] = {-1, -1};
volatile sig_atomic_t g_signals = 0;
const char* g_first = nullptr;
size_t g_firstSize = 0;
const char* g_second = nullptr;
size_t g_secondSize = 0;
struct sigaction g_oldInt;
struct sigaction g_oldTerm;
bool g_installed = false;

void writeAll(int fd, const char* data, size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        data += n;
        size -= size_t(n);
    }
}

// Only async-signal-safe calls: write() and _exit().
void onSignal(int signalNumber) {
    const int savedErrno = errno;
    if (g_signals > 0) {
        writeAll(STDERR_FILENO, g_second, g_secondSize);
        _exit(128 + signalNumber);
    }
    g_signals = 1;
    writeAll(STDERR_FILENO, g_first, g_firstSize);
    const auto byte = static_cast<unsigned char>(signalNumber);
    // A full pipe (impossible with one byte per process) would only lose the wake-up.
    [[maybe_unused]] const ssize_t written = ::write(g_pipe[1], &byte, 1);
    errno = savedErrno;
}

} // namespace

InterruptHandler::InterruptHandler(const QByteArray& firstNotice, const QByteArray& secondNotice)
    : m_firstNotice(firstNotice), m_secondNotice(secondNotice) {}

std::unique_ptr<InterruptHandler> InterruptHandler::install(const QByteArray& firstNotice,
                                                            const QByteArray& secondNotice) {
    if (g_installed)
        return nullptr;
    if (::pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return nullptr;
    std::unique_ptr<InterruptHandler> handler(new InterruptHandler(firstNotice, secondNotice));
    g_signals = 0;
    g_first = handler->m_firstNotice.constData();
    g_firstSize = size_t(handler->m_firstNotice.size());
    g_second = handler->m_secondNotice.constData();
    g_secondSize = size_t(handler->m_secondNotice.size());
    handler->m_notifier = std::make_unique<QSocketNotifier>(g_pipe[0], QSocketNotifier::Read);
    connect(handler->m_notifier.get(), &QSocketNotifier::activated, handler.get(),
            &InterruptHandler::onReadable);

    struct sigaction action = {};
    action.sa_handler = &onSignal;
    sigemptyset(&action.sa_mask);
    // A second signal waits until the handler of the first has returned.
    sigaddset(&action.sa_mask, SIGINT);
    sigaddset(&action.sa_mask, SIGTERM);
    action.sa_flags = SA_RESTART;
    if (::sigaction(SIGINT, &action, &g_oldInt) != 0) {
        handler->release();
        return nullptr;
    }
    if (::sigaction(SIGTERM, &action, &g_oldTerm) != 0) {
        ::sigaction(SIGINT, &g_oldInt, nullptr);
        handler->release();
        return nullptr;
    }
    g_installed = true;
    return handler;
}

InterruptHandler::~InterruptHandler() {
    if (!g_installed)
        return;
    ::sigaction(SIGINT, &g_oldInt, nullptr);
    ::sigaction(SIGTERM, &g_oldTerm, nullptr);
    g_installed = false;
    release();
}

void InterruptHandler::release() {
    m_notifier.reset();
    ::close(g_pipe[0]);
    ::close(g_pipe[1]);
    g_pipe[0] = g_pipe[1] = -1;
    g_first = g_second = nullptr;
    g_firstSize = g_secondSize = 0;
}

void InterruptHandler::onReadable() {
    unsigned char bytes[16];
    for (;;) {
        const ssize_t n = ::read(g_pipe[0], bytes, sizeof bytes);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        for (ssize_t i = 0; i < n; ++i)
            emit interrupted(int(bytes[i]));
    }
}

} // namespace m1::cli
