// The findings of an attack test against the real gateway, each reproduced over real sockets
// with a real redis-server: stream-wide denial of service through long channel names, memory
// exhaustion by pipelining, leaks to restricted tokens, request smuggling, slowloris, oversized
// events, session eviction and token reload. Every test here failed before its fix.
#include "accesspolicy.h"
#include "gateway.h"
#include "gatewaytest.h"
#include "hub.h"
#include "metricssample.h"
#include "rawhttp.h"
#include "redissubscriber.h"
#include "ssetestclient.h"
#include "testredis.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

using namespace RawHttp;

namespace {

const QByteArray aliceToken = "alice-0123456789abcdef"; // logs:* and /metrics
const QByteArray botToken = "ci-bot-fedcba9876543210";  // logs:metrics, logs:errors

QByteArray tokenFile(bool withBot = true)
{
    QByteArray file = aliceToken + "  logs:* +metrics\n";
    if (withBot)
        file += botToken + "  logs:metrics, logs:errors\n";
    return file;
}

QJsonObject json(const QByteArray &data)
{
    return QJsonDocument::fromJson(data).object();
}

QByteArray metricsOf(quint16 port)
{
    return exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                              aliceToken + "\r\n\r\n");
}

} // namespace

class tst_GatewaySecurity : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void longChannelNamesKeepStreamsAlive();
    void channelTableIsBoundedInBytes();
    void pipelinedRequestsWaitForTheReader();
    void smuggling_data();
    void smuggling();
    void oneStreamPerConnection();
    void connectionCloseIsHonoured_data();
    void connectionCloseIsHonoured();
    void perAddressConnectionCap();
    void requestHeadDeadline();
    void bigEventDoesNotCutAClientWithNothingPending();
    void oversizedPayloadIsTruncatedVisibly();
    void restrictedTokensSeeOnlyTheirChannels();
    void sessionsAreCappedPerTokenAndExpire();
    void tokenReloadRevokesStreamsAndSessions();

private:
    GatewayConfig config(bool withTokens) const;
    std::unique_ptr<Gateway> start(const GatewayConfig &c);

    TestRedis m_redis;
    std::unique_ptr<Gateway> m_gateway;
};

GatewayConfig tst_GatewaySecurity::config(bool withTokens) const
{
    return GatewayTest::config(m_redis, withTokens ? QByteArray(tokenFile()) : QByteArray());
}

std::unique_ptr<Gateway> tst_GatewaySecurity::start(const GatewayConfig &c)
{
    return GatewayTest::start(c);
}

void tst_GatewaySecurity::initTestCase()
{
    QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
}

void tst_GatewaySecurity::cleanup()
{
    m_gateway.reset();
}

void tst_GatewaySecurity::longChannelNamesKeepStreamsAlive()
{
    GatewayConfig c = config(true);
    c.maxClientBuffer = 64 * 1024; // the smallest allowed: stats frames must never fill it
    m_gateway = start(c);
    QVERIFY(m_gateway);
    const quint16 port = m_gateway->port();
    SseTestClient victim; // selected one quiet channel
    victim.open(port, "/events?channels=logs:victim", {{"Authorization", "Bearer " + aliceToken}});
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    for (int i = 0; i < 12; ++i)
        QCOMPARE(m_redis.publish("logs:" + QByteArray::number(10 + i) + '-' +
                                     QByteArray(1024 * 1024, 'n'),
                                 "x"),
                 1);
    const qsizetype statsBefore = victim.count("stats");
    QTRY_VERIFY_WITH_TIMEOUT(victim.count("stats") >= statsBefore + 3, 15000);
    m_redis.publish("logs:victim", "still here");
    QTRY_COMPARE_WITH_TIMEOUT(victim.count("message"), 1, 30000);
    QVERIFY(victim.isConnected());
    QCOMPARE(victim.count("dropped"), 0);
    for (const SseEvent &e : victim.events("stats")) {
        QVERIFY(e.data.size() < 4096);
        QVERIFY(!e.data.contains("nnnn"));
    }
    // One aggregate row, said so by its name; /metrics stays small.
    bool found = false;
    for (const Hub::ChannelStats &s : m_gateway->hub()->channels()) {
        QVERIFY(s.name.size() <= Hub::maxTrackedNameBytes);
        if (s.name == "(long names)") {
            found = true;
            QCOMPARE(s.received, quint64(12));
        }
    }
    QVERIFY(found);
    const QByteArray metrics = metricsOf(port);
    QCOMPARE(statusOf(metrics), 200);
    QVERIFY2(metrics.size() < 64 * 1024, QByteArray::number(metrics.size()).constData());

    // A client without a selection sees the aggregate row, never the names.
    SseTestClient all;
    all.open(port, "/events", {{"Authorization", "Bearer " + aliceToken}});
    QTRY_VERIFY_WITH_TIMEOUT(all.count("stats") >= 1, 30000);
    const QJsonObject channels =
        json(all.events("stats").constLast().data).value(QStringLiteral("channels")).toObject();
    QVERIFY(channels.contains(QStringLiteral("(long names)")));
    QVERIFY(all.events("stats").constLast().data.size() < 4096);
}

