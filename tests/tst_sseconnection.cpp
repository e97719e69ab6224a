// SseConnection against a scripted HTTP server on a real socket: framing as it arrives in
// separate reads, the reconnection rules (retry:, backoff, Last-Event-ID, the silence watchdog),
// request headers, and HTTP/network errors turned into plain words.
#include "desktopstubserver.h"
#include "sseconnection.h"
#include "testredis.h"

#include <QSignalSpy>
#include <QTest>

using State = SseConnection::State;

namespace {

struct Received
{
    QByteArray type;
    QByteArray data;
    QByteArray id;
    friend bool operator==(const Received &, const Received &) = default;
};

} // namespace

Q_DECLARE_METATYPE(Received)

namespace QTest {
template <> char *toString(const Received &r)
{
    const QByteArray text =
        "{" + r.type + ", \"" + r.data.toPercentEncoding(" {}:\",") + "\", id " + r.id + "}";
    return qstrdup(text.constData());
}
} // namespace QTest

class tst_SseConnection : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void framing_data();
    void framing();
    void honoursRetry_data();
    void honoursRetry();
    void backoffDoublesWhileFailing();
    void watchdogReconnectsSilentConnection();
    void heartbeatsKeepConnectionAlive();
    void resumesWithLastEventIdAndSendsHeaders_data();
    void resumesWithLastEventIdAndSendsHeaders();
    void httpErrors_data();
    void httpErrors();
    void connectionRefusedInPlainWords();
    void notAnEventStream();
    void shutdownEventIsTheReason();
    void stopIsQuiet();
    void newGatewayForgetsLastEventId();

private:
    // Connects `c` to a fresh stub whose every request gets `answer`.
    static void collect(SseConnection &c, QList<Received> *into)
    {
        QObject::connect(&c, &SseConnection::eventReceived, &c, [into](const SseEvent &e) {
            into->append({e.type, e.data, e.lastEventId});
        });
    }
};

void tst_SseConnection::framing_data()
{
    QTest::addColumn<QByteArrayList>("reads");
    QTest::addColumn<QList<Received>>("expected");
    QTest::addColumn<QByteArray>("lastEventId");

    const QByteArray msg = "message";
    QTest::newRow("LF") << QByteArrayList{"id: 1\ndata: a\n\n"} << QList<Received>{{msg, "a", "1"}}
                        << QByteArray("1");
    QTest::newRow("CRLF") << QByteArrayList{"id: 1\r\ndata: a\r\n\r\n"}
                          << QList<Received>{{msg, "a", "1"}} << QByteArray("1");
    QTest::newRow("CR") << QByteArrayList{"id: 1\rdata: a\r\r"} << QList<Received>{{msg, "a", "1"}}
                        << QByteArray("1");
    QTest::newRow("CRLF split between reads") << QByteArrayList{"data: a\r", "\n\r", "\n"}
                                              << QList<Received>{{msg, "a", {}}} << QByteArray();
    QTest::newRow("field split between reads")
        << QByteArrayList{"da", "ta: he", "llo\n", "\n"} << QList<Received>{{msg, "hello", {}}}
        << QByteArray();
    QTest::newRow("multi-line data") << QByteArrayList{"data: a\ndata: b\ndata:\n\n"}
                                     << QList<Received>{{msg, "a\nb\n", {}}} << QByteArray();
    QTest::newRow("comments and heartbeats")
        << QByteArrayList{": connected\n\n", ": 1700000000\n\ndata: x\n\n"}
        << QList<Received>{{msg, "x", {}}} << QByteArray();
    QTest::newRow("event type") << QByteArrayList{"event: stats\ndata: {}\n\n"}
                                << QList<Received>{{"stats", "{}", {}}} << QByteArray();
    QTest::newRow("id carries over")
        << QByteArrayList{"id: 7\ndata: a\n\ndata: b\n\n"}
        << QList<Received>{{msg, "a", "7"}, {msg, "b", "7"}} << QByteArray("7");
    QTest::newRow("empty id resets")
        << QByteArrayList{"id: 7\ndata: a\n\nid\ndata: b\n\n"}
        << QList<Received>{{msg, "a", "7"}, {msg, "b", {}}} << QByteArray();
    QTest::newRow("BOM") << QByteArrayList{"\xEF\xBB\xBF", "data: a\n\n"}
                         << QList<Received>{{msg, "a", {}}} << QByteArray();
    QTest::newRow("no space after colon")
        << QByteArrayList{"data:a\n\n"} << QList<Received>{{msg, "a", {}}} << QByteArray();
    QTest::newRow("unknown field ignored") << QByteArrayList{"foo: bar\ndata: a\n\n"}
                                           << QList<Received>{{msg, "a", {}}} << QByteArray();
    QTest::newRow("incomplete event not dispatched")
        << QByteArrayList{"data: a\n\nid: 9\ndata: b\n"} << QList<Received>{{msg, "a", {}}}
        << QByteArray();
    QTest::newRow("id without data still counts")
        << QByteArrayList{"id: 3\n\n"} << QList<Received>{} << QByteArray("3");
    const QByteArray envelope =
        R"({"id":"1795564825851-2","channel":"logs:generation","ts":1795564826666,"payload":{"level":"ERROR","msg":"x"}})";
    QTest::newRow("gateway envelope")
        << QByteArrayList{"retry: 2000\n\n: connected\n\nid: 1795564825851-2\ndata: " + envelope +
                          "\n\n"}
        << QList<Received>{{msg, envelope, "1795564825851-2"}} << QByteArray("1795564825851-2");
}

