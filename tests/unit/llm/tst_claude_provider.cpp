// ClaudeProvider end to end against the fake server on loopback: claude-api.md §5/§7,
// NET-01..NET-19, SEC-05/SEC-09 (the key never shows up anywhere).
#include "llm/ClaudeProvider.h"
#include "llm/ModelCatalog.h"

#include "FakeClaudeServer.h"
#include "SseScript.h"

#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpServer>
#include <QTest>
#include <QTimer>

using namespace m1;
using m1::test::FakeClaudeServer;
using m1::test::SseScript;

namespace {

const QByteArray kKey = QByteArrayLiteral("sk-ant-api03-fake-test-key-DO-NOT-LEAK-0123456789AA");
QStringList g_logLines;

void captureLog(QtMsgType, const QMessageLogContext&, const QString& message) {
    g_logLines.append(message);
}

const QDateTime kNow = QDateTime(QDate(2026, 11, 25), QTime(10, 0, 0), Qt::UTC);

ClaudeProvider::Options testOptions(const QUrl& url) {
    ClaudeProvider::Options o;
    o.baseUrl = url;
    o.waitScale = 0.002; // an 8 s backoff takes 16 ms; ApiAttempt keeps the 8000
    o.clock = [] { return kNow; };
    auto sequence = std::make_shared<int>(0);
    o.uniform = [sequence] {
        static const double values[] = {0.0, 0.5, 0.2, 0.0, 0.5};
        return values[(*sequence)++ % 5];
    };
    o.transferTimeoutMs = 5000;
    return o;
}

ModelRequest sampleRequest() {
    ModelRequest r;
    r.model = QStringLiteral("claude-sonnet-4-6");
    r.maxTokens = 1024;
    r.systemPrompt = QStringLiteral("Propose tool calls; a person decides what runs.");
    r.tools = QJsonArray{QJsonObject{
        {"name", "run_command"},
        {"description", "Run a command."},
        {"input_schema",
         QJsonObject{{"type", "object"},
                     {"properties", QJsonObject{{"argv", QJsonObject{{"type", "array"}}}}}}}}};
    r.messages = QJsonArray{QJsonObject{
        {"role", "user"},
        {"content", QJsonArray{QJsonObject{{"type", "text"}, {"text", "Run the unit tests."}}}}}};
    return r;
}

struct Run {
    QList<ApiAttempt> attempts;
    std::optional<AssistantMessage> message;
    std::optional<Error> error;
    QStringList previews;
    QString text;
    bool timedOut = false;
};

Run runTurn(ClaudeProvider& provider, const ModelRequest& request, int timeoutMs = 15000,
            const std::function<void()>& onFirstText = {}) {
    Run run;
    QEventLoop loop;
    QList<QMetaObject::Connection> c;
    c << QObject::connect(&provider, &ModelProvider::attemptFinished,
                          [&](const ApiAttempt& a) { run.attempts.append(a); });
    c << QObject::connect(&provider, &ModelProvider::turnFinished, [&](const AssistantMessage& m) {
        run.message = m;
        loop.quit();
    });
    c << QObject::connect(&provider, &ModelProvider::turnFailed, [&](const Error& e) {
        run.error = e;
        loop.quit();
    });
    c << QObject::connect(&provider, &ModelProvider::textDelta, [&](int, const QString& t) {
        const bool first = run.text.isEmpty();
        run.text += t;
        if (first && onFirstText)
            onFirstText();
    });
    c << QObject::connect(&provider, &ModelProvider::attemptStarted,
                          [&](int) { run.text.clear(); });
    c << QObject::connect(
        &provider, &ModelProvider::toolUsePreview,
        [&](int i, const QString& id, const QString& name, const QJsonObject& in) {
            run.previews << QStringLiteral("%1:%2:%3:%4")
                                .arg(i)
                                .arg(id, name,
                                     QString::fromUtf8(
                                         QJsonDocument(in).toJson(QJsonDocument::Compact)));
        });
    QTimer guard;
    guard.setSingleShot(true);
    QObject::connect(&guard, &QTimer::timeout, [&] {
        run.timedOut = true;
        loop.quit();
    });
    guard.start(timeoutMs);
    provider.startTurn(request);
    if (!run.message && !run.error)
        loop.exec();
    for (const auto& conn : c)
        QObject::disconnect(conn);
    return run;
}

QString waitsOf(const Run& run) {
    QStringList waits;
    for (const ApiAttempt& a : run.attempts)
        if (a.retryWaitMs >= 0)
            waits << QString::number(a.retryWaitMs);
    return waits.join(QLatin1Char(','));
}

// Everything a run exposes as text, for the key check.
QString everything(const Run& run) {
    QString s;
    if (run.error)
        s += run.error->code + run.error->message;
    for (const ApiAttempt& a : run.attempts)
        s += a.error.message + a.requestId + a.errorType + a.errorCode + a.model;
    return s;
}

QByteArray example() {
    return SseScript::exampleToolUse();
}

QJsonObject reply(int status, const QString& errorType = {}, const QJsonObject& headers = {},
                  const QString& errorCode = {}) {
    QJsonObject o{{"status", status}};
    if (!errorType.isEmpty())
        o.insert("error",
                 QJsonObject{{"type", errorType}, {"message", "Fake"}, {"error_code", errorCode}});
    if (!headers.isEmpty())
        o.insert("headers", headers);
    return o;
}

QJsonObject okExample(const QJsonObject& extra = {}) {
    QJsonObject o{{"status", 200}, {"sse", "example"}};
    for (auto it = extra.begin(); it != extra.end(); ++it)
        o.insert(it.key(), it.value());
    return o;
}

QJsonObject rawSse(const QByteArray& bytes) {
    return QJsonObject{{"status", 200}, {"sse", QString::fromUtf8(bytes)}};
}

} // namespace

