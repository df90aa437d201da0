#include "Background.h"

#include <QProgressBar>

namespace m1 {

QProgressBar* makeBusyBar(QWidget* parent, const QString& accessibleName) {
    auto* bar = new QProgressBar(parent);
    bar->setRange(0, 0);
    bar->setMaximumWidth(100);
    bar->setMaximumHeight(bar->fontMetrics().height());
    bar->setTextVisible(false);
    bar->setAccessibleName(accessibleName);
    bar->hide();
    return bar;
}

} // namespace m1
