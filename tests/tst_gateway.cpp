// Integration tests of the gateway: a real redis-server on a free port, the real Gateway on
// port 0, and real sockets speaking HTTP/SSE to it, all in this test's event loop.
#include "envelope.h"
#include "eventid.h"
#include "gateway.h"
#include "hub.h"
#include "redissubscriber.h"
#include "ssetestclient.h"
#include "testredis.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <sys/resource.h>

#include <memory>

class tst_Gateway : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void messagesArriveInOrder();
    void hostilePayloads_data();
    void hostilePayloads();
    void jsonPayloadStaysObject();
    void resume_data();
    void resume();
    void gapWhenHistoryExceeded();
    void tailOnFreshStream_data();
    void tailOnFreshStream();
    void channelSelection_data();
    void channelSelection();
    void notAllowlistedChannelNeverArrives();
    void overlappingGlobsDeliverOnce();
    void redisRestartedTenTimes();
    void redisRestart();
    void slowClientIsDroppedOthersUntouched();
    void manyConcurrentStreams();
    void endpoints();
    void maxClients();
    void statsAndHeartbeat();
    void idsGrowAcrossRestarts();
    void readyzWithoutRedis();

private:
    std::unique_ptr<Gateway> startGateway(GatewayConfig config = {});
    GatewayConfig baseConfig() const;
    static std::optional<Envelope::Decoded> decode(const SseEvent &e)
    {
        return Envelope::decode(e.data);
    }

    TestRedis m_redis;
    std::unique_ptr<Gateway> m_gateway;
};

GatewayConfig tst_Gateway::baseConfig() const
{
    GatewayConfig config;
    config.port = 0;
    config.redis = *RedisUrl::parse(m_redis.url());
    config.channels = {"logs:*"};
    return config;
}

std::unique_ptr<Gateway> tst_Gateway::startGateway(GatewayConfig config)
{
    if (config.port == 8000)
        config = baseConfig();
    auto gateway = std::make_unique<Gateway>(config);
    QString error;
    if (!gateway->start(&error)) {
        qWarning("gateway did not start: %s", qPrintable(error));
        return nullptr;
    }
    if (!QTest::qWaitFor([&] { return gateway->subscriber()->isSubscribed(); }, 10000)) {
        qWarning("gateway did not subscribe: %s", qPrintable(gateway->subscriber()->lastError()));
        return nullptr;
    }
    return gateway;
}

void tst_Gateway::initTestCase()
{
    QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
    // 500 streams need 1,000+ descriptors in this one process (client and server ends).
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
}

void tst_Gateway::cleanup()
{
    m_gateway.reset();
}

void tst_Gateway::messagesArriveInOrder()
{
    m_gateway = startGateway();
    QVERIFY(m_gateway);
    SseTestClient client;
    client.open(m_gateway->port(), "/events");
    QTRY_VERIFY_WITH_TIMEOUT(client.headComplete(), 30000);
    QCOMPARE(client.status(), 200);
    QVERIFY(client.header("content-type").startsWith("text/event-stream"));
    QCOMPARE(client.header("cache-control"), QByteArray("no-cache"));
    QCOMPARE(client.header("x-accel-buffering"), QByteArray("no"));
    QVERIFY(client.header("content-length").isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);

    const int n = 2000;
    for (int i = 0; i < n; ++i)
        QCOMPARE(m_redis.publish(i % 2 ? "logs:a" : "logs:b", QByteArray::number(i)), 1);
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), n, 15000);

    const QList<SseEvent> events = client.events("message");
    EventId previous;
    for (int i = 0; i < n; ++i) {
        const auto env = decode(events[i]);
        QVERIFY(env);
        QCOMPARE(env->payload.toString(), QString::number(i));
        QCOMPARE(env->channel, QString::fromLatin1(i % 2 ? "logs:a" : "logs:b"));
        QCOMPARE(env->id.toUtf8(), events[i].lastEventId);
        const auto id = EventId::parse(events[i].lastEventId);
        QVERIFY(id);
        QVERIFY(*id > previous);
        previous = *id;
        QVERIFY(qAbs(env->ts - QDateTime::currentMSecsSinceEpoch()) < 60000);
    }
}