class TestClaudeProvider : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void scenarios_data();
    void scenarios();
    void headersAndBody();
    void redirectNotFollowed();
    void baseUrlPolicy_data();
    void baseUrlPolicy();
    void insecureUrlRefusedWithoutNetwork();
    void connectionRefused();
    void cancelMidStream();
    void cancelFromReceiverMidBatch();
    void textDeltasJoinedPerRead();
    void stallTimesOut();
    void turnDeadline();
    void invalidConversationRefused();
    void modelCatalog();

private:
    QtMessageHandler m_previousHandler = nullptr;
};

void TestClaudeProvider::initTestCase() {
    m_previousHandler = qInstallMessageHandler(captureLog);
}

void TestClaudeProvider::cleanupTestCase() {
    qInstallMessageHandler(m_previousHandler);
    for (const QString& line : std::as_const(g_logLines))
        QVERIFY2(!line.contains(QString::fromLatin1(kKey)), "SEC-05: the key reached a log line");
}

void TestClaudeProvider::scenarios_data() {
    QTest::addColumn<QJsonArray>("replies");
    QTest::addColumn<int>("maxRetries");
    QTest::addColumn<QString>("code"); // empty = a finished message
    QTest::addColumn<int>("attempts");
    QTest::addColumn<QString>("waits");     // the waits chosen, ms
    QTest::addColumn<QString>("firstCode"); // the first attempt's error code
    QTest::addColumn<QString>("mention");   // in the final error message

    const QJsonObject o529 = reply(529, "overloaded_error");
    QTest::newRow("basic/example-stream") << QJsonArray{okExample()} << 2 << "" << 1 << ""
                                          << ""
                                          << "";
    QTest::newRow("NET-15/writes-of-1-to-7-bytes")
        << QJsonArray{okExample({{"chunk", QJsonArray{1, 7}}, {"seed", 11}})} << 2 << "" << 1 << ""
        << ""
        << "";
    QTest::newRow("transfer-encoding-chunked")
        << QJsonArray{okExample({{"chunked", true}, {"chunk", QJsonArray{20, 90}}})} << 2 << "" << 1
        << ""
        << ""
        << "";
    QTest::newRow("NET-04/529-twice-then-200")
        << QJsonArray{o529, o529, okExample()} << 2 << "" << 3 << "500,875"
        << "api.overloaded"
        << "";
    QTest::newRow("NET-04/529-five-times") << QJsonArray{o529, o529, o529, o529, o529, okExample()}
                                           << 2 << "api.overloaded" << 3 << "500,875"
                                           << "api.overloaded"
                                           << "overloaded";
    QTest::newRow("NET-04/529-five-times-then-200-budget-5")
        << QJsonArray{o529, o529, o529, o529, o529, okExample()} << 5 << "" << 6
        << "500,875,1900,4000,7000"
        << "api.overloaded"
        << "";
    QTest::newRow("NET-01/429-retry-after-3")
        << QJsonArray{reply(429, "rate_limit_error", {{"retry-after", "3"}}), okExample()} << 2
        << "" << 2 << "3000"
        << "api.rate_limited"
        << "";
    QTest::newRow("NET-01/429-retry-after-3-thrice")
        << QJsonArray{reply(429, "rate_limit_error", {{"retry-after", "3"}}),
                      reply(429, "rate_limit_error", {{"retry-after", "3"}}),
                      reply(429, "rate_limit_error", {{"retry-after", "3"}})}
        << 2 << "api.rate_limited" << 3 << "3000,3000"
        << "api.rate_limited"
        << "request-id: req_fake";
    QTest::newRow("NET-02/429-retry-after-120")
        << QJsonArray{reply(429, "rate_limit_error", {{"retry-after", "120"}}), okExample()} << 2
        << "api.rate_limited" << 1 << ""
        << "api.rate_limited"
        << "120 s";
    QTest::newRow("NET-02/429-retry-after-0")
        << QJsonArray{reply(429, "rate_limit_error", {{"retry-after", "0"}}), okExample()} << 2
        << "" << 2 << "500"
        << "api.rate_limited"
        << "";
    QTest::newRow("NET-05/retry-after-ms-1500")
        << QJsonArray{reply(529, "overloaded_error", {{"retry-after-ms", "1500"}}), okExample()}
        << 2 << "" << 2 << "1500"
        << "api.overloaded"
        << "";
    QTest::newRow("NET-05/retry-after-http-date")
        << QJsonArray{reply(429, "rate_limit_error",
                            {{"retry-after", "Wed, 25 Nov 2026 10:00:05 GMT"}}),
                      okExample()}
        << 2 << "" << 2 << "5000"
        << "api.rate_limited"
        << "";
    for (const char* bad : {"abc", "-5", "1e309", "NaN", "99999999999999999999", "1.5.5", ""}) {
        QTest::addRow("NET-05/malformed-retry-after-%s", bad)
            << QJsonArray{reply(429, "rate_limit_error", {{"retry-after", bad}}), okExample()} << 2
            << "" << 2 << "500"
            << "api.rate_limited"
            << "";
    }
    QTest::newRow("NET-03/429-enforced-spend-limit")
        << QJsonArray{reply(429, "rate_limit_error", {}, "enforced_spend_limit_reached"),
                      okExample()}
        << 2 << "api.spend_limit" << 1 << ""
        << "api.spend_limit"
        << "budget";
    QTest::newRow("NET-03/402-billing")
        << QJsonArray{reply(402, "billing_error", {}, "linked_organization_spend_limit_reached"),
                      okExample()}
        << 2 << "api.spend_limit" << 1 << ""
        << "api.spend_limit"
        << "budget";
    QTest::newRow("NET-03/400-usage-limit")
        << QJsonArray{QJsonObject{
                          {"status", 400},
                          {"error",
                           QJsonObject{
                               {"type", "invalid_request_error"},
                               {"message", "You have reached your specified API usage limits."}}}},
                      okExample()}
        << 2 << "api.spend_limit" << 1 << ""
        << "api.spend_limit"
        << "budget";
    QTest::newRow("NET-03/spend-limit-despite-x-should-retry")
        << QJsonArray{reply(429, "rate_limit_error", {{"x-should-retry", "true"}},
                            "contract_spend_limit_reached"),
                      okExample()}
        << 2 << "api.spend_limit" << 1 << ""
        << "api.spend_limit"
        << "";
    QTest::newRow("NET-06/500-x-should-retry-false")
        << QJsonArray{reply(500, "api_error", {{"x-should-retry", "false"}}), okExample()} << 2
        << "api.server" << 1 << ""
        << "api.server"
        << "";
    QTest::newRow("NET-06/529-x-should-retry-false")
        << QJsonArray{reply(529, "overloaded_error", {{"x-should-retry", "false"}}), okExample()}
        << 2 << "api.overloaded" << 1 << ""
        << "api.overloaded"
        << "";
    QTest::newRow("NET-06/400-x-should-retry-true")
        << QJsonArray{reply(400, "invalid_request_error", {{"x-should-retry", "true"}}),
                      okExample()}
        << 2 << "" << 2 << "500"
        << "api.invalid_request"
        << "";
    const QList<std::tuple<int, QString, QString>> plain = {
        {400, "invalid_request_error", "api.invalid_request"},
        {401, "authentication_error", "api.authentication"},
        {403, "permission_error", "api.permission"},
        {404, "not_found_error", "api.not_found"},
        {413, "request_too_large", "api.request_too_large"}};
    for (const auto& [status, type, code] : plain)
        QTest::addRow("NET-07/%d-not-retried", status)
            << QJsonArray{reply(status, type), okExample()} << 2 << code << 1 << "" << code
            << "request-id";
    QTest::newRow("NET-07/413-html")
        << QJsonArray{QJsonObject{
               {"status", 413},
               {"html", "<html><body>Request Entity Too Large secret-body</body></html>"}}}
        << 2 << "api.request_too_large" << 1 << ""
        << "api.request_too_large"
        << "too large";
    QTest::newRow("NET-20/409-500-504-retried")
        << QJsonArray{reply(409, "conflict_error"), reply(500, "api_error"),
                      reply(504, "timeout_error")}
        << 2 << "api.timeout" << 3 << "500,875"
        << "api.server"
        << "";
    QTest::newRow("NET-18/200-html-captive-portal")
        << QJsonArray{QJsonObject{{"status", 200}, {"html", "<html>Login to Wi-Fi</html>"}}} << 2
        << "api.unexpected_response" << 1 << ""
        << "api.unexpected_response"
        << "text/html";
    QTest::newRow("NET-18/200-json-empty-object")
        << QJsonArray{QJsonObject{{"status", 200}, {"json", QJsonObject()}}} << 2
        << "api.unexpected_response" << 1 << ""
        << "api.unexpected_response"
        << "application/json";
    QTest::newRow("NET-18/502-html-retried")
        << QJsonArray{QJsonObject{{"status", 502}, {"html", "<html>Bad gateway</html>"}},
                      QJsonObject{{"status", 502}, {"html", "<html>Bad gateway</html>"}},
                      QJsonObject{{"status", 502}, {"html", "<html>Bad gateway</html>"}}}
        << 2 << "api.unexpected_response" << 3 << "500,875"
        << "api.unexpected_response"
        << "HTTP 502";
    QTest::newRow("NET-23/error-first-event-then-ok")
        << QJsonArray{rawSse(SseScript().error("overloaded_error", "Overloaded").bytes()),
                      okExample()}
        << 2 << "" << 2 << "500"
        << "api.overloaded"
        << "";
    QTest::newRow("NET-13/error-mid-stream-then-stop-then-ok")
        << QJsonArray{rawSse(SseScript()
                                 .messageStart()
                                 .textBlock(0, {"Hel", "lo"})
                                 .error("overloaded_error", "Overloaded")
                                 .messageDelta("end_turn", 3)
                                 .messageStop()
                                 .bytes()),
                      okExample()}
        << 2 << "" << 2 << "500"
        << "api.overloaded"
        << "";
    QTest::newRow("NET-13/error-mid-stream-always")
        << QJsonArray{rawSse(SseScript()
                                 .messageStart()
                                 .textBlock(0, {"Hi"})
                                 .error("api_error", "Internal")
                                 .bytes()),
                      rawSse(SseScript()
                                 .messageStart()
                                 .textBlock(0, {"Hi"})
                                 .error("api_error", "Internal")
                                 .bytes()),
                      rawSse(SseScript()
                                 .messageStart()
                                 .textBlock(0, {"Hi"})
                                 .error("api_error", "Internal")
                                 .bytes())}
        << 2 << "api.server" << 3 << "500,875"
        << "api.server"
        << "req_fake_stream";
    const QList<std::pair<const char*, QByteArray>> cuts = {
        {"after-message-start", "event: content_block_start"},
        {"inside-partial-json", "est\\\", "},
        {"after-tool-block-stop", "event: message_delta"},
        {"between-message-delta-and-stop", "event: message_stop"},
        {"mid-line", "\"input_json_delta\",\"partial_json\":\"\"}"}};
    for (const auto& [name, marker] : cuts) {
        QTest::addRow("NET-24/cut-%s", name)
            << QJsonArray{okExample({{"cutBefore", QString::fromUtf8(marker)}}), okExample()} << 2
            << "" << 2 << "500"
            << "api.stream_incomplete"
            << "";
        QTest::addRow("NET-24/cut-%s-chunked-no-retry-left", name)
            << QJsonArray{okExample({{"cutBefore", QString::fromUtf8(marker)}, {"chunked", true}})}
            << 0 << "api.stream_incomplete" << 1 << ""
            << "api.stream_incomplete"
            << "nothing";
    }
    // Qt itself re-sends once after a connection closed before any response, so each of our
    // attempts meets two resets; the third attempt is the last of the budget.
    const QJsonObject reset{{"resetBeforeHeaders", true}};
    QTest::newRow("NET-25/reset-before-headers")
        << QJsonArray{reset, reset, reset, reset, reset, reset, okExample()} << 2 << "api.network"
        << 3 << "500,875"
        << "api.network"
        << "";
    QTest::newRow("NET-16/line-over-cap") << QJsonArray{rawSse(SseScript().messageStart().bytes() +
                                                               "data: " + QByteArray(2 << 20, 'x'))}
                                          << 2 << "api.response_too_large" << 1 << ""
                                          << "api.response_too_large"
                                          << "too large";
    QTest::newRow("NET-17/malformed-json")
        << QJsonArray{rawSse(SseScript()
                                 .messageStart()
                                 .event("content_block_start", QByteArray("{\"type\":"))
                                 .bytes())}
        << 2 << "api.unexpected_response" << 1 << ""
        << "api.unexpected_response"
        << "content_block_start";
    QTest::newRow("NET-14/invalid-tool-input")
        << QJsonArray{rawSse(SseScript()
                                 .messageStart()
                                 .toolUseBlock(0, "toolu_1", "run_command", {"{\"argv\":"})
                                 .messageDelta("tool_use", 5)
                                 .messageStop()
                                 .bytes())}
        << 2 << "api.invalid_tool_input" << 1 << ""
        << "api.invalid_tool_input"
        << "invalid tool input";
}

