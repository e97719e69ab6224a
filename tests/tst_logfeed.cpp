// LogFeed, the desktop monitor's data side, without a window: a redis-server on a free port and
// the gateway in-process; what arrives is decoded into lines, stats and channel names, and
// counted; delivery is complete or has a gap; pages of the gateway's history meet exactly and a
// search pages back; over HTTPS with a CA file, and certificate errors in plain words. Links
// llmstreamer_feed only (Qt Core and Network), so it runs without a display.
#include "gatewaytest.h"
#include "gatewaytrust.h"
#include "historyfetcher.h"
#include "historysearch.h"
#include "hub.h"
#include "logfeed.h"
#include "testcertificates.h"
#include "testredis.h"

#include <QDateTime>
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

// What a history fetcher or search hands out, as a window takes it.
struct Pages
{
    explicit Pages(HistoryFetcher *fetcher)
    {
        QObject::connect(fetcher, &HistoryFetcher::pageFetched, fetcher,
                         [this](const LogPage &page) { pages.append(page); });
        QObject::connect(fetcher, &HistoryFetcher::fetchFailed, fetcher,
                         [this](const QString &reason) { errors.append(reason); });
    }
    Q_DISABLE_COPY_MOVE(Pages)

    QList<LogPage> pages;
    QStringList errors;
};

QStringList ids(const std::vector<LogRecord> &records)
{
    QStringList out;
    for (const LogRecord &r : records)
        out.append(r.id());
    return out;
}

QStringList ids(const QList<LogRecord> &records)
{
    return ids(std::vector<LogRecord>(records.begin(), records.end()));
}

QStringList messages(const std::vector<LogRecord> &records)
{
    QStringList out;
    for (const LogRecord &r : records)
        out.append(r.message());
    return out;
}

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
    void historyPagesMeetExactly();
    void historyFollowsTheChannelSelection();
    void newerHistoryRequestSupersedesOlder();
    void historyErrorsInPlainWords();
    void historySearchPagesBack();
    void historySearchSaysHowFarItLooked();
    void streamsOverHttpsWithCaFile();
    void certificateErrorsInPlainWords_data();
    void certificateErrorsInPlainWords();

private:
    std::unique_ptr<Gateway> startGateway(quint16 port = 0) const;
    // Starts `feed` at `gateway` and waits until the gateway has the stream.
    static bool connectFeed(LogFeed &feed, Gateway &gateway, const QStringList &channels = {});
    static QUrl baseUrl(const Gateway &gateway);

    // A gateway serving HTTPS with gateway-one's certificate (signed by the test CA).
    std::unique_ptr<Gateway> startHttpsGateway(const QHostAddress &bind = QHostAddress::LocalHost);

    TestRedis m_redis;
    TestCertificates m_certificates;
};

void tst_LogFeed::initTestCase()
{
    QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
    QVERIFY2(m_certificates.make(), qPrintable(m_certificates.errorString()));
}

std::unique_ptr<Gateway> tst_LogFeed::startHttpsGateway(const QHostAddress &bind)
{
    GatewayConfig c = GatewayTest::config(m_redis);
    c.bind = bind;
    c.retryMilliseconds = 200;
    c.tlsCertFile = m_certificates.path(QStringLiteral("gateway-one.pem"));
    c.tlsKeyFile = m_certificates.path(QStringLiteral("gateway-one.key"));
    return GatewayTest::start(c);
}

std::unique_ptr<Gateway> tst_LogFeed::startGateway(quint16 port) const
{
    GatewayConfig c = GatewayTest::config(m_redis);
    c.port = port;
    c.retryMilliseconds = 200; // sent as retry:, so reconnects are quick here
    return GatewayTest::start(c);
}

