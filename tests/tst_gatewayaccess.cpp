// Access control and limits of the real gateway over real sockets: tokens (Bearer, ?token= →
// session cookie), 401/403 per route, CORS, per-address and request-size limits, idle timeout,
// and churn without leaks.
#include "accesspolicy.h"
#include "envelope.h"
#include "gateway.h"
#include "gatewaytest.h"
#include "hub.h"
#include "rawhttp.h"
#include "redissubscriber.h"
#include "ssetestclient.h"
#include "testredis.h"
#include "trustedproxies.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTest>

#include <memory>

namespace {

const QByteArray aliceToken = "alice-0123456789abcdef";
const QByteArray botToken = "ci-bot-fedcba9876543210";

using RawHttp::exchange;
using RawHttp::headerOf;
using RawHttp::statusOf;

} // namespace

class tst_GatewayAccess : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void tokenFileParsing_data();
    void tokenFileParsing();
    void routeMatrix_data();
    void routeMatrix();
    void tokenInUrlBecomesSessionCookie();
    void streamIsLimitedToTokenChannels();
    void corsOnlyForNamedOrigins();
    void perAddressLimit();
    void trustedProxyNamesTheClient();
    void requestSizeLimits();
    void idleConnectionsAreClosed();
    void selectionLimits();
    void churnLeavesNoLeaks();

private:
    GatewayConfig config(bool withTokens) const;
    std::unique_ptr<Gateway> start(const GatewayConfig &c);

    TestRedis m_redis;
    std::unique_ptr<Gateway> m_gateway;
};

GatewayConfig tst_GatewayAccess::config(bool withTokens) const
{
    return GatewayTest::config(m_redis, withTokens ? QByteArray("# test tokens\n" + aliceToken +
                                                                "  logs:* +metrics\n" + botToken +
                                                                "  logs:metrics, logs:errors\n")
                                                   : QByteArray());
}

std::unique_ptr<Gateway> tst_GatewayAccess::start(const GatewayConfig &c)
{
    return GatewayTest::start(c);
}

void tst_GatewayAccess::initTestCase()
{
    QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
}

void tst_GatewayAccess::cleanup()
{
    m_gateway.reset();
}

void tst_GatewayAccess::tokenFileParsing_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<int>("tokens");
    QTest::addColumn<QString>("error");
    QTest::newRow("two") << QByteArray("aaaaaaaa logs:*\n# c\n\nbbbbbbbb  x:a, x:b # tail\n") << 2
                         << QString();
    QTest::newRow("crlf") << QByteArray("aaaaaaaa logs:*\r\nbbbbbbbb logs:e\r\n") << 2 << QString();
    QTest::newRow("short token") << QByteArray("abc logs:*\n") << 0
                                 << QStringLiteral("line 1: token shorter");
    QTest::newRow("no channels") << QByteArray("\naaaaaaaa\n") << 0
                                 << QStringLiteral("line 2: token without channels");
    QTest::newRow("repeated") << QByteArray("aaaaaaaa a\naaaaaaaa b\n") << 0
                              << QStringLiteral("line 2: token repeated from line 1");
    QTest::newRow("non-ascii") << QByteArray("aaaaaaa\xc3\xa9 a\n") << 0
                               << QStringLiteral("printable ASCII");
    QTest::newRow("empty") << QByteArray("# nothing\n") << 0 << QStringLiteral("no tokens");
    QTest::newRow("metrics grant only") << QByteArray("aaaaaaaa +metrics\n") << 1 << QString();
    QTest::newRow("unknown grant") << QByteArray("aaaaaaaa logs:* +admin\n") << 0
                                   << QStringLiteral("line 1: a word starting with '+' is a grant");
}