void tst_GatewaySecurity::channelTableIsBoundedInBytes()
{
    m_gateway = start(config(false));
    QVERIFY(m_gateway);
    // 400 distinct names of 250 bytes: 100 KB of names, within the row limit.
    for (int i = 0; i < 400; ++i)
        m_redis.publish("logs:" + QByteArray::number(1000 + i) + QByteArray(241, 'c'), "x");
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->ring().size(), qsizetype(400), 30000);
    qsizetype nameBytes = 0;
    quint64 other = 0;
    for (const Hub::ChannelStats &s : m_gateway->hub()->channels()) {
        if (s.aggregate)
            other += s.received;
        else
            nameBytes += s.name.size();
    }
    QVERIFY2(nameBytes <= Hub::maxTrackedNameTotal, QByteArray::number(nameBytes).constData());
    QVERIFY(other > 0);
    QCOMPARE(quint64(nameBytes / 250) + other, quint64(400)); // every message counted once
}

void tst_GatewaySecurity::pipelinedRequestsWaitForTheReader()
{
    m_gateway = start(config(true));
    QVERIFY(m_gateway);
    const quint16 port = m_gateway->port();
    // No token: every request is answered with the sign-in page (401, about 1 KB), and the
    // client never reads. Before, the gateway parsed and answered all of them at once. The
    // kernel takes some of the answers whatever the gateway does (its send buffer grows to
    // 4 MiB here (tcp_wmem), and the client's receive buffer would grow to 32 MiB): the client's is
    // fixed small before connecting, and there are more answers than the send buffer holds.
    const int requests = 8000;
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    QVERIFY(fd >= 0);
    const int small = 4096;
    QCOMPARE(::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    QCOMPARE(::connect(fd, reinterpret_cast<const sockaddr *>(&to), sizeof to), 0);
    QTcpSocket attacker;
    QVERIFY(attacker.setSocketDescriptor(fd));
    attacker.setReadBufferSize(4096); // and Qt's buffer: reads from the kernel stop when full
    QByteArray flood;
    for (int i = 0; i < requests; ++i)
        flood += "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    attacker.write(flood);
    // The gateway answers until 64 KiB are unsent, then waits.
    double unsent = 0;
    QTRY_VERIFY_WITH_TIMEOUT(
        (unsent = metricsSample(metricsOf(port), "llmstreamer_unsent_response_bytes")) >= 64 * 1024,
        30000);
    QTest::qWait(500); // a chance to go on answering, which it must not take
    unsent = metricsSample(metricsOf(port), "llmstreamer_unsent_response_bytes");
    QVERIFY2(unsent <= 128 * 1024, QByteArray::number(unsent).constData());

    // Once the client reads, every request is answered, in order, and nothing else.
    const int large = 4 * 1024 * 1024;
    QCOMPARE(::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &large, sizeof large), 0);
    attacker.setReadBufferSize(0);
    QByteArray got;
    QVERIFY(QTest::qWaitFor(
        [&] {
            got += attacker.readAll();
            return responseCount(got) >= requests;
        },
        120000));
    QTest::qWait(200);
    got += attacker.readAll();
    QCOMPARE(responseCount(got), requests);
    QCOMPARE(attacker.state(), QAbstractSocket::ConnectedState);
}