void TestClaudeProvider::scenarios() {
    QFETCH(QJsonArray, replies);
    QFETCH(int, maxRetries);
    QFETCH(QString, code);
    QFETCH(int, attempts);
    QFETCH(QString, waits);
    QFETCH(QString, firstCode);
    QFETCH(QString, mention);

    FakeClaudeServer fake;
    QString loadError;
    QVERIFY(fake.loadScenario(QJsonObject{{"replies", replies}}, QString(), &loadError));
    QVERIFY(fake.listen());
    ClaudeProvider::Options options = testOptions(fake.url());
    options.maxRetries = maxRetries;
    ClaudeProvider provider(kKey, options);
    const Run run = runTurn(provider, sampleRequest());
    QVERIFY(!run.timedOut);
    QVERIFY(!provider.isBusy());
    if (code.isEmpty()) {
        QVERIFY2(run.message, qPrintable(run.error ? run.error->message : QString()));
        QCOMPARE(run.message->stopReason, QStringLiteral("tool_use"));
        QCOMPARE(run.message->usage.outputTokens, 41);
        QCOMPARE(QJsonDocument(run.message->content[1].toObject().value("input").toObject())
                     .toJson(QJsonDocument::Compact),
                 QByteArray(R"({"argv":["ctest","-L","unit"]})"));
        QCOMPARE(run.message->requestId, run.attempts.last().requestId);
        QVERIFY(run.attempts.last().succeeded());
        QCOMPARE(run.text, QStringLiteral("Running the tests.")); // earlier attempts' text dropped
    } else {
        QVERIFY(!run.message);
        QVERIFY(run.error);
        QCOMPARE(run.error->code, code);
        if (!mention.isEmpty())
            QVERIFY2(run.error->message.contains(mention), qPrintable(run.error->message));
        QVERIFY(!run.error->message.contains(QLatin1String("<html")));
        QVERIFY(!run.error->message.contains(QLatin1String("secret-body")));
    }
    QCOMPARE(run.attempts.size(), attempts);
    if (firstCode != QLatin1String("api.network"))
        QCOMPARE(fake.requests().size(), attempts);
    QCOMPARE(waitsOf(run), waits);
    if (!firstCode.isEmpty())
        QCOMPARE(run.attempts.first().error.code, firstCode);
    for (int i = 0; i < run.attempts.size(); ++i) {
        QCOMPARE(run.attempts[i].attempt, i + 1);
        QCOMPARE(run.attempts[i].model, QStringLiteral("claude-sonnet-4-6"));
        if (firstCode != QLatin1String("api.network"))
            QVERIFY(run.attempts[i].requestId.startsWith(QLatin1String("req_fake_")));
    }
    QVERIFY(!everything(run).contains(QString::fromLatin1(kKey)));
}

