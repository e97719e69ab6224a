// LogFeed, the desktop monitor's data side, without a window: a redis-server on a free port and
// the gateway in-process; what arrives is decoded into lines, stats and channel names, and
// counted. Links llmstreamer_feed only (Qt Core and Network), so it runs without a display.
#include "gatewaytest.h"
#include "hub.h"
#include "logfeed.h"
#include "testredis.h"

#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>

#include <memory>

using State = SseConnection::State;

namespace {

// A feed and the lines it gave, as a window's model takes them.
struct Client
{
    Client()
    {
        QObject::connect(&feed, &LogFeed::recordReceived, &feed,
                         [this](const LogRecord &record) { records.append(record); });
    }
    Q_DISABLE_COPY_MOVE(Client)

    LogFeed feed;
    QList<LogRecord> records;
};

} // namespace

class tst_LogFeed : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void decodesLinesStatsAndChannels();
    void subscribesToTheChannelsGiven();
    void rateAddsUpToWhatWasReceived();
    void gapAfterGatewayRestartIsCounted();
    void failingForgetsTheGatewaysChannels();

private:
    std::unique_ptr<Gateway> startGateway(quint16 port = 0) const;
    static QUrl baseUrl(const Gateway &gateway);

    TestRedis m_redis;
};

void tst_LogFeed::initTestCase()
{
    QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
}

std::unique_ptr<Gateway> tst_LogFeed::startGateway(quint16 port) const
{
    GatewayConfig c = GatewayTest::config(m_redis);
    c.port = port;
    c.retryMilliseconds = 200; // sent as retry:, so reconnects are quick here
    return GatewayTest::start(c);
}

QUrl tst_LogFeed::baseUrl(const Gateway &gateway)
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(gateway.port()));
}

void tst_LogFeed::decodesLinesStatsAndChannels()
{
    auto gateway = startGateway();
    QVERIFY(gateway);
    Client client;
    LogFeed &feed = client.feed;
    const QList<LogRecord> &records = client.records;
    QSignalSpy stats(&feed, &LogFeed::statsReceived);
    QSignalSpy states(&feed, &LogFeed::stateChanged);
    feed.start(baseUrl(*gateway), QString(), QStringList());
    QTRY_COMPARE_WITH_TIMEOUT(feed.state(), State::Live, 30000);
    QCOMPARE(states.first().at(0).value<State>(), State::Connecting);
    QCOMPARE(states.last().at(0).value<State>(), State::Live);
    QTRY_COMPARE_WITH_TIMEOUT(gateway->hub()->clientCount(), 1, 30000);

    m_redis.publish("logs:generation",
                    R"({"severity":"warning","message":"slow decode","service.name":"api",)"
                    R"("gen_ai.response.model":"m2","gen_ai.usage.input_tokens":3,)"
                    R"("duration_ms":40.5})");
    m_redis.publish("logs:raw", "level=error cache full");
    QTRY_COMPARE_WITH_TIMEOUT(records.size(), 2, 30000);
    const LogRecord &json = records[0];
    QCOMPARE(json.kind, LogRecord::Kind::Message);
    QCOMPARE(json.message(), QStringLiteral("slow decode"));
    QCOMPARE(json.level, LogLevel::Warn);
    QCOMPARE(json.channel(), QStringLiteral("logs:generation"));
    QCOMPARE(json.service(), QStringLiteral("api"));
    QCOMPARE(json.model(), QStringLiteral("m2"));
    QCOMPARE(json.inputTokens, 3);
    QCOMPARE(json.outputTokens, -1);
    QCOMPARE(json.durationMs, 40.5f);
    QVERIFY(!json.id().isEmpty());
    const LogRecord &text = records[1];
    QCOMPARE(text.message(), QStringLiteral("level=error cache full"));
    QCOMPARE(text.level, LogLevel::Error);
    QCOMPARE(text.channel(), QStringLiteral("logs:raw"));
    QCOMPARE(feed.received(), quint64(2));
    QCOMPARE(feed.gaps(), 0);
    QCOMPARE(feed.lastGap(), QString());
    QCOMPARE(feed.msSinceLastGap(), qint64(-1));

    // The gateway's stats (once a second) go to statsReceived, not into the log, and name the
    // channels; /api/channels, asked when the stream went live, says the allowlist.
    QTRY_VERIFY_WITH_TIMEOUT(!stats.isEmpty(), 30000);
    const QJsonObject last = stats.last().at(0).toJsonObject();
    QVERIFY(last.value(QLatin1StringView("channels")).isObject());
    QTRY_VERIFY_WITH_TIMEOUT(feed.knownChannels().contains(QStringLiteral("logs:generation")),
                             30000);
    QTRY_VERIFY_WITH_TIMEOUT(feed.knownChannels().contains(QStringLiteral("logs:raw")), 30000);
    QCOMPARE(feed.allowlist(), QStringList{QStringLiteral("logs:*")});
    for (const QString &name : feed.knownChannels())
        QVERIFY2(!name.startsWith(u'('), qPrintable(name));
    QCOMPARE(records.size(), 2);
    QCOMPARE(feed.received(), quint64(2));

    feed.stop();
    QCOMPARE(feed.state(), State::Idle);
}