void tst_SseConnection::framing()
{
    QFETCH(QByteArrayList, reads);
    QFETCH(QList<Received>, expected);
    QFETCH(QByteArray, lastEventId);

    DesktopStubServer stub;
    QVERIFY(stub.listen());
    stub.setHandler([](QTcpSocket *socket, const QByteArray &, int) {
        socket->write(DesktopStubServer::sseHead());
    });
    SseConnection c;
    QList<Received> received;
    collect(c, &received);
    c.setGatewayUrl(QUrl(QString::fromLatin1(stub.baseUrl())));
    c.start();
    QTRY_COMPARE_WITH_TIMEOUT(c.state(), State::Live, 30000);
    // One read at a time: the next piece is sent only once the client has the previous one.
    quint64 sent = 0;
    for (const QByteArray &piece : reads) {
        stub.lastSocket()->write(piece);
        sent += quint64(piece.size());
        QTRY_COMPARE_WITH_TIMEOUT(c.bytesReceived(), sent, 30000);
    }
    QCOMPARE(received, expected);
    QCOMPARE(c.lastEventId(), lastEventId);
    QCOMPARE(c.state(), State::Live);
}

void tst_SseConnection::honoursRetry_data()
{
    QTest::addColumn<int>("retryMs");
    QTest::newRow("200 ms") << 200;
    QTest::newRow("900 ms") << 900;
}

void tst_SseConnection::honoursRetry()
{
    QFETCH(int, retryMs);
    DesktopStubServer stub;
    QVERIFY(stub.listen());
    QElapsedTimer sinceClose;
    stub.setHandler([&](QTcpSocket *socket, const QByteArray &, int index) {
        socket->write(DesktopStubServer::sseHead());
        if (index == 0) {
            socket->write("retry: " + QByteArray::number(retryMs) + "\n\nid: 1\ndata: a\n\n");
            socket->flush();
            socket->disconnectFromHost();
            sinceClose.start();
        }
    });
    SseConnection c;
    c.setGatewayUrl(QUrl(QString::fromLatin1(stub.baseUrl())));
    QCOMPARE(c.nextRetryDelayMs(), SseConnection::defaultRetryMs); // before the server said
    c.start();
    QTRY_COMPARE_WITH_TIMEOUT(c.state(), State::Reconnecting, 30000);
    QCOMPARE(c.nextRetryDelayMs(), retryMs);
    QVERIFY(c.reason().contains(QLatin1StringView("closed the connection")));
    QTRY_COMPARE_WITH_TIMEOUT(stub.requestCount(), 2, retryMs + 5000);
    // Not before the server's delay (Qt's coarse timers may fire up to 5 % early); no upper
    // bound on a busy machine: the delay scheduled was the server's (nextRetryDelayMs above).
    const qint64 waited = sinceClose.elapsed();
    QVERIFY2(waited >= retryMs * 95 / 100 - 20, qPrintable(QString::number(waited)));
    QCOMPARE(DesktopStubServer::header(stub.requests().at(1), "last-event-id"), QByteArray("1"));
    QTRY_COMPARE_WITH_TIMEOUT(c.state(), State::Live, 30000);
}