void tst_GatewaySecurity::smuggling_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");
    QByteArray junk = "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 37\r\n";
    for (int i = 0; i < 120; ++i)
        junk += "X-Junk-" + QByteArray::number(i) + ": j\r\n";
    QTest::newRow("120 fields hide Content-Length") << junk + "\r\n" << 431;
    QTest::newRow("CL and TE") << QByteArray("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: "
                                             "37\r\nTransfer-Encoding: chunked\r\n\r\n")
                               << 400;
    QTest::newRow("two CL") << QByteArray("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: "
                                          "0\r\nContent-Length: 37\r\n\r\n")
                            << 400;
    QTest::newRow("obs-fold TE") << QByteArray("GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: "
                                               "a\r\n Transfer-Encoding: chunked\r\n\r\n")
                                 << 400;
    QTest::newRow("CL 5x") << QByteArray(
                                  "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\n\r\n")
                           << 400;
    QTest::newRow("CL -1") << QByteArray(
                                  "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
                           << 400;
    QTest::newRow("missing Host") << QByteArray("GET /healthz HTTP/1.1\r\nX-A: b\r\n\r\n") << 400;
    QTest::newRow("body") << QByteArray(
                                 "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
                          << 413;
    QTest::newRow("head too large")
        << "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + QByteArray(10000, 'b') + "\r\n\r\n"
        << 431;
    QTest::newRow("HTTP/2.0") << QByteArray("GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n") << 505;
}

void tst_GatewaySecurity::smuggling()
{
    QFETCH(QByteArray, request);
    QFETCH(int, status);
    m_gateway = start(config(false));
    QVERIFY(m_gateway);
    // The bytes after the refused head are a request of their own: never answered.
    const Reply reply =
        untilClosed(m_gateway->port(), request + "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    QVERIFY2(reply.closed, reply.bytes.constData());
    QCOMPARE(statusOf(reply.bytes), status);
    QCOMPARE(headerOf(reply.bytes, "Connection"), QByteArray("close"));
    QCOMPARE(responseCount(reply.bytes), 1);
    QVERIFY(!reply.bytes.contains("llmstreamer_build_info"));
}

void tst_GatewaySecurity::oneStreamPerConnection()
{
    m_gateway = start(config(false));
    QVERIFY(m_gateway);
    QTcpSocket s;
    s.connectToHost(QHostAddress::LocalHost, m_gateway->port());
    QByteArray pipelined;
    for (int i = 0; i < 300; ++i)
        pipelined += "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
    s.write(pipelined);
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    QTest::qWait(500); // a chance to open more, which it must not take
    QCOMPARE(m_gateway->hub()->clientCount(), 1);
    m_redis.publish("logs:one", "once");
    QByteArray got;
    QTRY_VERIFY_WITH_TIMEOUT((got += s.readAll()).contains("once"), 30000);
    QCOMPARE(got.count("HTTP/1.1 "), 1);
}

void tst_GatewaySecurity::connectionCloseIsHonoured_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("responses");
    QTest::addColumn<bool>("closed");
    const QByteArray next = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    QTest::newRow("Connection: close")
        << "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + next << 1 << true;
    QTest::newRow("HTTP/1.0") << "GET /healthz HTTP/1.0\r\n\r\n" + next << 1 << true;
    QTest::newRow("HTTP/1.0 keep-alive")
        << "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + next << 2 << false;
    QTest::newRow("keep-alive") << next + next + next << 3 << false;
}

void tst_GatewaySecurity::connectionCloseIsHonoured()
{
    QFETCH(QByteArray, request);
    QFETCH(int, responses);
    QFETCH(bool, closed);
    m_gateway = start(config(false));
    QVERIFY(m_gateway);
    const Reply reply = untilClosed(m_gateway->port(), request, closed ? 5000 : 1500);
    QCOMPARE(reply.closed, closed);
    QCOMPARE(responseCount(reply.bytes), responses);
    if (closed)
        QCOMPARE(headerOf(reply.bytes, "Connection"), QByteArray("close"));
}

void tst_GatewaySecurity::perAddressConnectionCap()
{
    GatewayConfig c = config(false);
    c.maxConnectionsPerAddress = 8;
    m_gateway = start(c);
    QVERIFY(m_gateway);
    const quint16 port = m_gateway->port();
    // Streams do not count.
    SseTestClient streams[3];
    for (SseTestClient &s : streams)
        s.open(port, "/events");
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 3, 30000);
    // Eight half-sent request heads hold the address's share ...
    std::vector<std::unique_ptr<QTcpSocket>> slow;
    for (int i = 0; i < 8; ++i) {
        slow.push_back(std::make_unique<QTcpSocket>());
        slow.back()->connectToHost(QHostAddress::LocalHost, port);
        QVERIFY(slow.back()->waitForConnected(5000));
        slow.back()->write("GET /healthz HTTP/1.1\r\nHost:");
    }
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 3, 30000);
    // ... so a ninth is answered 429 and closed at once, before it could send anything.
    const QByteArray healthz = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const Reply ninth = untilClosed(port, healthz);
    QVERIFY(ninth.closed);
    QCOMPARE(statusOf(ninth.bytes), 429);
    // Another address is not affected (127.0.0.2 is loopback too).
    const Reply other = untilClosed(port, healthz, 5000, QHostAddress(QStringLiteral("127.0.0.2")));
    QCOMPARE(statusOf(other.bytes), 200);
    for (auto &s : slow)
        s->abort();
    QTRY_COMPARE_WITH_TIMEOUT(statusOf(untilClosed(port, healthz).bytes), 200, 30000);
    QVERIFY(metricsSample(untilClosed(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: "
                                            "close\r\n\r\n")
                              .bytes,
                          "llmstreamer_limit_hits_total{limit=\"max_connections_per_address\"}") >=
            1);
    for (SseTestClient &s : streams)
        QVERIFY(s.isConnected());
}