void tst_Gateway::hostilePayloads_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<QString>("expected");
    QTest::newRow("lf") << QByteArray("a\nb") << QStringLiteral("a\nb");
    QTest::newRow("crlf") << QByteArray("a\r\nb\r\n") << QStringLiteral("a\r\nb\r\n");
    QTest::newRow("lone-cr") << QByteArray("a\rb") << QStringLiteral("a\rb");
    QTest::newRow("blank-lines") << QByteArray("\n\n\n") << QStringLiteral("\n\n\n");
    QTest::newRow("frame-injection")
        << QByteArray("x\n\nid: 999\nevent: gap\ndata: {\"evil\":1}\n\n")
        << QStringLiteral("x\n\nid: 999\nevent: gap\ndata: {\"evil\":1}\n\n");
    QTest::newRow("nul") << QByteArray("a\0b", 3) << QString::fromUtf16(u"a\u0000b", 3);
    QTest::newRow("invalid-utf8") << QByteArray("ok \xff\xfe end")
                                  << QString::fromUtf16(u"ok \uFFFD\uFFFD end");
    QTest::newRow("html") << QByteArray("<script>alert(1)</script>")
                          << QStringLiteral("<script>alert(1)</script>");
    QTest::newRow("empty") << QByteArray() << QString();
    QTest::newRow("json-array") << QByteArray("[1,2]") << QStringLiteral("[1,2]");
    QTest::newRow("broken-json") << QByteArray("{\"a\":") << QStringLiteral("{\"a\":");
    QByteArray big(1024 * 1024, 'x');
    for (int i = 0; i < big.size(); i += 1000)
        big[i] = '\n';
    QTest::newRow("1MiB") << big << QString::fromLatin1(big);
}

void tst_Gateway::hostilePayloads()
{
    QFETCH(QByteArray, payload);
    QFETCH(QString, expected);
    m_gateway = startGateway();
    QVERIFY(m_gateway);
    SseTestClient client;
    client.open(m_gateway->port(), "/events");
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    m_redis.publish("logs:hostile", payload);
    m_redis.publish("logs:hostile", "after");
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), 2, 30000);
    QCOMPARE(client.count("gap"), 0);
    const auto first = decode(client.events("message")[0]);
    QVERIFY(first);
    QVERIFY(first->payload.isString());
    QCOMPARE(first->payload.toString(), expected);
    QCOMPARE(decode(client.events("message")[1])->payload.toString(), QStringLiteral("after"));
}

void tst_Gateway::jsonPayloadStaysObject()
{
    m_gateway = startGateway();
    QVERIFY(m_gateway);
    SseTestClient client;
    client.open(m_gateway->port(), "/events");
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    m_redis.publish(
        "logs:generation",
        "{\"level\":\"INFO\",\"msg\":\"line1\\nline2 <b>\",\"gen_ai.usage.output_tokens\":42}");
    m_redis.publish("logs:generation", "{\n  \"pretty\": true\n}\n");
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), 2, 30000);
    const auto a = decode(client.events("message")[0]);
    QVERIFY(a && a->payload.isObject());
    QCOMPARE(a->payload.toObject().value(QStringLiteral("msg")).toString(),
             QStringLiteral("line1\nline2 <b>"));
    QCOMPARE(a->payload.toObject().value(QStringLiteral("gen_ai.usage.output_tokens")).toInt(), 42);
    const auto b = decode(client.events("message")[1]);
    QVERIFY(b && b->payload.isObject());
    QCOMPARE(b->payload.toObject().value(QStringLiteral("pretty")).toBool(), true);
}

void tst_Gateway::resume_data()
{
    QTest::addColumn<bool>("byHeader");
    QTest::newRow("Last-Event-ID header") << true;
    QTest::newRow("last_event_id query") << false;
}