void TestClaudeProvider::headersAndBody() {
    FakeClaudeServer fake;
    fake.enqueue(FakeClaudeServer::Reply::stream(example()));
    QVERIFY(fake.listen());
    ClaudeProvider provider(kKey, testOptions(fake.url()));
    const Run run = runTurn(provider, sampleRequest());
    QVERIFY(run.message);
    QCOMPARE(fake.requests().size(), 1);
    const auto& req = fake.requests().first();
    QCOMPARE(req.method, QByteArray("POST"));
    QCOMPARE(req.target, QByteArray("/v1/messages"));
    QCOMPARE(req.headers.value("x-api-key"), kKey);
    QCOMPARE(req.headers.value("anthropic-version"), QByteArray("2023-06-01"));
    QCOMPARE(req.headers.value("content-type"), QByteArray("application/json"));
    QCOMPARE(req.headers.value("accept"), QByteArray("application/json"));
    QVERIFY(req.headers.value("user-agent").startsWith("m1-agent-control/"));
    QVERIFY(!req.headers.contains("authorization"));
    const QJsonObject body = QJsonDocument::fromJson(req.body).object();
    QCOMPARE(body.value("stream"), QJsonValue(true));
    QCOMPARE(body.value("tool_choice").toObject().value("type").toString(), QStringLiteral("auto"));
    for (const char* banned : {"temperature", "top_p", "top_k"})
        QVERIFY(!body.contains(QLatin1String(banned)));
    QCOMPARE(body.value("system").toArray().first().toObject().value("text").toString(),
             sampleRequest().systemPrompt);
    QCOMPARE(run.previews,
             QStringList{R"(1:toolu_fake_02:run_command:{"argv":["ctest","-L","unit"]})"});
    // SEC-09: the attempt row has what the audit needs and no header.
    const ApiAttempt& a = run.attempts.first();
    QCOMPARE(a.method, QStringLiteral("POST"));
    QCOMPARE(a.endpoint, QStringLiteral("/v1/messages"));
    QCOMPARE(a.httpStatus, 200);
    QCOMPARE(a.usage.inputTokens, 1250);
    QVERIFY(a.usage.final);
    QVERIFY(a.latencyMs >= 0);
}