void tst_SseConnection::backoffDoublesWhileFailing()
{
    DesktopStubServer stub;
    QVERIFY(stub.listen());
    stub.setHandler([&](QTcpSocket *socket, const QByteArray &, int) {
        socket->write(DesktopStubServer::sseHead() + "retry: 100\n\n");
        socket->flush();
        socket->disconnectFromHost();
        stub.close(); // and the gateway is gone: every further attempt is refused
    });
    SseConnection c;
    QList<int> delays;
    connect(&c, &SseConnection::stateChanged, this, [&](State s) {
        if (s == State::Reconnecting)
            delays.append(c.nextRetryDelayMs());
    });
    c.setGatewayUrl(QUrl(QString::fromLatin1(stub.baseUrl())));
    c.start();
    QTRY_VERIFY_WITH_TIMEOUT(delays.size() >= 4, 30000);
    // The first reconnect after a live stream waits the server's retry; then it doubles.
    QCOMPARE(delays.mid(0, 4), (QList<int>{100, 100, 200, 400}));
    QVERIFY(c.reason().contains(QLatin1StringView("connection refused")));
}

void tst_SseConnection::watchdogReconnectsSilentConnection()
{
    DesktopStubServer stub;
    QVERIFY(stub.listen());
    stub.setHandler([](QTcpSocket *socket, const QByteArray &, int) {
        socket->write(DesktopStubServer::sseHead() + "retry: 50\n\n: connected\n\n");
    });
    SseConnection c;
    QCOMPARE(c.watchdogInterval(), 45000);
    c.setWatchdogInterval(300);
    c.setGatewayUrl(QUrl(QString::fromLatin1(stub.baseUrl())));
    QSignalSpy states(&c, &SseConnection::stateChanged);
    c.start();
    QTRY_COMPARE_WITH_TIMEOUT(c.state(), State::Live, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(c.state(), State::Reconnecting, 30000);
    QVERIFY2(c.reason().contains(QLatin1StringView("no data from the gateway for 0.3 s")),
             qPrintable(c.reason()));
    QTRY_COMPARE_WITH_TIMEOUT(stub.requestCount(), 2, 30000);
}

void tst_SseConnection::heartbeatsKeepConnectionAlive()
{
    DesktopStubServer stub;
    QVERIFY(stub.listen());
    stub.setHandler([](QTcpSocket *socket, const QByteArray &, int) {
        socket->write(DesktopStubServer::sseHead());
    });
    QTimer heartbeat;
    heartbeat.setInterval(100);
    connect(&heartbeat, &QTimer::timeout, this, [&] {
        if (stub.lastSocket())
            stub.lastSocket()->write(": beat\n\n");
    });
    heartbeat.start();
    SseConnection c;
    c.setWatchdogInterval(1000); // 10 heartbeats of slack: a loaded CI machine stalls the loop
    c.setGatewayUrl(QUrl(QString::fromLatin1(stub.baseUrl())));
    c.start();
    QTRY_COMPARE_WITH_TIMEOUT(c.state(), State::Live, 30000);
    QSignalSpy states(&c, &SseConnection::stateChanged);
    QVERIFY(!states.wait(2500)); // comments alone keep it alive well past the watchdog time
    QCOMPARE(stub.requestCount(), 1);
}

void tst_SseConnection::resumesWithLastEventIdAndSendsHeaders_data()
{
    QTest::addColumn<QString>("token");
    QTest::newRow("no token") << QString();
    QTest::newRow("token") << QStringLiteral("s3cret-token");
}

void tst_SseConnection::resumesWithLastEventIdAndSendsHeaders()
{
    QFETCH(QString, token);
    DesktopStubServer stub;
    QVERIFY(stub.listen());
    stub.setHandler([](QTcpSocket *socket, const QByteArray &, int index) {
        socket->write(DesktopStubServer::sseHead());
        if (index == 0) {
            // 6 is complete; 7 is cut off by the close and must not be resumed from.
            socket->write("retry: 10\n\nid: 5\ndata: a\n\nid: 6\ndata: b\n\nid: 7\ndata: c");
            socket->flush();
            socket->disconnectFromHost();
        }
    });
    SseConnection c;
    c.setGatewayUrl(QUrl(QString::fromLatin1(stub.baseUrl())));
    c.setToken(token);
    c.setChannels({QStringLiteral("logs:errors"), QStringLiteral("logs:gen*")});
    c.start();
    QTRY_COMPARE_WITH_TIMEOUT(stub.requestCount(), 2, 30000);
    const QByteArray first = stub.requests().at(0);
    const QByteArray second = stub.requests().at(1);
    QVERIFY2(first.startsWith("GET /events?channels=logs:errors,logs:gen* HTTP/1.1"),
             first.constData());
    QCOMPARE(DesktopStubServer::header(first, "accept"), QByteArray("text/event-stream"));
    QCOMPARE(DesktopStubServer::header(first, "cache-control"), QByteArray("no-cache"));
    QVERIFY(DesktopStubServer::header(first, "last-event-id").isNull());
    QCOMPARE(DesktopStubServer::header(second, "last-event-id"), QByteArray("6"));
    if (token.isEmpty())
        QVERIFY(DesktopStubServer::header(second, "authorization").isNull());
    else
        QCOMPARE(DesktopStubServer::header(second, "authorization"), "Bearer " + token.toUtf8());
}

void tst_SseConnection::httpErrors_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("extraHeaders");
    QTest::addColumn<bool>("permanent");
    QTest::addColumn<QStringList>("saying");

    QTest::newRow("400 channel outside allowlist")
        << 400 << QByteArray("channel \"secret:x\" is outside this gateway's allowlist (logs:*)\n")
        << QByteArray() << true
        << QStringList{QStringLiteral("refused the request (HTTP 400)"),
                       QStringLiteral("\"secret:x\" is outside this gateway's allowlist"),
                       QStringLiteral("Check the channels in Settings")};
    QTest::newRow("401 no token") << 401 << QByteArray("missing or invalid access token")
                                  << QByteArray("WWW-Authenticate: Bearer\r\n") << true
                                  << QStringList{QStringLiteral("needs an access token (HTTP 401)"),
                                                 QStringLiteral("missing or invalid access token"),
                                                 QStringLiteral("Enter the token in Settings")};
    QTest::newRow("401 without challenge")
        << 401 << QByteArray("token required") << QByteArray() << true
        << QStringList{QStringLiteral("HTTP 401"), QStringLiteral("token required")};
    QTest::newRow("403 refused token")
        << 403 << QByteArray("token not allowed") << QByteArray() << true
        << QStringList{QStringLiteral("refused this access token"),
                       QStringLiteral("token not allowed")};
    QTest::newRow("404 wrong address")
        << 404 << QByteArray("not found") << QByteArray() << true
        << QStringList{QStringLiteral("no event stream at"), QStringLiteral("HTTP 404")};
    QTest::newRow("503 busy") << 503 << QByteArray("too many clients (2); try again later")
                              << QByteArray("Retry-After: 1\r\n") << false
                              << QStringList{QStringLiteral("busy (HTTP 503)"),
                                             QStringLiteral("too many clients")};
    QTest::newRow("500") << 500 << QByteArray("boom") << QByteArray() << false
                         << QStringList{QStringLiteral("HTTP 500"), QStringLiteral("boom")};
}