void tst_GatewayAccess::tokenFileParsing()
{
    QFETCH(QByteArray, text);
    QFETCH(int, tokens);
    QFETCH(QString, error);
    QString why;
    const auto policy = AccessPolicy::parse(text, &why);
    if (error.isEmpty()) {
        QVERIFY2(policy, qPrintable(why));
        QCOMPARE(policy->size(), tokens);
        QVERIFY(policy->authenticate("aaaaaaaa"));
        QVERIFY(!policy->authenticate("aaaaaaa"));
        QVERIFY(!policy->authenticate("aaaaaaaaa"));
        QVERIFY(!policy->authenticate(""));
    } else {
        QVERIFY(!policy);
        QVERIFY2(why.contains(error), qPrintable(why));
    }
}

void tst_GatewayAccess::routeMatrix_data()
{
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("authorization");
    QTest::addColumn<int>("status");
    const QByteArray alice = "Bearer " + aliceToken;
    const QByteArray bot = "Bearer " + botToken;
    for (const char *route : {"/", "/app.js", "/metrics", "/readyz", "/api/channels", "/events"}) {
        QTest::addRow("%s no token", route) << QByteArray(route) << QByteArray() << 401;
        QTest::addRow("%s wrong token", route)
            << QByteArray(route) << QByteArray("Bearer wrong-token-123") << 401;
        QTest::addRow("%s alice", route) << QByteArray(route) << alice << 200;
    }
    QTest::newRow("/healthz no token") << QByteArray("/healthz") << QByteArray() << 200;
    QTest::newRow("/login.css no token") << QByteArray("/login.css") << QByteArray() << 200;
    QTest::newRow("bot own channel") << QByteArray("/events?channels=logs:metrics") << bot << 200;
    QTest::newRow("bot /metrics without +metrics") << QByteArray("/metrics") << bot << 403;
    QTest::newRow("bot other channel")
        << QByteArray("/events?channels=logs:generation") << bot << 403;
    QTest::newRow("bot wider glob") << QByteArray("/events?channels=logs:*") << bot << 403;
    QTest::newRow("alice outside allowlist")
        << QByteArray("/events?channels=secret:x") << alice << 400;
    QTest::newRow("token query") << QByteArray("/events?token=" + aliceToken) << QByteArray()
                                 << 200;
    QTest::newRow("lower-case bearer")
        << QByteArray("/metrics") << QByteArray("bearer " + aliceToken) << 200;
}

void tst_GatewayAccess::routeMatrix()
{
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, authorization);
    QFETCH(int, status);
    m_gateway = start(config(true));
    QVERIFY(m_gateway);
    SseTestClient client;
    QList<QPair<QByteArray, QByteArray>> headers;
    if (!authorization.isEmpty())
        headers.append({"Authorization", authorization});
    client.open(m_gateway->port(), target, headers);
    QTRY_VERIFY_WITH_TIMEOUT(client.headComplete(), 30000);
    QCOMPARE(client.status(), status);
    if (status == 401) {
        QCOMPARE(client.header("www-authenticate"), QByteArray("Bearer realm=\"llmstreamer\""));
        if (target == "/") { // browsers get the sign-in page
            QTRY_VERIFY_WITH_TIMEOUT(client.body().contains("<form"), 30000);
        }
    }
    if (status == 403)
        QTRY_VERIFY_WITH_TIMEOUT(client.body().contains("may not read"), 30000);
}

void tst_GatewayAccess::tokenInUrlBecomesSessionCookie()
{
    m_gateway = start(config(true));
    QVERIFY(m_gateway);
    const quint16 port = m_gateway->port();
    const QByteArray r =
        exchange(port, "GET /?token=" + aliceToken + "&q=err HTTP/1.1\r\nHost: x\r\n\r\n");
    QCOMPARE(statusOf(r), 303);
    QCOMPARE(headerOf(r, "Location"), QByteArray("/?q=err")); // the token left the URL
    const QByteArray cookie = headerOf(r, "Set-Cookie");
    QVERIFY(cookie.startsWith("llmstreamer_session="));
    QVERIFY(cookie.contains("HttpOnly"));
    QVERIFY(cookie.contains("SameSite=Strict"));
    QVERIFY(!cookie.contains(aliceToken));
    const QByteArray session = cookie.split(';').first();

    const QByteArray page =
        exchange(port, "GET /?q=err HTTP/1.1\r\nHost: x\r\nCookie: a=b; " + session + "\r\n\r\n");
    QCOMPARE(statusOf(page), 200);
    QVERIFY(page.contains("app.js"));
    QCOMPARE(statusOf(exchange(port, "GET /api/channels HTTP/1.1\r\nHost: x\r\nCookie: " + session +
                                         "\r\n\r\n")),
             200);
    QCOMPARE(
        statusOf(exchange(
            port,
            "GET /api/channels HTTP/1.1\r\nHost: x\r\nCookie: llmstreamer_session=forged\r\n\r\n")),
        401);
    // A wrong token in the URL is refused, never exchanged.
    QCOMPARE(statusOf(exchange(port, "GET /?token=nope-nope-nope HTTP/1.1\r\nHost: x\r\n\r\n")),
             401);
    const QByteArray metrics = SseTestClient::get(port, "/healthz").body;
    QCOMPARE(metrics, QByteArray("ok\n"));
}

