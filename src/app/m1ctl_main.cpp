#include "Version.h"
#include "util/AppIdentity.h"

#include <QCoreApplication>
#include <QTextStream>

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    m1::initApplicationIdentity();
    QTextStream out(stdout);
    if (argc > 1 && QByteArray(argv[1]) == "--version") {
        out << "m1ctl " << m1::kVersion << '\n';
        return 0;
    }
    out << "m1ctl: commands are being written\n";
    return 2;
}
