#include "SettingsDialog.h"

#include "AppContext.h"
#include "Background.h"

#include "config/SecretStore.h"
#include "config/Settings.h"
#include "llm/ModelCatalog.h"
#include "monitoring/PricingTable.h"
#include "policy/PolicyRules.h"
#include "run/AgentProfiles.h"
#include "store/AuditStore.h"
#include "store/StoreConfig.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDesktopServices>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QSettings>
#include <QSpinBox>
#include <QTabWidget>
#include <QUrl>
#include <QVBoxLayout>

namespace m1 {

namespace {

QJsonObject readJsonFile(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

QLabel* pathLabel(const QString& path, QWidget* parent) {
    auto* l = new QLabel(QStringLiteral("<a href=\"%1\">%2</a>")
                             .arg(QUrl::fromLocalFile(QFileInfo(path).absolutePath()).toString(),
                                  path.toHtmlEscaped()),
                         parent);
    l->setOpenExternalLinks(true);
    l->setToolTip(SettingsDialog::tr("Opens the folder; the file uses the format in "
                                     "docs/configuration.md."));
    return l;
}

} // namespace

SettingsDialog::SettingsDialog(AppContext& context, QWidget* parent)
    : QDialog(parent), m_context(context) {
    setObjectName(QStringLiteral("settingsDialog"));
    setWindowTitle(tr("Settings"));
    auto* layout = new QVBoxLayout(this);
    m_tabs = new QTabWidget(this);
    m_tabs->addTab(buildClaudeTab(), tr("&Claude"));
    m_tabs->addTab(buildApprovalsTab(), tr("&Approvals and limits"));
    m_tabs->addTab(buildRulesTab(), tr("&Rules"));
    m_tabs->addTab(buildStorageTab(), tr("&Database"));
    m_tabs->addTab(buildMonitoringTab(), tr("&Monitoring"));
    layout->addWidget(m_tabs, 1);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        QString error;
        if (save(&error))
            accept();
        else
            QMessageBox::warning(this, tr("Settings not saved"), error);
    });
    resize(720, 520);
}

QWidget* SettingsDialog::buildClaudeTab() {
    auto* page = new QWidget(this);
    auto* form = new QFormLayout(page);
    m_apiKey = new QLineEdit(page);
    m_apiKey->setObjectName(QStringLiteral("apiKeyEdit"));
    m_apiKey->setEchoMode(QLineEdit::Password);
    // No way to copy a key out of the field, not even by the context menu (SEC-11).
    m_apiKey->setContextMenuPolicy(Qt::NoContextMenu);
    m_apiKey->setDragEnabled(false);
    m_apiKey->setAccessibleName(tr("New Anthropic API key"));
    m_apiKey->setPlaceholderText(tr("Paste a new key to replace the stored one"));
    m_keyStatus = new QLabel(page);
    m_keyStatus->setObjectName(QStringLiteral("apiKeyStatus"));
    m_keyStatus->setTextFormat(Qt::PlainText);
    m_keyStatus->setWordWrap(true);
    m_keyStatus->setText(m_context.hasApiKey() ? tr("A key is stored (it is never shown again).")
                                               : tr("No key stored: runs use the offline replay."));
    auto* saveKey = new QPushButton(tr("Store in the &keychain"), page);
    auto* removeKey = new QPushButton(tr("Re&move the stored key"), page);
    auto* keyButtons = new QHBoxLayout;
    keyButtons->addWidget(saveKey);
    keyButtons->addWidget(removeKey);
    keyButtons->addStretch(1);
    form->addRow(tr("API key:"), m_apiKey);
    form->addRow(QString(), m_keyStatus);
    form->addRow(QString(), keyButtons);
    // The API address: from these settings (never from a workspace), unless ANTHROPIC_BASE_URL
    // is set, which wins and is shown instead of an editable field.
    m_baseUrl = new QLineEdit(page);
    m_baseUrl->setObjectName(QStringLiteral("baseUrlEdit"));
    m_baseUrl->setAccessibleName(tr("Claude API base URL"));
    m_baseUrl->setPlaceholderText(QStringLiteral("https://api.anthropic.com"));
    m_baseUrl->setText(m_context.settings().claudeBaseUrl);
    const QString envBase = qEnvironmentVariable("ANTHROPIC_BASE_URL");
    if (!envBase.isEmpty()) {
        m_baseUrl->setText(envBase);
        m_baseUrl->setEnabled(false);
        m_baseUrl->setToolTip(tr("Set by ANTHROPIC_BASE_URL in the environment, which wins over "
                                 "this setting."));
    } else {
        m_baseUrl->setToolTip(tr("Leave empty for https://api.anthropic.com. Only https, or "
                                 "plain http to this computer (a local proxy). Never taken "
                                 "from a workspace."));
    }
    form->addRow(tr("Base URL:"), m_baseUrl);
    form->addRow(tr("Models:"), pathLabel(ModelCatalog::userFilePath(), page));
    form->addRow(tr("Agent profiles:"), pathLabel(AgentProfiles::userFilePath(), page));
    form->addRow(tr("Pricing overrides:"), pathLabel(PricingTable::userFilePath(), page));
    connect(saveKey, &QPushButton::clicked, this, &SettingsDialog::saveApiKey);
    connect(removeKey, &QPushButton::clicked, this, [this] {
        runInBackground(
            this, [] { return SecretStore::deleteApiKey(); },
            [this](const Status& s) {
                if (!s)
                    showSecretError(s.error().code, s.error().message);
                else
                    m_keyStatus->setText(tr("The stored key was removed."));
                m_context.loadSecrets();
            });
    });
    return page;
}

