// The approval dialog with the proposals of one message (replay provider, offscreen): approve all
// three at once (three tokens, three executions in the message's order, one results message, the
// audit rows), a batch with one denial, the token's fingerprint and countdown on the timeline
// card after approval, and the SBX-27 evidence that the whole argv was scrolled into view.

#include "AppContext.h"
#include "ApprovalCallView.h"
#include "ApprovalDialog.h"
#include "GuiApprovalGate.h"
#include "MainWindow.h"
#include "ReplayTranscript.h"
#include "RunSession.h"
#include "RunTab.h"
#include "TimelineDelegate.h"
#include "TimelineModel.h"
#include "TimelineView.h"

#include "config/Settings.h"
#include "store/AuditQueries.h"
#include "util/CanonicalJson.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollBar>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace m1;

namespace {

using m1::test::replay::text;
using m1::test::replay::toolUse;
using m1::test::replay::turn;

QJsonObject writeFile(const QString& path, const QString& content) {
    return {{QStringLiteral("path"), path}, {QStringLiteral("content"), content}};
}

// The tool results the run sent back: the last user message.
QJsonArray lastResults(const QJsonArray& messages) {
    for (qsizetype i = messages.size() - 1; i >= 0; --i) {
        const QJsonObject m = messages.at(i).toObject();
        if (m.value(QLatin1String("role")).toString() == QLatin1String("user"))
            return m.value(QLatin1String("content")).toArray();
    }
    return {};
}

} // namespace

