#pragma once

#include <QString>
#include <QTemporaryDir>

#include <memory>

namespace m1::test {

// A throwaway PostgreSQL cluster for one test process: initdb in a temporary folder owned by the
// postgres user, pg_ctl on a free loopback port (unix socket in the same folder), one database
// and one password user. Stopped and removed in the destructor. Tests run as root, which
// PostgreSQL refuses, so every server command runs through runuser as postgres (argv, no shell).
class PgTestServer {
public:
    PgTestServer();
    ~PgTestServer();
    PgTestServer(const PgTestServer&) = delete;
    PgTestServer& operator=(const PgTestServer&) = delete;

    // Starts the server; false with errorString() on failure (binaries missing, initdb failed).
    bool start();
    QString errorString() const { return m_error; }

    // postgresql://user:password@127.0.0.1:port/database
    QString url() const;
    // Runs SQL as the superuser through psql (for test setup); false on failure.
    bool psql(const QString& sql, QString* output = nullptr) const;
    // A fresh empty database owned by the test user; returns its URL.
    QString createDatabase(const QString& name) const;

    static QString binDir();

private:
    bool run(const QStringList& argv, QString* output = nullptr, int timeoutMs = 60000) const;

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_error;
    int m_port = 0;
    bool m_running = false;
};

} // namespace m1::test