void tst_Gateway::resume()
{
    QFETCH(bool, byHeader);
    m_gateway = startGateway();
    QVERIFY(m_gateway);
    auto first = std::make_unique<SseTestClient>();
    first->open(m_gateway->port(), "/events");
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    for (int i = 0; i < 10; ++i)
        m_redis.publish("logs:r", QByteArray::number(i));
    QTRY_COMPARE_WITH_TIMEOUT(first->count(), 10, 30000);
    const QByteArray lastId = first->events("message").last().lastEventId;
    first->close();
    first.reset();
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 0, 30000);

    for (int i = 10; i < 25; ++i)
        m_redis.publish("logs:r", QByteArray::number(i));
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->channels().front().received, quint64(25), 30000);

    SseTestClient second;
    if (byHeader)
        second.open(m_gateway->port(), "/events", {{"Last-Event-ID", lastId}});
    else
        second.open(m_gateway->port(),
                    "/events?last_event_id=" + QUrl::toPercentEncoding(QString::fromUtf8(lastId)));
    QTRY_COMPARE_WITH_TIMEOUT(second.count(), 15, 30000);
    // Live messages after the replay follow on without a seam.
    for (int i = 25; i < 30; ++i)
        m_redis.publish("logs:r", QByteArray::number(i));
    QTRY_COMPARE_WITH_TIMEOUT(second.count(), 20, 30000);
    QCOMPARE(second.count("gap"), 0);
    const QList<SseEvent> events = second.events("message");
    for (int i = 0; i < 20; ++i)
        QCOMPARE(decode(events[i])->payload.toString(), QString::number(i + 10));
}

void tst_Gateway::gapWhenHistoryExceeded()
{
    GatewayConfig config = baseConfig();
    config.history = 5;
    m_gateway = startGateway(config);
    QVERIFY(m_gateway);
    SseTestClient first;
    first.open(m_gateway->port(), "/events");
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    m_redis.publish("logs:g", "0");
    QTRY_COMPARE_WITH_TIMEOUT(first.count(), 1, 30000);
    const QByteArray lastId = first.events("message").last().lastEventId;
    first.close();
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 0, 30000);
    for (int i = 1; i <= 20; ++i)
        m_redis.publish("logs:g", QByteArray::number(i));
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->channels().front().received, quint64(21), 30000);

    SseTestClient second;
    second.open(m_gateway->port(), "/events", {{"Last-Event-ID", lastId}});
    QTRY_COMPARE_WITH_TIMEOUT(second.count(), 5, 30000);
    QCOMPARE(second.count("gap"), 1);
    // The gap comes first, then the 5 newest messages.
    QCOMPARE(second.events().first().type, QByteArray("gap"));
    const QJsonObject gap = QJsonDocument::fromJson(second.events("gap").first().data).object();
    QCOMPARE(gap.value(QStringLiteral("reason")).toString(), QStringLiteral("history-exceeded"));
    QCOMPARE(gap.value(QStringLiteral("missed")).toInteger(), 15);
    const QList<SseEvent> events = second.events("message");
    for (int i = 0; i < 5; ++i)
        QCOMPARE(decode(events[i])->payload.toString(), QString::number(16 + i));
}

