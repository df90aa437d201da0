#include "util/AppIdentity.h"

#include "Version.h"

#include <QCoreApplication>

namespace m1 {

void initApplicationIdentity() {
    QCoreApplication::setOrganizationName(QString());
    QCoreApplication::setApplicationName(QString::fromLatin1(kApplicationName));
    QCoreApplication::setApplicationVersion(QString::fromLatin1(kVersion));
}

} // namespace m1