void SettingsDialog::saveApiKey() {
    const QString key = m_apiKey->text().trimmed();
    if (key.isEmpty())
        return;
    m_apiKey->clear();
    m_keyStatus->setText(tr("Storing the key in the keychain…"));
    // A keychain may prompt for an unlock and wait: never on the UI thread (SEC-02).
    runInBackground(
        this, [key] { return SecretStore::setApiKey(key); },
        [this](const Status& s) {
            if (!s) {
                m_keyStatus->setText(tr("The key was not stored."));
                showSecretError(s.error().code, s.error().message);
                return;
            }
            m_keyStatus->setText(
                tr("The key is stored in the keychain (it is never shown again)."));
            m_context.loadSecrets();
        });
}

void SettingsDialog::showSecretError(const QString& code, const QString& message) {
    QString what = message;
    if (code == QLatin1String("secret.no_keychain"))
        what += QLatin1Char('\n') + tr("Without a keychain, set ANTHROPIC_API_KEY in the "
                                       "environment before starting the application.");
    else if (code == QLatin1String("secret.access_denied"))
        what += QLatin1Char('\n') + tr("The keychain refused access. Unlock it and press the "
                                       "button again.");
    QMessageBox::warning(this, tr("Keychain"), what);
}

QWidget* SettingsDialog::buildApprovalsTab() {
    const Settings& s = m_context.settings();
    auto* page = new QWidget(this);
    auto* form = new QFormLayout(page);
    m_readNeeds = new QCheckBox(tr("Ask before &reads"), page);
    m_readNeeds->setChecked(s.policy.readNeedsApproval);
    m_writeNeeds = new QCheckBox(tr("Ask before &writes"), page);
    m_writeNeeds->setChecked(s.policy.writeNeedsApproval);
    m_executeNeeds = new QCheckBox(tr("Ask before running &commands"), page);
    m_executeNeeds->setChecked(s.policy.executeNeedsApproval);
    form->addRow(tr("Approvals:"), m_readNeeds);
    form->addRow(QString(), m_writeNeeds);
    form->addRow(QString(), m_executeNeeds);
    m_approvalTimeout = new QSpinBox(page);
    m_approvalTimeout->setRange(10, 24 * 3600);
    m_approvalTimeout->setSuffix(tr(" s"));
    m_approvalTimeout->setValue(m_context.approvalTimeoutMs() / 1000);
    form->addRow(tr("An undecided proposal expires after:"), m_approvalTimeout);
    m_tokenTtl = new QSpinBox(page);
    m_tokenTtl->setRange(1, 300);
    m_tokenTtl->setSuffix(tr(" s"));
    m_tokenTtl->setValue(int(s.tokenTtlSeconds));
    form->addRow(tr("Approval token lifetime:"), m_tokenTtl);
    m_maxSteps = new QSpinBox(page);
    m_maxSteps->setObjectName(QStringLiteral("maxSteps"));
    m_maxSteps->setRange(1, 10000);
    m_maxSteps->setValue(s.policy.maxStepsPerRun);
    m_maxToolCalls = new QSpinBox(page);
    m_maxToolCalls->setRange(1, 10000);
    m_maxToolCalls->setValue(s.policy.maxToolCallsPerRun);
    m_maxRuntime = new QSpinBox(page);
    m_maxRuntime->setRange(1, 24 * 3600);
    m_maxRuntime->setSuffix(tr(" s"));
    m_maxRuntime->setValue(s.policy.maxRuntimeSeconds);
    form->addRow(tr("Model turns per run at most:"), m_maxSteps);
    form->addRow(tr("Tool calls per run at most:"), m_maxToolCalls);
    form->addRow(tr("Runtime per run at most:"), m_maxRuntime);
    m_dailyBudget = new QDoubleSpinBox(page);
    m_dailyBudget->setRange(0, 100000);
    m_dailyBudget->setPrefix(QStringLiteral("$ "));
    m_dailyBudget->setSpecialValueText(tr("none"));
    m_dailyBudget->setValue(double(s.monitoring.dailyBudgetMicros.value_or(0)) / 1e6);
    m_monthlyBudget = new QDoubleSpinBox(page);
    m_monthlyBudget->setRange(0, 1000000);
    m_monthlyBudget->setPrefix(QStringLiteral("$ "));
    m_monthlyBudget->setSpecialValueText(tr("none"));
    m_monthlyBudget->setValue(double(s.monitoring.monthlyBudgetMicros.value_or(0)) / 1e6);
    form->addRow(tr("Daily budget:"), m_dailyBudget);
    form->addRow(tr("Monthly budget:"), m_monthlyBudget);
    return page;
}