void tst_GatewayAccess::streamIsLimitedToTokenChannels()
{
    m_gateway = start(config(true));
    QVERIFY(m_gateway);
    SseTestClient bot;
    bot.open(m_gateway->port(), "/events", {{"Authorization", "Bearer " + botToken}});
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    for (const char *ch : {"logs:generation", "logs:metrics", "logs:errors", "logs:secret"})
        m_redis.publish(ch, ch);
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->channels().size(), size_t(4), 30000);
    QTRY_COMPARE_WITH_TIMEOUT(bot.count(), 2, 30000);
    QStringList got;
    for (const SseEvent &e : bot.events("message"))
        got << Envelope::decode(e.data)->channel;
    QCOMPARE(got, (QStringList{QStringLiteral("logs:metrics"), QStringLiteral("logs:errors")}));

    const QByteArray r = exchange(
        m_gateway->port(),
        "GET /api/channels HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + botToken + "\r\n\r\n");
    const QJsonObject o = QJsonDocument::fromJson(r.mid(r.indexOf("\r\n\r\n") + 4)).object();
    QCOMPARE(o.value(QStringLiteral("channels")).toArray().size(), 2);
    QCOMPARE(o.value(QStringLiteral("permitted")).toArray().size(), 2);
}

void tst_GatewayAccess::corsOnlyForNamedOrigins()
{
    GatewayConfig c = config(false);
    c.corsOrigins = {"https://grafana.example"};
    m_gateway = start(c);
    QVERIFY(m_gateway);
    const quint16 port = m_gateway->port();
    const QByteArray ok = exchange(
        port, "GET /api/channels HTTP/1.1\r\nHost: x\r\nOrigin: https://grafana.example\r\n\r\n");
    QCOMPARE(headerOf(ok, "Access-Control-Allow-Origin"), QByteArray("https://grafana.example"));
    QCOMPARE(headerOf(ok, "Vary"), QByteArray("Origin"));
    const QByteArray other = exchange(
        port, "GET /api/channels HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n\r\n");
    QCOMPARE(statusOf(other), 200);
    QVERIFY(headerOf(other, "Access-Control-Allow-Origin").isEmpty());
    const QByteArray preflight = exchange(
        port, "OPTIONS /events HTTP/1.1\r\nHost: x\r\nOrigin: "
              "https://grafana.example\r\nAccess-Control-Request-Headers: last-event-id\r\n\r\n");
    QCOMPARE(statusOf(preflight), 204);
    QVERIFY(headerOf(preflight, "Access-Control-Allow-Headers").contains("Last-Event-ID"));
    SseTestClient stream;
    stream.open(port, "/events", {{"Origin", "https://grafana.example"}});
    QTRY_VERIFY_WITH_TIMEOUT(stream.headComplete(), 30000);
    QCOMPARE(stream.header("access-control-allow-origin"), QByteArray("https://grafana.example"));

    // Off by default.
    m_gateway = start(config(false));
    QVERIFY(m_gateway);
    const QByteArray none = exchange(
        m_gateway->port(),
        "GET /api/channels HTTP/1.1\r\nHost: x\r\nOrigin: https://grafana.example\r\n\r\n");
    QVERIFY(headerOf(none, "Access-Control-Allow-Origin").isEmpty());
}