void tst_GatewaySecurity::requestHeadDeadline()
{
    GatewayConfig c = config(false);
    c.headTimeoutSeconds = 1;
    m_gateway = start(c);
    QVERIFY(m_gateway);
    const Reply reply = untilClosed(m_gateway->port(), "GET /healthz HTTP/1.1\r\nHost: x", 15000);
    QVERIFY(reply.closed);
    QCOMPARE(statusOf(reply.bytes), 408);
    // A complete request on a connection that then says nothing is not cut by this deadline.
    QCOMPARE(statusOf(exchange(m_gateway->port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")),
             200);
}

void tst_GatewaySecurity::bigEventDoesNotCutAClientWithNothingPending()
{
    GatewayConfig c = config(false);
    c.maxClientBuffer = 64 * 1024;
    m_gateway = start(c);
    QVERIFY(m_gateway);
    SseTestClient client;
    client.open(m_gateway->port(), "/events");
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    // 3 MiB of control bytes: an 18 MiB frame once escaped, far over the client's budget.
    m_redis.publish("logs:big", QByteArray(3 * 1024 * 1024, '\x01'));
    QTRY_COMPARE_WITH_TIMEOUT(client.count("message"), 1, 30000);
    const QJsonObject e = json(client.events("message").constFirst().data);
    QCOMPARE(e.value(QStringLiteral("payload")).toString().size(), 3 * 1024 * 1024);
    QCOMPARE(client.count("dropped"), 0);
    m_redis.publish("logs:big", "after");
    QTRY_COMPARE_WITH_TIMEOUT(client.count("message"), 2, 30000);
    QVERIFY(client.isConnected());
}

void tst_GatewaySecurity::oversizedPayloadIsTruncatedVisibly()
{
    GatewayConfig c = config(false);
    c.maxPayloadBytes = 1024;
    m_gateway = start(c);
    QVERIFY(m_gateway);
    SseTestClient client;
    client.open(m_gateway->port(), "/events");
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    // "é" straddles the cut: it goes whole, never half.
    const QByteArray payload = QByteArray(1023, 'a') + "\xc3\xa9" + QByteArray(3000, 'z');
    m_redis.publish("logs:big", payload);
    m_redis.publish("logs:big", "{\"msg\":\"small\"}");
    QTRY_COMPARE_WITH_TIMEOUT(client.count("message"), 2, 30000);
    const QJsonObject cut = json(client.events("message").at(0).data);
    const QString text = cut.value(QStringLiteral("payload")).toString();
    QVERIFY(text.startsWith(QString(1023, QLatin1Char('a')) + QStringLiteral(" \u2026")));
    QVERIFY(text.endsWith(QStringLiteral("[truncated: 4025 bytes]")));
    QVERIFY(!text.contains(QChar(0xFFFD)));
    QCOMPARE(cut.value(QStringLiteral("truncated")).toInteger(), 4025);
    const QJsonObject whole = json(client.events("message").at(1).data);
    QVERIFY(whole.value(QStringLiteral("payload")).isObject());
    QVERIFY(!whole.contains(QStringLiteral("truncated")));
    QCOMPARE(metricsSample(exchange(m_gateway->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
                           "llmstreamer_truncated_payloads_total"),
             1.0);
}

void tst_GatewaySecurity::restrictedTokensSeeOnlyTheirChannels()
{
    m_gateway = start(config(true));
    QVERIFY(m_gateway);
    const quint16 port = m_gateway->port();
    SseTestClient bot, aliceOne;
    bot.open(port, "/events", {{"Authorization", "Bearer " + botToken}});
    aliceOne.open(port, "/events?channels=logs:metrics",
                  {{"Authorization", "Bearer " + aliceToken}});
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 2, 30000);
    for (const char *ch : {"logs:metrics", "logs:secret", "logs:metric\\s", "logs:errors"})
        m_redis.publish(ch, "x");
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->channels().size(), size_t(4), 30000);
    const int before = int(bot.count("stats"));
    QTRY_VERIFY_WITH_TIMEOUT(bot.count("stats") > before && aliceOne.count("stats") > before,
                             30000);
    const QJsonObject botStats = json(bot.events("stats").constLast().data);
    QCOMPARE(botStats.value(QStringLiteral("channels")).toObject().keys(),
             (QStringList{QStringLiteral("logs:errors"), QStringLiteral("logs:metrics")}));
    QCOMPARE(botStats.value(QStringLiteral("received")).toInteger(), 2);
    const QJsonObject aliceStats = json(aliceOne.events("stats").constLast().data);
    QCOMPARE(aliceStats.value(QStringLiteral("channels")).toObject().keys(),
             QStringList{QStringLiteral("logs:metrics")});

    // Names are compared literally: "logs:metric\s" is not "logs:metrics".
    const QByteArray list = exchange(port, "GET /api/channels HTTP/1.1\r\nHost: x\r\n"
                                           "Authorization: Bearer " +
                                               botToken + "\r\n\r\n");
    QCOMPARE(statusOf(list), 200);
    QVERIFY(list.contains("\"logs:metrics\""));
    QVERIFY(!list.contains("secret"));
    QVERIFY(!list.contains("metric\\\\s"));
    // /metrics names everything: only for a token with +metrics.
    QCOMPARE(statusOf(exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                         botToken + "\r\n\r\n")),
             403);
    const QByteArray metrics = metricsOf(port);
    QCOMPARE(statusOf(metrics), 200);
    QVERIFY(metrics.contains("logs:secret"));
}