bool tst_LogFeed::connectFeed(LogFeed &feed, Gateway &gateway, const QStringList &channels)
{
    const int before = gateway.hub()->clientCount();
    feed.start(baseUrl(gateway), QString(), channels);
    return QTest::qWaitFor([&] { return gateway.hub()->clientCount() > before; }, 30000);
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
    QSignalSpy delivery(&feed, &LogFeed::deliveryChanged);
    const qint64 started = QDateTime::currentMSecsSinceEpoch();
    QCOMPARE(feed.completeSinceMs(), qint64(-1));
    feed.start(baseUrl(*gateway), QString(), QStringList());
    QTRY_COMPARE_WITH_TIMEOUT(gateway->hub()->clientCount(), 1, 30000);
    m_redis.publish("logs:a", "before");
    QTRY_COMPARE_WITH_TIMEOUT(feed.received(), quint64(1), 30000);
    // Complete since the stream went live.
    const qint64 connected = feed.completeSinceMs();
    QVERIFY(connected >= started);
    QVERIFY(connected <= QDateTime::currentMSecsSinceEpoch());
    QCOMPARE(feed.gapAtMs(), qint64(-1));
    QCOMPARE(delivery.size(), 1);
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
    // Reconnecting alone did not change delivery; the gap did: complete since the gap.
    QCOMPARE(delivery.size(), 2);
    QVERIFY(feed.gapAtMs() >= connected);
    QCOMPARE(feed.completeSinceMs(), feed.gapAtMs());
    QCOMPARE(feed.gapReason(), QStringLiteral("gateway-restarted"));
    QCOMPARE(feed.gapText(),
             QStringLiteral("the gateway restarted; events published meanwhile may be lost"));

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
    // Nothing is known about delivery without a gateway.
    QCOMPARE(feed.completeSinceMs(), qint64(-1));
}

void tst_LogFeed::historyPagesMeetExactly()
{
    auto gateway = startGateway();
    QVERIFY(gateway);
    Client client;
    LogFeed &feed = client.feed;
    QVERIFY(connectFeed(feed, *gateway));
    for (int i = 0; i < 250; ++i)
        QCOMPARE(m_redis.publish(i % 2 ? "logs:a" : "logs:b", "n " + QByteArray::number(i)), 1);
    QTRY_COMPARE_WITH_TIMEOUT(feed.received(), quint64(250), 30000);
    const QStringList live = ids(client.records);

    // Newest page first, then each page just before the last one, until nothing older is held.
    Pages got(feed.olderLines());
    QList<LogPage> &pages = got.pages;
    feed.olderLines()->fetch({QString(), QString(), 100});
    for (int n = 1; n < 10; ++n) {
        QTRY_COMPARE_WITH_TIMEOUT(pages.size() + got.errors.size(), n, 30000);
        QVERIFY2(got.errors.isEmpty(), qPrintable(got.errors.join(u'\n')));
        QVERIFY(!feed.olderLines()->isBusy());
        if (pages.last().reachedStart())
            break;
        feed.olderLines()->fetch({pages.last().before, QString(), 100});
    }
    QCOMPARE(pages.size(), 3);
    QCOMPARE(pages[0].records.size(), 100u);
    QCOMPARE(pages[1].records.size(), 100u);
    QCOMPARE(pages[2].records.size(), 50u);
    QCOMPARE(pages[0].stopped, QStringLiteral("limit"));
    QCOMPARE(pages[2].stopped, QStringLiteral("start"));
    QCOMPARE(pages[2].transport, QStringLiteral("pubsub"));
    QCOMPARE(pages[1].request.before, pages[0].before);
    // Oldest first in each page, the pages one after the other: exactly what came live.
    QStringList paged;
    for (auto it = pages.crbegin(); it != pages.crend(); ++it)
        paged += ids(it->records);
    QCOMPARE(paged, live);
    QCOMPARE(messages(pages[2].records).first(), QStringLiteral("n 0"));
    QCOMPARE(messages(pages[0].records).last(), QStringLiteral("n 249"));
    // The same lines as received live, column for column.
    const LogRecord &fromHistory = pages[0].records.back();
    const LogRecord &fromLive = client.records.last();
    QCOMPARE(fromHistory.raw, fromLive.raw);
    QCOMPARE(fromHistory.channel(), QStringLiteral("logs:a"));
}