void TestClaudeProvider::redirectNotFollowed() {
    FakeClaudeServer second;
    second.enqueue(FakeClaudeServer::Reply::stream(example()));
    QVERIFY(second.listen());
    FakeClaudeServer first;
    FakeClaudeServer::Reply redirect = FakeClaudeServer::Reply::json(307, QJsonObject());
    redirect.header("location", (second.url().toString() + "/v1/messages").toLatin1());
    first.enqueue(redirect);
    QVERIFY(first.listen());
    ClaudeProvider provider(kKey, testOptions(first.url()));
    const Run run = runTurn(provider, sampleRequest());
    QVERIFY(run.error);
    QCOMPARE(run.error->code, QStringLiteral("api.redirect"));
    QCOMPARE(run.attempts.size(), 1);
    QTest::qWait(100);
    QCOMPARE(second.requests().size(), 0); // NET/§7-26: the key never went there
}

void TestClaudeProvider::baseUrlPolicy_data() {
    QTest::addColumn<QString>("url");
    QTest::addColumn<bool>("allowed");
    QTest::newRow("https") << "https://api.anthropic.com" << true;
    QTest::newRow("http-127.0.0.1") << "http://127.0.0.1:8080" << true;
    QTest::newRow("http-127.3.4.5") << "http://127.3.4.5:8080" << true;
    QTest::newRow("http-ipv6-loopback") << "http://[::1]:8080" << true;
    QTest::newRow("http-localhost") << "http://LOCALHOST:8080" << true;
    QTest::newRow("http-remote") << "http://api.anthropic.com" << false;
    QTest::newRow("http-lan") << "http://192.168.1.10" << false;
    QTest::newRow("http-localhost-lookalike") << "http://localhost.evil.example" << false;
    QTest::newRow("http-127-prefix-name") << "http://127.0.0.1.nip.io" << false;
    QTest::newRow("ftp") << "ftp://127.0.0.1" << false;
    QTest::newRow("no-host") << "https://" << false;
}