void tst_Gateway::tailOnFreshStream_data()
{
    QTest::addColumn<QByteArray>("query");
    QTest::addColumn<int>("status");
    QTest::addColumn<QStringList>("expected"); // payloads before the live one
    QTest::newRow("no tail") << QByteArray("") << 200 << QStringList{};
    QTest::newRow("tail=0") << QByteArray("?tail=0") << 200 << QStringList{};
    QTest::newRow("tail=3") << QByteArray("?tail=3") << 200
                            << QStringList{QStringLiteral("7"), QStringLiteral("8"),
                                           QStringLiteral("9")};
    QTest::newRow("tail beyond what was published")
        << QByteArray("?tail=50") << 200
        << QStringList{QStringLiteral("0"), QStringLiteral("1"), QStringLiteral("2"),
                       QStringLiteral("3"), QStringLiteral("4"), QStringLiteral("5"),
                       QStringLiteral("6"), QStringLiteral("7"), QStringLiteral("8"),
                       QStringLiteral("9")};
    QTest::newRow("tail with filter") << QByteArray("?tail=4&channels=logs:odd") << 200
                                      << QStringList{QStringLiteral("7"), QStringLiteral("9")};
    QTest::newRow("tail beyond the history")
        << QByteArray("?tail=99999999") << 200
        << QStringList{QStringLiteral("0"), QStringLiteral("1"), QStringLiteral("2"),
                       QStringLiteral("3"), QStringLiteral("4"), QStringLiteral("5"),
                       QStringLiteral("6"), QStringLiteral("7"), QStringLiteral("8"),
                       QStringLiteral("9")};
    QTest::newRow("tail negative") << QByteArray("?tail=-1") << 400 << QStringList{};
    QTest::newRow("tail not a number") << QByteArray("?tail=x") << 400 << QStringList{};
}

void tst_Gateway::tailOnFreshStream()
{
    QFETCH(QByteArray, query);
    QFETCH(int, status);
    QFETCH(QStringList, expected);
    m_gateway = startGateway();
    QVERIFY(m_gateway);
    for (int i = 0; i < 10; ++i)
        m_redis.publish(i % 2 ? "logs:odd" : "logs:even", QByteArray::number(i));
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->lastId().seq, qint64(10), 30000);
    SseTestClient client;
    client.open(m_gateway->port(), "/events" + query);
    QTRY_VERIFY_WITH_TIMEOUT(client.headComplete(), 30000);
    QCOMPARE(client.status(), status);
    if (status != 200)
        return;
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    m_redis.publish("logs:odd", "live");
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), expected.size() + 1, 30000);
    QStringList got;
    for (const SseEvent &e : client.events("message"))
        got << decode(e)->payload.toString();
    QCOMPARE(got, expected + QStringList{QStringLiteral("live")});
}

void tst_Gateway::channelSelection_data()
{
    QTest::addColumn<QByteArray>("query");
    QTest::addColumn<int>("status");
    QTest::addColumn<QStringList>("expectedChannels");
    QTest::newRow("all") << QByteArray("") << 200
                         << QStringList{QStringLiteral("logs:errors"),
                                        QStringLiteral("logs:metrics"),
                                        QStringLiteral("logs:generation")};
    QTest::newRow("one") << QByteArray("?channels=logs:errors") << 200
                         << QStringList{QStringLiteral("logs:errors")};
    QTest::newRow("two") << QByteArray("?channels=logs:errors,logs:metrics") << 200
                         << QStringList{QStringLiteral("logs:errors"),
                                        QStringLiteral("logs:metrics")};
    QTest::newRow("glob") << QByteArray("?channels=logs:m*") << 200
                          << QStringList{QStringLiteral("logs:metrics")};
    QTest::newRow("outside") << QByteArray("?channels=secret:keys") << 400 << QStringList{};
    QTest::newRow("wider-glob") << QByteArray("?channels=*") << 400 << QStringList{};
    QTest::newRow("empty") << QByteArray("?channels=") << 400 << QStringList{};
}

void tst_Gateway::channelSelection()
{
    QFETCH(QByteArray, query);
    QFETCH(int, status);
    QFETCH(QStringList, expectedChannels);
    m_gateway = startGateway();
    QVERIFY(m_gateway);
    SseTestClient client;
    client.open(m_gateway->port(), "/events" + query);
    QTRY_VERIFY_WITH_TIMEOUT(client.headComplete(), 30000);
    QCOMPARE(client.status(), status);
    if (status != 200) {
        QTRY_VERIFY_WITH_TIMEOUT(!client.body().isEmpty(), 30000);
        QVERIFY2(client.body().contains("allowlist") || client.body().contains("empty"),
                 client.body().constData());
        return;
    }
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    for (const char *ch : {"logs:errors", "logs:metrics", "logs:generation"})
        m_redis.publish(ch, ch);
    m_redis.publish("logs:end", "end"); // a marker only the unfiltered stream sees
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->channels().size(), size_t(4), 30000);
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), expectedChannels.size() + (query.isEmpty() ? 1 : 0),
                              30000);
    QStringList got;
    for (const SseEvent &e : client.events("message"))
        got << decode(e)->channel;
    got.removeAll(QStringLiteral("logs:end"));
    QCOMPARE(got, expectedChannels);
}

