// The gateway with the streams transport, against a real redis-server: entries of the stream
// reach SSE clients with ids that are the same on every gateway; a client resumes exactly on a
// second gateway and after every gateway was down; a Redis restart that keeps its data is no
// gap, one that loses it is; hostile payloads arrive intact.
#include "envelope.h"
#include "gateway.h"
#include "hub.h"
#include "ssetestclient.h"
#include "streamreader.h"
#include "testredis.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

namespace {

constexpr int hang = 30000; // a bound that only catches a hang
const QByteArray key = "llmstreamer:stream";

GatewayConfig streamsConfig(const TestRedis &redis)
{
    GatewayConfig c;
    c.port = 0;
    c.redis = *RedisUrl::parse(redis.url());
    c.transport.kind = Transport::Kind::Streams;
    c.transport.streamKey = key;
    return c;
}

// Null when it did not listen or did not start reading within the hang bound.
std::unique_ptr<Gateway> startStreams(const GatewayConfig &c)
{
    auto g = std::make_unique<Gateway>(c);
    QString error;
    if (!g->start(&error) || !QTest::qWaitFor([&] { return g->streamReader()->isReady(); }, hang)) {
        qWarning("gateway did not start reading: %s %s", qPrintable(error),
                 qPrintable(g->streamReader()->lastError()));
        return nullptr;
    }
    return g;
}

// Opens a live stream on `gateway`; false if the gateway did not take it within the hang bound.
bool openLive(Gateway &gateway, SseTestClient &client)
{
    const int before = gateway.hub()->clientCount();
    client.open(gateway.port(), "/events");
    return QTest::qWaitFor([&] { return gateway.hub()->clientCount() > before; }, hang);
}

QByteArray xadd(TestRedis &redis, const QByteArray &channel, const QByteArray &data)
{
    return redis.command({"XADD", key, "*", "channel", channel, "data", data});
}

QByteArrayList xaddMany(TestRedis &redis, int count, const QByteArray &prefix)
{
    QByteArrayList ids;
    for (int i = 0; i < count; ++i)
        ids.append(xadd(redis, "logs:a", prefix + QByteArray::number(i)));
    return ids;
}

// The SSE ids of entries `ids`.
QByteArrayList eventIds(const QByteArrayList &ids)
{
    QByteArrayList out;
    for (const QByteArray &id : ids)
        out.append('s' + id);
    return out;
}

QByteArrayList messageIds(const SseTestClient &client)
{
    QByteArrayList out;
    for (const SseEvent &e : client.events("message"))
        out.append(e.lastEventId);
    return out;
}

QByteArrayList payloads(const SseTestClient &client)
{
    QByteArrayList out;
    for (const SseEvent &e : client.events("message")) {
        const auto envelope = Envelope::decode(e.data);
        out.append(envelope ? envelope->payload.toString().toUtf8() : QByteArray("<bad>"));
    }
    return out;
}

QByteArrayList eventTypes(const SseTestClient &client)
{
    QByteArrayList out;
    for (const SseEvent &e : client.events())
        if (e.type != "stats")
            out.append(e.type);
    return out;
}

QString gapReason(const SseTestClient &client)
{
    const QList<SseEvent> gaps = client.events("gap");
    return gaps.isEmpty() ? QString()
                          : QJsonDocument::fromJson(gaps.first().data)
                                .object()
                                .value(QStringLiteral("reason"))
                                .toString();
}

QList<QPair<QByteArray, QByteArray>> resumeFrom(const QByteArray &id)
{
    return {{"Last-Event-ID", id}};
}

} // namespace

class tst_GatewayStreams : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void liveEntriesCarryTheirIds();
    void resumeOnASecondGateway();
    void resumeAfterEveryGatewayWasDown();
    void redisRestartWithItsDataIsNoGap();
    void redisRestartWithoutItsDataIsAGap();
    void trimmedResumePointIsAGap();
    void hostilePayloadsIntact();
    void allowlistApplies();
    void allowlistAppliesToTheHistory();
};

void tst_GatewayStreams::liveEntriesCarryTheirIds()
{
    TestRedis redis;
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    auto gateway = startStreams(streamsConfig(redis));
    QVERIFY(gateway);
    SseTestClient client;
    QVERIFY(openLive(*gateway, client));

    const QByteArrayList ids = xaddMany(redis, 3, "line ");
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), 3, hang);
    QCOMPARE(messageIds(client), eventIds(ids));
    QCOMPARE(payloads(client), (QByteArrayList{"line 0", "line 1", "line 2"}));
    const auto envelope = Envelope::decode(client.events("message").constFirst().data);
    QVERIFY(envelope);
    QCOMPARE(envelope->channel, QStringLiteral("logs:a"));
    QCOMPARE(envelope->id.toUtf8(), 's' + ids.first());

    QCOMPARE(SseTestClient::get(gateway->port(), "/readyz").status, 200);
    const auto channels = SseTestClient::get(gateway->port(), "/api/channels");
    QCOMPARE(QJsonDocument::fromJson(channels.body).object().value(u"transport").toString(),
             QStringLiteral("streams"));
    QVERIFY(SseTestClient::get(gateway->port(), "/metrics")
                .body.contains("llmstreamer_transport_info{transport=\"streams\"} 1"));
}