void tst_GatewaySecurity::sessionsAreCappedPerTokenAndExpire()
{
    GatewayConfig c = config(true);
    c.sessionsPerToken = 5;
    m_gateway = start(c);
    QVERIFY(m_gateway);
    const quint16 port = m_gateway->port();
    auto signIn = [&](const QByteArray &token) {
        const QByteArray r =
            exchange(port, "GET /?token=" + token + " HTTP/1.1\r\nHost: x\r\n\r\n");
        return headerOf(r, "Set-Cookie").split(';').first();
    };
    auto statusWith = [&](const QByteArray &cookie) {
        return statusOf(exchange(
            port, "GET /api/channels HTTP/1.1\r\nHost: x\r\nCookie: " + cookie + "\r\n\r\n"));
    };
    const QByteArray alice = signIn(aliceToken);
    QVERIFY(alice.startsWith("llmstreamer_session="));
    QVERIFY(headerOf(exchange(port, "GET /?token=" + aliceToken + " HTTP/1.1\r\nHost: x\r\n\r\n"),
                     "Set-Cookie")
                .contains("Max-Age=86400"));
    for (int i = 0; i < 200; ++i) // another token holder signs in again and again
        QVERIFY(!signIn(botToken).isEmpty());
    QCOMPARE(statusWith(alice), 200);
    for (int i = 0; i < 5; ++i) // alice's own sign-ins end her oldest session
        signIn(aliceToken);
    QCOMPARE(statusWith(alice), 401);
    QVERIFY(m_gateway->hub() && m_gateway->config().sessionsPerToken == 5);
    m_gateway.reset();

    c.sessionLifetimeSeconds = 1;
    m_gateway = start(c);
    QVERIFY(m_gateway);
    const QByteArray shortLived = [&] {
        const QByteArray r = exchange(m_gateway->port(),
                                      "GET /?token=" + aliceToken + " HTTP/1.1\r\nHost: x\r\n\r\n");
        return headerOf(r, "Set-Cookie").split(';').first();
    }();
    auto shortStatus = [&] {
        return statusOf(exchange(m_gateway->port(), "GET /api/channels HTTP/1.1\r\nHost: "
                                                    "x\r\nCookie: " +
                                                        shortLived + "\r\n\r\n"));
    };
    QTRY_COMPARE_WITH_TIMEOUT(shortStatus(), 401, 30000);
}