void tst_Gateway::notAllowlistedChannelNeverArrives()
{
    m_gateway = startGateway();
    QVERIFY(m_gateway);
    SseTestClient client;
    client.open(m_gateway->port(), "/events");
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    QCOMPARE(m_redis.publish("secret:keys", "hunter2"), 0); // nobody subscribed to it
    m_redis.publish("logs:ok", "visible");
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), 1, 30000);
    QCOMPARE(decode(client.events("message")[0])->channel, QStringLiteral("logs:ok"));
}

void tst_Gateway::overlappingGlobsDeliverOnce()
{
    GatewayConfig config = baseConfig();
    config.channels = {"logs:a*", "logs:*b", "logs:exact"};
    m_gateway = startGateway(config);
    QVERIFY(m_gateway);
    SseTestClient client;
    client.open(m_gateway->port(), "/events");
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    QCOMPARE(m_redis.publish("logs:ab", "both"), 2); // Redis sends it to both patterns
    m_redis.publish("logs:xb", "second-glob");
    m_redis.publish("logs:exact", "name");
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), 3, 30000);
    QStringList payloads;
    for (const SseEvent &e : client.events("message"))
        payloads << decode(e)->payload.toString();
    QCOMPARE(payloads, (QStringList{QStringLiteral("both"), QStringLiteral("second-glob"),
                                    QStringLiteral("name")}));
    QCOMPARE(m_gateway->hub()->channels().front().received, quint64(1));
}

void tst_Gateway::redisRestartedTenTimes()
{
    m_gateway = startGateway();
    QVERIFY(m_gateway);
    SseTestClient client;
    client.open(m_gateway->port(), "/events");
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    QStringList published;
    for (int round = 0; round < 10; ++round) {
        for (int i = 0; i < 5; ++i) {
            const QByteArray p = QByteArray::number(round) + '.' + QByteArray::number(i);
            QCOMPARE(m_redis.publish("logs:r", p), 1);
            published << QString::fromLatin1(p);
        }
        // A SIGKILLed Redis may die with messages it already acknowledged to the publisher
        // still unwritten to subscribers; that loss is Redis's, so kill it only once they are out.
        QTRY_COMPARE_WITH_TIMEOUT(client.count(), published.size(), 30000);
        m_redis.stop();
        QTRY_VERIFY_WITH_TIMEOUT(!m_gateway->subscriber()->isSubscribed(), 30000);
        QVERIFY(m_redis.start());
        QTRY_VERIFY_WITH_TIMEOUT(m_gateway->subscriber()->isSubscribed(), 30000);
    }
    m_redis.publish("logs:r", "end");
    published << QStringLiteral("end");
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), published.size(), 30000);
    QCOMPARE(client.count("gap"), 10); // one per outage
    QStringList got;
    for (const SseEvent &e : client.events("message"))
        got << decode(e)->payload.toString();
    QCOMPARE(got, published); // and nothing else missing
    QVERIFY(client.isConnected());
    QCOMPARE(m_gateway->subscriber()->reconnects(), quint64(10));
}