void tst_GatewayStreams::resumeOnASecondGateway()
{
    TestRedis redis;
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    auto a = startStreams(streamsConfig(redis));
    auto b = startStreams(streamsConfig(redis));
    QVERIFY(a && b);

    SseTestClient onA;
    QVERIFY(openLive(*a, onA));
    const QByteArrayList first = xaddMany(redis, 5, "first ");
    QTRY_COMPARE_WITH_TIMEOUT(onA.count(), 5, hang);
    onA.close();
    // Gateway A goes away with its client; what comes meanwhile is read by B.
    const QByteArrayList second = xaddMany(redis, 5, "second ");
    QTRY_COMPARE_WITH_TIMEOUT(b->hub()->lastPosition(),
                              StreamId::parseEntryId(second.last()).value(), hang);

    SseTestClient onB;
    onB.open(b->port(), "/events", resumeFrom(messageIds(onA).last()));
    QTRY_COMPARE_WITH_TIMEOUT(onB.count(), 5, hang);
    QCOMPARE(onB.count("gap"), 0);
    QCOMPARE(messageIds(onB), eventIds(second));
    // Live on B afterwards, nothing repeated.
    const QByteArray third = xadd(redis, "logs:a", "third");
    QTRY_COMPARE_WITH_TIMEOUT(onB.count(), 6, hang);
    QCOMPARE(messageIds(onB).last(), 's' + third);
}

void tst_GatewayStreams::resumeAfterEveryGatewayWasDown()
{
    TestRedis redis;
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    GatewayConfig config = streamsConfig(redis);
    QByteArray lastSeen;
    {
        auto gateway = startStreams(config);
        QVERIFY(gateway);
        SseTestClient client;
        QVERIFY(openLive(*gateway, client));
        xaddMany(redis, 3, "before ");
        QTRY_COMPARE_WITH_TIMEOUT(client.count(), 3, hang);
        lastSeen = messageIds(client).last();
    }
    // No gateway at all while these are written.
    const QByteArrayList meanwhile = xaddMany(redis, 4, "meanwhile ");
    auto gateway = startStreams(config);
    QVERIFY(gateway);
    SseTestClient client;
    client.open(gateway->port(), "/events", resumeFrom(lastSeen));
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), 4, hang);
    QCOMPARE(client.count("gap"), 0);
    QCOMPARE(messageIds(client), eventIds(meanwhile));
}

// Ten restarts in a row, each with entries written after it.
void tst_GatewayStreams::redisRestartWithItsDataIsNoGap()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    TestRedis redis;
    QVERIFY2(redis.start({QStringLiteral("--appendonly"), QStringLiteral("yes"),
                          QStringLiteral("--appendfsync"), QStringLiteral("always"),
                          QStringLiteral("--dir"), dir.path()}),
             qPrintable(redis.errorString()));
    auto gateway = startStreams(streamsConfig(redis));
    QVERIFY(gateway);
    SseTestClient client;
    QVERIFY(openLive(*gateway, client));
    QByteArrayList ids = xaddMany(redis, 2, "before ");
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), 2, hang);

    for (int round = 0; round < 10; ++round) {
        QVERIFY2(redis.restart(), qPrintable(redis.errorString()));
        // Redis answers PING while it loads the AOF but refuses writes (-LOADING) until done.
        QTRY_COMPARE_WITH_TIMEOUT(redis.command({"XLEN", key}), QByteArray::number(ids.size()),
                                  hang);
        ids += xaddMany(redis, 2, "after " + QByteArray::number(round) + ' ');
        QTRY_COMPARE_WITH_TIMEOUT(client.count(), ids.size(), hang);
    }
    QCOMPARE(messageIds(client), eventIds(ids));
    QCOMPARE(client.count("gap"), 0);
    QVERIFY(client.isConnected());
}