QWidget* SettingsDialog::buildRulesTab() {
    auto* page = new QWidget(this);
    auto* layout = new QVBoxLayout(page);
    const QString file = m_context.settings().effectivePolicyFile();
    auto* intro = new QLabel(tr("Rules in %1. Each list holds Tool or Tool(pattern) entries, for "
                                "example \"run_command(git status*)\" or \"write_file(src/**)\". "
                                "Deny wins over ask, ask over allow.")
                                 .arg(file),
                             page);
    intro->setWordWrap(true);
    intro->setTextFormat(Qt::PlainText);
    m_rules = new QPlainTextEdit(page);
    m_rules->setObjectName(QStringLiteral("rulesEdit"));
    m_rules->setAccessibleName(tr("Policy rules as JSON"));
    m_rules->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    QFile f(file);
    if (f.open(QIODevice::ReadOnly))
        m_rules->setPlainText(QString::fromUtf8(f.readAll()));
    else
        m_rules->setPlainText(
            QStringLiteral("{\n  \"allow\": [],\n  \"ask\": [],\n  \"deny\": []\n}\n"));
    m_rulesStatus = new QLabel(page);
    m_rulesStatus->setObjectName(QStringLiteral("rulesStatus"));
    m_rulesStatus->setWordWrap(true);
    m_rulesStatus->setTextFormat(Qt::PlainText);
    layout->addWidget(intro);
    layout->addWidget(m_rules, 1);
    layout->addWidget(m_rulesStatus);
    connect(m_rules, &QPlainTextEdit::textChanged, this, &SettingsDialog::validateRules);
    validateRules();
    return page;
}