void tst_GatewayAccess::perAddressLimit()
{
    GatewayConfig c = config(false);
    c.maxClientsPerAddress = 3;
    m_gateway = start(c);
    QVERIFY(m_gateway);
    std::vector<std::unique_ptr<SseTestClient>> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(std::make_unique<SseTestClient>());
        clients.back()->open(m_gateway->port(), "/events");
    }
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 3, 30000);
    SseTestClient fourth;
    fourth.open(m_gateway->port(), "/events");
    QTRY_VERIFY_WITH_TIMEOUT(fourth.headComplete(), 30000);
    QCOMPARE(fourth.status(), 429);
    QCOMPARE(fourth.header("retry-after"), QByteArray("5"));
    clients.front()->close();
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 2, 30000);
    SseTestClient again;
    again.open(m_gateway->port(), "/events");
    QTRY_VERIFY_WITH_TIMEOUT(again.headComplete(), 30000);
    QCOMPARE(again.status(), 200);
    const QByteArray metrics = SseTestClient::get(m_gateway->port(), "/metrics").body;
    QVERIFY(metrics.contains("llmstreamer_limit_hits_total{limit=\"max_clients_per_address\"} 1"));
}

void tst_GatewayAccess::trustedProxyNamesTheClient()
{
    GatewayConfig c = config(false);
    c.maxClientsPerAddress = 1;
    c.maxConnectionsPerAddress = 2;
    QString why;
    c.trustedProxies = *TrustedProxies::parse(QStringLiteral("127.0.0.1"), &why);
    m_gateway = start(c);
    QVERIFY(m_gateway);
    const quint16 port = m_gateway->port();
    const Hub &hub = *m_gateway->hub();
    const auto from = [&](const char *address) {
        return hub.clientsFrom(QHostAddress(QString::fromLatin1(address)));
    };
    auto open = [&](SseTestClient &client, const QByteArray &name, const QByteArray &value,
                    const QHostAddress &peer = QHostAddress::LocalHost) {
        client.open(port, "/events", {{name, value}}, peer);
        return QTest::qWaitFor([&] { return client.headComplete(); }, 30000);
    };

    // Through "the proxy" (127.0.0.1), each client counts for itself: the right-most address
    // that is not a trusted proxy, from X-Forwarded-For or Forwarded.
    SseTestClient a, b;
    QVERIFY(open(a, "X-Forwarded-For", "203.0.113.7, 198.51.100.1"));
    QVERIFY(open(b, "Forwarded", "for=\"[2001:db8::7]:4711\";proto=https"));
    QCOMPARE(a.status(), 200);
    QCOMPARE(b.status(), 200);
    QTRY_COMPARE_WITH_TIMEOUT(hub.clientCount(), 2, 30000);
    QCOMPARE(from("198.51.100.1"), 1);
    QCOMPARE(from("2001:db8::7"), 1);
    QCOMPARE(from("127.0.0.1"), 0);
    // The limit holds per client, and the refusal names it.
    SseTestClient again;
    QVERIFY(open(again, "X-Forwarded-For", "198.51.100.1"));
    QCOMPARE(again.status(), 429);
    QTRY_VERIFY_WITH_TIMEOUT(again.body().contains("too many streams from 198.51.100.1"), 30000);
    // A header that cannot be read counts for the proxy itself.
    SseTestClient garbled;
    QVERIFY(open(garbled, "X-Forwarded-For", "198.51.100.1, not-an-address"));
    QCOMPARE(garbled.status(), 200);
    QTRY_COMPARE_WITH_TIMEOUT(from("127.0.0.1"), 1, 30000);
    // From a peer that is not trusted, the headers count for nothing.
    SseTestClient untrusted, untrustedAgain;
    QVERIFY(open(untrusted, "X-Forwarded-For", "203.0.113.99",
                 QHostAddress(QStringLiteral("127.0.0.2"))));
    QCOMPARE(untrusted.status(), 200);
    QTRY_COMPARE_WITH_TIMEOUT(from("127.0.0.2"), 1, 30000);
    QCOMPARE(from("203.0.113.99"), 0);
    QVERIFY(open(untrustedAgain, "Forwarded", "for=203.0.113.98",
                 QHostAddress(QStringLiteral("127.0.0.2"))));
    QCOMPARE(untrustedAgain.status(), 429);
    QTRY_VERIFY_WITH_TIMEOUT(untrustedAgain.body().contains("too many streams from 127.0.0.2"),
                             30000);

    // The request gate counts a proxy's connections (not streams) per client too: two kept-alive
    // connections for one client hold its share ...
    const auto request = [](const QByteArray &client, bool close) -> QByteArray {
        return "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: " + client +
               (close ? "\r\nConnection: close" : "") + "\r\n\r\n";
    };
    std::vector<std::unique_ptr<QTcpSocket>> held;
    for (int i = 0; i < 2; ++i) {
        held.push_back(std::make_unique<QTcpSocket>());
        QTcpSocket &s = *held.back();
        s.connectToHost(QHostAddress::LocalHost, port);
        s.write(request("203.0.113.50", false));
        QByteArray got;
        QVERIFY(
            QTest::qWaitFor([&] { return (got += s.readAll()).contains("\r\n\r\nok"); }, 30000));
        QCOMPARE(statusOf(got), 200);
    }
    // ... so a third is refused, naming the client, while another client gets through.
    const RawHttp::Reply third = RawHttp::untilClosed(port, request("203.0.113.50", true));
    QCOMPARE(statusOf(third.bytes), 429);
    QVERIFY2(third.bytes.contains("too many connections from 203.0.113.50"), third.bytes);
    QCOMPARE(statusOf(RawHttp::untilClosed(port, request("203.0.113.51", true)).bytes), 200);
    // A kept-alive connection that carries another client's request next counts for that one.
    QTcpSocket &moved = *held.front();
    moved.write(request("203.0.113.52", false));
    QByteArray got;
    QVERIFY(
        QTest::qWaitFor([&] { return (got += moved.readAll()).contains("\r\n\r\nok"); }, 30000));
    QCOMPARE(statusOf(RawHttp::untilClosed(port, request("203.0.113.50", true)).bytes), 200);
}

