#pragma once

namespace m1 {

// Sets the application name and version shared by m1ctl and m1-control, so both find the same
// data folder (QStandardPaths::AppDataLocation) and keychain service.
void initApplicationIdentity();

} // namespace m1