void tst_Gateway::redisRestart()
{
    m_gateway = startGateway();
    QVERIFY(m_gateway);
    SseTestClient client;
    client.open(m_gateway->port(), "/events");
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    m_redis.publish("logs:x", "before");
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), 1, 30000);

    m_redis.stop();
    QTRY_VERIFY_WITH_TIMEOUT(!m_gateway->subscriber()->isSubscribed(), 30000);
    QCOMPARE(SseTestClient::get(m_gateway->port(), "/readyz").status, 503);
    QVERIFY(client.isConnected()); // the stream survives the outage
    QVERIFY(m_redis.start());
    QTRY_VERIFY_WITH_TIMEOUT(m_gateway->subscriber()->isSubscribed(), 30000);
    QCOMPARE(SseTestClient::get(m_gateway->port(), "/readyz").status, 200);
    m_redis.publish("logs:x", "after");
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), 2, 30000);
    QCOMPARE(client.count("gap"), 1);
    const QJsonObject gap = QJsonDocument::fromJson(client.events("gap")[0].data).object();
    QCOMPARE(gap.value(QStringLiteral("reason")).toString(), QStringLiteral("redis-disconnected"));
    QVERIFY(gap.value(QStringLiteral("down_ms")).toInteger() >= 0);
    // Order: before, gap, after.
    QStringList order;
    for (const SseEvent &e : client.events())
        if (e.type != "stats")
            order << QString::fromLatin1(e.type);
    QCOMPARE(order, (QStringList{QStringLiteral("message"), QStringLiteral("gap"),
                                 QStringLiteral("message")}));
    QVERIFY(m_gateway->subscriber()->reconnects() >= 1);
}

void tst_Gateway::slowClientIsDroppedOthersUntouched()
{
    GatewayConfig config = baseConfig();
    config.maxClientBuffer = 512 * 1024;
    m_gateway = startGateway(config);
    QVERIFY(m_gateway);

    // The slow client reads its response head and then nothing: a 1-byte read buffer stops
    // Qt from draining the kernel's socket buffer for it.
    QTcpSocket slow;
    slow.setReadBufferSize(1);
    slow.connectToHost(QHostAddress::LocalHost, m_gateway->port());
    slow.write("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    SseTestClient good;
    good.open(m_gateway->port(), "/events");
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 2, 30000);

    const QByteArray chunk(64 * 1024, 'p');
    const int n = 400; // 25 MiB: more than the kernel buffers plus the cap
    for (int i = 0; i < n; ++i) {
        m_redis.publish("logs:bulk", QByteArray::number(i) + ':' + chunk);
        if (i % 20 == 0)
            QCoreApplication::processEvents();
    }
    QTRY_COMPARE_WITH_TIMEOUT(good.count(), n, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    QCOMPARE(m_gateway->hub()->clientsDroppedSlow(), quint64(1));
    QCOMPARE(good.count("gap"), 0);
    const QList<SseEvent> events = good.events("message");
    for (int i = 0; i < n; ++i)
        QVERIFY(decode(events[i])->payload.toString().startsWith(QString::number(i) +
                                                                 QLatin1Char(':')));
    const QByteArray metrics = SseTestClient::get(m_gateway->port(), "/metrics").body;
    QVERIFY(metrics.contains("llmstreamer_clients_dropped_total{reason=\"slow\"} 1"));
}

void tst_Gateway::manyConcurrentStreams()
{
    GatewayConfig config = baseConfig();
    config.maxClientsPerAddress = 1000;     // all 500 come from 127.0.0.1
    config.maxConnectionsPerAddress = 1000; // and connect at once, before any is a stream
    m_gateway = startGateway(config);
    QVERIFY(m_gateway);
    const int clients = 500;
    const int messages = 50;
    std::vector<std::unique_ptr<SseTestClient>> streams;
    for (int i = 0; i < clients; ++i) {
        streams.push_back(std::make_unique<SseTestClient>());
        streams.back()->open(m_gateway->port(), "/events");
    }
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), clients, 30000);
    QCOMPARE(m_gateway->subscriber()->connection() != nullptr, true);
    for (int i = 0; i < messages; ++i)
        QCOMPARE(m_redis.publish("logs:fan", QByteArray::number(i)), 1); // one subscription
    for (const auto &s : streams)
        QTRY_COMPARE_WITH_TIMEOUT(s->count(), messages, 30000);
    for (const auto &s : streams) {
        const QList<SseEvent> events = s->events("message");
        for (int i = 0; i < messages; ++i)
            QCOMPARE(decode(events[i])->payload.toString(), QString::number(i));
    }
}