void tst_LogFeed::historyFollowsTheChannelSelection()
{
    auto gateway = startGateway();
    QVERIFY(gateway);
    Client client;
    LogFeed &feed = client.feed;
    QVERIFY(connectFeed(feed, *gateway, {QStringLiteral("logs:e*")}));
    for (int i = 0; i < 20; ++i)
        m_redis.publish(i % 4 ? "logs:other" : "logs:errors", "line " + QByteArray::number(i));
    QTRY_COMPARE_WITH_TIMEOUT(feed.received(), quint64(5), 30000);
    Pages got(feed.olderLines());
    feed.olderLines()->fetch({QString(), QString(), 100});
    QTRY_COMPARE_WITH_TIMEOUT(got.pages.size(), 1, 30000);
    QCOMPARE(ids(got.pages[0].records), ids(client.records));
    for (const LogRecord &r : got.pages[0].records)
        QCOMPARE(r.channel(), QStringLiteral("logs:errors"));
}

void tst_LogFeed::newerHistoryRequestSupersedesOlder()
{
    auto gateway = startGateway();
    QVERIFY(gateway);
    Client client;
    LogFeed &feed = client.feed;
    QVERIFY(connectFeed(feed, *gateway));
    for (int i = 0; i < 10; ++i)
        m_redis.publish("logs:a", "n " + QByteArray::number(i));
    QTRY_COMPARE_WITH_TIMEOUT(feed.received(), quint64(10), 30000);
    const QString fifth = client.records[5].id();

    Pages got(feed.olderLines());
    QSignalSpy busy(feed.olderLines(), &HistoryFetcher::busyChanged);
    feed.olderLines()->fetch({QString(), QString(), 100});
    feed.olderLines()->fetch({fifth, QString(), 100});
    QVERIFY(feed.olderLines()->isBusy());
    QTRY_VERIFY_WITH_TIMEOUT(!feed.olderLines()->isBusy(), 30000);
    QTRY_COMPARE_WITH_TIMEOUT(busy.size(), 2, 30000); // busy once, idle once
    QCOMPARE(got.pages.size(), 1);
    QCOMPARE(got.pages[0].request.before, fifth);
    QCOMPARE(ids(got.pages[0].records), ids(client.records.first(5)));
    QVERIFY(got.errors.isEmpty());
    // Another gateway or selection cancels what is on its way, and a search says so.
    feed.olderLines()->fetch({QString(), QString(), 100});
    feed.historySearch()->start(QStringLiteral("n 1"));
    feed.start(baseUrl(*gateway), QString(), {QStringLiteral("logs:a")});
    QVERIFY(!feed.olderLines()->isBusy());
    QVERIFY(!feed.historySearch()->isBusy());
    QCOMPARE(feed.historySearch()->error(),
             QStringLiteral("the search was interrupted because the gateway or the channels "
                            "changed; search again"));
    QTest::qWait(200); // an answer that would arrive must not be reported
    QCOMPARE(got.pages.size(), 1);
}

void tst_LogFeed::historyErrorsInPlainWords()
{
    auto gateway = startGateway();
    QVERIFY(gateway);
    LogFeed feed;
    feed.start(baseUrl(*gateway), QString(), QStringList());
    Pages got(feed.olderLines());
    // An id that is none of this gateway's: the gateway's reason, with the status.
    feed.olderLines()->fetch({QStringLiteral("not-an-id"), QString(), 100});
    QTRY_COMPARE_WITH_TIMEOUT(got.errors.size(), 1, 30000);
    const QString prefix = QStringLiteral("the gateway refused the history request (HTTP 400): ");
    QVERIFY2(got.errors[0].startsWith(prefix) && got.errors[0].size() > prefix.size() + 5,
             qPrintable(got.errors[0]));
    // An invalid regular expression in a search.
    HistorySearch *search = feed.historySearch();
    search->start(QStringLiteral("/(unclosed/"));
    QTRY_VERIFY_WITH_TIMEOUT(!search->error().isEmpty(), 30000);
    QVERIFY2(search->error().startsWith(prefix), qPrintable(search->error()));
    QVERIFY(!search->isBusy());

    // Nobody listening.
    const quint16 port = TestRedis::freePort();
    feed.start(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)), QString(), QStringList());
    feed.olderLines()->fetch({QString(), QString(), 100});
    QTRY_COMPARE_WITH_TIMEOUT(got.errors.size(), 2, 30000);
    QCOMPARE(got.errors[1],
             QStringLiteral("cannot load the history: connection refused by 127.0.0.1:%1; is the "
                            "gateway running there?")
                 .arg(port));
    QVERIFY(got.pages.isEmpty());
}

