#pragma once

#include "util/Error.h"

#include <QCoreApplication>
#include <QString>

namespace m1 {

// The small project the offline demo works on: a README, a Python module with a bug, a test
// script, and a notes file carrying a prompt injection (SBX-21: the demo shows it stays data).
// The app owns this folder: prepare() puts every file back to its starting content.
class DemoWorkspace {
    Q_DECLARE_TR_FUNCTIONS(DemoWorkspace)
public:
    // <AppDataLocation>/demo-workspace
    static QString defaultPath();
    // Creates or resets the files; returns the folder. Error "demo.write".
    static Result<QString> prepare(const QString& dir = {});
    // The demo transcript shipped in the resources.
    static QString demoTranscript() { return QStringLiteral(":/m1/demo/fix-the-bug.json"); }
    static QString injectionTranscript() { return QStringLiteral(":/m1/demo/injection.json"); }
};

} // namespace m1