void tst_Gateway::endpoints()
{
    m_gateway = startGateway();
    QVERIFY(m_gateway);
    const quint16 port = m_gateway->port();
    m_redis.publish("logs:metrics", "{\"gen_ai.usage.output_tokens\":7}");
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->channels().size(), size_t(1), 30000);

    auto health = SseTestClient::get(port, "/healthz");
    QCOMPARE(health.status, 200);
    auto ready = SseTestClient::get(port, "/readyz");
    QCOMPARE(ready.status, 200);
    QCOMPARE(QJsonDocument::fromJson(ready.body).object().value(QStringLiteral("ready")).toBool(),
             true);

    auto metrics = SseTestClient::get(port, "/metrics");
    QCOMPARE(metrics.status, 200);
    QVERIFY(metrics.headers.value("content-type").startsWith("text/plain; version=0.0.4"));
    for (const char *line : {"llmstreamer_messages_received_total{channel=\"logs:metrics\"} 1",
                             "llmstreamer_output_tokens_received_total{channel=\"logs:metrics\"} 7",
                             "llmstreamer_redis_connected 1", "llmstreamer_clients 0",
                             "llmstreamer_transport_info{transport=\"pubsub\"} 1",
                             "# TYPE llmstreamer_messages_delivered_total counter"})
        QVERIFY2(metrics.body.contains(line), line);

    auto channels = SseTestClient::get(port, "/api/channels");
    QCOMPARE(channels.status, 200);
    const QJsonObject o = QJsonDocument::fromJson(channels.body).object();
    QCOMPARE(o.value(QStringLiteral("allowlist")).toArray().first().toString(),
             QStringLiteral("logs:*"));
    QCOMPARE(o.value(QStringLiteral("transport")).toString(), QStringLiteral("pubsub"));
    const QJsonObject ch = o.value(QStringLiteral("channels")).toArray().first().toObject();
    QCOMPARE(ch.value(QStringLiteral("name")).toString(), QStringLiteral("logs:metrics"));
    QCOMPARE(ch.value(QStringLiteral("received")).toInteger(), 1);

    auto page = SseTestClient::get(port, "/");
    QCOMPARE(page.status, 200);
    QVERIFY(page.headers.value("content-type").startsWith("text/html"));
    QVERIFY(page.headers.value("content-security-policy").contains("script-src 'self'"));
    QVERIFY(page.body.contains("app.js"));
    auto js = SseTestClient::get(port, "/app.js");
    QCOMPARE(js.status, 200);
    QVERIFY(js.headers.value("content-type").startsWith("text/javascript"));
    QVERIFY(!js.body.isEmpty());

    QCOMPARE(SseTestClient::get(port, "/nope").status, 404);
    QCOMPARE(SseTestClient::get(port, "/../etc/passwd").status, 404);
    QCOMPARE(SseTestClient::get(port, "/events", "POST").status, 405);
}

void tst_Gateway::maxClients()
{
    GatewayConfig config = baseConfig();
    config.maxClients = 2;
    m_gateway = startGateway(config);
    QVERIFY(m_gateway);
    SseTestClient a, b, c;
    a.open(m_gateway->port(), "/events");
    b.open(m_gateway->port(), "/events");
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 2, 30000);
    c.open(m_gateway->port(), "/events");
    QTRY_VERIFY_WITH_TIMEOUT(c.headComplete(), 30000);
    QCOMPARE(c.status(), 503);
    QCOMPARE(c.header("retry-after"), QByteArray("5"));
    a.close();
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    SseTestClient d;
    d.open(m_gateway->port(), "/events");
    QTRY_VERIFY_WITH_TIMEOUT(d.headComplete(), 30000);
    QCOMPARE(d.status(), 200);
}