void tst_LogFeed::historySearchPagesBack()
{
    auto gateway = startGateway();
    QVERIFY(gateway);
    // Published before the feed connects: only the history has them.
    QStringList needles;
    for (int i = 0; i < 60; ++i) {
        const bool needle = i % 7 == 3;
        const QByteArray text =
            (needle ? QByteArray("WARN found the Needle ") : QByteArray("hay ")) +
            QByteArray::number(i);
        m_redis.publish("logs:a", text);
        if (needle)
            needles.append(QString::fromUtf8(text));
    }
    LogFeed feed;
    QVERIFY(connectFeed(feed, *gateway));
    QTRY_COMPARE_WITH_TIMEOUT(gateway->hub()->ring().size(), qsizetype(60), 30000);

    HistorySearch *search = feed.historySearch();
    search->setPageSize(3);
    QList<LogPage> pages;
    connect(search, &HistorySearch::pageFound, this,
            [&](const LogPage &page) { pages.append(page); });
    // Case-insensitive text, as the filter box.
    search->start(QStringLiteral("needle"));
    QCOMPARE(search->query(), QStringLiteral("needle"));
    QVERIFY(search->isBusy());
    for (int n = 1; n < 20; ++n) {
        QTRY_COMPARE_WITH_TIMEOUT(pages.size(), n, 30000);
        QTRY_VERIFY_WITH_TIMEOUT(!search->isBusy(), 30000);
        QVERIFY2(search->error().isEmpty(), qPrintable(search->error()));
        if (!search->canSearchOlder())
            break;
        search->searchOlder();
    }
    QCOMPARE(search->stopped(), QStringLiteral("start"));
    QCOMPARE(search->found(), needles.size());
    QStringList found;
    for (auto it = pages.crbegin(); it != pages.crend(); ++it)
        found += messages(it->records);
    QCOMPARE(found, needles);
    QCOMPARE(search->scanned(), qint64(60));
    QVERIFY(pages[0].request.before.isEmpty());
    QVERIFY(!pages[1].request.before.isEmpty());

    // A regex from the filter box; a new search starts over.
    search->start(HistorySearch::queryFor(QStringLiteral("needle (3|52)$"), true));
    QTRY_VERIFY_WITH_TIMEOUT(!search->isBusy() && search->found() > 0, 30000);
    QCOMPARE(messages(pages.last().records),
             (QStringList{QStringLiteral("WARN found the Needle 3"),
                          QStringLiteral("WARN found the Needle 52")}));
    QCOMPARE(search->found(), 2);
}

void tst_LogFeed::historySearchSaysHowFarItLooked()
{
    // More than one request examines (10,000) before the only match.
    GatewayConfig c = GatewayTest::config(m_redis);
    c.history = 12000;
    auto gateway = GatewayTest::start(c);
    QVERIFY(gateway);
    m_redis.publish("logs:a", "the one needle");
    for (int i = 0; i < 10500; ++i)
        m_redis.publish("logs:a", "hay " + QByteArray::number(i));
    QTRY_COMPARE_WITH_TIMEOUT(gateway->hub()->ring().size(), qsizetype(10501), 30000);
    LogFeed feed;
    feed.start(baseUrl(*gateway), QString(), QStringList());
    HistorySearch *search = feed.historySearch();
    QList<LogPage> pages;
    connect(search, &HistorySearch::pageFound, this,
            [&](const LogPage &page) { pages.append(page); });
    search->start(QStringLiteral("needle"));
    QTRY_COMPARE_WITH_TIMEOUT(pages.size(), 1, 30000);
    QVERIFY(pages[0].records.empty());
    QCOMPARE(search->stopped(), QStringLiteral("scan-limit"));
    QCOMPARE(search->scanned(), qint64(10000));
    QVERIFY(search->canSearchOlder());
    search->searchOlder();
    QTRY_COMPARE_WITH_TIMEOUT(pages.size(), 2, 30000);
    QCOMPARE(messages(pages[1].records), QStringList{QStringLiteral("the one needle")});
    QCOMPARE(search->scanned(), qint64(10501));
    QCOMPARE(search->stopped(), QStringLiteral("start"));
    QVERIFY(!search->canSearchOlder());
}

