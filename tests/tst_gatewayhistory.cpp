// GET /api/history against a real gateway and redis-server, in both transports: pages meet
// exactly, q (text and /regex/) and the channel rules hold, limits and bad input are refused
// with the reason, a search stops at the scan limit and says where, a stream read from Redis is
// answered in order with the requests after it, and an unreachable Redis is a 503.
#include "gateway.h"
#include "gatewaytest.h"
#include "history.h"
#include "hub.h"
#include "rawhttp.h"
#include "ssetestclient.h"
#include "streamreader.h"
#include "testredis.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <QUrl>

#include <memory>

namespace {

constexpr int hang = 30000; // a bound that only catches a hang
const QByteArray key = "llmstreamer:stream";
const QByteArray token = "reader-0123456789abcdef"; // logs:b only

struct Setup
{
    TestRedis redis;
    std::unique_ptr<Gateway> gateway;
    bool streams = false;
    int published = 0;
};

bool startGateway(Setup &s, bool streams, const QByteArray &tokens = {})
{
    if (!s.redis.start()) {
        qWarning("redis: %s", qPrintable(s.redis.errorString()));
        return false;
    }
    s.streams = streams;
    GatewayConfig c = GatewayTest::config(s.redis, tokens);
    if (streams) {
        c.transport.kind = Transport::Kind::Streams;
        c.transport.streamKey = key;
    }
    s.gateway = std::make_unique<Gateway>(c);
    QString error;
    return s.gateway->start(&error) &&
           QTest::qWaitFor([&] { return s.gateway->feed()->isReady(); }, hang);
}

// Adds one entry (streams) or publishes one message (pub/sub), and waits until the gateway
// has taken it.
void add(Setup &s, const QByteArray &channel, const QByteArray &payload)
{
    if (s.streams)
        s.redis.command({"XADD", key, "*", "channel", channel, "data", payload});
    else
        s.redis.publish(channel, payload);
    ++s.published;
}

bool settle(Setup &s, int taken)
{
    // Entries outside the allowlist are not taken: `taken` says how many are.
    return QTest::qWaitFor(
        [&] {
            return s.gateway->hub()->channels().empty() ? taken == 0 : [&] {
                quint64 received = 0;
                for (const auto &row : s.gateway->hub()->channels())
                    if (!row.aggregate)
                        received += row.received;
                return received >= quint64(taken);
            }();
        },
        hang);
}

struct Page
{
    int status = 0;
    QByteArray text;
    QJsonArray events;
    QJsonValue before;
    int scanned = 0;
    QString stopped;
};

Page history(Setup &s, const QByteArray &query, const QByteArray &header = {})
{
    Page p;
    const QByteArray request =
        "GET /api/history" + query + " HTTP/1.1\r\nHost: x\r\n" + header + "\r\n";
    const QByteArray response = RawHttp::exchange(s.gateway->port(), request, hang);
    p.status = RawHttp::statusOf(response);
    p.text = response.mid(response.indexOf("\r\n\r\n") + 4);
    const QJsonObject o = QJsonDocument::fromJson(p.text).object();
    p.events = o.value(QStringLiteral("events")).toArray();
    p.before = o.value(QStringLiteral("before"));
    p.scanned = o.value(QStringLiteral("scanned")).toInt();
    p.stopped = o.value(QStringLiteral("stopped")).toString();
    return p;
}

QStringList payloadsOf(const QJsonArray &events)
{
    QStringList out;
    for (const QJsonValue &e : events)
        out.append(e.toObject().value(QStringLiteral("payload")).toString());
    return out;
}

QByteArray percent(const QString &text)
{
    return QUrl::toPercentEncoding(text);
}

} // namespace

class tst_GatewayHistory : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void pagesMeetExactly_data();
    void pagesMeetExactly();
    void searchAndChannels_data();
    void searchAndChannels();
    void refusals_data();
    void refusals();
    void tokenRules();
    void scanLimitSaysWhereItStopped();
    void streamAnswerKeepsResponseOrder();
    void redisAwayIs503();
};

void tst_GatewayHistory::pagesMeetExactly_data()
{
    QTest::addColumn<bool>("streams");
    QTest::newRow("pubsub") << false;
    QTest::newRow("streams") << true;
}