void tst_Gateway::statsAndHeartbeat()
{
    GatewayConfig config = baseConfig();
    config.heartbeatSeconds = 1;
    m_gateway = startGateway(config);
    QVERIFY(m_gateway);
    SseTestClient client;
    client.open(m_gateway->port(), "/events");
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    for (int i = 0; i < 30; ++i)
        m_redis.publish("logs:s", "x");
    QTRY_VERIFY_WITH_TIMEOUT(client.count("stats") >= 2, 30000);
    // A comment on connect, then heartbeats.
    QTRY_VERIFY_WITH_TIMEOUT(client.commentsSeen() >= 2, 30000);
    bool sawRate = false;
    for (const SseEvent &e : client.events("stats")) {
        const QJsonObject s = QJsonDocument::fromJson(e.data).object();
        QCOMPARE(s.value(QStringLiteral("redis")).toString(), QStringLiteral("connected"));
        QCOMPARE(s.value(QStringLiteral("clients")).toInt(), 1);
        QCOMPARE(s.value(QStringLiteral("transport")).toString(), QStringLiteral("pubsub"));
        // The stats id is the newest event's, never ahead of what the client has.
        QCOMPARE(e.lastEventId, m_gateway->hub()->lastId().toByteArray());
        const QJsonObject ch = s.value(QStringLiteral("channels"))
                                   .toObject()
                                   .value(QStringLiteral("logs:s"))
                                   .toObject();
        if (ch.value(QStringLiteral("rate")).toDouble() > 0)
            sawRate = true;
        QCOMPARE(ch.value(QStringLiteral("received")).toInt(), 30);
    }
    QVERIFY(sawRate);
}

void tst_Gateway::idsGrowAcrossRestarts()
{
    m_gateway = startGateway();
    QVERIFY(m_gateway);
    SseTestClient client;
    client.open(m_gateway->port(), "/events");
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    m_redis.publish("logs:id", "one");
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), 1, 30000);
    const QByteArray oldId = client.events("message")[0].lastEventId;
    client.close();
    m_gateway.reset();
    QTest::qWait(5); // the boot stamp is in milliseconds

    m_gateway = startGateway();
    QVERIFY(m_gateway);
    SseTestClient resumed;
    resumed.open(m_gateway->port(), "/events", {{"Last-Event-ID", oldId}});
    QTRY_COMPARE_WITH_TIMEOUT(m_gateway->hub()->clientCount(), 1, 30000);
    m_redis.publish("logs:id", "two");
    QTRY_COMPARE_WITH_TIMEOUT(resumed.count(), 1, 30000);
    QVERIFY(*EventId::parse(resumed.events("message")[0].lastEventId) > *EventId::parse(oldId));
    QCOMPARE(resumed.count("gap"), 1);
    const QJsonObject gap = QJsonDocument::fromJson(resumed.events("gap")[0].data).object();
    QCOMPARE(gap.value(QStringLiteral("reason")).toString(), QStringLiteral("gateway-restarted"));
}

void tst_Gateway::readyzWithoutRedis()
{
    GatewayConfig config = baseConfig();
    config.redis.port = TestRedis::freePort(); // nothing listens there
    auto gateway = std::make_unique<Gateway>(config);
    QString error;
    QVERIFY(gateway->start(&error));
    QTRY_VERIFY_WITH_TIMEOUT(!gateway->subscriber()->lastError().isEmpty(), 30000);
    const auto ready = SseTestClient::get(gateway->port(), "/readyz");
    QCOMPARE(ready.status, 503);
    QVERIFY2(ready.body.contains("not subscribed"), ready.body.constData());
    QCOMPARE(SseTestClient::get(gateway->port(), "/healthz").status, 200);
    // Streams are accepted anyway and go live when Redis appears.
    SseTestClient client;
    client.open(gateway->port(), "/events");
    QTRY_VERIFY_WITH_TIMEOUT(client.headComplete(), 30000);
    QCOMPARE(client.status(), 200);
}

QTEST_GUILESS_MAIN(tst_Gateway)
#include "tst_gateway.moc"
