// The desktop against the replay provider: start a run, approve a write after its diff, deny a
// command with feedback that reaches the model, the arming delay, Deny as the default for
// commands, a held Enter across two prompts, stop, history, CSV export and settings.

#include "AppContext.h"
#include "ApprovalDialog.h"
#include "ChartsView.h"
#include "Format.h"
#include "GoalEditor.h"
#include "GuiApprovalGate.h"
#include "HistoryModel.h"
#include "HistoryView.h"
#include "MainWindow.h"
#include "ReplayTranscript.h"
#include "RunSession.h"
#include "RunTab.h"
#include "ScreenshotTour.h"
#include "SettingsDialog.h"
#include "TimelineDelegate.h"
#include "TimelineModel.h"
#include "TimelineView.h"
#include "VisibleText.h"

#include "config/Settings.h"
#include "store/AuditQueries.h"
#include "store/AuditSeeder.h"
#include "store/AuditStore.h"
#include "store/CostCsvWriter.h"

#include <QBuffer>
#include <QCheckBox>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace m1;

namespace {

using m1::test::replay::text;
using m1::test::replay::toolUse;
using m1::test::replay::turn;

} // namespace

class TstGuiRun : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<AppContext> m_context;
    QString m_transcript;
    QString m_workspace;

    RunRequest request() const {
        RunRequest r;
        r.goal = QStringLiteral("Write hello.txt, then run the tests");
        r.provider = QStringLiteral("replay");
        r.transcript = m_transcript;
        r.workspace = m_workspace;
        r.replayPaceMs = 0;
        return r;
    }

    // The dialog for the call with this id (a new dialog may reuse a closed one's address).
    static ApprovalDialog* waitForDialog(MainWindow& w, const QString& callId) {
        ApprovalDialog* d = nullptr;
        [&] {
            QTRY_VERIFY_WITH_TIMEOUT(
                (d = w.gate()->dialog()) != nullptr && d->pending().call.id == callId, 20000);
        }();
        return d;
    }