void tst_SseConnection::httpErrors()
{
    QFETCH(int, status);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, extraHeaders);
    QFETCH(bool, permanent);
    QFETCH(QStringList, saying);

    DesktopStubServer stub;
    QVERIFY(stub.listen());
    stub.setHandler([&](QTcpSocket *socket, const QByteArray &, int) {
        socket->write(DesktopStubServer::response(status, "Status", body,
                                                  "text/plain; charset=utf-8", extraHeaders));
        socket->flush();
        socket->disconnectFromHost();
    });
    SseConnection c;
    c.setGatewayUrl(QUrl(QString::fromLatin1(stub.baseUrl())));
    c.start();
    QTRY_VERIFY_WITH_TIMEOUT(c.state() == State::Failed || c.state() == State::Reconnecting, 30000);
    QCOMPARE(c.state(), permanent ? State::Failed : State::Reconnecting);
    QCOMPARE(c.httpStatus(), status);
    for (const QString &words : saying)
        QVERIFY2(c.reason().contains(words), qPrintable(c.reason()));
    if (status == 503) // Retry-After: 1 wins over the default delay
        QVERIFY2(c.nextAttemptInMs() <= 1000 && c.nextAttemptInMs() > 500,
                 qPrintable(QString::number(c.nextAttemptInMs())));
    if (permanent) {
        QSignalSpy states(&c, &SseConnection::stateChanged);
        QVERIFY(!states.wait(300)); // and it stays stopped
        QCOMPARE(stub.requestCount(), 1);
    }
}

