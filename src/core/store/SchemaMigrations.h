#pragma once

#include "store/SqlDialect.h"
#include "util/Error.h"

#include <QCoreApplication>
#include <QString>
#include <QStringList>

namespace m1 {

// The numbered schema migrations, identical on SQLite and PostgreSQL apart from what SqlDialect
// expands. Each migration runs in its own transaction together with its schema_version row, so a
// crash leaves the database at the previous version, never between two.
class SchemaMigrations {
    Q_DECLARE_TR_FUNCTIONS(SchemaMigrations)

public:
    // The highest version this program knows.
    static int latestVersion();
    // The statements of one migration (1-based), already expanded for the dialect.
    static QStringList statements(int version, const SqlDialect& dialect);

    // The version recorded in the database, 0 when it has no schema_version table (a new file).
    // Reads only, so it is safe on a database written by a newer program.
    static Result<int> currentVersion(const QString& connectionName, const SqlDialect& dialect);
    // Brings the database to latestVersion(). "store.schema_newer" when it is newer than this
    // program (nothing written), "store.migrate" (or a classified code) when a migration fails.
    static Status migrate(const QString& connectionName, const SqlDialect& dialect);
    // "store.schema_newer" / "store.schema_old" when version is not latestVersion().
    static Status requireLatest(int version, const QString& location);
    static Error newerError(int version, const QString& location);
};

} // namespace m1