private slots:
    // A card's arguments line says what the call does: argv, pattern, how far the plan is.
    void cardSummaries() {
        TimelineEntry e;
        e.kind = TimelineEntry::Kind::Proposal;
        e.tool = QStringLiteral("update_plan");
        e.arguments =
            QJsonObject{{QStringLiteral("steps"),
                         QJsonArray{QJsonObject{{"title", "Look"}, {"status", "done"}},
                                    QJsonObject{{"title", "Fix it"}, {"status", "in_progress"}},
                                    QJsonObject{{"title", "Test"}, {"status", "pending"}}}}};
        QCOMPARE(TimelineDelegate::argumentsSummary(e),
                 QStringLiteral("Plan: 1 of 3 step(s) done · next: Fix it"));
        e.tool = QStringLiteral("search_files");
        e.arguments = QJsonObject{{"pattern", "TODO"}, {"glob", "src/**"}};
        QCOMPARE(TimelineDelegate::argumentsSummary(e), QStringLiteral("TODO in src/**"));
        e.tool = QStringLiteral("run_command");
        e.arguments = QJsonObject{{"argv", QJsonArray{"git", "status"}}};
        QCOMPARE(TimelineDelegate::argumentsSummary(e), QStringLiteral("git status"));
    }

    // Amounts follow the system's number format, like the token counts beside them.
    void amountsInTheLocalesFormat() {
        const QLocale before;
        QLocale::setDefault(QLocale(QLocale::German, QLocale::Germany));
        QCOMPARE(Format::usd(22100), QStringLiteral("$0,0221"));
        QCOMPARE(Format::seconds(12.5), QStringLiteral("12,5 s"));
        QLocale::setDefault(QLocale::c());
        QCOMPARE(Format::usd(22100), QStringLiteral("$0.0221"));
        QCOMPARE(Format::usd(1234567890, 2), QStringLiteral("$1234.57"));
        QLocale::setDefault(before);
    }

    void initTestCase() {
        QVERIFY(m_dir.isValid());
        QStandardPaths::setTestModeEnabled(true);
        qputenv("M1_SETTINGS", m_dir.filePath(QStringLiteral("settings.json")).toUtf8());
        qputenv("M1_JWT_SECRET", "gui-test-secret-0123456789abcdef0123456789");
        // The defaults (a file M1_SETTINGS names must exist).
        QFile settings(Settings::defaultFilePath());
        QVERIFY(settings.open(QIODevice::WriteOnly | QIODevice::Truncate));
        QVERIFY(settings.write("{}\n") == 3);
        settings.close();
        m_workspace = m_dir.filePath(QStringLiteral("ws"));
        QDir().mkpath(m_workspace);
        QJsonArray turns;
        turns.append(turn({text(QStringLiteral("Writing the file.")),
                           toolUse(QStringLiteral("toolu_w"), QStringLiteral("write_file"),
                                   {{QStringLiteral("path"), QStringLiteral("hello.txt")},
                                    {QStringLiteral("content"), QStringLiteral("hello\n")}})},
                          QStringLiteral("tool_use")));
        turns.append(turn({toolUse(QStringLiteral("toolu_c"), QStringLiteral("run_command"),
                                   {{QStringLiteral("argv"),
                                     QJsonArray{QStringLiteral("rm"), QStringLiteral("-rf"),
                                                QStringLiteral("build")}}})},
                          QStringLiteral("tool_use")));
        turns.append(turn({text(QStringLiteral("Done."))}, QStringLiteral("end_turn")));
        const QJsonObject transcript{{QStringLiteral("schema"), 1},
                                     {QStringLiteral("model"), QStringLiteral("claude-sonnet-4-6")},
                                     {QStringLiteral("turns"), turns}};
        m_transcript = m_dir.filePath(QStringLiteral("transcript.json"));
        QFile f(m_transcript);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QJsonDocument(transcript).toJson());
        f.close();

        AppContext::Options options;
        options.database = m_dir.filePath(QStringLiteral("audit.sqlite"));
        options.forceReplay = true;
        auto context = AppContext::create(options);
        QVERIFY2(context, qPrintable(context ? QString() : context.error().toString()));
        m_context = std::move(*context);
        m_context->openStore();
        m_context->loadSecrets();
        QTRY_VERIFY_WITH_TIMEOUT(m_context->areSecretsLoaded(), 20000);
        QVERIFY(m_context->tokens());
        QTRY_VERIFY_WITH_TIMEOUT(m_context->isStoreOpen(), 20000);
    }

    void approveWriteThenDenyCommandWithFeedback() {
        MainWindow window(*m_context);
        window.show();
        window.gate()->setArmDelayMs(400);
        RunTab* tab = window.currentRun();
        QVERIFY(tab->start(request()));

        ApprovalDialog* write = waitForDialog(window, QStringLiteral("toolu_w"));
        QCOMPARE(write->pending().call.toolName, QStringLiteral("write_file"));
        QVERIFY(write->diffText().contains(QStringLiteral("+hello")));
        QCOMPARE(write->fingerprint().size(), 12);
        // Disarmed at first; armed once the arming timer fired.
        QVERIFY(!write->isArmed());
        QVERIFY(!write->approveOnceButton()->isEnabled());
        QVERIFY(write->denyButton()->isEnabled());
        QVERIFY(write->armTimer()->isActive());
        QTRY_VERIFY_WITH_TIMEOUT(write->isArmed(), 10000);
        QVERIFY(write->approveOnceButton()->isEnabled());
        QVERIFY(write->approveOnceButton()->isDefault());
        QTest::mouseClick(write->approveOnceButton(), Qt::LeftButton);

        ApprovalDialog* command = waitForDialog(window, QStringLiteral("toolu_c"));
        QCOMPARE(command->pending().call.toolName, QStringLiteral("run_command"));
        QCOMPARE(command->argvRows(), QStringList({QStringLiteral("rm"), QStringLiteral("-rf"),
                                                   QStringLiteral("build")}));
        // Execute scope: Deny is the default, the approve buttons wait.
        QVERIFY(command->denyButton()->isDefault());
        QVERIFY(!command->approveOnceButton()->isDefault());
        QVERIFY(!command->approveOnceButton()->isEnabled());
        command->feedbackEdit()->setText(QStringLiteral("Never delete the build folder."));
        QVERIFY(command->denyFeedbackButton()->isEnabled());
        QTest::mouseClick(command->denyFeedbackButton(), Qt::LeftButton);

        QTRY_VERIFY_WITH_TIMEOUT(tab->report().has_value(), 20000);
        QCOMPARE(tab->report()->stopReason, QStringLiteral("completed"));
        QCOMPARE(tab->report()->approved, 1);
        QCOMPARE(tab->report()->denied, 1);
        QFile written(QDir(m_workspace).filePath(QStringLiteral("hello.txt")));
        QVERIFY(written.open(QIODevice::ReadOnly));
        QCOMPARE(written.readAll(), QByteArray("hello\n"));
        // The feedback went back to the model in the tool result.
        const QByteArray conversation =
            QJsonDocument(tab->session()->controller().messages()).toJson(QJsonDocument::Compact);
        QVERIFY(conversation.contains("Never delete the build folder."));
        // The timeline shows both decisions.
        TimelineModel* model = tab->timeline()->model();
        model->flush();
        QCOMPARE(model->entry(model->rowOf(QStringLiteral("toolu_w"))).status,
                 QStringLiteral("executed"));
        QCOMPARE(model->entry(model->rowOf(QStringLiteral("toolu_c"))).status,
                 QStringLiteral("denied"));
    }

    void heldEnterApprovesNeither() {
        MainWindow window(*m_context);
        window.show();
        window.gate()->setArmDelayMs(300);
        RunTab* tab = window.currentRun();
        QVERIFY(tab->start(request()));
        ApprovalDialog* first = waitForDialog(window, QStringLiteral("toolu_w"));
        // Auto-repeated Enter while disarmed keeps restarting the delay and never approves.
        for (int i = 0; i < 20; ++i) {
            QKeyEvent press(QEvent::KeyPress, Qt::Key_Return, Qt::NoModifier, QString(), true);
            QCoreApplication::sendEvent(first, &press);
            QTest::qWait(25);
        }
        QVERIFY(!first->isArmed());
        QCOMPARE(window.gate()->pending().size(), 1);
        first->denyButton()->click();
        ApprovalDialog* second = waitForDialog(window, QStringLiteral("toolu_c"));
        QKeyEvent press(QEvent::KeyPress, Qt::Key_Return, Qt::NoModifier, QString(), true);
        QCoreApplication::sendEvent(second, &press);
        QVERIFY(!second->isArmed());
        QCOMPARE(window.gate()->pending().size(), 1);
        tab->stop();
        QTRY_VERIFY_WITH_TIMEOUT(tab->report().has_value(), 20000);
        QCOMPARE(tab->report()->approved, 0);
        QCOMPARE(tab->report()->stopReason, QStringLiteral("user_cancelled"));
        QVERIFY(window.gate()->pending().isEmpty());
    }

    // SQL-04 in the window: the audit store cannot grow, so the run pauses with a banner (Retry,
    // Cancel run) instead of running anything; the window stays usable. Retry goes on once
    // there is room again; Cancel run ends the run.
    void auditFullShowsBannerWithRetryAndCancel() {
        // The first proposal is large: recording it needs pages the store may not add.
        QJsonArray turns;
        turns.append(
            turn({toolUse(QStringLiteral("toolu_big"), QStringLiteral("write_file"),
                          {{QStringLiteral("path"), QStringLiteral("big.txt")},
                           {QStringLiteral("content"), QString(200000, QLatin1Char('b'))}})},
                 QStringLiteral("tool_use")));
        turns.append(turn({text(QStringLiteral("Done."))}, QStringLiteral("end_turn")));
        const QString path = m_dir.filePath(QStringLiteral("big-transcript.json"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QJsonDocument(
                    QJsonObject{{QStringLiteral("schema"), 1},
                                {QStringLiteral("model"), QStringLiteral("claude-sonnet-4-6")},
                                {QStringLiteral("turns"), turns}})
                    .toJson());
        f.close();
        RunRequest r = request();
        r.goal = QStringLiteral("Write a big file");
        r.transcript = path;
        const QString written = QDir(m_workspace).filePath(QStringLiteral("big.txt"));

        MainWindow window(*m_context);
        window.show();
        RunTab* tab = window.currentRun();
        QVERIFY(tab->auditBanner()->isHidden());
        // The store may not grow from here on.
        QVERIFY(m_context->writer().setSqliteMaxPageCount(1));
        QVERIFY(tab->start(r));
        QTRY_VERIFY_WITH_TIMEOUT(!tab->auditBanner()->isHidden(), 20000);
        QVERIFY(tab->auditBannerText()->text().contains(QStringLiteral("audit storage full")));
        QVERIFY(tab->statusText().contains(QStringLiteral("Paused: audit storage full")));
        QVERIFY(tab->auditRetryButton()->isEnabled());
        QVERIFY(tab->auditCancelButton()->isEnabled());
        QVERIFY(tab->isRunning());
        QVERIFY(!tab->report().has_value());
        QVERIFY(!QFile::exists(written));
        // The window stays usable meanwhile: another page opens and comes back.
        window.pages()->setCurrentWidget(window.history());
        QTest::qWait(100);
        window.pages()->setCurrentIndex(0);
        QVERIFY(tab->session()->controller().isPausedOnAudit());

        // Room again: Retry hides the banner and the run goes on to the approval.
        QVERIFY(m_context->writer().setSqliteMaxPageCount(1'000'000));
        QTest::mouseClick(tab->auditRetryButton(), Qt::LeftButton);
        ApprovalDialog* dialog = waitForDialog(window, QStringLiteral("toolu_big"));
        QVERIFY(tab->auditBanner()->isHidden());
        dialog->denyButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(tab->report().has_value(), 20000);
        QCOMPARE(tab->report()->stopReason, QStringLiteral("completed"));
        QCOMPARE(tab->report()->denied, 1);
        QVERIFY(!QFile::exists(written));

        // Full again, and this time Cancel run: the run ends, the banner goes.
        QVERIFY(m_context->writer().setSqliteMaxPageCount(1));
        QVERIFY(tab->start(r));
        QTRY_VERIFY_WITH_TIMEOUT(!tab->auditBanner()->isHidden(), 20000);
        QTest::mouseClick(tab->auditCancelButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(tab->report().has_value(), 20000);
        QCOMPARE(tab->report()->stopReason, QStringLiteral("user_cancelled"));
        QVERIFY(tab->auditBanner()->isHidden());
        QVERIFY(!tab->isRunning());
        QVERIFY(!QFile::exists(written));
        QVERIFY(m_context->writer().setSqliteMaxPageCount(1'000'000));
    }

    void hiddenCharactersAreVisible() {
        const QString tricky = QStringLiteral("safe") + QChar(0x202E) + QStringLiteral("txt.sh") +
                               QChar(0x200B) + QChar(0x1b) + QStringLiteral("[31m");
        const QString shown = VisibleText::visible(tricky);
        QVERIFY(shown.contains(QStringLiteral("⟨U+202E⟩")));
        QVERIFY(shown.contains(QStringLiteral("⟨U+200B⟩")));
        QVERIFY(shown.contains(QStringLiteral("⟨U+001B⟩")));
        const QJsonObject args{{QStringLiteral("path"), tricky}};
        const QString json = VisibleText::visibleJson(args);
        QVERIFY(json.contains(QStringLiteral("\\u202e")));
        QCOMPARE(QJsonDocument::fromJson(json.toUtf8()).object(), args);
    }

    void historyOpensTheRunAndCsvMatchesTheStore() {
        AuditSeeder::Options seed;
        seed.runs = 50;
        seed.callsPerRun = 3;
        {
            auto store = AuditStore::open(m_context->storeConfig());
            QVERIFY(store);
            QVERIFY(AuditSeeder::seed(**store, seed));
        }
        MainWindow window(*m_context);
        window.show();
        window.pages()->setCurrentWidget(window.history());
        HistoryView* history = window.history();
        QTRY_VERIFY_WITH_TIMEOUT(history->model()->rowCount() > 0 && !history->model()->isLoading(),
                                 20000);
        const QString runId = history->model()->run(0).runId;
        history->openRun(runId);
        QTRY_COMPARE_WITH_TIMEOUT(history->openedRunId(), runId, 20000);
        QVERIFY(history->timeline()->model()->rowCount() > 1);
        const QString json = m_dir.filePath(QStringLiteral("run.json"));
        QVERIFY(history->exportRun(json));
        QFile jsonFile(json);
        QVERIFY(jsonFile.open(QIODevice::ReadOnly));
        QVERIFY(jsonFile.readAll().contains(runId.toUtf8()));

        ChartsView* charts = window.charts();
        const QString csv = m_dir.filePath(QStringLiteral("costs.csv"));
        QSignalSpy exported(charts, &ChartsView::exported);
        QVERIFY(charts->exportCsv(csv));
        QVERIFY(exported.wait(20000));
        QCOMPARE(exported.at(0).at(1).toString(), QString());
        QFile csvFile(csv);
        QVERIFY(csvFile.open(QIODevice::ReadOnly));
        auto queries = AuditQueries::open(m_context->storeConfig());
        QVERIFY(queries);
        QBuffer expected;
        expected.open(QIODevice::WriteOnly);
        QVERIFY(CostCsvWriter::write(**queries, charts->range(), expected, true));
        QCOMPARE(csvFile.readAll(), expected.data());
    }

    void settingsPersist() {
        {
            SettingsDialog dialog(*m_context);
            dialog.maxStepsSpin()->setValue(42);
            dialog.readApprovalCheck()->setChecked(true);
            dialog.baseUrlEdit()->setText(QStringLiteral("http://127.0.0.1:8089"));
            dialog.rulesEdit()->setPlainText(
                QStringLiteral("{\"allow\": [\"read_file(src/**)\"], \"ask\": [], \"deny\": []}"));
            QVERIFY(dialog.rulesStatus()->text().startsWith(QStringLiteral("Valid")));
            QString error;
            QVERIFY2(dialog.save(&error), qPrintable(error));
        }
        const auto loaded = Settings::load();
        QVERIFY(loaded);
        QCOMPARE(loaded->policy.maxStepsPerRun, 42);
        QVERIFY(loaded->policy.readNeedsApproval);
        QCOMPARE(m_context->settings().policy.maxStepsPerRun, 42);
        SettingsDialog again(*m_context);
        QCOMPARE(again.maxStepsSpin()->value(), 42);
        QCOMPARE(loaded->claudeBaseUrl, QStringLiteral("http://127.0.0.1:8089"));
        QCOMPARE(m_context->baseUrl(), QStringLiteral("http://127.0.0.1:8089"));
        QCOMPARE(again.baseUrlEdit()->text(), QStringLiteral("http://127.0.0.1:8089"));
        // Plain http to another machine is refused with the provider's reason; nothing written.
        again.baseUrlEdit()->setText(QStringLiteral("http://api.example.com"));
        {
            QString error;
            QVERIFY(!again.save(&error));
            QVERIFY2(error.contains(QStringLiteral("only https")), qPrintable(error));
            QCOMPARE(Settings::load()->claudeBaseUrl, QStringLiteral("http://127.0.0.1:8089"));
        }
        again.baseUrlEdit()->setText(QStringLiteral("http://127.0.0.1:8089"));
        // An invalid rule is refused and nothing is written.
        again.rulesEdit()->setPlainText(QStringLiteral("{\"allow\": [\"no_such_tool\"]}"));
        QVERIFY(again.rulesStatus()->text().startsWith(QStringLiteral("Not valid")));
        QString error;
        QVERIFY(!again.save(&error));
        // The API key field never offers a copy.
        QCOMPARE(again.apiKeyEdit()->echoMode(), QLineEdit::Password);
        QCOMPARE(again.apiKeyEdit()->contextMenuPolicy(), Qt::NoContextMenu);
    }

    void timelineAppends10kSmoothly() {
        TimelineView view;
        view.resize(800, 600);
        view.show();
        TimelineModel* model = view.model();
        for (int i = 0; i < 10000; ++i)
            model->addProposal(QStringLiteral("c%1").arg(i), QStringLiteral("read_file"),
                               QStringLiteral("read"),
                               {{QStringLiteral("path"), QStringLiteral("a")}});
        QCOMPARE(model->rowCount(), 0); // batched: published on the next flush
        model->flush();
        QCOMPARE(model->rowCount(), 10000);
    }

    void cleanupTestCase() { m_context.reset(); }
};

QTEST_MAIN(TstGuiRun)
#include "tst_gui_run.moc"
