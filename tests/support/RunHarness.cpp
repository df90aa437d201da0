#include "RunHarness.h"

#include "TestSupport.h"

#include "tokens/TokenLedger.h"

#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTimer>
#include <QUuid>

namespace m1::test {

RunHarness::RunHarness()
    : registry(ToolRegistry::withBuiltins()),
      tracker(PricingTable::builtin().value_or(PricingTable())) {}

RunHarness::~RunHarness() {
    if (alerts)
        alerts->flush();
    alerts.reset();
    writer.reset();
    store.reset();
    if (!m_connection.isEmpty()) {
        QSqlDatabase::database(m_connection, false).close();
        QSqlDatabase::removeDatabase(m_connection);
    }
}

bool RunHarness::init(QString* error) {
    if (!dir.isValid()) {
        *error = QStringLiteral("no temporary folder");
        return false;
    }
    workspaceDir = dir.filePath(QStringLiteral("ws"));
    QDir().mkpath(workspaceDir);
    dbPath = dir.filePath(QStringLiteral("audit.sqlite"));
    ledgerPath = dir.filePath(QStringLiteral("tokens.sqlite"));
    auto ws = Workspace::open(workspaceDir);
    if (!ws) {
        *error = ws.error().toString();
        return false;
    }
    workspace = *ws;
    workspaceDir = ws->root();
    auto service = TokenService::create(testSecret());
    if (!service) {
        *error = service.error().toString();
        return false;
    }
    tokens = *service;
    auto opened = AuditStore::open(dbPath);
    if (!opened) {
        *error = opened.error().toString();
        return false;
    }
    store = std::move(*opened);
    auto started = store->startWriter();
    if (!started) {
        *error = started.error().toString();
        return false;
    }
    writer = std::move(*started);
    alerts = std::make_unique<AlertManager>(writer.get(), store->connectionName());
    alerts->setTelemetry(&telemetry);
    tracker.setAlertManager(alerts.get());
    return setRules(QByteArrayLiteral("{\"allow\":[],\"ask\":[],\"deny\":[]}"), error);
}

bool RunHarness::setRules(const QByteArray& json, QString* error) {
    auto rules = PolicyRules::parse(json, QStringLiteral("test-rules.json"));
    if (!rules) {
        if (error)
            *error = rules.error().toString();
        return false;
    }
    policy = std::make_unique<PolicyEngine>(registry, *workspace, policyConfig, *rules);
    return true;
}

RunController::Services RunHarness::services(ModelProvider* provider, ApprovalGate* gate) {
    RunController::Services s;
    s.registry = &registry;
    s.workspace = &*workspace;
    s.policy = policy.get();
    s.tokens = &*tokens;
    const QString path = ledgerPath;
    s.openLedger = [path] { return TokenLedger::open(path); };
    s.audit = writer.get();
    s.provider = provider;
    s.gate = gate;
    s.costs = &costs;
    s.telemetry = &telemetry;
    s.alerts = alerts.get();
    return s;
}

RunConfig RunHarness::config(const QString& goal) const {
    RunConfig c;
    c.goal = goal;
    c.agent.name = QStringLiteral("orchestrator");
    c.agent.systemPrompt = QStringLiteral("Propose tool calls; a person decides what runs.");
    c.model = QStringLiteral("claude-sonnet-4-6");
    c.provider = QStringLiteral("test");
    c.approvalTimeoutMs = 10000;
    return c;
}

bool RunHarness::runToEnd(RunController& run, int timeoutMs) {
    QEventLoop loop;
    QObject::connect(&run, &RunController::finished, &loop, &QEventLoop::quit);
    QTimer guard;
    guard.setSingleShot(true);
    QObject::connect(&guard, &QTimer::timeout, &loop, &QEventLoop::quit);
    guard.start(timeoutMs);
    run.start();
    if (!run.isFinished())
        loop.exec();
    return run.isFinished();
}

qint64 RunHarness::scalar(const QString& sql) const {
    const QStringList values = column(sql);
    return values.isEmpty() ? -1 : values.first().toLongLong();
}

QStringList RunHarness::column(const QString& sql) const {
    auto* self = const_cast<RunHarness*>(this);
    if (m_connection.isEmpty()) {
        self->m_connection =
            QStringLiteral("harness_%1").arg(QUuid::createUuid().toString(QUuid::Id128));
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
        db.setDatabaseName(dbPath);
        db.open();
    }
    QSqlQuery q(QSqlDatabase::database(m_connection));
    QStringList out;
    if (!q.exec(sql))
        return {QStringLiteral("SQL ERROR: ") + sql};
    while (q.next())
        out << q.value(0).toString();
    return out;
}

} // namespace m1::test