void tst_LogFeed::subscribesToTheChannelsGiven()
{
    auto gateway = startGateway();
    QVERIFY(gateway);
    Client client;
    LogFeed &feed = client.feed;
    const QList<LogRecord> &records = client.records;
    feed.start(baseUrl(*gateway), QString(), {QStringLiteral("logs:errors")});
    QCOMPARE(feed.connection()->channels(), QStringList{QStringLiteral("logs:errors")});
    QTRY_COMPARE_WITH_TIMEOUT(gateway->hub()->clientCount(), 1, 30000);
    m_redis.publish("logs:generation", "not for us");
    m_redis.publish("logs:errors", "ERROR for us");
    m_redis.publish("logs:errors", "ERROR for us too");
    QTRY_COMPARE_WITH_TIMEOUT(feed.received(), quint64(2), 30000);
    QCOMPARE(records.size(), 2);
    for (const LogRecord &record : records)
        QCOMPARE(record.channel(), QStringLiteral("logs:errors"));
}

void tst_LogFeed::rateAddsUpToWhatWasReceived()
{
    auto gateway = startGateway();
    QVERIFY(gateway);
    LogFeed feed;
    // Each sample is one second's count, so the samples add up to everything received.
    double sampled = 0;
    connect(&feed, &LogFeed::countersUpdated, this, [&] { sampled += feed.rate(); });
    feed.start(baseUrl(*gateway), QString(), QStringList());
    QTRY_COMPARE_WITH_TIMEOUT(gateway->hub()->clientCount(), 1, 30000);
    for (int i = 0; i < 50; ++i)
        QCOMPARE(m_redis.publish("logs:rate", QByteArray::number(i)), 1);
    QTRY_COMPARE_WITH_TIMEOUT(feed.received(), quint64(50), 30000);
    QTRY_COMPARE_WITH_TIMEOUT(sampled, 50.0, 30000);
    QCOMPARE(feed.gaps(), 0);
}

void tst_LogFeed::gapAfterGatewayRestartIsCounted()
{
    auto gateway = startGateway();
    QVERIFY(gateway);
    const quint16 port = gateway->port();
    Client client;
    LogFeed &feed = client.feed;
    const QList<LogRecord> &records = client.records;
    // A gap updates the counters at once, not at the next second.
    QList<int> gapsWhenUpdated;
    connect(&feed, &LogFeed::countersUpdated, this, [&] { gapsWhenUpdated.append(feed.gaps()); });
    feed.start(baseUrl(*gateway), QString(), QStringList());
    QTRY_COMPARE_WITH_TIMEOUT(gateway->hub()->clientCount(), 1, 30000);
    m_redis.publish("logs:a", "before");
    QTRY_COMPARE_WITH_TIMEOUT(feed.received(), quint64(1), 30000);
    QTRY_VERIFY_WITH_TIMEOUT(feed.knownChannels().contains(QStringLiteral("logs:a")), 30000);

    gateway.reset();
    QTRY_COMPARE_WITH_TIMEOUT(feed.state(), State::Reconnecting, 30000);
    QTest::qWait(5); // a new boot stamp (ms) for the new gateway's ids
    gateway = startGateway(port);
    QVERIFY(gateway);
    QTRY_COMPARE_WITH_TIMEOUT(feed.state(), State::Live, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(feed.gaps(), 1, 30000);
    QCOMPARE(records.size(), 2);
    QCOMPARE(records[1].kind, LogRecord::Kind::Gap);
    QVERIFY2(records[1].message().contains(QLatin1StringView("the gateway restarted")),
             qPrintable(records[1].message()));
    QCOMPARE(feed.lastGap(), records[1].message());
    QVERIFY(feed.msSinceLastGap() >= 0);
    QVERIFY(gapsWhenUpdated.contains(1));
    QCOMPARE(feed.received(), quint64(1)); // markers are not messages

    m_redis.publish("logs:a", "after");
    QTRY_COMPARE_WITH_TIMEOUT(feed.received(), quint64(2), 30000);
    QCOMPARE(records.size(), 3);
    QCOMPARE(records[2].kind, LogRecord::Kind::Message);
    // The same gateway again: what it said about its channels still holds.
    QVERIFY(feed.knownChannels().contains(QStringLiteral("logs:a")));
}

void tst_LogFeed::failingForgetsTheGatewaysChannels()
{
    auto gateway = startGateway();
    QVERIFY(gateway);
    LogFeed feed;
    feed.start(baseUrl(*gateway), QString(), QStringList());
    QTRY_COMPARE_WITH_TIMEOUT(feed.allowlist(), QStringList{QStringLiteral("logs:*")}, 30000);

    // Stopped and started again at the same gateway: kept.
    feed.stop();
    feed.start(baseUrl(*gateway), QString(), QStringList());
    QCOMPARE(feed.allowlist(), QStringList{QStringLiteral("logs:*")});

    QSignalSpy changed(&feed, &LogFeed::channelsChanged);
    const QString reason = QStringLiteral("the gateway URL must start with http:// or https://");
    feed.fail(reason);
    QCOMPARE(feed.state(), State::Failed);
    QCOMPARE(feed.connection()->reason(), reason);
    QCOMPARE(feed.allowlist(), QStringList());
    QCOMPARE(feed.knownChannels(), QStringList());
    QCOMPARE(changed.count(), 1);
}

QTEST_GUILESS_MAIN(tst_LogFeed)
#include "tst_logfeed.moc"
