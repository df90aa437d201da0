#include "PgTestServer.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QProcess>
#include <QTcpServer>

#include <pwd.h>
#include <unistd.h>

namespace m1::test {

namespace {

constexpr auto kUser = "m1test";
constexpr auto kPassword = "m1-test-pw";
constexpr auto kDatabase = "m1audit";

int freePort() {
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    return server.serverPort();
}

} // namespace

PgTestServer::PgTestServer() = default;

QString PgTestServer::binDir() {
    return QStringLiteral("/usr/lib/postgresql/15/bin");
}

bool PgTestServer::run(const QStringList& argv, QString* output, int timeoutMs) const {
    QStringList args{QStringLiteral("-u"), QStringLiteral("postgres"), QStringLiteral("--")};
    args += argv;
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.setWorkingDirectory(m_dir ? m_dir->path() : QDir::tempPath());
    process.start(QStringLiteral("runuser"), args);
    if (!process.waitForStarted(timeoutMs) || !process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
        return false;
    }
    const QString out = QString::fromLocal8Bit(process.readAll());
    if (output)
        *output = out;
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        const_cast<PgTestServer*>(this)->m_error =
            QStringLiteral("%1 failed: %2").arg(argv.value(0), out.trimmed());
        return false;
    }
    return true;
}

bool PgTestServer::start() {
    if (!QFileInfo::exists(binDir() + QStringLiteral("/initdb"))) {
        m_error = QStringLiteral("PostgreSQL 15 binaries not found in %1: install the "
                                 "\"postgresql\" package (scripts/test does).")
                      .arg(binDir());
        return false;
    }
    const passwd* pg = ::getpwnam("postgres");
    if (!pg) {
        m_error = QStringLiteral("There is no \"postgres\" user: install the \"postgresql\" "
                                 "package.");
        return false;
    }
    m_dir = std::make_unique<QTemporaryDir>(QDir::tempPath() + QStringLiteral("/m1-pg-XXXXXX"));
    if (!m_dir->isValid() ||
        ::chown(QFile::encodeName(m_dir->path()).constData(), pg->pw_uid, pg->pw_gid) != 0) {
        m_error = QStringLiteral("Cannot prepare a folder for PostgreSQL.");
        return false;
    }
    const QString data = m_dir->filePath(QStringLiteral("data"));
    const QString pwfile = m_dir->filePath(QStringLiteral("pw"));
    {
        QFile file(pwfile);
        if (!file.open(QIODevice::WriteOnly) || file.write("superpw\n") < 0) {
            m_error = QStringLiteral("Cannot write the password file.");
            return false;
        }
    }
    ::chown(QFile::encodeName(pwfile).constData(), pg->pw_uid, pg->pw_gid);
    if (!run({binDir() + QStringLiteral("/initdb"), QStringLiteral("-D"), data,
              QStringLiteral("-U"), QStringLiteral("postgres"), QStringLiteral("--pwfile"), pwfile,
              QStringLiteral("--auth-local=trust"), QStringLiteral("--auth-host=scram-sha-256"),
              QStringLiteral("--no-sync"), QStringLiteral("-E"), QStringLiteral("UTF8"),
              QStringLiteral("--locale=C")},
             nullptr, 120000))
        return false;
    for (int attempt = 0; attempt < 5 && !m_running; ++attempt) {
        m_port = freePort();
        // pg_ctl passes -o to the server; it holds only a port and our own folder.
        m_running = run({binDir() + QStringLiteral("/pg_ctl"), QStringLiteral("-D"), data,
                         QStringLiteral("-l"), m_dir->filePath(QStringLiteral("server.log")),
                         QStringLiteral("-w"), QStringLiteral("-t"), QStringLiteral("60"),
                         QStringLiteral("-o"),
                         QStringLiteral("-p %1 -k %2 -c listen_addresses=127.0.0.1 -c fsync=on")
                             .arg(m_port)
                             .arg(m_dir->path()),
                         QStringLiteral("start")},
                        nullptr, 90000);
    }
    if (!m_running)
        return false;
    return psql(QStringLiteral("CREATE ROLE %1 LOGIN PASSWORD '%2'").arg(kUser, kPassword)) &&
           psql(QStringLiteral("CREATE DATABASE %1 OWNER %2").arg(kDatabase, kUser));
}

PgTestServer::~PgTestServer() {
    if (m_running)
        run({binDir() + QStringLiteral("/pg_ctl"), QStringLiteral("-D"),
             m_dir->filePath(QStringLiteral("data")), QStringLiteral("-m"),
             QStringLiteral("immediate"), QStringLiteral("-w"), QStringLiteral("stop")});
}

bool PgTestServer::psql(const QString& sql, QString* output) const {
    return run({binDir() + QStringLiteral("/psql"), QStringLiteral("-h"), m_dir->path(),
                QStringLiteral("-p"), QString::number(m_port), QStringLiteral("-U"),
                QStringLiteral("postgres"), QStringLiteral("-d"), QStringLiteral("postgres"),
                QStringLiteral("-v"), QStringLiteral("ON_ERROR_STOP=1"), QStringLiteral("-Atc"),
                sql},
               output);
}

QString PgTestServer::url() const {
    return QStringLiteral("postgresql://%1:%2@127.0.0.1:%3/%4")
        .arg(QLatin1String(kUser), QLatin1String(kPassword))
        .arg(m_port)
        .arg(QLatin1String(kDatabase));
}

QString PgTestServer::createDatabase(const QString& name) const {
    if (!psql(QStringLiteral("CREATE DATABASE %1 OWNER %2").arg(name, QLatin1String(kUser))))
        return {};
    return QStringLiteral("postgresql://%1:%2@127.0.0.1:%3/%4")
        .arg(QLatin1String(kUser), QLatin1String(kPassword))
        .arg(m_port)
        .arg(name);
}

} // namespace m1::test