class TstGuiApprovals : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<AppContext> m_context;
    QString m_workspace;
    int m_transcripts = 0;

    // A transcript whose first turn proposes these tool calls, then ends.
    QString transcript(const QJsonArray& uses) {
        QJsonArray content{text(QStringLiteral("Working on it."))};
        for (const QJsonValue& use : uses)
            content.append(use);
        const QJsonArray turns{turn(content, QStringLiteral("tool_use")),
                               turn({text(QStringLiteral("Done."))}, QStringLiteral("end_turn"))};
        const QString path = m_dir.filePath(QStringLiteral("t%1.json").arg(++m_transcripts));
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write(QJsonDocument(
                    QJsonObject{{QStringLiteral("schema"), 1},
                                {QStringLiteral("model"), QStringLiteral("claude-sonnet-4-6")},
                                {QStringLiteral("turns"), turns}})
                    .toJson());
        return path;
    }

    RunRequest request(const QString& transcriptPath) const {
        RunRequest r;
        r.goal = QStringLiteral("Do several things in one message");
        r.provider = QStringLiteral("replay");
        r.transcript = transcriptPath;
        r.workspace = m_workspace;
        r.replayPaceMs = 0;
        return r;
    }

    static ApprovalDialog* waitForBatch(MainWindow& w, int count) {
        ApprovalDialog* d = nullptr;
        [&] {
            QTRY_VERIFY_WITH_TIMEOUT((d = w.gate()->dialog()) != nullptr && d->count() == count,
                                     20000);
        }();
        return d;
    }

    AuditQueries::RunDetail detail(const QString& runId) {
        auto queries = AuditQueries::open(m_context->storeConfig());
        if (!queries)
            return {};
        auto run = (*queries)->run(runId);
        return run ? *run : AuditQueries::RunDetail{};
    }

    // kind:request_id of the run's call events, in the audit trail's order.
    QStringList callEvents(const QString& runId) {
        QStringList out;
        {
            QSqlDatabase db =
                QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("events"));
            db.setDatabaseName(m_dir.filePath(QStringLiteral("audit.sqlite")));
            if (db.open()) {
                QSqlQuery q(db);
                q.prepare(QStringLiteral("SELECT kind, request_id FROM audit_events WHERE run_id = "
                                         "? AND kind LIKE 'call.%' ORDER BY seq"));
                q.addBindValue(runId);
                q.exec();
                while (q.next())
                    out << q.value(0).toString().mid(5) + QLatin1Char(':') + q.value(1).toString();
            }
        }
        QSqlDatabase::removeDatabase(QStringLiteral("events"));
        return out;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        QStandardPaths::setTestModeEnabled(true);
        qputenv("M1_SETTINGS", m_dir.filePath(QStringLiteral("settings.json")).toUtf8());
        qputenv("M1_JWT_SECRET", "gui-test-secret-0123456789abcdef0123456789");
        // The settings file M1_SETTINGS names must exist: an empty one gives the defaults.
        QFile settings(Settings::defaultFilePath());
        QVERIFY(settings.open(QIODevice::WriteOnly | QIODevice::Truncate));
        QVERIFY(settings.write("{}\n") == 3);
        settings.close();
        m_workspace = m_dir.filePath(QStringLiteral("ws"));
        QDir().mkpath(m_workspace);
        AppContext::Options options;
        options.database = m_dir.filePath(QStringLiteral("audit.sqlite"));
        options.forceReplay = true;
        auto context = AppContext::create(options);
        QVERIFY2(context, qPrintable(context ? QString() : context.error().toString()));
        m_context = std::move(*context);
        m_context->openStore();
        QTRY_VERIFY_WITH_TIMEOUT(m_context->isStoreOpen(), 20000);
        m_context->loadSecrets();
        QTRY_VERIFY_WITH_TIMEOUT(m_context->areSecretsLoaded(), 20000);
        QVERIFY(m_context->tokens());
    }

    void approveAllRunsEachCallInOrder() {
        const QJsonArray uses{
            toolUse(QStringLiteral("toolu_a1"), QStringLiteral("write_file"),
                    writeFile(QStringLiteral("one.txt"), QStringLiteral("first\n"))),
            toolUse(QStringLiteral("toolu_a2"), QStringLiteral("write_file"),
                    writeFile(QStringLiteral("two.txt"), QStringLiteral("second\n"))),
            toolUse(QStringLiteral("toolu_a3"), QStringLiteral("run_command"),
                    {{QStringLiteral("argv"),
                      QJsonArray{QStringLiteral("cat"), QStringLiteral("one.txt"),
                                 QStringLiteral("two.txt")}}})};
        MainWindow window(*m_context);
        window.show();
        window.gate()->setArmDelayMs(200);
        RunTab* tab = window.currentRun();
        QVERIFY(tab->start(request(transcript(uses))));

        ApprovalDialog* dialog = waitForBatch(window, 3);
        QVERIFY(dialog);
        // All three asked before any was decided: the queue and the dialog list them all.
        QCOMPARE(window.gate()->pending().size(), 3);
        QCOMPARE(window.pendingList()->count(), 3);
        QVERIFY(window.pendingList()->item(2)->text().contains(QStringLiteral("3 of 3")));
        QCOMPARE(dialog->batchList()->count(), 3);
        QVERIFY(dialog->batchList()->isVisible());
        QCOMPARE(dialog->currentIndex(), 0);
        QCOMPARE(dialog->pending().call.id, QStringLiteral("toolu_a1"));
        QVERIFY(dialog->findChild<QLabel*>(QStringLiteral("queuePosition"))
                    ->text()
                    .contains(QStringLiteral("1 of 3")));
        // A command in the batch: Deny is the default; "Approve all" never is.
        QVERIFY(dialog->denyButton()->isDefault());
        QVERIFY(!dialog->approveAllButton()->isDefault());
        QVERIFY(dialog->approveAllButton()->text().contains(QStringLiteral("3")));
        // Armed, but two calls were never shown: no approving them unseen.
        QTRY_VERIFY_WITH_TIMEOUT(dialog->isArmed(), 10000);
        QVERIFY(dialog->approveOnceButton()->isEnabled());
        QVERIFY(!dialog->approveAllButton()->isEnabled());
        QVERIFY(dialog->denyAllButton()->isEnabled());
        QTest::mouseClick(dialog->nextButton(), Qt::LeftButton);
        QCOMPARE(dialog->pending().call.id, QStringLiteral("toolu_a2"));
        QVERIFY(!dialog->isArmed()); // another call on screen: disarmed again
        QTest::mouseClick(dialog->nextButton(), Qt::LeftButton);
        QCOMPARE(dialog->pending().call.id, QStringLiteral("toolu_a3"));
        QCOMPARE(dialog->argvRows(), QStringList({QStringLiteral("cat"), QStringLiteral("one.txt"),
                                                  QStringLiteral("two.txt")}));
        QVERIFY(!dialog->approveAllButton()->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(dialog->approveAllButton()->isEnabled(), 10000);
        QTest::mouseClick(dialog->approveAllButton(), Qt::LeftButton);

        QTRY_VERIFY_WITH_TIMEOUT(tab->report().has_value(), 30000);
        const RunReport report = *tab->report();
        QCOMPARE(report.stopReason, QStringLiteral("completed"));
        QCOMPARE(report.approved, 3);
        QCOMPARE(report.executed, 3);
        QVERIFY(window.gate()->pending().isEmpty());

        // The command ran after both writes: the message's order.
        const QJsonArray results = lastResults(tab->session()->controller().messages());
        QCOMPARE(results.size(), 3);
        QCOMPARE(results.at(0).toObject().value("tool_use_id").toString(),
                 QStringLiteral("toolu_a1"));
        QCOMPARE(results.at(1).toObject().value("tool_use_id").toString(),
                 QStringLiteral("toolu_a2"));
        QCOMPARE(results.at(2).toObject().value("tool_use_id").toString(),
                 QStringLiteral("toolu_a3"));
        QVERIFY(results.at(2).toObject().value("content").toString().contains("first\nsecond"));

        // Three rows, each with its own token, the approver and the batch recorded.
        const auto run = detail(report.runId);
        QCOMPARE(run.toolCalls.size(), 3);
        QSet<QString> jtis;
        for (const auto& call : run.toolCalls) {
            QCOMPARE(call.status, QStringLiteral("executed"));
            QCOMPARE(call.policyDecision, QStringLiteral("ask"));
            QCOMPARE(call.approverKind, QStringLiteral("person"));
            QCOMPARE(call.approver, QStringLiteral("gui"));
            QVERIFY(!call.tokenJti.isEmpty());
            jtis.insert(call.tokenJti);
            QVERIFY(call.decidedInBatch.value_or(false));
            QVERIFY(call.decisionMs.has_value());
            QVERIFY(!call.decidedBy.isEmpty());
            QVERIFY(call.argsSeenWhole.has_value());
        }
        QCOMPARE(jtis.size(), 3);
        QVERIFY(*run.toolCalls.at(0).executedAt <= *run.toolCalls.at(1).executedAt);
        QVERIFY(*run.toolCalls.at(1).executedAt <= *run.toolCalls.at(2).executedAt);
        // Every proposal recorded and checked before the first decision; then each approved
        // and executed in turn.
        QCOMPARE(callEvents(report.runId),
                 QStringList({"proposed:toolu_a1", "policy:toolu_a1", "proposed:toolu_a2",
                              "policy:toolu_a2", "proposed:toolu_a3", "policy:toolu_a3",
                              "approved:toolu_a1", "executed:toolu_a1", "approved:toolu_a2",
                              "executed:toolu_a2", "approved:toolu_a3", "executed:toolu_a3"}));

        // Each card shows its own token's fingerprint, used.
        TimelineModel* model = tab->timeline()->model();
        model->flush();
        for (const QJsonValue& use : uses) {
            const QJsonObject u = use.toObject();
            const TimelineEntry& e = model->entry(model->rowOf(u.value("id").toString()));
            QCOMPARE(e.tokenFingerprint,
                     QString::fromLatin1(
                         CanonicalJson::sha256Hex(u.value("input").toObject()).left(12)));
            QCOMPARE(e.tokenState, QStringLiteral("used"));
        }
    }

    void batchWithOneDenial() {
        const QJsonArray uses{
            toolUse(QStringLiteral("toolu_b1"), QStringLiteral("write_file"),
                    writeFile(QStringLiteral("keep1.txt"), QStringLiteral("1\n"))),
            toolUse(QStringLiteral("toolu_b2"), QStringLiteral("write_file"),
                    writeFile(QStringLiteral("nope.txt"), QStringLiteral("2\n"))),
            toolUse(QStringLiteral("toolu_b3"), QStringLiteral("write_file"),
                    writeFile(QStringLiteral("keep3.txt"), QStringLiteral("3\n")))};
        MainWindow window(*m_context);
        window.show();
        window.gate()->setArmDelayMs(200);
        RunTab* tab = window.currentRun();
        QVERIFY(tab->start(request(transcript(uses))));
        ApprovalDialog* dialog = waitForBatch(window, 3);
        QVERIFY(dialog);
        // Writes only: Enter approves the call shown (once armed), never all of them.
        QVERIFY(dialog->approveOnceButton()->isDefault());
        QVERIFY(!dialog->approveAllButton()->isDefault());
        // The second call, picked in the list, is denied on its own.
        dialog->batchList()->setCurrentRow(1);
        QCOMPARE(dialog->pending().call.id, QStringLiteral("toolu_b2"));
        QTest::mouseClick(dialog->denyButton(), Qt::LeftButton);
        QVERIFY(dialog->isDecided(1));
        QCOMPARE(dialog->undecidedCount(), 2);
        // The dialog moves on to the next call still waiting; all the rest were shown.
        QCOMPARE(dialog->pending().call.id, QStringLiteral("toolu_b3"));
        QTRY_VERIFY_WITH_TIMEOUT(dialog->approveAllButton()->isEnabled(), 10000);
        QVERIFY(dialog->approveAllButton()->text().contains(QStringLiteral("2")));
        QTest::mouseClick(dialog->approveAllButton(), Qt::LeftButton);

        QTRY_VERIFY_WITH_TIMEOUT(tab->report().has_value(), 30000);
        const RunReport report = *tab->report();
        QCOMPARE(report.stopReason, QStringLiteral("completed"));
        QCOMPARE(report.approved, 2);
        QCOMPARE(report.denied, 1);
        QVERIFY(QFile::exists(QDir(m_workspace).filePath(QStringLiteral("keep1.txt"))));
        QVERIFY(!QFile::exists(QDir(m_workspace).filePath(QStringLiteral("nope.txt"))));
        QVERIFY(QFile::exists(QDir(m_workspace).filePath(QStringLiteral("keep3.txt"))));
        const QJsonArray results = lastResults(tab->session()->controller().messages());
        QCOMPARE(results.size(), 3);
        QVERIFY(!results.at(0).toObject().value("is_error").toBool());
        QVERIFY(results.at(1).toObject().value("is_error").toBool());
        QVERIFY(!results.at(2).toObject().value("is_error").toBool());
        const auto run = detail(report.runId);
        QCOMPARE(run.toolCalls.size(), 3);
        QCOMPARE(run.toolCalls.at(0).status, QStringLiteral("executed"));
        QCOMPARE(run.toolCalls.at(1).status, QStringLiteral("denied"));
        QCOMPARE(run.toolCalls.at(2).status, QStringLiteral("executed"));
        QCOMPARE(run.toolCalls.at(0).decidedInBatch, std::optional<bool>(true));
        QCOMPARE(run.toolCalls.at(1).decidedInBatch, std::optional<bool>(false));
        QCOMPARE(run.toolCalls.at(2).decidedInBatch, std::optional<bool>(true));
        QVERIFY(run.toolCalls.at(1).tokenJti.isEmpty());
        QCOMPARE(run.toolCalls.at(1).approverKind, QStringLiteral("person"));
    }

    void tokenFingerprintAndCountdownAfterApproval() {
        const QJsonObject args = writeFile(QStringLiteral("token.txt"), QStringLiteral("t\n"));
        MainWindow window(*m_context);
        window.show();
        window.gate()->setArmDelayMs(200);
        RunTab* tab = window.currentRun();
        QVERIFY(tab->start(request(transcript(
            {toolUse(QStringLiteral("toolu_t1"), QStringLiteral("write_file"), args)}))));
        ApprovalDialog* dialog = waitForBatch(window, 1);
        QVERIFY(dialog);
        QVERIFY(!dialog->batchList()->isVisible()); // one call: no list, no batch buttons
        QVERIFY(!dialog->approveAllButton()->isVisible());
        const QString fingerprint = dialog->fingerprint();
        QCOMPARE(fingerprint.size(), 12);

        // What the card says at the moment the token is issued, before the tool takes it.
        TimelineModel* model = tab->timeline()->model();
        QString granted;
        QString state;
        connect(&tab->session()->controller(), &RunController::proposalTokenIssued, this,
                [&](const QString& callId) {
                    model->flush();
                    const TimelineEntry& e = model->entry(model->rowOf(callId));
                    state = e.tokenState;
                    granted = TimelineDelegate::tokenText(e, QDateTime::currentMSecsSinceEpoch());
                });
        QTRY_VERIFY_WITH_TIMEOUT(dialog->isArmed(), 10000);
        QTest::mouseClick(dialog->approveOnceButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(tab->report().has_value(), 30000);

        QCOMPARE(state, QStringLiteral("live"));
        QVERIFY2(QRegularExpression(
                     QStringLiteral("^Token %1 · valid for [45]:\\d\\d$").arg(fingerprint))
                     .match(granted)
                     .hasMatch(),
                 qPrintable(granted));
        model->flush();
        const TimelineEntry& e = model->entry(model->rowOf(QStringLiteral("toolu_t1")));
        QCOMPARE(e.tokenFingerprint, fingerprint);
        QCOMPARE(e.tokenState, QStringLiteral("used"));
        QCOMPARE(TimelineDelegate::tokenText(e, QDateTime::currentMSecsSinceEpoch()),
                 QStringLiteral("Token %1 · used").arg(fingerprint));
        QVERIFY(TimelineModel::describe(e).contains(
            QStringLiteral("Approval token: fingerprint %1").arg(fingerprint)));
        // The card has a line for it.
        TimelineEntry without = e;
        without.tokenFingerprint.clear();
        without.cachedWidth = -1;
        QStyleOptionViewItem option;
        option.rect = QRect(0, 0, 700, 0);
        option.font = tab->timeline()->list()->font();
        TimelineModel probe;
        probe.append(e);
        probe.append(without);
        probe.flush();
        TimelineDelegate delegate;
        QVERIFY(delegate.sizeHint(option, probe.index(0)).height() >
                delegate.sizeHint(option, probe.index(1)).height());
    }

    void argvScrolledIntoViewIsRecorded() {
        QJsonArray argv{QStringLiteral("echo")};
        for (int i = 0; i < 200; ++i)
            argv.append(QStringLiteral("arg-%1").arg(i, 3, 10, QLatin1Char('0')));
        argv.append(QString(3000, QLatin1Char('x')));
        const QJsonArray uses{toolUse(QStringLiteral("toolu_s1"), QStringLiteral("run_command"),
                                      {{QStringLiteral("argv"), argv}}),
                              toolUse(QStringLiteral("toolu_s2"), QStringLiteral("run_command"),
                                      {{QStringLiteral("argv"), argv}})};
        MainWindow window(*m_context);
        window.show();
        window.gate()->setArmDelayMs(200);
        RunTab* tab = window.currentRun();
        QVERIFY(tab->start(request(transcript(uses))));
        ApprovalDialog* dialog = waitForBatch(window, 2);
        QVERIFY(dialog);
        // The first is approved without scrolling: its argv was not all on screen.
        QPlainTextEdit* first = dialog->currentView()->argvView();
        QTRY_VERIFY_WITH_TIMEOUT(first->verticalScrollBar()->maximum() > 0, 10000);
        QVERIFY(first->horizontalScrollBar()->maximum() > 0);
        QVERIFY(!dialog->currentView()->seenWhole());
        QTRY_VERIFY_WITH_TIMEOUT(dialog->isArmed(), 10000);
        QTest::mouseClick(dialog->approveOnceButton(), Qt::LeftButton);

        // The second is scrolled through, top to bottom and left to right.
        QCOMPARE(dialog->pending().call.id, QStringLiteral("toolu_s2"));
        QPlainTextEdit* second = dialog->currentView()->argvView();
        QTRY_VERIFY_WITH_TIMEOUT(second->isVisible() && second->verticalScrollBar()->maximum() > 0,
                                 10000);
        for (QScrollBar* bar : {second->verticalScrollBar(), second->horizontalScrollBar()}) {
            const int step = std::max(1, bar->pageStep() / 2);
            for (int v = bar->minimum(); v < bar->maximum(); v += step)
                bar->setValue(v);
            bar->setValue(bar->maximum());
        }
        QVERIFY(dialog->currentView()->seenWhole());
        QTRY_VERIFY_WITH_TIMEOUT(dialog->isArmed(), 10000);
        QTest::mouseClick(dialog->approveOnceButton(), Qt::LeftButton);

        QTRY_VERIFY_WITH_TIMEOUT(tab->report().has_value(), 30000);
        QCOMPARE(tab->report()->executed, 2);
        const auto run = detail(tab->report()->runId);
        QCOMPARE(run.toolCalls.size(), 2);
        QCOMPARE(run.toolCalls.at(0).argsSeenWhole, std::optional<bool>(false));
        QCOMPARE(run.toolCalls.at(1).argsSeenWhole, std::optional<bool>(true));
        QCOMPARE(run.toolCalls.at(0).decidedInBatch, std::optional<bool>(false));
    }

    // Two writes of one file in one message: the second's diff is against the file as it is
    // now, and its Changes tab says so.
    void secondWriteOfAFileSaysItsDiffIsAgainstTheFileNow() {
        PendingApproval first;
        first.call.runId = QStringLiteral("run_x");
        first.call.id = QStringLiteral("toolu_f1");
        first.call.toolName = QStringLiteral("write_file");
        first.call.arguments = writeFile(QStringLiteral("same.txt"), QStringLiteral("a\n"));
        first.scope = Scope::Write;
        first.step = 4;
        first.batchSize = 2;
        PendingApproval second = first;
        second.call.id = QStringLiteral("toolu_f2");
        second.call.arguments = writeFile(QStringLiteral("./same.txt"), QStringLiteral("b\n"));
        second.batchIndex = 1;
        PendingApproval other = first;
        other.call.id = QStringLiteral("toolu_f3");
        other.step = 5;
        ApprovalDialog::Context context;
        context.registry = &m_context->registry();
        ApprovalDialog dialog(first, context);
        QVERIFY(dialog.belongsToBatch(second));
        QVERIFY(!dialog.belongsToBatch(other)); // another message
        dialog.addPending(second);
        QCOMPARE(dialog.count(), 2);
        const QLabel* firstNote =
            dialog.currentView()->findChild<QLabel*>(QStringLiteral("diffNote"));
        QVERIFY(!firstNote || !firstNote->text().contains(QStringLiteral("this message")));
        dialog.setCurrentIndex(1);
        const QLabel* note = dialog.currentView()->findChild<QLabel*>(QStringLiteral("diffNote"));
        QVERIFY(note);
        QVERIFY(note->text().contains(QStringLiteral("Call 1 of this message")));
        dialog.withdraw();
    }

    void cleanupTestCase() { m_context.reset(); }
};

QTEST_MAIN(TstGuiApprovals)
#include "tst_gui_approvals.moc"