void TestClaudeProvider::baseUrlPolicy() {
    QFETCH(QString, url);
    QFETCH(bool, allowed);
    const Status s = ClaudeProvider::checkBaseUrl(QUrl(url));
    QCOMPARE(s.has_value(), allowed);
    if (!allowed)
        QCOMPARE(s.error().code, QStringLiteral("api.insecure_url"));
}

void TestClaudeProvider::insecureUrlRefusedWithoutNetwork() {
    ClaudeProvider provider(kKey, testOptions(QUrl(QStringLiteral("http://example.com"))));
    const Run run = runTurn(provider, sampleRequest());
    QVERIFY(run.error);
    QCOMPARE(run.error->code, QStringLiteral("api.insecure_url"));
    QVERIFY(run.attempts.isEmpty());
}

void TestClaudeProvider::connectionRefused() {
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost));
    const quint16 port = probe.serverPort();
    probe.close();
    ClaudeProvider provider(kKey,
                            testOptions(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port))));
    const Run run = runTurn(provider, sampleRequest());
    QVERIFY(run.error);
    QCOMPARE(run.error->code, QStringLiteral("api.network"));
    QCOMPARE(run.attempts.size(), 3);
    QCOMPARE(run.attempts.first().errorType, QStringLiteral("connection_refused"));
}

