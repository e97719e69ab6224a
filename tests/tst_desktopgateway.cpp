// The desktop client's feed against the real thing: a redis-server on a free port and the
// gateway in-process, with the network dropped under the client and the gateway killed and
// restarted. Events are counted by payload: nothing lost, nothing repeated.
#include "desktoptcprelay.h"
#include "envelope.h"
#include "gateway.h"
#include "hub.h"
#include "logrecorddecoder.h"
#include "redissubscriber.h"
#include "sseconnection.h"
#include "testredis.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <map>
#include <memory>

using State = SseConnection::State;

namespace {

// What a client saw: message payloads by count, other events in order.
struct Seen
{
    std::map<QString, int> payloads;
    QStringList order;
    QList<QJsonObject> gaps;
    int stats = 0;
    QByteArray lastMessageId;

    void add(const SseEvent &e)
    {
        if (e.type == "message") {
            const auto env = Envelope::decode(e.data);
            QVERIFY(env);
            const QString p = env->payload.toString();
            ++payloads[p];
            order.append(p);
            lastMessageId = e.lastEventId;
        } else if (e.type == "gap") {
            gaps.append(QJsonDocument::fromJson(e.data).object());
            order.append(QStringLiteral("<gap>"));
        } else if (e.type == "stats") {
            ++stats;
        }
    }
    // Every one of `from`..`to` exactly once.
    bool exactlyOnce(int from, int to, QString *why) const
    {
        for (int i = from; i <= to; ++i) {
            const auto it = payloads.find(QString::number(i));
            const int n = it == payloads.end() ? 0 : it->second;
            if (n != 1) {
                *why = QStringLiteral("payload %1 seen %2 times").arg(i).arg(n);
                return false;
            }
        }
        return true;
    }
};

} // namespace

class tst_DesktopGateway : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void resumesAfterTheNetworkDrops();
    void gatewayKilledAndRestarted_data();
    void gatewayKilledAndRestarted();
    void channelSelection();
    void channelOutsideAllowlistIsRefusedInPlainWords();
    void decodesWhatTheGatewaySends();

private:
    GatewayConfig config(quint16 port = 0) const;
    std::unique_ptr<Gateway> startGateway(const GatewayConfig &config);
    void publish(int from, int to, const QByteArray &channel = "logs:desk");

    TestRedis m_redis;
};

void tst_DesktopGateway::initTestCase()
{
    QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
}

GatewayConfig tst_DesktopGateway::config(quint16 port) const
{
    GatewayConfig c;
    c.port = port;
    c.redis = *RedisUrl::parse(m_redis.url());
    c.channels = {"logs:*"};
    c.retryMilliseconds = 200; // sent as retry:, so reconnects are quick here
    c.heartbeatSeconds = 1;
    return c;
}

std::unique_ptr<Gateway> tst_DesktopGateway::startGateway(const GatewayConfig &c)
{
    auto gateway = std::make_unique<Gateway>(c);
    QString error;
    if (!gateway->start(&error)) {
        qWarning("gateway did not start: %s", qPrintable(error));
        return nullptr;
    }
    if (!QTest::qWaitFor([&] { return gateway->subscriber()->isSubscribed(); }, 10000))
        return nullptr;
    return gateway;
}

void tst_DesktopGateway::publish(int from, int to, const QByteArray &channel)
{
    for (int i = from; i <= to; ++i)
        QCOMPARE(m_redis.publish(channel, QByteArray::number(i)), 1);
}