void tst_GatewayAccess::requestSizeLimits()
{
    GatewayConfig c = config(false);
    c.maxRequestBytes = 4096;
    m_gateway = start(c);
    QVERIFY(m_gateway);
    const quint16 port = m_gateway->port();
    const QByteArray big(6000, 'a'); // over the limit, within the read buffer: refused with 431
    QCOMPARE(
        statusOf(exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n")),
        431);
    QCOMPARE(statusOf(exchange(
                 port, "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")),
             413);
    // A head far larger than the limit is never buffered whole; the connection ends.
    QTcpSocket huge;
    huge.connectToHost(QHostAddress::LocalHost, port);
    QVERIFY(huge.waitForConnected(3000));
    const QByteArray flood = "GET / HTTP/1.1\r\nX-Flood: " + QByteArray(4 * 1024 * 1024, 'f');
    huge.write(flood);
    // Refused with 431 as soon as more than the limit arrived without the head's end.
    QTRY_COMPARE_WITH_TIMEOUT(huge.state(), QAbstractSocket::UnconnectedState, 30000);
    QVERIFY(huge.readAll().startsWith("HTTP/1.1 431 "));
    const QByteArray metricsBefore = SseTestClient::get(port, "/metrics").body;
    QVERIFY(metricsBefore.contains("llmstreamer_limit_hits_total{limit=\"max_request_bytes\"} 2"));
    QVERIFY(metricsBefore.contains("llmstreamer_limit_hits_total{limit=\"request_body\"} 1"));
    // And a normal request still works meanwhile.
    QCOMPARE(SseTestClient::get(port, "/healthz").status, 200);
}

void tst_GatewayAccess::idleConnectionsAreClosed()
{
    GatewayConfig c = config(false);
    c.idleTimeoutSeconds = 1;
    m_gateway = start(c);
    QVERIFY(m_gateway);
    QTcpSocket idle; // connects and says nothing
    idle.connectToHost(QHostAddress::LocalHost, m_gateway->port());
    QTcpSocket slow; // starts a request and never finishes it (slowloris)
    slow.connectToHost(QHostAddress::LocalHost, m_gateway->port());
    slow.write("GET /metrics HTTP/1.1\r\nHost: x\r\n");
    SseTestClient stream; // an event stream is exempt
    stream.open(m_gateway->port(), "/events");
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(idle.state(), QAbstractSocket::UnconnectedState, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(slow.state(), QAbstractSocket::UnconnectedState, 30000);
    QTest::qWait(1500); // the stream outlives several idle periods
    QVERIFY(stream.isConnected());
    QCOMPARE(m_gateway->hub()->clientCount(), 1);
    const QByteArray metrics = SseTestClient::get(m_gateway->port(), "/metrics").body;
    QVERIFY(metrics.contains("llmstreamer_limit_hits_total{limit=\"idle_timeout\"} 2"));
}

void tst_GatewayAccess::selectionLimits()
{
    GatewayConfig c = config(false);
    c.maxSelection = 2;
    c.maxGlobLength = 16;
    m_gateway = start(c);
    QVERIFY(m_gateway);
    SseTestClient many, longGlob, fine;
    many.open(m_gateway->port(), "/events?channels=logs:a,logs:b,logs:c");
    longGlob.open(m_gateway->port(), "/events?channels=logs:" + QByteArray(20, 'x'));
    fine.open(m_gateway->port(), "/events?channels=logs:a,logs:b");
    QTRY_VERIFY_WITH_TIMEOUT(many.headComplete() && longGlob.headComplete() && fine.headComplete(),
                             30000);
    QCOMPARE(many.status(), 400);
    QTRY_VERIFY_WITH_TIMEOUT(many.body().contains("at most 2"), 30000);
    QCOMPARE(longGlob.status(), 400);
    QTRY_VERIFY_WITH_TIMEOUT(longGlob.body().contains("longer than 16"), 30000);
    QCOMPARE(fine.status(), 200);
}

void tst_GatewayAccess::churnLeavesNoLeaks()
{
    m_gateway = start(config(false));
    QVERIFY(m_gateway);
    auto fds = [] { return QDir(QStringLiteral("/proc/self/fd")).count(); };
    auto rssKb = [] {
        QFile f(QStringLiteral("/proc/self/status"));
        f.open(QIODevice::ReadOnly);
        for (const QByteArray &line : f.readAll().split('\n'))
            if (line.startsWith("VmRSS:"))
                return line.mid(6).trimmed().split(' ').first().toLongLong();
        return 0LL;
    };
    auto cycle = [&](int n) {
        for (int i = 0; i < n; ++i) {
            SseTestClient c;
            c.open(m_gateway->port(), "/events");
            QTRY_VERIFY_WITH_TIMEOUT(c.headComplete(), 30000);
            c.close();
        }
        QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 0, 30000);
    };
    cycle(200); // warm-up: allocator pools, Qt's internal caches
    const auto fdsBefore = fds();
    const auto rssBefore = rssKb();
    cycle(1000);
    QTRY_COMPARE_WITH_TIMEOUT(fds(), fdsBefore, 30000); // every socket closed on both sides
    const auto rssAfter = rssKb();
    qInfo("1,000 connect/disconnect cycles: fds %lld -> %lld, RSS %lld -> %lld KiB",
          static_cast<long long>(fdsBefore), static_cast<long long>(fds()), rssBefore, rssAfter);
#ifndef __SANITIZE_ADDRESS__
    // Under ASan freed memory waits in quarantine (256 MiB), so RSS grows by design; there
    // LeakSanitizer checks for leaks at exit instead.
    QVERIFY2(rssAfter - rssBefore < 4096, "RSS grew by more than 4 MiB over 1,000 cycles");
#endif
}

QTEST_GUILESS_MAIN(tst_GatewayAccess)
#include "tst_gatewayaccess.moc"