void tst_GatewayHistory::pagesMeetExactly()
{
    QFETCH(bool, streams);
    Setup s;
    QVERIFY(startGateway(s, streams));
    for (int i = 0; i < 250; ++i)
        add(s, "logs:a", "line " + QByteArray::number(i));
    QVERIFY(settle(s, 250));

    QStringList all;
    QStringList ids;
    QByteArray before;
    QList<int> sizes;
    Page p;
    do {
        p = history(s, "?limit=100" + (before.isEmpty() ? QByteArray() : "&before=" + before));
        QCOMPARE(p.status, 200);
        sizes.append(int(p.events.size()));
        QStringList page = payloadsOf(p.events);
        page.append(all);
        all = page;
        QStringList pageIds;
        for (const QJsonValue &e : std::as_const(p.events))
            pageIds.append(e.toObject().value(QStringLiteral("id")).toString());
        pageIds.append(ids);
        ids = pageIds;
        before = p.before.toString().toUtf8();
    } while (!p.before.isNull() && sizes.size() < 10);
    QCOMPARE(sizes.mid(0, 3), (QList<int>{100, 100, 50}));
    QCOMPARE(p.stopped, QStringLiteral("start"));
    QCOMPARE(all.size(), 250);
    for (int i = 0; i < 250; ++i)
        QCOMPARE(all[i], QStringLiteral("line %1").arg(i));
    QCOMPARE(QSet<QString>(ids.begin(), ids.end()).size(), 250);
    for (const QString &id : std::as_const(ids))
        QCOMPARE(id.startsWith(QLatin1Char('s')), streams);
}

void tst_GatewayHistory::searchAndChannels_data()
{
    pagesMeetExactly_data();
}

void tst_GatewayHistory::searchAndChannels()
{
    QFETCH(bool, streams);
    Setup s;
    QVERIFY(startGateway(s, streams));
    add(s, "logs:a", "plain one");
    add(s, "logs:b", "Needle-1 in b");
    add(s, "logs:a", "needle-22 in a");
    add(s, "other:x", "needle outside the allowlist");
    add(s, "logs:a", "{\"level\":\"ERROR\",\"msg\":\"NEEDLE-3 object\"}");
    add(s, "logs:b", "plain two");
    QVERIFY(settle(s, 5));

    // Plain text in any case; the channel is searched too; entries outside the allowlist never.
    Page p = history(s, "?q=needle");
    QCOMPARE(p.status, 200);
    QCOMPARE(p.events.size(), 3);
    QCOMPARE(p.events[0].toObject().value(QStringLiteral("payload")).toString(),
             QStringLiteral("Needle-1 in b"));
    QCOMPARE(p.events[2]
                 .toObject()
                 .value(QStringLiteral("payload"))
                 .toObject()
                 .value(QStringLiteral("msg"))
                 .toString(),
             QStringLiteral("NEEDLE-3 object"));
    QCOMPARE(p.stopped, QStringLiteral("start"));
    QCOMPARE(history(s, "?q=logs%3Ab").events.size(), 2);

    // /regex/flags.
    p = history(s, "?q=" + percent(QStringLiteral("/needle-[0-9]{2} in/")));
    QCOMPARE(payloadsOf(p.events), QStringList{QStringLiteral("needle-22 in a")});
    p = history(s, "?q=" + percent(QStringLiteral("/^logs:b needle/i")));
    QCOMPARE(payloadsOf(p.events), QStringList{QStringLiteral("Needle-1 in b")});

    // Channel selection, with a glob; combined with q.
    p = history(s, "?channels=logs:b");
    QCOMPARE(payloadsOf(p.events),
             (QStringList{QStringLiteral("Needle-1 in b"), QStringLiteral("plain two")}));
    p = history(s, "?channels=logs:*&q=plain");
    QCOMPARE(payloadsOf(p.events),
             (QStringList{QStringLiteral("plain one"), QStringLiteral("plain two")}));
    // Nothing matches: an empty page that reached the start.
    p = history(s, "?q=nowhere");
    QCOMPARE(p.status, 200);
    QCOMPARE(p.events.size(), 0);
    QVERIFY(p.before.isNull());
}

void tst_GatewayHistory::refusals_data()
{
    QTest::addColumn<bool>("streams");
    QTest::addColumn<QByteArray>("query");
    QTest::addColumn<QByteArray>("reason");
    for (const bool streams : {false, true}) {
        const char *t = streams ? "streams " : "pubsub ";
        QTest::addRow("%slimit=0", t) << streams << QByteArray("?limit=0") << QByteArray("limit=");
        QTest::addRow("%slimit=1001", t)
            << streams << QByteArray("?limit=1001") << QByteArray("from 1 to 1000");
        QTest::addRow("%slimit=abc", t)
            << streams << QByteArray("?limit=abc") << QByteArray("limit=");
        QTest::addRow("%sbad regex", t)
            << streams << QByteArray("?q=/(/") << QByteArray("not a valid regex");
        QTest::addRow("%sbad flag", t) << streams << QByteArray("?q=/a/x") << QByteArray("flags");
        QTest::addRow("%soutside the allowlist", t)
            << streams << QByteArray("?channels=other:x") << QByteArray("allowlist");
        QTest::addRow("%sempty channels", t)
            << streams << QByteArray("?channels=") << QByteArray("channels= is empty");
        QTest::addRow("%sbefore of the other transport", t)
            << streams << QByteArray(streams ? "?before=1-1" : "?before=s1-1")
            << QByteArray("before=");
        QTest::addRow("%sbefore garbage", t)
            << streams << QByteArray("?before=%0A%00x") << QByteArray("before=");
    }
}