void tst_DesktopGateway::resumesAfterTheNetworkDrops()
{
    auto gateway = startGateway(config());
    QVERIFY(gateway);
    DesktopTcpRelay relay(gateway->port());
    QVERIFY(relay.listen());

    SseConnection client;
    Seen seen;
    connect(&client, &SseConnection::eventReceived, this, [&](const SseEvent &e) { seen.add(e); });
    client.setGatewayUrl(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(relay.port())));
    client.start();
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), State::Live, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(gateway->hub()->clientCount(), 1, 30000);

    publish(0, 299);
    QTRY_COMPARE_WITH_TIMEOUT(seen.order.size(), 300, 30000);

    for (int round = 0; round < 3; ++round) {
        relay.dropAll();
        QTRY_COMPARE_WITH_TIMEOUT(client.state(), State::Reconnecting, 30000);
        QVERIFY2(client.reason().contains(QLatin1StringView("closed the connection")),
                 qPrintable(client.reason()));
        // Published while the client is away: the gateway's history has them for the resume.
        const int from = 300 + round * 200;
        publish(from, from + 199);
        QTRY_COMPARE_WITH_TIMEOUT(client.state(), State::Live, 30000);
        QTRY_COMPARE_WITH_TIMEOUT(int(seen.payloads.size()), from + 200, 30000);
    }
    QString why;
    QVERIFY2(seen.exactlyOnce(0, 899, &why), qPrintable(why));
    QCOMPARE(seen.order.size(), 900); // nothing repeated, no gap
    for (int i = 0; i < 900; ++i)
        QCOMPARE(seen.order[i], QString::number(i)); // and in order
    QCOMPARE(relay.connectionsAccepted(), 4);
}

void tst_DesktopGateway::gatewayKilledAndRestarted_data()
{
    QTest::addColumn<bool>("graceful");
    QTest::newRow("shutdown (SIGTERM path)") << true;
    QTest::newRow("killed") << false;
}

void tst_DesktopGateway::gatewayKilledAndRestarted()
{
    QFETCH(bool, graceful);
    auto gateway = startGateway(config());
    QVERIFY(gateway);
    const quint16 port = gateway->port();

    SseConnection client;
    Seen seen;
    connect(&client, &SseConnection::eventReceived, this, [&](const SseEvent &e) { seen.add(e); });
    client.setGatewayUrl(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)));
    client.start();
    QTRY_COMPARE_WITH_TIMEOUT(gateway->hub()->clientCount(), 1, 30000);
    publish(0, 199);
    QTRY_COMPARE_WITH_TIMEOUT(int(seen.payloads.size()), 200, 30000);
    const QByteArray lastBeforeRestart = seen.lastMessageId;

    if (graceful) {
        gateway->shutdown(); // tells every stream why, then closes it
        QTRY_COMPARE_WITH_TIMEOUT(client.state(), State::Reconnecting, 30000);
    }
    gateway.reset();
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), State::Reconnecting, 30000);
    QVERIFY2(client.reason().contains(graceful ? QLatin1StringView("the gateway shut down")
                                               : QLatin1StringView("closed the connection")),
             qPrintable(client.reason()));

    // The same port again; the client finds it by itself.
    QTest::qWait(5); // a new boot stamp (ms) for the new gateway's ids
    gateway = startGateway(config(port));
    QVERIFY(gateway);
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), State::Live, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(gateway->hub()->clientCount(), 1, 30000);
    publish(200, 399);
    QTRY_COMPARE_WITH_TIMEOUT(int(seen.payloads.size()), 400, 30000);

    QString why;
    QVERIFY2(seen.exactlyOnce(0, 399, &why), qPrintable(why));
    // One explicit gap where the restart was, saying so; nothing silently skipped.
    QCOMPARE(seen.gaps.size(), 1);
    QCOMPARE(seen.gaps[0].value(QStringLiteral("reason")).toString(),
             QStringLiteral("gateway-restarted"));
    QCOMPARE(seen.gaps[0].value(QStringLiteral("last_event_id")).toString().toUtf8(),
             lastBeforeRestart);
    QCOMPARE(seen.order.indexOf(QStringLiteral("<gap>")), 200);
    QCOMPARE(seen.order.size(), 401);
}

