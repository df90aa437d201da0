#include "MainWindow.h"

#include "Version.h"
#include "tools/ToolRegistry.h"

#include <QHeaderView>
#include <QLabel>
#include <QStatusBar>
#include <QTableWidget>
#include <QVBoxLayout>

namespace m1 {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("M1 Agent Control"));
    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(24, 24, 24, 24);
    layout->setSpacing(12);

    auto* title = new QLabel(tr("<h2>M1 Agent Control</h2>"), central);
    auto* intro = new QLabel(
        tr("The agent only proposes tool calls. A call runs only when the policy allows it or "
           "you approve it, and only with a single-use approval token bound to that exact call."),
        central);
    intro->setWordWrap(true);
    layout->addWidget(title);
    layout->addWidget(intro);

    auto* toolsLabel = new QLabel(tr("Registered tools (the allowlist):"), central);
    layout->addWidget(toolsLabel);
    const ToolRegistry registry = ToolRegistry::withBuiltins();
    const QStringList names = registry.enabledNames();
    auto* table = new QTableWidget(static_cast<int>(names.size()), 3, central);
    table->setObjectName(QStringLiteral("toolTable"));
    table->setAccessibleName(tr("Registered tools"));
    table->setHorizontalHeaderLabels({tr("Tool"), tr("Scope"), tr("Description")});
    table->verticalHeader()->setVisible(false);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->horizontalHeader()->setStretchLastSection(true);
    for (int row = 0; row < names.size(); ++row) {
        const auto spec = registry.spec(names.at(row));
        if (!spec)
            continue;
        table->setItem(row, 0, new QTableWidgetItem(spec->name));
        table->setItem(row, 1, new QTableWidgetItem(scopeToString(spec->scope)));
        table->setItem(row, 2, new QTableWidgetItem(spec->description));
    }
    table->resizeColumnsToContents();
    table->horizontalHeader()->setStretchLastSection(true);
    layout->addWidget(table, 1);

    setCentralWidget(central);
    statusBar()->showMessage(tr("Version %1").arg(QString::fromLatin1(kVersion)));
    resize(900, 560);
}

} // namespace m1