void tst_LogFeed::streamsOverHttpsWithCaFile()
{
    auto gateway = startHttpsGateway();
    QVERIFY(gateway);
    QString error;
    QVERIFY2(GatewayTrust::setCaFile(m_certificates.path(QStringLiteral("ca.pem")), &error),
             qPrintable(error));
    Client client;
    LogFeed &feed = client.feed;
    feed.start(QUrl(QStringLiteral("https://localhost:%1").arg(gateway->port())), QString(), {});
    QTRY_COMPARE_WITH_TIMEOUT(feed.state(), State::Live, 30000);
    m_redis.publish("logs:tls", "level=info over https");
    QTRY_COMPARE_WITH_TIMEOUT(client.records.size(), 1, 30000);
    QCOMPARE(client.records[0].message(), QStringLiteral("level=info over https"));
    // /api/channels over HTTPS too.
    QTRY_COMPARE_WITH_TIMEOUT(feed.allowlist(), QStringList{QStringLiteral("logs:*")}, 30000);
    feed.stop();
    QVERIFY(GatewayTrust::setCaFile(QString(), &error));
}

void tst_LogFeed::certificateErrorsInPlainWords_data()
{
    QTest::addColumn<QString>("caFile");
    QTest::addColumn<QString>("host");
    QTest::addColumn<QString>("reason");
    const QString untrusted = QStringLiteral(
        "the gateway's certificate is not signed by a trusted CA (issued by ca); give that CA's "
        "certificate as the CA file (Settings, or --ca-file)");
    QTest::newRow("no CA file") << QString() << QStringLiteral("localhost") << untrusted;
    QTest::newRow("another CA") << QStringLiteral("otherca.pem") << QStringLiteral("localhost")
                                << untrusted;
    QTest::newRow("another name") << QStringLiteral("ca.pem") << QStringLiteral("127.0.0.2")
                                  << QStringLiteral("the gateway's certificate is for ");
}

void tst_LogFeed::certificateErrorsInPlainWords()
{
    QFETCH(QString, caFile);
    QFETCH(QString, host);
    QFETCH(QString, reason);
    auto gateway = startHttpsGateway(QHostAddress::AnyIPv4);
    QVERIFY(gateway);
    QString error;
    QVERIFY(GatewayTrust::setCaFile(caFile.isEmpty() ? QString() : m_certificates.path(caFile),
                                    &error));
    Client client;
    LogFeed &feed = client.feed;
    QStringList reasons;
    QList<State> states;
    QObject::connect(&feed, &LogFeed::stateChanged, &feed, [&](State state, const QString &why) {
        states.append(state);
        reasons.append(why);
    });
    const QUrl base(QStringLiteral("https://%1:%2").arg(host).arg(gateway->port()));
    feed.start(base, QString(), {});
    const QString where = QStringLiteral("cannot trust %1:%2: ").arg(host).arg(gateway->port());
    QTRY_VERIFY_WITH_TIMEOUT(
        feed.state() == State::Reconnecting && reasons.last().startsWith(where + reason), 30000);
    if (host == QLatin1String("127.0.0.2"))
        QVERIFY2(reasons.last().endsWith(QLatin1String(", not for 127.0.0.2; connect by one of "
                                                       "its names")),
                 qPrintable(reasons.last()));
    // Never ignored: the stream never went live, and the gateway never had it.
    QVERIFY(!states.contains(State::Live));
    QCOMPARE(gateway->hub()->clientCount(), 0);
    QVERIFY(client.records.isEmpty());
    feed.stop();
    QVERIFY(GatewayTrust::setCaFile(QString(), &error));
}

QTEST_GUILESS_MAIN(tst_LogFeed)
#include "tst_logfeed.moc"