void tst_DesktopGateway::channelSelection()
{
    auto gateway = startGateway(config());
    QVERIFY(gateway);
    SseConnection client;
    Seen seen;
    connect(&client, &SseConnection::eventReceived, this, [&](const SseEvent &e) { seen.add(e); });
    client.setGatewayUrl(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(gateway->port())));
    client.setChannels({QStringLiteral("logs:errors")});
    client.start();
    QTRY_COMPARE_WITH_TIMEOUT(gateway->hub()->clientCount(), 1, 30000);
    publish(0, 9, "logs:generation");
    publish(10, 19, "logs:errors");
    QTRY_COMPARE_WITH_TIMEOUT(int(seen.payloads.size()), 10, 30000);
    QString why;
    QVERIFY2(seen.exactlyOnce(10, 19, &why), qPrintable(why));

    // Resubscribing (as the channel checkboxes do) resumes where it was: the errors published
    // meanwhile arrive, the other channel's do not.
    client.setChannels({QStringLiteral("logs:errors"), QStringLiteral("logs:generation")});
    client.stop();
    publish(20, 24, "logs:errors");
    client.start();
    QTRY_COMPARE_WITH_TIMEOUT(gateway->hub()->clientCount(), 1, 30000);
    publish(25, 29, "logs:generation");
    QTRY_COMPARE_WITH_TIMEOUT(int(seen.payloads.size()), 20, 30000);
    QVERIFY2(seen.exactlyOnce(10, 29, &why), qPrintable(why));
    QVERIFY(seen.payloads.find(QStringLiteral("0")) == seen.payloads.end());
}

void tst_DesktopGateway::channelOutsideAllowlistIsRefusedInPlainWords()
{
    auto gateway = startGateway(config());
    QVERIFY(gateway);
    SseConnection client;
    client.setGatewayUrl(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(gateway->port())));
    client.setChannels({QStringLiteral("secret:keys")});
    client.start();
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), State::Failed, 30000);
    QCOMPARE(client.httpStatus(), 400);
    QVERIFY2(client.reason().contains(QLatin1StringView(
                 "channel \"secret:keys\" is outside this gateway's allowlist (logs:*)")),
             qPrintable(client.reason()));
}

void tst_DesktopGateway::decodesWhatTheGatewaySends()
{
    auto gateway = startGateway(config());
    QVERIFY(gateway);
    SseConnection client;
    LogRecordDecoder decoder;
    QList<LogRecord> records;
    int stats = 0;
    connect(&client, &SseConnection::eventReceived, this, [&](const SseEvent &e) {
        if (auto r = decoder.decode(e))
            records.append(*r);
        else if (e.type == "stats")
            ++stats;
    });
    client.setGatewayUrl(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(gateway->port())));
    client.start();
    QTRY_COMPARE_WITH_TIMEOUT(gateway->hub()->clientCount(), 1, 30000);
    m_redis.publish("logs:generation",
                    R"({"level":"ERROR","msg":"CUDA out of memory","service":"api",)"
                    R"("gen_ai.request.model":"m","gen_ai.usage.output_tokens":7,"ttft_ms":12})");
    m_redis.publish("logs:raw", "WARN disk\nfull");
    QTRY_COMPARE_WITH_TIMEOUT(records.size(), 2, 30000);
    QCOMPARE(records[0].message(), QStringLiteral("CUDA out of memory"));
    QCOMPARE(records[0].level, LogLevel::Error);
    QCOMPARE(records[0].model(), QStringLiteral("m"));
    QCOMPARE(records[0].outputTokens, 7);
    QCOMPARE(records[1].message(), QStringLiteral("WARN disk\nfull"));
    QCOMPARE(records[1].level, LogLevel::Warn);
    QCOMPARE(records[1].channel(), QStringLiteral("logs:raw"));
    QTRY_VERIFY_WITH_TIMEOUT(stats >= 1, 30000); // once a second
}

QTEST_GUILESS_MAIN(tst_DesktopGateway)
#include "tst_desktopgateway.moc"