void tst_GatewaySecurity::tokenReloadRevokesStreamsAndSessions()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("tokens"));
    auto writeTokens = [&](const QByteArray &text) {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(text);
    };
    writeTokens(tokenFile());
    GatewayConfig c = config(false);
    QString error;
    c.access = *AccessPolicy::load(path, &error);
    c.tokenFile = path;
    m_gateway = start(c);
    QVERIFY(m_gateway);
    const quint16 port = m_gateway->port();
    const QByteArray botCookie =
        headerOf(exchange(port, "GET /?token=" + botToken + " HTTP/1.1\r\nHost: x\r\n\r\n"),
                 "Set-Cookie")
            .split(';')
            .first();
    SseTestClient bot, alice;
    bot.open(port, "/events", {{"Authorization", "Bearer " + botToken}});
    alice.open(port, "/events", {{"Authorization", "Bearer " + aliceToken}});
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 2, 30000);

    writeTokens(tokenFile(false)); // the bot's token is removed
    QString message;
    QVERIFY2(m_gateway->reloadTokens(&message), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("1 stream(s) closed")), qPrintable(message));
    QTRY_COMPARE_WITH_TIMEOUT(bot.count("shutdown"), 1, 30000);
    QVERIFY(bot.events("shutdown").constFirst().data.contains("access-revoked"));
    QTRY_VERIFY_WITH_TIMEOUT(!bot.isConnected(), 30000);
    m_redis.publish("logs:metrics", "after reload");
    QTRY_COMPARE_WITH_TIMEOUT(alice.count("message"), 1, 30000);
    QCOMPARE(statusOf(exchange(port, "GET /api/channels HTTP/1.1\r\nHost: x\r\nAuthorization: "
                                     "Bearer " +
                                         botToken + "\r\n\r\n")),
             401);
    QCOMPARE(statusOf(exchange(port, "GET /api/channels HTTP/1.1\r\nHost: x\r\nCookie: " +
                                         botCookie + "\r\n\r\n")),
             401);

    // A broken file keeps the tokens in force.
    writeTokens("short logs:*\n");
    QVERIFY(!m_gateway->reloadTokens(&message));
    QVERIFY2(message.contains(QStringLiteral("line 1")), qPrintable(message));
    QVERIFY(alice.isConnected());
    QCOMPARE(statusOf(exchange(port, "GET /api/channels HTTP/1.1\r\nHost: x\r\nAuthorization: "
                                     "Bearer " +
                                         aliceToken + "\r\n\r\n")),
             200);
}

QTEST_MAIN(tst_GatewaySecurity)
#include "tst_gatewaysecurity.moc"