void tst_GatewayHistory::refusals()
{
    QFETCH(bool, streams);
    QFETCH(QByteArray, query);
    QFETCH(QByteArray, reason);
    Setup s;
    QVERIFY(startGateway(s, streams));
    const Page p = history(s, query);
    QCOMPARE(p.status, 400);
    QVERIFY2(p.text.contains(reason), p.text.constData());
    // The gateway goes on answering.
    QCOMPARE(history(s, "").status, 200);
}

void tst_GatewayHistory::tokenRules()
{
    Setup s;
    QVERIFY(startGateway(s, true, token + "  logs:b\n"));
    add(s, "logs:a", "secret a");
    add(s, "logs:b", "visible b");
    QVERIFY(settle(s, 2));
    QCOMPARE(history(s, "").status, 401);
    const QByteArray bearer = "Authorization: Bearer " + token + "\r\n";
    // Without channels=, what the token may read.
    Page p = history(s, "", bearer);
    QCOMPARE(p.status, 200);
    QCOMPARE(payloadsOf(p.events), QStringList{QStringLiteral("visible b")});
    QCOMPARE(history(s, "?q=secret", bearer).events.size(), 0);
    p = history(s, "?channels=logs:a", bearer);
    QCOMPARE(p.status, 403);
    QVERIFY2(p.text.contains("may not read"), p.text.constData());
}

void tst_GatewayHistory::scanLimitSaysWhereItStopped()
{
    Setup s;
    QVERIFY(startGateway(s, true));
    add(s, "logs:a", "the rare one");
    const int filler = HistoryQuery::scanLimit + 50;
    for (int i = 0; i < filler; ++i)
        add(s, "logs:a", "filler " + QByteArray::number(i));
    QVERIFY(settle(s, filler + 1));

    Page p = history(s, "?q=rare");
    QCOMPARE(p.status, 200);
    QCOMPARE(p.events.size(), 0);
    QCOMPARE(p.stopped, QStringLiteral("scan-limit"));
    QCOMPARE(p.scanned, HistoryQuery::scanLimit);
    QVERIFY(p.before.isString());
    // Asked again from where it stopped: found, and the start reached.
    p = history(s, "?q=rare&before=" + p.before.toString().toUtf8());
    QCOMPARE(payloadsOf(p.events), QStringList{QStringLiteral("the rare one")});
    QCOMPARE(p.scanned, 51);
    QCOMPARE(p.stopped, QStringLiteral("start"));
}

void tst_GatewayHistory::streamAnswerKeepsResponseOrder()
{
    // The stream's page is answered after a trip to Redis; a request pipelined behind it on
    // the same connection must not be answered first.
    Setup s;
    QVERIFY(startGateway(s, true));
    add(s, "logs:a", "first");
    QVERIFY(settle(s, 1));
    const RawHttp::Reply reply = RawHttp::untilClosed(
        s.gateway->port(),
        "GET /api/history?limit=5 HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /api/history?q=first HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        hang);
    QVERIFY(reply.closed);
    // (A JSON body ends without a line break: the next status line is not at a line start.)
    QVERIFY2(reply.bytes.count("HTTP/1.1 200 OK\r\n") == 3, reply.bytes.constData());
    const qsizetype history1 = reply.bytes.indexOf("\"events\"");
    const qsizetype health = reply.bytes.indexOf("\r\n\r\nok\n");
    const qsizetype history2 = reply.bytes.indexOf("\"events\"", history1 + 1);
    QVERIFY2(history1 >= 0 && health > history1 && history2 > health, reply.bytes.constData());
}

void tst_GatewayHistory::redisAwayIs503()
{
    Setup s;
    QVERIFY(startGateway(s, true));
    add(s, "logs:a", "x");
    QVERIFY(settle(s, 1));
    s.redis.stop();
    const Page p = history(s, "");
    QCOMPARE(p.status, 503);
    QVERIFY2(p.text.contains("cannot be read now"), p.text.constData());
    // Back: answered again.
    QVERIFY(s.redis.restart());
    QVERIFY(QTest::qWaitFor([&] { return history(s, "").status == 200; }, hang));
}

QTEST_GUILESS_MAIN(tst_GatewayHistory)
#include "tst_gatewayhistory.moc"