bool SettingsDialog::validateRules() {
    const auto parsed = PolicyRules::parse(m_rules->toPlainText().toUtf8(),
                                           m_context.settings().effectivePolicyFile());
    m_rulesStatus->setText(parsed ? tr("Valid: %n rule(s).", nullptr, int(parsed->rules().size()))
                                  : tr("Not valid: %1").arg(parsed.error().message));
    return bool(parsed);
}

QWidget* SettingsDialog::buildStorageTab() {
    auto* page = new QWidget(this);
    auto* form = new QFormLayout(page);
    m_database = new QLineEdit(page);
    m_database->setObjectName(QStringLiteral("databaseEdit"));
    m_database->setText(QSettings().value(QStringLiteral("store/location")).toString());
    m_database->setPlaceholderText(StoreConfig::defaultSqlitePath());
    m_database->setToolTip(tr("An SQLite file, or postgresql://user@host/db for a shared server. "
                              "Put the PostgreSQL password in ~/.pgpass or PGPASSWORD, not here."));
    auto* test = new QPushButton(tr("&Test connection"), page);
    m_databaseStatus = new QLabel(tr("In use: %1").arg(m_context.databaseDisplayName()), page);
    m_databaseStatus->setWordWrap(true);
    m_databaseStatus->setTextFormat(Qt::PlainText);
    auto* row = new QHBoxLayout;
    row->addWidget(m_database, 1);
    row->addWidget(test);
    form->addRow(tr("Audit database:"), row);
    form->addRow(QString(), m_databaseStatus);
    form->addRow(QString(),
                 new QLabel(tr("A new database location applies after a restart."), page));
    connect(test, &QPushButton::clicked, this, &SettingsDialog::testDatabase);
    return page;
}

void SettingsDialog::testDatabase() {
    const QString location = m_database->text().trimmed();
    m_databaseStatus->setText(tr("Connecting…"));
    runInBackground(
        this,
        [location] {
            auto store = AuditStore::open(location);
            if (!store)
                return tr("Connection failed: %1").arg(store.error().toString());
            const auto check = (*store)->integrityCheck();
            return check ? tr("Connected to %1: %2").arg((*store)->config().displayName(), *check)
                         : tr("Connected, but the check failed: %1").arg(check.error().toString());
        },
        [this](const QString& result) { m_databaseStatus->setText(result); });
}

QWidget* SettingsDialog::buildMonitoringTab() {
    const Settings& s = m_context.settings();
    auto* page = new QWidget(this);
    auto* form = new QFormLayout(page);
    m_metrics = new QCheckBox(tr("Serve metrics for Prometheus on localhost"), page);
    m_metrics->setChecked(s.monitoring.metricsEndpointEnabled);
    m_metricsPort = new QSpinBox(page);
    m_metricsPort->setRange(1024, 65535);
    m_metricsPort->setValue(s.monitoring.metricsEndpointPort);
    m_logLevel = new QComboBox(page);
    for (const char* level : {"debug", "info", "warning", "error"})
        m_logLevel->addItem(QString::fromLatin1(level));
    m_logLevel->setCurrentText(s.monitoring.logLevel);
    form->addRow(tr("Metrics endpoint:"), m_metrics);
    form->addRow(tr("Port:"), m_metricsPort);
    form->addRow(tr("Log level:"), m_logLevel);
    form->addRow(tr("Log file:"), new QLabel(s.monitoring.effectiveLogFile(), page));
    return page;
}

