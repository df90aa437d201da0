#pragma once

#include <QMainWindow>

namespace m1 {

// The desktop application's main window. For now it shows what the control layer enforces; the
// goal editor, live timeline, history browser and charts are built on it later.
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
};

} // namespace m1