void tst_GatewayStreams::redisRestartWithoutItsDataIsAGap()
{
    TestRedis redis;
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    auto gateway = startStreams(streamsConfig(redis));
    QVERIFY(gateway);
    SseTestClient client;
    QVERIFY(openLive(*gateway, client));
    xaddMany(redis, 2, "before ");
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), 2, hang);

    QVERIFY2(redis.restart(), qPrintable(redis.errorString()));
    QTRY_COMPARE_WITH_TIMEOUT(client.count("gap"), 1, hang);
    QCOMPARE(gapReason(client), QStringLiteral("redis-restarted-empty"));
    const QByteArray after = xadd(redis, "logs:a", "after");
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), 3, hang);
    QCOMPARE(eventTypes(client), (QByteArrayList{"message", "message", "gap", "message"}));
    QCOMPARE(messageIds(client).last(), 's' + after);
}

void tst_GatewayStreams::trimmedResumePointIsAGap()
{
    TestRedis redis;
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    const QByteArrayList ids = xaddMany(redis, 10, "n ");
    // Trimmed to the last 3 before the gateway starts.
    QCOMPARE(redis.command({"XTRIM", key, "MAXLEN", "3"}), QByteArray("7"));
    auto gateway = startStreams(streamsConfig(redis));
    QVERIFY(gateway);
    SseTestClient client;
    client.open(gateway->port(), "/events", resumeFrom('s' + ids[1]));
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), 3, hang);
    QCOMPARE(eventTypes(client), (QByteArrayList{"gap", "message", "message", "message"}));
    QCOMPARE(gapReason(client), QStringLiteral("history-exceeded"));
    QCOMPARE(messageIds(client), eventIds(ids.mid(7)));
    // From the gap's id, exactly the same entries and no gap.
    SseTestClient again;
    again.open(gateway->port(), "/events",
               resumeFrom(client.events("gap").constFirst().lastEventId));
    QTRY_COMPARE_WITH_TIMEOUT(again.count(), 3, hang);
    QCOMPARE(again.count("gap"), 0);
    QCOMPARE(messageIds(again), eventIds(ids.mid(7)));
}

void tst_GatewayStreams::hostilePayloadsIntact()
{
    TestRedis redis;
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    auto gateway = startStreams(streamsConfig(redis));
    QVERIFY(gateway);
    SseTestClient client;
    QVERIFY(openLive(*gateway, client));
    const QByteArrayList hostile{
        "two\nlines\r\nand CR\r",      "x\n\nid: 1\nevent: gap\ndata: injected",
        QByteArray("nul\0inside", 10), "<script>alert(1)</script>",
        QByteArray(1024 * 1024, 'm'),
    };
    for (const QByteArray &p : hostile)
        xadd(redis, "logs:a", p);
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), hostile.size(), hang);
    QCOMPARE(client.count("gap"), 0);
    const QByteArrayList got = payloads(client);
    for (qsizetype i = 0; i < hostile.size(); ++i)
        QCOMPARE(got[i], hostile[i]);
    // Invalid UTF-8 is replaced in the JSON envelope and counted, not dropped.
    xadd(redis, "logs:a", QByteArray("bad \xff\xfe end"));
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), hostile.size() + 1, hang);
    QCOMPARE(gateway->hub()->invalidUtf8Payloads(), 1u);
}

void tst_GatewayStreams::allowlistApplies()
{
    TestRedis redis;
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    GatewayConfig config = streamsConfig(redis);
    config.channels = {"logs:*", "audit"};
    auto gateway = startStreams(config);
    QVERIFY(gateway);
    SseTestClient client;
    QVERIFY(openLive(*gateway, client));
    xadd(redis, "secret:keys", "not for the gateway");
    xadd(redis, "audit", "exact name");
    xadd(redis, "auditx", "not the name");
    const QByteArray last = xadd(redis, "logs:a", "glob");
    QTRY_COMPARE_WITH_TIMEOUT(messageIds(client).value(client.count() - 1), 's' + last, hang);
    QCOMPARE(payloads(client), (QByteArrayList{"exact name", "glob"}));
}

void tst_GatewayStreams::allowlistAppliesToTheHistory()
{
    // Written before the gateway starts: they reach it as its history, not live.
    TestRedis redis;
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    xadd(redis, "secret:keys", "not for the gateway");
    const QByteArray early = xadd(redis, "logs:a", "early");
    auto gateway = startStreams(streamsConfig(redis));
    QVERIFY(gateway);
    SseTestClient client;
    client.open(gateway->port(), "/events?tail=10");
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), 1, hang);
    QCOMPARE(messageIds(client), QByteArrayList{'s' + early});
    QCOMPARE(payloads(client), QByteArrayList{"early"});
}

QTEST_GUILESS_MAIN(tst_GatewayStreams)
#include "tst_gatewaystreams.moc"