bool SettingsDialog::save(QString* error) {
    if (!validateRules()) {
        *error = m_rulesStatus->text();
        return false;
    }
    const QString location = m_database->text().trimmed();
    if (location.contains(QLatin1Char('@')) && QUrl(location).password().size() > 0) {
        *error = tr("The database URL holds a password. Put it in ~/.pgpass or PGPASSWORD "
                    "instead: settings are not a place for secrets.");
        return false;
    }
    const QString path = Settings::defaultFilePath();
    QJsonObject root = readJsonFile(path);
    root.insert(QStringLiteral("approvals"),
                QJsonObject{{QStringLiteral("read"), m_readNeeds->isChecked()},
                            {QStringLiteral("write"), m_writeNeeds->isChecked()},
                            {QStringLiteral("execute"), m_executeNeeds->isChecked()}});
    root.insert(QStringLiteral("limits"),
                QJsonObject{{QStringLiteral("maxSteps"), m_maxSteps->value()},
                            {QStringLiteral("maxToolCalls"), m_maxToolCalls->value()},
                            {QStringLiteral("maxRuntimeSeconds"), m_maxRuntime->value()}});
    if (m_baseUrl->isEnabled()) {
        QJsonObject claude = root.value(QLatin1String("claude")).toObject();
        const QString base = m_baseUrl->text().trimmed();
        if (base.isEmpty())
            claude.remove(QStringLiteral("baseUrl"));
        else
            claude.insert(QStringLiteral("baseUrl"), base);
        if (claude.isEmpty())
            root.remove(QStringLiteral("claude"));
        else
            root.insert(QStringLiteral("claude"), claude);
    }
    root.insert(QStringLiteral("tokens"),
                QJsonObject{{QStringLiteral("ttlSeconds"), m_tokenTtl->value()}});
    QJsonObject monitoring = root.value(QLatin1String("monitoring")).toObject();
    QJsonObject budgets = monitoring.value(QLatin1String("budgets")).toObject();
    budgets.remove(QStringLiteral("dailyUsd"));
    budgets.remove(QStringLiteral("monthlyUsd"));
    if (m_dailyBudget->value() > 0)
        budgets.insert(QStringLiteral("dailyUsd"), m_dailyBudget->value());
    if (m_monthlyBudget->value() > 0)
        budgets.insert(QStringLiteral("monthlyUsd"), m_monthlyBudget->value());
    monitoring.insert(QStringLiteral("budgets"), budgets);
    monitoring.insert(QStringLiteral("metricsEndpoint"),
                      QJsonObject{{QStringLiteral("enabled"), m_metrics->isChecked()},
                                  {QStringLiteral("port"), m_metricsPort->value()}});
    QJsonObject log = monitoring.value(QLatin1String("log")).toObject();
    log.insert(QStringLiteral("level"), m_logLevel->currentText());
    monitoring.insert(QStringLiteral("log"), log);
    root.insert(QStringLiteral("monitoring"), monitoring);
    const QByteArray json = QJsonDocument(root).toJson(QJsonDocument::Indented);
    // The core's own validation decides; a file it would refuse is never written.
    auto parsed = Settings::parse(json, path);
    if (!parsed) {
        *error = parsed.error().message;
        return false;
    }
    QDir().mkpath(QFileInfo(path).absolutePath());
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(json) < 0 || !file.commit()) {
        *error = tr("Could not write %1: %2").arg(path, file.errorString());
        return false;
    }
    const QString rulesPath = parsed->effectivePolicyFile();
    QDir().mkpath(QFileInfo(rulesPath).absolutePath());
    QSaveFile rules(rulesPath);
    if (!rules.open(QIODevice::WriteOnly) || rules.write(m_rules->toPlainText().toUtf8()) < 0 ||
        !rules.commit()) {
        *error = tr("Could not write %1: %2").arg(rulesPath, rules.errorString());
        return false;
    }
    // Environment overrides still apply on top of the file.
    if (auto loaded = Settings::load())
        m_context.setSettings(*loaded);
    else
        m_context.setSettings(*parsed);
    QSettings ui;
    ui.setValue(QStringLiteral("approvals/timeoutSeconds"), m_approvalTimeout->value());
    m_context.setApprovalTimeoutMs(m_approvalTimeout->value() * 1000);
    if (location.isEmpty())
        ui.remove(QStringLiteral("store/location"));
    else
        ui.setValue(QStringLiteral("store/location"), location);
    return true;
}

} // namespace m1