void tst_SseConnection::connectionRefusedInPlainWords()
{
    const quint16 port = TestRedis::freePort();
    SseConnection c;
    c.setGatewayUrl(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)));
    c.start();
    QTRY_COMPARE_WITH_TIMEOUT(c.state(), State::Reconnecting, 30000);
    QCOMPARE(c.reason(), QStringLiteral("connection refused by 127.0.0.1:%1; is the gateway "
                                        "running there?")
                             .arg(port));
}

void tst_SseConnection::notAnEventStream()
{
    DesktopStubServer stub;
    QVERIFY(stub.listen());
    stub.setHandler([](QTcpSocket *socket, const QByteArray &, int) {
        socket->write(DesktopStubServer::response(200, "OK", "<html></html>", "text/html"));
    });
    SseConnection c;
    c.setGatewayUrl(QUrl(QString::fromLatin1(stub.baseUrl())));
    c.start();
    QTRY_COMPARE_WITH_TIMEOUT(c.state(), State::Reconnecting, 30000);
    QVERIFY2(c.reason().contains(QLatin1StringView("not with an event stream (Content-Type: "
                                                   "text/html)")),
             qPrintable(c.reason()));
}

void tst_SseConnection::shutdownEventIsTheReason()
{
    DesktopStubServer stub;
    QVERIFY(stub.listen());
    stub.setHandler([](QTcpSocket *socket, const QByteArray &, int index) {
        socket->write(DesktopStubServer::sseHead());
        if (index == 0) {
            socket->write("event: shutdown\ndata: {\"reason\":\"gateway stopping\"}\n\n");
            socket->flush();
            socket->disconnectFromHost();
        }
    });
    SseConnection c;
    QList<Received> received;
    collect(c, &received);
    c.setGatewayUrl(QUrl(QString::fromLatin1(stub.baseUrl())));
    c.start();
    QTRY_COMPARE_WITH_TIMEOUT(c.state(), State::Reconnecting, 30000);
    QCOMPARE(c.reason(), QStringLiteral("the gateway shut down"));
    QCOMPARE(received.size(), 1);
    QCOMPARE(received.front().type, QByteArray("shutdown"));
}

void tst_SseConnection::stopIsQuiet()
{
    DesktopStubServer stub;
    QVERIFY(stub.listen());
    stub.setHandler([](QTcpSocket *socket, const QByteArray &, int) {
        socket->write(DesktopStubServer::sseHead());
    });
    SseConnection c;
    c.setGatewayUrl(QUrl(QString::fromLatin1(stub.baseUrl())));
    c.start();
    QTRY_COMPARE_WITH_TIMEOUT(c.state(), State::Live, 30000);
    c.stop();
    QCOMPARE(c.state(), State::Idle);
    QSignalSpy states(&c, &SseConnection::stateChanged);
    QVERIFY(!states.wait(300));
    QCOMPARE(stub.requestCount(), 1);
}

void tst_SseConnection::newGatewayForgetsLastEventId()
{
    DesktopStubServer stub;
    QVERIFY(stub.listen());
    stub.setHandler([](QTcpSocket *socket, const QByteArray &, int) {
        socket->write(DesktopStubServer::sseHead() + "id: 42\ndata: a\n\n");
    });
    SseConnection c;
    c.setGatewayUrl(QUrl(QString::fromLatin1(stub.baseUrl())));
    c.start();
    QTRY_COMPARE_WITH_TIMEOUT(c.lastEventId(), QByteArray("42"), 30000);
    c.start(); // same gateway (e.g. new channels): resumes
    QTRY_COMPARE_WITH_TIMEOUT(stub.requestCount(), 2, 30000);
    QCOMPARE(DesktopStubServer::header(stub.requests().at(1), "last-event-id"), QByteArray("42"));
    c.setGatewayUrl(QUrl(QStringLiteral("http://localhost:%1").arg(stub.port())));
    QVERIFY(c.lastEventId().isEmpty());
    c.start();
    QTRY_COMPARE_WITH_TIMEOUT(stub.requestCount(), 3, 30000);
    QVERIFY(DesktopStubServer::header(stub.requests().at(2), "last-event-id").isNull());
}

QTEST_GUILESS_MAIN(tst_SseConnection)
#include "tst_sseconnection.moc"