void TestClaudeProvider::cancelMidStream() {
    FakeClaudeServer fake;
    FakeClaudeServer::Reply stalled = FakeClaudeServer::Reply::stream(example());
    stalled.stallAfter = example().indexOf(
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1");
    fake.enqueue(stalled);
    QVERIFY(fake.listen());
    ClaudeProvider provider(kKey, testOptions(fake.url()));
    const Run run = runTurn(provider, sampleRequest(), 15000, [&] { provider.cancel(); });
    QVERIFY(!run.timedOut);
    QVERIFY(run.error);
    QCOMPARE(run.error->code, QStringLiteral("api.cancelled"));
    QCOMPARE(run.attempts.size(), 1);
    QCOMPARE(run.attempts.first().error.code, QStringLiteral("api.cancelled"));
    QVERIFY(run.attempts.first().usage.known); // NET-19: the counts seen are kept
    QVERIFY(run.previews.isEmpty());
    QVERIFY(!provider.isBusy());
}

void TestClaudeProvider::cancelFromReceiverMidBatch() {
    // The whole stream arrives in one read; a receiver of the first text cancels. Exactly one
    // of turnFinished / turnFailed: nothing of the rest of the batch comes out after it.
    FakeClaudeServer fake;
    fake.enqueue(FakeClaudeServer::Reply::stream(example()));
    QVERIFY(fake.listen());
    ClaudeProvider provider(kKey, testOptions(fake.url()));
    bool finished = false;
    const auto c = QObject::connect(&provider, &ModelProvider::turnFinished,
                                    [&](const AssistantMessage&) { finished = true; });
    const Run run = runTurn(provider, sampleRequest(), 15000, [&] { provider.cancel(); });
    QObject::disconnect(c);
    QVERIFY(!run.timedOut);
    QVERIFY(run.error);
    QCOMPARE(run.error->code, QStringLiteral("api.cancelled"));
    QVERIFY(!finished);
    QVERIFY(!run.message);
    QVERIFY(run.previews.isEmpty());
    QCOMPARE(run.attempts.size(), 1);
    QVERIFY(!provider.isBusy());
}

void TestClaudeProvider::textDeltasJoinedPerRead() {
    QStringList deltas;
    for (int i = 0; i < 50; ++i)
        deltas << QStringLiteral("word%1 \u00e9 ").arg(i);
    FakeClaudeServer fake;
    fake.enqueue(FakeClaudeServer::Reply::stream(SseScript()
                                                     .messageStart()
                                                     .textBlock(0, deltas)
                                                     .messageDelta(QStringLiteral("end_turn"), 60)
                                                     .messageStop()
                                                     .bytes()));
    QVERIFY(fake.listen());
    ClaudeProvider provider(kKey, testOptions(fake.url()));
    int emitted = 0;
    const auto c =
        QObject::connect(&provider, &ModelProvider::textDelta, [&](int index, const QString&) {
            QCOMPARE(index, 0);
            ++emitted;
        });
    const Run run = runTurn(provider, sampleRequest());
    QObject::disconnect(c);
    QVERIFY(run.message);
    QCOMPARE(run.text, deltas.join(QString()));
    QCOMPARE(run.message->content.at(0).toObject().value("text").toString(), run.text);
    // One write of the whole stream: one signal per read, not one per delta.
    QVERIFY2(emitted >= 1 && emitted < deltas.size(), qPrintable(QString::number(emitted)));
}

void TestClaudeProvider::stallTimesOut() {
    FakeClaudeServer fake;
    FakeClaudeServer::Reply stalled = FakeClaudeServer::Reply::stream(example());
    stalled.stallAfter = example().indexOf("event: message_delta");
    fake.enqueue(stalled);
    QVERIFY(fake.listen());
    ClaudeProvider::Options options = testOptions(fake.url());
    options.transferTimeoutMs = 300;
    options.maxRetries = 0;
    ClaudeProvider provider(kKey, options);
    // api.timeout proves the transfer timeout fired (the stalled server never closes).
    const Run run = runTurn(provider, sampleRequest());
    QVERIFY(run.error);
    QCOMPARE(run.error->code, QStringLiteral("api.timeout"));
    QVERIFY(!run.previews.isEmpty()); // the block closed, yet no message and no proposal
    QVERIFY(!run.message);
}

void TestClaudeProvider::turnDeadline() {
    FakeClaudeServer fake;
    // Pings every 50 ms keep the transfer timeout happy; only the deadline can end it.
    QByteArray pings = SseScript().messageStart().bytes();
    for (int i = 0; i < 200; ++i)
        pings += SseScript().ping().bytes();
    FakeClaudeServer::Reply r = FakeClaudeServer::Reply::stream(pings);
    r.chunks(30, 30, 1);
    r.pauseMs = 50;
    fake.enqueue(r);
    QVERIFY(fake.listen());
    ClaudeProvider::Options options = testOptions(fake.url());
    options.transferTimeoutMs = 2000;
    options.turnDeadlineMs = 400;
    ClaudeProvider provider(kKey, options);
    const Run run = runTurn(provider, sampleRequest());
    QVERIFY(run.error);
    QCOMPARE(run.error->code, QStringLiteral("api.timeout"));
    QCOMPARE(run.attempts.size(), 1);
    QCOMPARE(run.attempts.first().errorType, QStringLiteral("deadline"));
}

void TestClaudeProvider::invalidConversationRefused() {
    FakeClaudeServer fake;
    fake.enqueue(FakeClaudeServer::Reply::stream(example()));
    QVERIFY(fake.listen());
    ClaudeProvider provider(kKey, testOptions(fake.url()));
    ModelRequest request = sampleRequest();
    // A tool_use answered by nothing: the fake gives the API's 400 wording.
    request.messages.append(
        QJsonObject{{"role", "assistant"},
                    {"content", QJsonArray{QJsonObject{{"type", "tool_use"},
                                                       {"id", "toolu_9"},
                                                       {"name", "run_command"},
                                                       {"input", QJsonObject()}}}}});
    request.messages.append(
        QJsonObject{{"role", "user"},
                    {"content", QJsonArray{QJsonObject{{"type", "text"}, {"text", "go on"}}}}});
    const Run run = runTurn(provider, request);
    QVERIFY(run.error);
    QCOMPARE(run.error->code, QStringLiteral("api.invalid_request"));
    QVERIFY2(run.error->message.contains("`tool_use` ids were found without `tool_result`"),
             qPrintable(run.error->message));

    // Wrong key: 401 whose message tells the user without printing any key.
    ClaudeProvider wrong(QByteArrayLiteral("sk-ant-api03-wrong-key-XYZ-0000000000AA"),
                         testOptions(fake.url()));
    const Run denied = runTurn(wrong, sampleRequest());
    QVERIFY(denied.error);
    QCOMPARE(denied.error->code, QStringLiteral("api.authentication"));
    QVERIFY(!denied.error->message.contains(QLatin1String("sk-ant")));
    QCOMPARE(denied.attempts.size(), 1);
}

void TestClaudeProvider::modelCatalog() {
    const auto catalog = ModelCatalog::builtin();
    QVERIFY(catalog);
    QVERIFY(catalog->find(QStringLiteral("claude-sonnet-4-6")));
    QCOMPARE(catalog->find(QStringLiteral("claude-sonnet-4-5-20250929"))->status,
             QStringLiteral("deprecated"));
    QCOMPARE(catalog->find(QStringLiteral("claude-sonnet-4-5"))->endOfLife, QDate(2026, 11, 30));
    QCOMPARE(catalog->find(QStringLiteral("claude-haiku-4-5"))->contextWindow, 200000);
    QVERIFY(!catalog->find(QStringLiteral("claude-3-5-haiku-20241022")));
    auto user = ModelCatalog::parse(
        R"({"models":[{"id":"claude-sonnet-4-6","display_name":"Mine","status":"legacy"},{"id":"claude-new-6"}]})",
        "user.json");
    QVERIFY(user);
    ModelCatalog merged = *catalog;
    merged.merge(*user);
    QCOMPARE(merged.find(QStringLiteral("claude-sonnet-4-6"))->displayName, QStringLiteral("Mine"));
    QVERIFY(merged.find(QStringLiteral("claude-new-6")));
    QCOMPARE(ModelCatalog::parse("{", "bad.json").error().code, QStringLiteral("models.invalid"));
}

QTEST_GUILESS_MAIN(TestClaudeProvider)
#include "tst_claude_provider.moc"
