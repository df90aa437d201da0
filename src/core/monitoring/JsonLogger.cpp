#include "monitoring/JsonLogger.h"

#include "config/MonitoringSettings.h"

#include "monitoring/LogContext.h"
#include "monitoring/SecretRedactor.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QMutex>

#include <atomic>
#include <cstdio>
#include <unistd.h>

namespace m1 {

namespace {

constexpr qint64 kRetryMs = 5000;

struct LoggerState {
    QMutex mutex;
    JsonLogger::Options options;
    bool toStderr = false;
    QFile file;
    qint64 fileSize = 0;
    qint64 lastAttempt = -kRetryMs;
    QString failure;
    std::atomic<bool> healthy{true};
    std::atomic<bool> installed{false};
    QtMessageHandler previous = nullptr;
    std::function<void(bool, const QString&)> listener;
};

LoggerState& state() {
    static LoggerState s;
    return s;
}

JsonLogger::Level levelOf(QtMsgType type) {
    switch (type) {
    case QtDebugMsg:
        return JsonLogger::Level::Debug;
    case QtInfoMsg:
        return JsonLogger::Level::Info;
    case QtWarningMsg:
        return JsonLogger::Level::Warning;
    case QtCriticalMsg:
        return JsonLogger::Level::Critical;
    case QtFatalMsg:
        return JsonLogger::Level::Fatal;
    }
    return JsonLogger::Level::Info;
}

// Escapes for one line of JSON (or of a terminal): see the class comment.
QString escaped(const QString& text, bool quotes) {
    QString out;
    out.reserve(text.size() + 8);
    for (const QChar c : text) {
        const char16_t u = c.unicode();
        switch (u) {
        case u'"':
            out += quotes ? QStringLiteral("\\\"") : QStringLiteral("\"");
            break;
        case u'\\':
            out += QStringLiteral("\\\\");
            break;
        case u'\n':
            out += QStringLiteral("\\n");
            break;
        case u'\r':
            out += QStringLiteral("\\r");
            break;
        case u'\t':
            out += QStringLiteral("\\t");
            break;
        default:
            if (u < 0x20 || u == 0x7f || u == 0x85 || u == 0x2028 || u == 0x2029)
                out += QStringLiteral("\\u%1").arg(uint(u), 4, 16, QLatin1Char('0'));
            else
                out += c;
        }
    }
    return out;
}

// Must be called with the mutex held. Returns false (and records why) when the file cannot be
// used; the caller drops the line.
bool ensureOpen(LoggerState& s, qint64 now, QString* failure) {
    if (s.options.filePath.isEmpty())
        return false;
    if (s.file.isOpen())
        return true;
    if (now - s.lastAttempt < kRetryMs)
        return false;
    s.lastAttempt = now;
    const QFileInfo info(s.options.filePath);
    QDir().mkpath(info.absolutePath());
    s.file.setFileName(s.options.filePath);
    if (!s.file.open(QIODevice::WriteOnly | QIODevice::Append | QIODevice::Unbuffered)) {
        *failure = JsonLogger::tr("Cannot open the log file %1: %2")
                       .arg(s.options.filePath, s.file.errorString());
        return false;
    }
    // Messages can quote tool output; only the owner reads the log. Not for devices or pipes.
    if (QFileInfo(s.options.filePath).isFile())
        s.file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    s.fileSize = s.file.size();
    return true;
}

void rotate(LoggerState& s) {
    s.file.close();
    const QString base = s.options.filePath;
    const int keep = qMax(1, s.options.maxFiles);
    QFile::remove(QStringLiteral("%1.%2").arg(base).arg(keep - 1));
    for (int i = keep - 2; i >= 1; --i)
        QFile::rename(QStringLiteral("%1.%2").arg(base).arg(i),
                      QStringLiteral("%1.%2").arg(base).arg(i + 1));
    if (keep > 1)
        QFile::rename(base, base + QStringLiteral(".1"));
    else
        QFile::remove(base);
    s.lastAttempt = -kRetryMs;
    s.fileSize = 0;
}

void messageHandler(QtMsgType type, const QMessageLogContext& context, const QString& raw) {
    LoggerState& s = state();
    const JsonLogger::Level level = levelOf(type);
    if (level < s.options.level)
        return;
    SecretRedactor& redactor = s.options.redactor ? *s.options.redactor : SecretRedactor::global();
    const QString message = redactor.redact(raw);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const char* category = context.category ? context.category : "default";
    const QString runId = LogContext::currentRunId();
    const QString requestId = LogContext::currentRequestId();

    std::function<void(bool, const QString&)> notify;
    bool healthyNow = true;
    QString reason;
    {
        QMutexLocker lock(&s.mutex);
        if (s.toStderr) {
            const QByteArray readable =
                (QDateTime::fromMSecsSinceEpoch(now, Qt::UTC)
                     .toString(QStringLiteral("HH:mm:ss.zzz")) +
                 QLatin1Char(' ') + JsonLogger::levelName(level) + QLatin1Char(' ') +
                 QLatin1String(category) + QStringLiteral(": ") + escaped(message, false) +
                 QLatin1Char('\n'))
                    .toUtf8();
            std::fwrite(readable.constData(), 1, size_t(readable.size()), stderr);
            std::fflush(stderr);
        }
        if (!s.options.filePath.isEmpty()) {
            const QByteArray line =
                JsonLogger::formatLine(level, category, message, now, runId, requestId);
            QString failure;
            bool written = false;
            if (ensureOpen(s, now, &failure)) {
                if (s.fileSize > 0 && s.fileSize + line.size() > s.options.maxFileBytes) {
                    rotate(s);
                    ensureOpen(s, now, &failure);
                }
                if (s.file.isOpen()) {
                    const qint64 n = s.file.write(line);
                    if (n == line.size()) {
                        s.fileSize += n;
                        written = true;
                    } else {
                        failure = JsonLogger::tr("Cannot write the log file %1: %2")
                                      .arg(s.options.filePath, s.file.errorString());
                        s.file.close();
                    }
                }
            }
            if (!written && failure.isEmpty())
                failure = s.failure; // still waiting to retry
            const bool wasHealthy = s.healthy.load();
            if (written != wasHealthy) {
                s.healthy = written;
                s.failure = written ? QString() : failure;
                notify = s.listener;
                healthyNow = written;
                reason = s.failure;
            } else if (!written) {
                s.failure = failure;
            }
        }
    }
    if (notify)
        notify(healthyNow, reason);
}

} // namespace

void JsonLogger::install(const Options& options) {
    LoggerState& s = state();
    {
        QMutexLocker lock(&s.mutex);
        if (s.file.isOpen())
            s.file.close();
        s.options = options;
        s.toStderr = options.stderrMode == StderrMode::Always ||
                     (options.stderrMode == StderrMode::Auto && ::isatty(STDERR_FILENO));
        s.lastAttempt = -kRetryMs;
        s.fileSize = 0;
        s.failure.clear();
        s.healthy = true;
    }
    QtMessageHandler previous = qInstallMessageHandler(messageHandler);
    if (!s.installed.exchange(true))
        s.previous = previous;
}

void JsonLogger::uninstall() {
    LoggerState& s = state();
    if (!s.installed.exchange(false))
        return;
    qInstallMessageHandler(s.previous);
    QMutexLocker lock(&s.mutex);
    s.file.close();
    s.previous = nullptr;
}

bool JsonLogger::isInstalled() {
    return state().installed.load();
}

bool JsonLogger::healthy() {
    return state().healthy.load();
}

QString JsonLogger::failure() {
    LoggerState& s = state();
    QMutexLocker lock(&s.mutex);
    return s.failure;
}

void JsonLogger::setFailureListener(std::function<void(bool, const QString&)> fn) {
    LoggerState& s = state();
    QMutexLocker lock(&s.mutex);
    s.listener = std::move(fn);
}

std::optional<JsonLogger::Level> JsonLogger::levelFromName(const QString& name) {
    const QString n = name.trimmed().toLower();
    if (n == QLatin1String("debug"))
        return Level::Debug;
    if (n == QLatin1String("info"))
        return Level::Info;
    if (n == QLatin1String("warning") || n == QLatin1String("warn"))
        return Level::Warning;
    if (n == QLatin1String("critical") || n == QLatin1String("error"))
        return Level::Critical;
    return std::nullopt;
}

QString JsonLogger::levelName(Level level) {
    switch (level) {
    case Level::Debug:
        return QStringLiteral("debug");
    case Level::Info:
        return QStringLiteral("info");
    case Level::Warning:
        return QStringLiteral("warning");
    case Level::Critical:
        return QStringLiteral("critical");
    case Level::Fatal:
        return QStringLiteral("fatal");
    }
    return QStringLiteral("info");
}

JsonLogger::Level JsonLogger::levelFromEnvironment(Level fallback) {
    return levelFromName(qEnvironmentVariable("M1_LOG_LEVEL")).value_or(fallback);
}

Status JsonLogger::checkEnvironmentLevel() {
    const QString level = qEnvironmentVariable("M1_LOG_LEVEL");
    if (level.isEmpty() || levelFromName(level))
        return {};
    return fail(QStringLiteral("config.log_level"),
                tr("M1_LOG_LEVEL is \"%1\", which is no log level (config.log_level). Use one of: "
                   "debug, info, warning, critical; or unset it to use the settings' "
                   "monitoring.log.level.")
                    .arg(level.left(40)));
}

void JsonLogger::installFromSettings(const MonitoringSettings& monitoring) {
    Options options;
    options.filePath = monitoring.effectiveLogFile();
    options.level = levelFromEnvironment(levelFromName(monitoring.logLevel).value_or(Level::Info));
    options.maxFileBytes = monitoring.logMaxFileBytes;
    options.maxFiles = monitoring.logMaxFiles;
    options.stderrMode = StderrMode::Auto;
    install(options);
}

QByteArray JsonLogger::jsonString(const QString& text) {
    return QByteArray("\"") + escaped(text, true).toUtf8() + QByteArray("\"");
}

QByteArray JsonLogger::formatLine(Level level, const char* category, const QString& message,
                                  qint64 msecsSinceEpoch, const QString& runId,
                                  const QString& requestId) {
    QByteArray line;
    line.reserve(message.size() + 128);
    line += "{\"ts\":\"";
    line += QDateTime::fromMSecsSinceEpoch(msecsSinceEpoch, Qt::UTC)
                .toString(Qt::ISODateWithMs)
                .toLatin1();
    line += "\",\"level\":\"";
    line += levelName(level).toLatin1();
    line += "\",\"category\":";
    line += jsonString(QString::fromUtf8(category));
    line += ",\"msg\":";
    line += jsonString(message);
    if (!runId.isEmpty()) {
        line += ",\"run_id\":";
        line += jsonString(runId);
    }
    if (!requestId.isEmpty()) {
        line += ",\"request_id\":";
        line += jsonString(requestId);
    }
    line += "}\n";
    return line;
}

} // namespace m1
