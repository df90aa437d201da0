#pragma once

#include <QIcon>

namespace m1 {

// The ui's icons. Shipped as SVG in :/ui/icons (crisp at any scale) and drawn as vector paths in
// the palette's text colour when the SVG plugin is missing, so they stay sharp on high-DPI
// screens and readable in dark themes either way.
class Icons {
public:
    enum Kind {
        Start,
        Stop,
        Approve,
        Deny,
        Pending,
        History,
        Charts,
        Alerts,
        Settings,
        Export,
        NewRun,
        Run
    };
    static QIcon icon(Kind kind);
};

} // namespace m1
