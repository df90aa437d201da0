#pragma once

#include <QByteArray>
#include <QCoreApplication>
#include <QString>
#include <QtGlobal>

#include "util/Error.h"

#include <functional>
#include <optional>

namespace m1 {

class SecretRedactor;
class MonitoringSettings;

// The program's log: a Qt message handler (qInstallMessageHandler) that writes each message as one
// JSON line {"ts","level","category","msg","run_id","request_id"} to a file, with size-based
// rotation (file, file.1, … file.N-1), and in a readable form to stderr when that is a terminal.
//
// - Levels: debug < info < warning < critical (< fatal); messages below the level are dropped.
//   The level comes from the settings (monitoring.log.level) and M1_LOG_LEVEL overrides it.
// - SEC-07: every message stays on exactly one line: quotes, backslashes, every control character
//   (CR, LF, ESC of ANSI sequences, …), DEL, U+0085, U+2028 and U+2029 are escaped, also on stderr.
// - SEC-05: every message passes through the SecretRedactor first.
// - SEC-10: a log that cannot be written (read-only folder, disk full) never stops the program:
//   the line is dropped, healthy() turns false with a reason, the failure listener is told (the
//   GUI shows a banner), and the file is retried every few seconds. This is unlike the audit
//   store, whose failure stops execution (fail closed).
class JsonLogger {
    Q_DECLARE_TR_FUNCTIONS(JsonLogger)

public:
    enum class Level { Debug = 0, Info = 1, Warning = 2, Critical = 3, Fatal = 4 };
    enum class StderrMode { Auto, Always, Never };

    struct Options {
        QString filePath; // empty: no file
        Level level = Level::Info;
        qint64 maxFileBytes = 10 * 1024 * 1024;
        int maxFiles = 5; // the current file plus rotated ones
        StderrMode stderrMode = StderrMode::Auto;
        SecretRedactor* redactor = nullptr; // null: SecretRedactor::global()
    };

    // Replaces the message handler (the previous one comes back with uninstall()).
    static void install(const Options& options);
    static void uninstall();
    static bool isInstalled();

    static bool healthy();
    static QString failure();
    // Called (from the logging thread) when the log starts or stops failing.
    static void setFailureListener(std::function<void(bool healthy, const QString& reason)> fn);

    static std::optional<Level> levelFromName(const QString& name);
    static QString levelName(Level level);
    // M1_LOG_LEVEL when it names a level, else `fallback`.
    static Level levelFromEnvironment(Level fallback);
    // "config.log_level" when M1_LOG_LEVEL is set but names no level (a typo is said, not ignored).
    static Status checkEnvironmentLevel();
    // The program's log as the settings describe it (file, level, rotation), M1_LOG_LEVEL over the
    // level, readable on stderr when that is a terminal; m1ctl and the desktop app alike.
    static void installFromSettings(const MonitoringSettings& monitoring);

    // One JSON line (with its final "\n") as the file receives it.
    static QByteArray formatLine(Level level, const char* category, const QString& message,
                                 qint64 msecsSinceEpoch, const QString& runId,
                                 const QString& requestId);
    // The JSON string literal of `text`, quotes included.
    static QByteArray jsonString(const QString& text);
};

} // namespace m1
