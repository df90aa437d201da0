#pragma once

#include <QDialog>
#include <QJsonObject>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTabWidget;

namespace m1 {

class AppContext;

// The settings a person changes: the API key (to the keychain, on a worker; never shown back,
// no copy: SEC-11), approvals per scope, limits, budgets, the policy rules (validated before
// saving), the database (with a connection test), monitoring and logging. Written to the
// settings file (never a secret there) and applied to new runs.
class SettingsDialog : public QDialog {
    Q_OBJECT
public:
    explicit SettingsDialog(AppContext& context, QWidget* parent = nullptr);

    QTabWidget* tabs() const { return m_tabs; }
    QLineEdit* apiKeyEdit() const { return m_apiKey; }
    QLineEdit* baseUrlEdit() const { return m_baseUrl; }
    // Validates and writes the settings and rules; false with *error when something is refused.
    bool save(QString* error);
    // Test hooks.
    QSpinBox* maxStepsSpin() const { return m_maxSteps; }
    QCheckBox* readApprovalCheck() const { return m_readNeeds; }
    QPlainTextEdit* rulesEdit() const { return m_rules; }
    QLabel* rulesStatus() const { return m_rulesStatus; }

private:
    QWidget* buildClaudeTab();
    QWidget* buildApprovalsTab();
    QWidget* buildRulesTab();
    QWidget* buildStorageTab();
    QWidget* buildMonitoringTab();
    bool validateRules();
    void saveApiKey();
    void testDatabase();
    void showSecretError(const QString& code, const QString& message);

    AppContext& m_context;
    QTabWidget* m_tabs = nullptr;
    QLineEdit* m_apiKey = nullptr;
    QLineEdit* m_baseUrl = nullptr;
    QLabel* m_keyStatus = nullptr;
    QCheckBox* m_readNeeds = nullptr;
    QCheckBox* m_writeNeeds = nullptr;
    QCheckBox* m_executeNeeds = nullptr;
    QSpinBox* m_tokenTtl = nullptr;
    QSpinBox* m_approvalTimeout = nullptr;
    QSpinBox* m_maxSteps = nullptr;
    QSpinBox* m_maxToolCalls = nullptr;
    QSpinBox* m_maxRuntime = nullptr;
    QDoubleSpinBox* m_dailyBudget = nullptr;
    QDoubleSpinBox* m_monthlyBudget = nullptr;
    QPlainTextEdit* m_rules = nullptr;
    QLabel* m_rulesStatus = nullptr;
    QLineEdit* m_database = nullptr;
    QLabel* m_databaseStatus = nullptr;
    QCheckBox* m_metrics = nullptr;
    QSpinBox* m_metricsPort = nullptr;
    QComboBox* m_logLevel = nullptr;
};

} // namespace m1
