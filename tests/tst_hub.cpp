// Unit tests of Hub, the fan-out core, through a fake EventSink: no sockets, no Redis. The fake
// records what the hub writes and reports the backlog the test sets, so replay pacing, slow-client
// cut-offs and control frames are checked exactly; the stats tick is called by hand.
#include "envelope.h"
#include "eventid.h"
#include "eventsink.h"
#include "hub.h"
#include "sseparser.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>

#include <QRandomGenerator>

#include <memory>

using namespace Qt::StringLiterals;

namespace {

// What one FakeSink saw. Shared with the test, because the hub deletes its sinks.
struct SinkLog
{
    // Set by the test.
    bool connected = true;
    bool stalled = false; // the peer reads nothing: what is written stays unsent
    qint64 unsent = 0;    // bytes written but not taken by the peer
    QHostAddress peer{QHostAddress::LocalHost};
    QByteArrayList selection;
    QByteArray grantToken;

    // Set by the hub.
    int retryMilliseconds = -1;
    QByteArray bytes;         // the stream as the peer reads it
    QList<QByteArray> frames; // what was handed over, one by one (to check sharing)
    int flushes = 0;          // flush() calls that had something queued
    bool closed = false;
    bool destroyed = false;
    std::function<void()> gone;
    std::function<void()> drained;
};

class FakeSink final : public EventSink
{
public:
    explicit FakeSink(std::shared_ptr<SinkLog> log) : m_log(std::move(log)) {}
    ~FakeSink() override
    {
        m_log->destroyed = true;
        m_log->gone = nullptr;
        m_log->drained = nullptr;
    }

    void begin(int retryMilliseconds, const QByteArray &firstBytes) override
    {
        m_log->retryMilliseconds = retryMilliseconds;
        m_log->bytes += firstBytes;
    }
    void write(const QByteArray &bytes) override
    {
        flush();
        take(bytes);
    }
    bool queue(const QByteArray &bytes) override
    {
        m_queue.append(bytes);
        m_queuedBytes += bytes.size();
        return m_queue.size() == 1;
    }
    void flush() override
    {
        if (m_queue.isEmpty())
            return;
        ++m_log->flushes;
        for (const QByteArray &frame : std::as_const(m_queue))
            take(frame);
        m_queue.clear();
        m_queuedBytes = 0;
    }
    void close(const QByteArray &finalBytes) override
    {
        flush();
        take(finalBytes);
        m_log->closed = true;
        m_log->connected = false;
    }
    bool isConnected() const override { return m_log->connected; }
    qint64 pendingBytes() const override { return m_log->unsent + m_queuedBytes; }
    QHostAddress peerAddress() const override { return m_log->peer; }
    const QByteArrayList &selection() const override { return m_log->selection; }
    const QByteArray &grantToken() const override { return m_log->grantToken; }
    const QByteArrayList &grantChannels() const override { return m_log->selection; }
    void setHandlers(std::function<void()> gone, std::function<void()> drained) override
    {
        m_log->gone = std::move(gone);
        m_log->drained = std::move(drained);
    }

private:
    void take(const QByteArray &frame)
    {
        m_log->bytes += frame;
        m_log->frames.append(frame);
        if (m_log->stalled)
            m_log->unsent += frame.size();
    }

    std::shared_ptr<SinkLog> m_log;
    QList<QByteArray> m_queue;
    qint64 m_queuedBytes = 0;
};

using Log = std::shared_ptr<SinkLog>;

Hub::Options options(int history = 100)
{
    Hub::Options o;
    o.history = history;
    o.tickMilliseconds = 0; // tick() by hand
    return o;
}

Log addClient(Hub &hub, const QByteArrayList &selection = {}, const QByteArray &lastEventId = {},
              int tail = 0, const std::function<void(SinkLog &)> &setUp = {})
{
    auto log = std::make_shared<SinkLog>();
    log->selection = selection;
    if (setUp)
        setUp(*log);
    hub.addClient(std::make_unique<FakeSink>(log), lastEventId, tail);
    return log;
}

// Runs what the hub queued for the event loop: the flush of queued frames and the sweep of
// closed clients.
void settle()
{
    QCoreApplication::sendPostedEvents();
}

// The peer reads everything and says so, until the client has caught up.
void drainUntilLive(const Log &log, int maxRounds = 10000)
{
    for (int i = 0; i < maxRounds && log->drained; ++i) {
        const qsizetype before = log->frames.size();
        log->unsent = 0;
        log->drained();
        if (log->frames.size() == before)
            return; // nothing more to replay
    }
}

QList<SseEvent> events(const SinkLog &log, const QByteArray &type = {}, qint64 *comments = nullptr)
{
    QList<SseEvent> out;
    SseParser parser([&](const SseEvent &e) {
        if (type.isEmpty() || e.type == type)
            out.append(e);
    });
    parser.feed(log.bytes);
    if (comments)
        *comments = parser.commentsSeen();
    return out;
}

// The payloads of the message events, in order (without the padding publishNumbers adds).
QStringList payloads(const SinkLog &log)
{
    QStringList out;
    for (const SseEvent &e : events(log, "message")) {
        const auto envelope = Envelope::decode(e.data);
        out.append(envelope ? envelope->payload.toString().trimmed()
                            : QStringLiteral("<bad envelope>"));
    }
    return out;
}

// The event types in order ("message", "gap", ...).
QByteArrayList types(const SinkLog &log)
{
    QByteArrayList out;
    for (const SseEvent &e : events(log))
        out.append(e.type);
    return out;
}

QJsonObject body(const SseEvent &e)
{
    return QJsonDocument::fromJson(e.data).object();
}

QByteArray idOf(const Hub &hub, qint64 seq)
{
    return EventId{hub.boot(), seq}.toByteArray();
}

QStringList numbers(qint64 from, qint64 to)
{
    QStringList out;
    for (qint64 i = from; i <= to; ++i)
        out.append(QString::number(i));
    return out;
}

// Publishes payloads "from".."to" (their sequence numbers, on a fresh hub) on `channel`.
void publishNumbers(Hub &hub, qint64 from, qint64 to, QByteArrayView channel = "logs:a",
                    qsizetype padTo = 0)
{
    for (qint64 i = from; i <= to; ++i) {
        QByteArray payload = QByteArray::number(i);
        if (padTo > payload.size())
            payload.append(QByteArray(padTo - payload.size(), ' '));
        hub.publish(channel, payload);
    }
}

const Hub::ChannelStats *row(const Hub &hub, QByteArrayView name)
{
    for (const Hub::ChannelStats &s : hub.channels())
        if (s.name == name)
            return &s;
    return nullptr;
}

// The frame handed to `log` for event `id`.
QByteArray frameFor(const SinkLog &log, const QByteArray &id)
{
    const QByteArray start = "id: " + id + '\n';
    for (const QByteArray &f : log.frames)
        if (f.startsWith(start))
            return f;
    return {};
}

} // namespace

class tst_Hub : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void beginWritesRetryAndConnected();
    void fanOutSharesOneFrame();
    void channelSelection_data();
    void channelSelection();
    void otherRowStillSelectsByName();
    void replay_data();
    void replay();
    void gaps_data();
    void gaps();
    void redisGap();
    void tailOnFreshStream_data();
    void tailOnFreshStream();
    void replayPacedByPendingBytes();
    void historyMovesPastReplayingClient();
    void slowClientCutOff_data();
    void slowClientCutOff();
    void controlFramesSkippedWhenBehind_data();
    void controlFramesSkippedWhenBehind();
    void replayingClientGetsHeartbeatsNotStats();
    void statsFilteredBySelection();
    void closeClientsWhere();
    void closeAllClients();
    void goneClientsAreSwept();
    void clientGoneBeforeStart();
    void streamIdsAreEntryIds();
    void streamResume_data();
    void streamResume();
    void streamResumeAheadSkipsSeen();
    void streamResumeBeforeStart();
    void streamOutageIsNoGap();
    void streamMissingIsAGap();
    void streamReplayFromSourceIsPacedAndSaysTrimming();
    void streamRingEvictionFallsBackToSource();
    void partitionsResumeExactlyOnAnotherGateway_data();
    void partitionsResumeExactlyOnAnotherGateway();
    void partitionsReplayEachPartitionFromSource();
};

void tst_Hub::beginWritesRetryAndConnected()
{
    Hub::Options o = options();
    o.retryMilliseconds = 1234;
    Hub hub(o);
    const Log log = addClient(hub);
    QCOMPARE(log->retryMilliseconds, 1234);
    QCOMPARE(log->bytes, QByteArray(": connected\n\n"));
    QVERIFY(log->gone);
    QVERIFY(log->drained);
    QCOMPARE(hub.clientCount(), 1);
    QCOMPARE(hub.clientsAccepted(), quint64(1));
}

void tst_Hub::fanOutSharesOneFrame()
{
    Hub hub(options());
    const Log all = addClient(hub);
    const Log a = addClient(hub, {"logs:a"});
    const Log logs = addClient(hub, {"logs:*"});
    const Log other = addClient(hub, {"other:*"});

    hub.publish("logs:a", "1");
    hub.publish("logs:b", "2");
    hub.publish("other:c", "3");
    hub.publish("logs:a", "4");
    // Queued, not written, until the event loop runs.
    QCOMPARE(payloads(*all), QStringList());
    settle();

    QCOMPARE(payloads(*all), (QStringList{u"1"_s, u"2"_s, u"3"_s, u"4"_s}));
    QCOMPARE(payloads(*a), (QStringList{u"1"_s, u"4"_s}));
    QCOMPARE(payloads(*logs), (QStringList{u"1"_s, u"2"_s, u"4"_s}));
    QCOMPARE(payloads(*other), QStringList{u"3"_s});
    // One flush per client for the whole pass.
    for (const Log &log : {all, a, logs, other})
        QCOMPARE(log->flushes, 1);

    // Encoded once: every client got the ring's own bytes.
    const QByteArray &ringFrame = hub.ring().find(1)->frame;
    for (const Log &log : {all, a, logs}) {
        const QByteArray f = frameFor(*log, idOf(hub, 1));
        QVERIFY(!f.isEmpty());
        QVERIFY(f.isSharedWith(ringFrame));
    }

    const QList<SseEvent> seen = events(*all, "message");
    for (qsizetype i = 0; i < seen.size(); ++i)
        QCOMPARE(seen[i].lastEventId, idOf(hub, i + 1));
    QCOMPARE(row(hub, "logs:a")->received, quint64(2));
    QCOMPARE(row(hub, "logs:a")->delivered, quint64(6));
    QCOMPARE(row(hub, "logs:b")->delivered, quint64(2));
    QCOMPARE(row(hub, "other:c")->delivered, quint64(2));
}

void tst_Hub::channelSelection_data()
{
    QTest::addColumn<QByteArrayList>("selection");
    QTest::addColumn<QByteArrayList>("published"); // payload: the index in this list
    QTest::addColumn<QStringList>("expected");

    const QByteArray longLogs = "logs:" + QByteArray(300, 'x');
    const QByteArray longOther = "other:" + QByteArray(300, 'y');

    QTest::newRow("everything") << QByteArrayList{} << QByteArrayList{"logs:a", "other:b"}
                                << QStringList{u"0"_s, u"1"_s};
    QTest::newRow("one name") << QByteArrayList{"logs:a"}
                              << QByteArrayList{"logs:a", "logs:ab", "logs:b", "logs:a"}
                              << QStringList{u"0"_s, u"3"_s};
    QTest::newRow("star") << QByteArrayList{"logs:*"}
                          << QByteArrayList{"logs:a", "other:a", "logs:", "logs:a:b"}
                          << QStringList{u"0"_s, u"2"_s, u"3"_s};
    QTest::newRow("question mark")
        << QByteArrayList{"logs:?"} << QByteArrayList{"logs:a", "logs:ab", "logs:", "logs:b"}
        << QStringList{u"0"_s, u"3"_s};
    QTest::newRow("class") << QByteArrayList{"logs:[ab]"}
                           << QByteArrayList{"logs:a", "logs:b", "logs:c"}
                           << QStringList{u"0"_s, u"1"_s};
    QTest::newRow("negated class")
        << QByteArrayList{"logs:[^a]"} << QByteArrayList{"logs:a", "logs:b", "logs:c"}
        << QStringList{u"1"_s, u"2"_s};
    QTest::newRow("escaped star") << QByteArrayList{"logs:\\*"}
                                  << QByteArrayList{"logs:*", "logs:x"} << QStringList{u"0"_s};
    QTest::newRow("several names")
        << QByteArrayList{"logs:a", "logs:c"} << QByteArrayList{"logs:a", "logs:b", "logs:c"}
        << QStringList{u"0"_s, u"2"_s};
    QTest::newRow("overlapping globs deliver once")
        << QByteArrayList{"logs:*", "logs:a", "*:a"} << QByteArrayList{"logs:a", "x:a", "x:b"}
        << QStringList{u"0"_s, u"1"_s};
    // Counted under "(long names)", selected by their own names.
    QTest::newRow("long names") << QByteArrayList{"logs:*"}
                                << QByteArrayList{longLogs, longOther, "logs:a", longLogs}
                                << QStringList{u"0"_s, u"2"_s, u"3"_s};
    QTest::newRow("nothing selected")
        << QByteArrayList{"none"} << QByteArrayList{"logs:a", "other:b"} << QStringList{};
}

void tst_Hub::channelSelection()
{
    QFETCH(QByteArrayList, selection);
    QFETCH(QByteArrayList, published);
    QFETCH(QStringList, expected);

    Hub hub(options());
    const Log live = addClient(hub, selection);
    for (qsizetype i = 0; i < published.size(); ++i)
        hub.publish(published[i], QByteArray::number(i));
    settle();
    QCOMPARE(payloads(*live), expected);

    // The replay path selects alike.
    const Log resumed = addClient(hub, selection, idOf(hub, 0));
    QCOMPARE(types(*resumed).count("gap"), 0);
    QCOMPARE(payloads(*resumed), expected);
}

void tst_Hub::otherRowStillSelectsByName()
{
    Hub hub(options(2000));
    const Log logs = addClient(hub, {"logs:*"});
    for (int i = 0; i < Hub::maxTrackedChannels; ++i)
        hub.publish(QByteArray("fill:" + QByteArray::number(i)), "fill");
    hub.publish("logs:late", "late");
    hub.publish("fill:late", "fill");
    hub.publish("logs:later", "later");
    settle();
    QVERIFY(row(hub, "(other)"));
    QVERIFY(!row(hub, "logs:late"));
    QCOMPARE(row(hub, "(other)")->received, quint64(3));
    QCOMPARE(payloads(*logs), (QStringList{u"late"_s, u"later"_s}));
}

void tst_Hub::replay_data()
{
    QTest::addColumn<qint64>("lastSeq");
    QTest::addColumn<QStringList>("replayed");

    // 8 events published, history 10: no gap in any of these.
    QTest::newRow("from the start") << qint64(0) << numbers(1, 8);
    QTest::newRow("from the first") << qint64(1) << numbers(2, 8);
    QTest::newRow("middle") << qint64(5) << numbers(6, 8);
    QTest::newRow("newest") << qint64(7) << numbers(8, 8);
    QTest::newRow("up to date") << qint64(8) << QStringList();
    QTest::newRow("ahead") << qint64(20) << QStringList();
}

void tst_Hub::replay()
{
    QFETCH(qint64, lastSeq);
    QFETCH(QStringList, replayed);

    Hub hub(options(10));
    for (qint64 i = 1; i <= 8; ++i)
        hub.publish(i % 2 ? "logs:a" : "logs:b", QByteArray::number(i));
    const Log log = addClient(hub, {}, idOf(hub, lastSeq));
    // Replayed at once, before anything else is published.
    QCOMPARE(payloads(*log), replayed);
    quint64 replayCount = 0;
    for (const Hub::ChannelStats &s : hub.channels())
        replayCount += s.replayed;
    QCOMPARE(replayCount, quint64(replayed.size()));

    // Then live: the next events once each, in order.
    hub.publish("logs:a", "9");
    hub.publish("logs:b", "10");
    settle();
    QCOMPARE(payloads(*log), replayed + numbers(9, 10));
    QCOMPARE(types(*log).count("gap"), 0);
    QCOMPARE(hub.gapsHistory(), quint64(0));
    const QList<SseEvent> seen = events(*log, "message");
    QCOMPARE(seen.last().lastEventId, idOf(hub, 10));
}

void tst_Hub::gaps_data()
{
    QTest::addColumn<int>("history");
    QTest::addColumn<int>("published");
    QTest::addColumn<QByteArray>("rawId"); // used when set; else bootDelta and lastSeq
    QTest::addColumn<qint64>("bootDelta");
    QTest::addColumn<qint64>("lastSeq");
    QTest::addColumn<QString>("reason"); // empty: no gap
    QTest::addColumn<qint64>("missed");  // -1: null
    QTest::addColumn<qint64>("resumeSeq");
    QTest::addColumn<QStringList>("replayed");

    QTest::newRow("history exceeded")
        << 5 << 10 << QByteArray() << qint64(0) << qint64(2) << QStringLiteral("history-exceeded")
        << qint64(3) << qint64(5) << numbers(6, 10);
    QTest::newRow("history exceeded by one")
        << 5 << 10 << QByteArray() << qint64(0) << qint64(4) << QStringLiteral("history-exceeded")
        << qint64(1) << qint64(5) << numbers(6, 10);
    QTest::newRow("just inside the history")
        << 5 << 10 << QByteArray() << qint64(0) << qint64(5) << QString() << qint64(-1) << qint64(5)
        << numbers(6, 10);
    QTest::newRow("no history") << 0 << 10 << QByteArray() << qint64(0) << qint64(2)
                                << QStringLiteral("history-exceeded") << qint64(8) << qint64(10)
                                << QStringList();
    QTest::newRow("unknown id") << 5 << 10 << QByteArray("not-an-id") << qint64(0) << qint64(0)
                                << QStringLiteral("unknown-id") << qint64(-1) << qint64(5)
                                << numbers(6, 10);
    QTest::newRow("unknown id, nothing published")
        << 5 << 0 << QByteArray("x") << qint64(0) << qint64(0) << QStringLiteral("unknown-id")
        << qint64(-1) << qint64(0) << QStringList();
    QTest::newRow("earlier boot") << 5 << 10 << QByteArray() << qint64(-60000) << qint64(3)
                                  << QStringLiteral("gateway-restarted") << qint64(-1) << qint64(5)
                                  << numbers(6, 10);
    QTest::newRow("later boot") << 5 << 3 << QByteArray() << qint64(1) << qint64(9)
                                << QStringLiteral("gateway-restarted") << qint64(-1) << qint64(0)
                                << numbers(1, 3);
}

void tst_Hub::gaps()
{
    QFETCH(int, history);
    QFETCH(int, published);
    QFETCH(QByteArray, rawId);
    QFETCH(qint64, bootDelta);
    QFETCH(qint64, lastSeq);
    QFETCH(QString, reason);
    QFETCH(qint64, missed);
    QFETCH(qint64, resumeSeq);
    QFETCH(QStringList, replayed);

    Hub hub(options(history));
    publishNumbers(hub, 1, published);
    const QByteArray lastEventId =
        rawId.isEmpty() ? EventId{hub.boot() + bootDelta, lastSeq}.toByteArray() : rawId;
    const Log log = addClient(hub, {}, lastEventId);

    const QList<SseEvent> all = events(*log);
    if (reason.isEmpty()) {
        QCOMPARE(types(*log).count("gap"), 0);
        QCOMPARE(hub.gapsHistory(), quint64(0));
    } else {
        QVERIFY(!all.isEmpty());
        QCOMPARE(all.first().type, QByteArray("gap"));
        QCOMPARE(all.first().lastEventId, idOf(hub, resumeSeq));
        const QJsonObject gap = body(all.first());
        QCOMPARE(gap.value(u"reason").toString(), reason);
        QCOMPARE(gap.value(u"last_event_id").toString(), QString::fromUtf8(lastEventId));
        QCOMPARE(gap.value(u"resume_id").toString(), QString::fromUtf8(idOf(hub, resumeSeq)));
        if (missed < 0)
            QVERIFY(gap.value(u"missed").isNull());
        else
            QCOMPARE(gap.value(u"missed").toInteger(), missed);
        QVERIFY(!gap.value(u"message").toString().isEmpty());
        QCOMPARE(types(*log).count("gap"), 1);
        QCOMPARE(hub.gapsHistory(), quint64(1));
    }
    QCOMPARE(payloads(*log), replayed);

    hub.publish("logs:a", "next");
    settle();
    QCOMPARE(payloads(*log), replayed + QStringList{u"next"_s});
}

void tst_Hub::redisGap()
{
    Hub hub(options());
    QVERIFY(!hub.redisSubscribed());
    hub.setRedisSubscribed(true); // the first subscription is no gap
    QVERIFY(hub.redisSubscribed());
    const Log live = addClient(hub);
    hub.publish("logs:a", "1");
    hub.setRedisSubscribed(false, QStringLiteral("connection refused"));
    QVERIFY(!hub.redisSubscribed());
    hub.setRedisSubscribed(false, QStringLiteral("timeout")); // the latest reason counts
    settle();
    QCOMPARE(types(*live), QByteArrayList{"message"});
    QCOMPARE(hub.gapsRedis(), quint64(0));

    hub.setRedisSubscribed(true);
    hub.publish("logs:a", "3");
    settle();
    QCOMPARE(types(*live), (QByteArrayList{"message", "gap", "message"}));
    QCOMPARE(hub.gapsRedis(), quint64(1));
    const SseEvent gapEvent = events(*live, "gap").first();
    QCOMPARE(gapEvent.lastEventId, idOf(hub, 2)); // a place in the sequence of its own
    const QJsonObject gap = body(gapEvent);
    QCOMPARE(gap.value(u"reason").toString(), QStringLiteral("redis-disconnected"));
    QCOMPARE(gap.value(u"error").toString(), QStringLiteral("timeout"));
    QVERIFY(gap.value(u"missed").isNull());
    QVERIFY(gap.value(u"down_ms").toInteger(-1) >= 0);
    QVERIFY(gap.value(u"until").toInteger() >= gap.value(u"since").toInteger());
    QCOMPARE(events(*live, "message").last().lastEventId, idOf(hub, 3));

    // In the history too: a client resuming from before the outage is told.
    const Log resumed = addClient(hub, {}, idOf(hub, 1));
    QCOMPARE(types(*resumed), (QByteArrayList{"gap", "message"}));
    QCOMPARE(body(events(*resumed, "gap").first()).value(u"reason").toString(),
             QStringLiteral("redis-disconnected"));
    QCOMPARE(hub.gapsHistory(), quint64(0));

    // Subscribed again without a loss in between: nothing new.
    hub.setRedisSubscribed(true);
    settle();
    QCOMPARE(hub.gapsRedis(), quint64(1));
    QCOMPARE(types(*live).count("gap"), 1);
}

void tst_Hub::tailOnFreshStream_data()
{
    QTest::addColumn<int>("published");
    QTest::addColumn<int>("tail");
    QTest::addColumn<QStringList>("expected");

    // History 5.
    QTest::newRow("no tail") << 10 << 0 << QStringList();
    QTest::newRow("nothing published") << 0 << 3 << QStringList();
    QTest::newRow("three") << 10 << 3 << numbers(8, 10);
    QTest::newRow("one") << 10 << 1 << numbers(10, 10);
    QTest::newRow("whole history") << 10 << 5 << numbers(6, 10);
    QTest::newRow("more than the history") << 10 << 50 << numbers(6, 10);
    QTest::newRow("more than published") << 2 << 5 << numbers(1, 2);
}

void tst_Hub::tailOnFreshStream()
{
    QFETCH(int, published);
    QFETCH(int, tail);
    QFETCH(QStringList, expected);

    Hub hub(options(5));
    publishNumbers(hub, 1, published);
    const Log log = addClient(hub, {}, {}, tail);
    QCOMPARE(payloads(*log), expected);
    hub.publish("logs:a", "next");
    settle();
    QCOMPARE(payloads(*log), expected + QStringList{u"next"_s});
    QCOMPARE(types(*log).count("gap"), 0);
}

void tst_Hub::replayPacedByPendingBytes()
{
    constexpr qint64 lowWater = 256 * 1024; // the hub's replay low-water mark
    Hub hub(options(1000));
    publishNumbers(hub, 1, 200, "logs:a", 4000);
    const Log log = addClient(hub, {}, idOf(hub, 0), 0, [](SinkLog &l) { l.stalled = true; });

    // Stopped as soon as the backlog reached the mark, not before.
    const qsizetype first = log->frames.size();
    QVERIFY2(first > 1 && first < 200, QByteArray::number(first).constData());
    QVERIFY(log->unsent >= lowWater);
    QVERIFY(log->unsent - log->frames.last().size() < lowWater);
    QCOMPARE(payloads(*log), numbers(1, first));

    // Published meanwhile: not written now, replayed in its turn.
    hub.publish("logs:a", "201");
    settle();
    QCOMPARE(log->frames.size(), first);

    // No progress without a drained report, however long the loop runs.
    log->unsent = 0;
    settle();
    QCOMPARE(log->frames.size(), first);

    drainUntilLive(log);
    QCOMPARE(payloads(*log), numbers(1, 201));
    QCOMPARE(types(*log).count("gap"), 0);
    QVERIFY(!log->closed);

    // Live now: the next event is queued, once.
    log->stalled = false;
    log->unsent = 0;
    hub.publish("logs:a", "202");
    settle();
    log->drained(); // a drained report while live changes nothing
    QCOMPARE(payloads(*log), numbers(1, 202));
}

void tst_Hub::historyMovesPastReplayingClient()
{
    Hub hub(options(50));
    publishNumbers(hub, 1, 50, "logs:a", 16 * 1024);
    const Log log = addClient(hub, {}, idOf(hub, 0), 0, [](SinkLog &l) { l.stalled = true; });
    const qsizetype got = log->frames.size();
    QVERIFY(got > 0 && got < 50);

    // 60 more: the history now starts at 61, past where the client stands.
    publishNumbers(hub, 51, 110, "logs:a", 16 * 1024);
    drainUntilLive(log);

    QCOMPARE(payloads(*log), numbers(1, got) + numbers(61, 110));
    const QList<SseEvent> gaps = events(*log, "gap");
    QCOMPARE(gaps.size(), 1);
    QCOMPARE(gaps.first().lastEventId, idOf(hub, 60));
    QCOMPARE(body(gaps.first()).value(u"reason").toString(), QStringLiteral("history-exceeded"));
    QCOMPARE(body(gaps.first()).value(u"missed").toInteger(), qint64(60 - got));
    QCOMPARE(hub.gapsHistory(), quint64(1));
    // In order: the gap sits between the two runs.
    QCOMPARE(types(*log).indexOf("gap"), got);
}

void tst_Hub::slowClientCutOff_data()
{
    QTest::addColumn<int>("payloadBytes");
    QTest::addColumn<bool>("relative"); // unsent counts from (buffer - frame size)
    QTest::addColumn<qint64>("unsent");
    QTest::addColumn<bool>("cut");

    // maxClientBuffer 64 KiB.
    QTest::newRow("nothing unsent") << 100 << false << qint64(0) << false;
    QTest::newRow("fills the buffer exactly") << 1000 << true << qint64(0) << false;
    QTest::newRow("one byte over") << 1000 << true << qint64(1) << true;
    QTest::newRow("far behind") << 100 << false << qint64(1024 * 1024) << true;
    // A client with nothing unsent is never cut, however large the event.
    QTest::newRow("nothing unsent, frame over the buffer")
        << 200 * 1024 << false << qint64(0) << false;
    QTest::newRow("one byte unsent, frame over the buffer")
        << 200 * 1024 << false << qint64(1) << true;
}

void tst_Hub::slowClientCutOff()
{
    QFETCH(int, payloadBytes);
    QFETCH(bool, relative);
    QFETCH(qint64, unsent);
    QFETCH(bool, cut);

    Hub::Options o = options();
    o.maxClientBuffer = 64 * 1024;
    Hub hub(o);
    const Log bystander = addClient(hub);
    const Log slow = addClient(hub, {"logs:slow"});
    QSignalSpy countChanged(&hub, &Hub::clientCountChanged);

    // The same size as the frame that follows: same payload, channel and id lengths.
    const QByteArray payload(payloadBytes, 'p');
    hub.publish("logs:warm", payload);
    settle(); // frames queued in one pass count as unsent: the bystander's must go first
    const qint64 frameSize = hub.ring().find(1)->frame.size();
    slow->unsent = relative ? o.maxClientBuffer - frameSize + unsent : unsent;
    hub.publish("logs:slow", payload);
    settle();

    QCOMPARE(payloads(*bystander).size(), 2);
    QVERIFY(!bystander->closed);
    QCOMPARE(slow->closed, cut);
    QCOMPARE(hub.clientsDroppedSlow(), quint64(cut ? 1 : 0));
    QCOMPARE(row(hub, "logs:slow")->dropped, quint64(cut ? 1 : 0));
    QCOMPARE(row(hub, "logs:slow")->delivered, quint64(cut ? 1 : 2));
    QCOMPARE(hub.clientCount(), cut ? 1 : 2);
    QCOMPARE(slow->destroyed, cut);
    QCOMPARE(countChanged.size(), cut ? 1 : 0);
    if (cut) {
        QCOMPARE(types(*slow), QByteArrayList{"dropped"});
        const SseEvent dropped = events(*slow).last();
        // No id of its own: event 2 never reached this client, so resuming must not skip it.
        QVERIFY(!slow->bytes.contains(QByteArray("\nid: " + idOf(hub, 2))));
        QCOMPARE(dropped.lastEventId, QByteArray());
        QCOMPARE(body(dropped).value(u"reason").toString(), QStringLiteral("slow-client"));
        QVERIFY(body(dropped).value(u"message").toString().contains(QStringLiteral("unsent")));
    } else {
        QCOMPARE(types(*slow), QByteArrayList{"message"});
    }
}

void tst_Hub::controlFramesSkippedWhenBehind_data()
{
    QTest::addColumn<qint64>("unsent");
    QTest::addColumn<bool>("heartbeat");
    QTest::addColumn<bool>("stats");

    QTest::newRow("nothing unsent") << qint64(0) << true << true;
    QTest::newRow("room for both") << Hub::controlFrameBacklog - 4096 << true << true;
    // The heartbeat, queued first, puts the client at the backlog.
    QTest::newRow("just under the backlog") << Hub::controlFrameBacklog - 1 << true << false;
    QTest::newRow("at the backlog") << Hub::controlFrameBacklog << false << false;
    // Control frames are skipped, never counted against the buffer.
    QTest::newRow("at the buffer cap") << qint64(256 * 1024) << false << false;
}

void tst_Hub::controlFramesSkippedWhenBehind()
{
    QFETCH(qint64, unsent);
    QFETCH(bool, heartbeat);
    QFETCH(bool, stats);

    Hub::Options o = options();
    o.heartbeatSeconds = 1; // a heartbeat every tick
    o.maxClientBuffer = 256 * 1024;
    Hub hub(o);
    const Log reader = addClient(hub);
    const Log client = addClient(hub);
    client->unsent = unsent;
    for (int i = 0; i < 3; ++i) {
        hub.tick();
        settle();
    }

    qint64 comments = 0;
    QCOMPARE(events(*reader, "stats", &comments).size(), 3);
    QCOMPARE(comments, qint64(1 + 3)); // ": connected" and the heartbeats
    QCOMPARE(events(*client, "stats", &comments).size(), stats ? 3 : 0);
    QCOMPARE(comments, qint64(1 + (heartbeat ? 3 : 0)));
    QVERIFY(!client->closed);
    QCOMPARE(hub.clientsDroppedSlow(), quint64(0));
    QCOMPARE(hub.clientCount(), 2);

    // Caught up: control frames again.
    client->unsent = 0;
    hub.tick();
    settle();
    QCOMPARE(events(*client, "stats", &comments).size(), stats ? 4 : 1);
    QCOMPARE(comments, qint64(1 + (heartbeat ? 4 : 1)));
}

void tst_Hub::replayingClientGetsHeartbeatsNotStats()
{
    Hub::Options o = options(1000);
    o.heartbeatSeconds = 2;
    Hub hub(o);
    publishNumbers(hub, 1, 100, "logs:a", 4000);
    const Log log = addClient(hub, {}, idOf(hub, 0), 0, [](SinkLog &l) { l.stalled = true; });
    QVERIFY(log->frames.size() < 100); // still replaying
    log->unsent = 0;                   // read, but not reported yet
    log->stalled = false;
    hub.tick(); // no heartbeat on odd ticks
    hub.tick();
    settle();
    qint64 comments = 0;
    QCOMPARE(events(*log, "stats", &comments).size(), 0);
    QCOMPARE(comments, qint64(1 + 1));
    drainUntilLive(log);
    QCOMPARE(payloads(*log), numbers(1, 100));
    hub.tick();
    settle();
    QCOMPARE(events(*log, "stats").size(), 1);
}

void tst_Hub::statsFilteredBySelection()
{
    Hub hub(options());
    const Log all = addClient(hub);
    const Log a = addClient(hub, {"logs:a"});
    const Log a2 = addClient(hub, {"logs:a"});
    const Log logs = addClient(hub, {"logs:*"});
    const Log none = addClient(hub, {"none"});
    for (int i = 0; i < 3; ++i)
        hub.publish("logs:a", "a");
    hub.publish("logs:b", "b");
    hub.publish("logs:b", "b");
    hub.publish("other:c", "c");
    hub.publish(QByteArray("logs:" + QByteArray(300, 'x')), "long");
    hub.tick();
    settle();

    auto stats = [](const Log &log) {
        const QList<SseEvent> s = events(*log, "stats");
        return s.size() == 1 ? body(s.first()) : QJsonObject();
    };
    const QJsonObject sAll = stats(all), sA = stats(a), sLogs = stats(logs), sNone = stats(none);
    QCOMPARE(sAll.value(u"channels").toObject().keys(),
             (QStringList{u"(long names)"_s, u"logs:a"_s, u"logs:b"_s, u"other:c"_s}));
    QCOMPARE(sAll.value(u"received").toInteger(), qint64(7));
    QCOMPARE(sAll.value(u"clients").toInt(), 5);
    QCOMPARE(sAll.value(u"redis").toString(), QStringLiteral("disconnected"));
    QCOMPARE(sA.value(u"channels").toObject().keys(), QStringList{u"logs:a"_s});
    QCOMPARE(sA.value(u"received").toInteger(), qint64(3));
    QCOMPARE(sA.value(u"delivered").toInteger(),
             qint64(row(hub, "logs:a")->delivered)); // its channels' totals, all clients
    QCOMPARE(
        sA.value(u"channels").toObject().value(u"logs:a").toObject().value(u"received").toInt(), 3);
    // An aggregate row is never shown to a selection, even one matching some of its channels.
    QCOMPARE(sLogs.value(u"channels").toObject().keys(), (QStringList{u"logs:a"_s, u"logs:b"_s}));
    QCOMPARE(sLogs.value(u"received").toInteger(), qint64(5));
    QVERIFY(sNone.value(u"channels").toObject().isEmpty());
    QCOMPARE(sNone.value(u"received").toInteger(), qint64(0));

    // One frame per distinct selection, with the newest event's id.
    const SseEvent e = events(*a, "stats").first();
    QCOMPARE(e.lastEventId, idOf(hub, 7));
    const QByteArray fa = a->frames.last(), fa2 = a2->frames.last();
    QVERIFY(fa.contains("event: stats"));
    QVERIFY(fa.isSharedWith(fa2));
    QVERIFY(!fa.isSharedWith(all->frames.last()));
}

void tst_Hub::closeClientsWhere()
{
    Hub hub(options());
    auto withToken = [](const QByteArray &token) {
        return [token](SinkLog &l) { l.grantToken = token; };
    };
    const Log t1 = addClient(hub, {"logs:a"}, {}, 0, withToken("t1"));
    const Log t2 = addClient(hub, {}, {}, 0, withToken("t2"));
    const Log anonymous = addClient(hub);
    const Log t1b = addClient(hub, {"logs:b"}, {}, 0, withToken("t1"));
    hub.publish("logs:a", "1");

    QByteArrayList asked;
    const int closed = hub.closeClientsWhere(
        [&](const EventSink &s) {
            asked.append(s.grantToken());
            return s.grantToken() == "t1";
        },
        "access-revoked");
    QCOMPARE(closed, 2);
    QCOMPARE(asked, (QByteArrayList{"t1", "t2", "", "t1"}));
    for (const Log &log : {t1, t1b}) {
        QVERIFY(log->closed);
        const SseEvent last = events(*log).last();
        QCOMPARE(last.type, QByteArray("shutdown"));
        // The shutdown has no id of its own: Last-Event-ID stays that of the last event the
        // client got (none for t1b, whose selection had nothing yet).
        QCOMPARE(last.lastEventId, log == t1 ? idOf(hub, 1) : QByteArray());
        QCOMPARE(body(last).value(u"reason").toString(), QStringLiteral("access-revoked"));
    }
    // The event queued before is written first.
    QCOMPARE(types(*t1), (QByteArrayList{"message", "shutdown"}));
    QVERIFY(!t2->closed);
    QVERIFY(!anonymous->closed);

    // Closed clients are not asked again.
    asked.clear();
    QCOMPARE(hub.closeClientsWhere([](const EventSink &) { return false; }, "again"), 0);
    QCOMPARE(asked.size(), 0);
    QCOMPARE(hub.closeClientsWhere(
                 [&](const EventSink &s) {
                     asked.append(s.grantToken());
                     return false;
                 },
                 "again"),
             0);
    QCOMPARE(asked, (QByteArrayList{"t2", ""}));
    settle();
    QCOMPARE(hub.clientCount(), 2);
    QCOMPARE(payloads(*t2), QStringList{u"1"_s});
}

void tst_Hub::closeAllClients()
{
    Hub hub(options());
    const Log a = addClient(hub);
    const Log b = addClient(hub, {"logs:b"});
    QSignalSpy countChanged(&hub, &Hub::clientCountChanged);
    hub.closeAllClients("gateway shutting down");
    for (const Log &log : {a, b}) {
        QVERIFY(log->closed);
        QCOMPARE(types(*log), QByteArrayList{"shutdown"});
        QCOMPARE(body(events(*log).first()).value(u"reason").toString(),
                 QStringLiteral("gateway shutting down"));
    }
    settle();
    QCOMPARE(hub.clientCount(), 0);
    QCOMPARE(countChanged.size(), 1);
    QCOMPARE(countChanged.first().first().toInt(), 0);
}

void tst_Hub::goneClientsAreSwept()
{
    Hub hub(options());
    const Log stays = addClient(hub);
    const Log goes = addClient(hub);
    const Log elsewhere = addClient(
        hub, {}, {}, 0, [](SinkLog &l) { l.peer = QHostAddress(QStringLiteral("192.0.2.1")); });
    QCOMPARE(hub.clientCount(), 3);
    QCOMPARE(hub.clientsFrom(QHostAddress::LocalHost), 2);
    QCOMPARE(hub.clientsFrom(QHostAddress(QStringLiteral("192.0.2.1"))), 1);
    QSignalSpy countChanged(&hub, &Hub::clientCountChanged);

    goes->gone();
    goes->gone(); // reported twice (disconnected, then destroyed): swept once
    hub.publish("logs:a", "1");
    settle();
    QCOMPARE(payloads(*stays), QStringList{u"1"_s});
    QCOMPARE(payloads(*goes), QStringList());
    QVERIFY(goes->destroyed);
    QCOMPARE(hub.clientCount(), 2);
    QCOMPARE(hub.clientsFrom(QHostAddress::LocalHost), 1);
    QCOMPARE(countChanged.size(), 1);
    QCOMPARE(countChanged.first().first().toInt(), 2);

    elsewhere->gone();
    settle();
    QCOMPARE(hub.clientsFrom(QHostAddress(QStringLiteral("192.0.2.1"))), 0);
    QCOMPARE(hub.clientCount(), 1);
}

void tst_Hub::clientGoneBeforeStart()
{
    Hub hub(options());
    QSignalSpy countChanged(&hub, &Hub::clientCountChanged);
    const Log log = addClient(hub, {}, {}, 0, [](SinkLog &l) { l.connected = false; });
    QVERIFY(log->destroyed);
    QVERIFY(!log->gone);
    QCOMPARE(hub.clientCount(), 0);
    QCOMPARE(hub.clientsFrom(QHostAddress::LocalHost), 0);
    QCOMPARE(hub.clientsAccepted(), quint64(1));
    QCOMPARE(countChanged.size(), 0);
}

namespace {

Hub::Options streamOptions(int history = 100)
{
    Hub::Options o = options(history);
    o.streams = true;
    return o;
}

// Entries "1000-0", "1000-1", "1001-0", ...: two per millisecond, payload "<n>" for the n-th
// (from 1), so ids and payloads can be told apart.
QByteArray entryId(int n)
{
    return QByteArray::number(1000 + (n - 1) / 2) + '-' + QByteArray::number((n - 1) % 2);
}

// A one-partition stream position after entry n.
StreamCursor startAfter(int n)
{
    StreamCursor c(1);
    c.set(0, *StreamId::parseEntryId(entryId(n)));
    return c;
}

void publishEntries(Hub &hub, int from, int to)
{
    for (int n = from; n <= to; ++n)
        hub.publishEntry(0, entryId(n), "logs:a", QByteArray::number(n));
}

QByteArrayList ids(const SinkLog &log, const QByteArray &type = "message")
{
    QByteArrayList out;
    for (const SseEvent &e : events(log, type))
        out.append(e.lastEventId);
    return out;
}

} // namespace

void tst_Hub::streamIdsAreEntryIds()
{
    Hub hub(streamOptions());
    const Log log = addClient(hub);
    publishEntries(hub, 1, 4);
    // Seen again after a reconnect of the reader, or out of order: ignored.
    hub.publishEntry(0, entryId(3), "logs:a", "again");
    hub.publishEntry(0, "not-an-id", "logs:a", "bad");
    settle();
    QCOMPARE(ids(*log), (QByteArrayList{"s1000-0", "s1000-1", "s1001-0", "s1001-1"}));
    QCOMPARE(payloads(*log), numbers(1, 4));
    QCOMPARE(hub.lastEventId(), QByteArray("s1001-1"));
    // The envelope carries the same id.
    const auto envelope = Envelope::decode(events(*log, "message").constLast().data);
    QVERIFY(envelope);
    QCOMPARE(envelope->id, QStringLiteral("s1001-1"));
}

void tst_Hub::streamResume_data()
{
    QTest::addColumn<QByteArray>("lastEventId");
    QTest::addColumn<QByteArray>("gapReason"); // empty: none
    QTest::addColumn<QStringList>("payloads");

    // The ring holds entries 11-20 of 20 (history 10).
    QTest::newRow("inside the ring") << entryId(14).prepend('s') << QByteArray() << numbers(15, 20);
    QTest::newRow("at the oldest held")
        << entryId(11).prepend('s') << QByteArray() << numbers(12, 20);
    QTest::newRow("between two entries")
        << QByteArray("s1005-5") << QByteArray() << numbers(13, 20);
    QTest::newRow("up to date") << entryId(20).prepend('s') << QByteArray() << QStringList();
    QTest::newRow("older than the ring")
        << entryId(5).prepend('s') << QByteArray("history-exceeded") << numbers(11, 20);
    QTest::newRow("a pub/sub id") << QByteArray("1700000000000-5") << QByteArray("unknown-id")
                                  << QStringList();
    QTest::newRow("garbage") << QByteArray("s12") << QByteArray("unknown-id") << QStringList();
}

void tst_Hub::streamResume()
{
    QFETCH(QByteArray, lastEventId);
    QFETCH(QByteArray, gapReason);
    QFETCH(QStringList, payloads);

    Hub hub(streamOptions(10));
    publishEntries(hub, 1, 20);
    const Log log = addClient(hub, {}, lastEventId);
    drainUntilLive(log);
    settle();
    const QList<SseEvent> gaps = events(*log, "gap");
    if (gapReason.isEmpty()) {
        QVERIFY(gaps.isEmpty());
    } else {
        QCOMPARE(gaps.size(), 1);
        QCOMPARE(body(gaps.first()).value(u"reason").toString().toUtf8(), gapReason);
    }
    QCOMPARE(::payloads(*log), payloads);
    // A gap before the ring carries an id that resumes exactly at the ring's first entry.
    if (gapReason == "history-exceeded") {
        const Log again = addClient(hub, {}, gaps.first().lastEventId);
        drainUntilLive(again);
        QVERIFY(events(*again, "gap").isEmpty());
        QCOMPARE(::payloads(*again), numbers(11, 20));
    }
    // Then live, with nothing repeated.
    publishEntries(hub, 21, 21);
    settle();
    QCOMPARE(::payloads(*log), payloads << QStringLiteral("21"));
}

void tst_Hub::streamResumeAheadSkipsSeen()
{
    // A client of another gateway that read further: this one has entries 1-5 so far.
    Hub hub(streamOptions());
    publishEntries(hub, 1, 5);
    const Log log = addClient(hub, {}, entryId(8).prepend('s'));
    publishEntries(hub, 6, 10);
    settle();
    QVERIFY(events(*log, "gap").isEmpty());
    QCOMPARE(payloads(*log), numbers(9, 10));
}

void tst_Hub::streamResumeBeforeStart()
{
    // The reader started after entry 10: entries up to it never reached this gateway.
    Hub hub(streamOptions());
    hub.setStreamStart(startAfter(10));
    publishEntries(hub, 9, 15); // 9 and 10 are not after the start: ignored
    const Log old = addClient(hub, {}, entryId(5).prepend('s'));
    drainUntilLive(old);
    QCOMPARE(types(*old).constFirst(), QByteArray("gap"));
    QCOMPARE(payloads(*old), numbers(11, 15));
    const QByteArray resumeAt = events(*old, "gap").constFirst().lastEventId;
    QCOMPARE(resumeAt, entryId(10).prepend('s'));
    const Log exact = addClient(hub, {}, resumeAt);
    drainUntilLive(exact);
    QVERIFY(events(*exact, "gap").isEmpty());
    QCOMPARE(payloads(*exact), numbers(11, 15));
}

void tst_Hub::streamOutageIsNoGap()
{
    Hub hub(streamOptions());
    hub.setRedisSubscribed(true);
    const Log log = addClient(hub);
    publishEntries(hub, 1, 2);
    hub.setRedisSubscribed(false, QStringLiteral("connection refused"));
    QVERIFY(!hub.redisSubscribed());
    hub.setRedisSubscribed(true);
    publishEntries(hub, 3, 4);
    settle();
    QCOMPARE(types(*log), (QByteArrayList{"message", "message", "message", "message"}));
    QCOMPARE(hub.gapsRedis(), 0u);
}

void tst_Hub::streamMissingIsAGap()
{
    Hub hub(streamOptions());
    const Log live = addClient(hub);
    publishEntries(hub, 1, 3);
    hub.announceMissing(QStringLiteral("redis-data-lost"), QStringLiteral("Redis came back empty"));
    publishEntries(hub, 4, 5);
    settle();
    QCOMPARE(types(*live),
             (QByteArrayList{"message", "message", "message", "gap", "message", "message"}));
    const SseEvent gap = events(*live, "gap").constFirst();
    QCOMPARE(body(gap).value(u"reason").toString(), QStringLiteral("redis-data-lost"));
    QCOMPARE(gap.lastEventId, entryId(3).prepend('s'));
    QCOMPARE(hub.gapsRedis(), 1u);

    // Resuming from before the gap replays it in its place; from the gap's id, not again.
    const Log before = addClient(hub, {}, entryId(2).prepend('s'));
    drainUntilLive(before);
    QCOMPARE(types(*before), (QByteArrayList{"message", "gap", "message", "message"}));
    const Log after = addClient(hub, {}, gap.lastEventId);
    drainUntilLive(after);
    QCOMPARE(types(*after), (QByteArrayList{"message", "message"}));
}

namespace {

// The stream as Redis would hold it, for Hub::StreamSource: entries 1..count of entryId(), the
// oldest `trimmed` of them removed; answers from the event loop as the real reader does.
struct FakeStream
{
    int count = 0;
    int trimmed = 0;
    int pagesRead = 0;
    QByteArray payload = QByteArray(4096, 'p');

    Hub::StreamSource source()
    {
        return {[this](int, const QByteArray &from, int pageSize, Hub::StreamSource::Done done) {
                    ++pagesRead;
                    StreamPage page;
                    const auto start = StreamId::parseEntryId(from);
                    for (int n = trimmed + 1; n <= count && page.entries.size() < pageSize; ++n) {
                        if (*StreamId::parseEntryId(entryId(n)) < *start)
                            continue;
                        page.entries.append(
                            {entryId(n), "logs:a", QByteArray::number(n) + ' ' + payload});
                    }
                    page.reachedEnd = page.entries.size() < pageSize;
                    if (!page.entries.isEmpty()) {
                        page.firstId = page.entries.constFirst().id;
                        page.lastId = page.entries.constLast().id;
                    }
                    QMetaObject::invokeMethod(
                        qApp, [done, page] { done(page); }, Qt::QueuedConnection);
                },
                [this](int, const QByteArray &id, Hub::StreamSource::Done done) {
                    StreamPage page;
                    page.removedAfter = trimmed > 0 && *StreamId::parseEntryId(entryId(trimmed)) >
                                                           *StreamId::parseEntryId(id);
                    QMetaObject::invokeMethod(
                        qApp, [done, page] { done(page); }, Qt::QueuedConnection);
                }};
    }
};

} // namespace

void tst_Hub::streamReplayFromSourceIsPacedAndSaysTrimming()
{
    // A client resumes far behind the ring: the hub reads the stream page by page, only as the
    // client drains; trimming that overtakes it mid-replay is one gap, then what is retained,
    // then the ring, then live, each entry once.
    FakeStream stream;
    stream.count = 400;
    Hub hub(streamOptions(5));
    hub.setStreamSource(stream.source());
    hub.setStreamStart(startAfter(389));
    publishEntries(hub, 390, 400); // the ring holds 396..400
    const Log log = addClient(hub, {}, 's' + entryId(9), 0, [](SinkLog &l) { l.stalled = true; });
    settle();
    // One page asked for, and only part of it written: the client has not read anything yet.
    QCOMPARE(stream.pagesRead, 1);
    const qsizetype firstWrite = events(*log, "message").size();
    QVERIFY(firstWrite > 0 && firstWrite < Hub::replayPageEntries);
    settle();
    QCOMPARE(stream.pagesRead, 1);

    stream.trimmed = 300; // trimming overtakes the client
    for (int round = 0; round < 1000 && log->drained; ++round) {
        const qsizetype before = log->frames.size();
        log->unsent = 0;
        log->drained();
        settle();
        if (log->frames.size() == before && stream.pagesRead > 1)
            break;
    }
    publishEntries(hub, 401, 401);
    settle();

    QStringList expected = numbers(10, 9 + Hub::replayPageEntries);
    expected += numbers(301, 401);
    QStringList got;
    for (const QString &p : payloads(*log))
        got.append(p.section(QLatin1Char(' '), 0, 0));
    QCOMPARE(got, expected);
    const QList<SseEvent> gaps = events(*log, "gap");
    QCOMPARE(gaps.size(), 1);
    QCOMPARE(body(gaps[0]).value("reason"_L1).toString(), u"history-exceeded"_s);
    // The gap sits where the entries are missing, and resuming after it needs nothing before
    // entry 301.
    QCOMPARE(types(*log).indexOf("gap"), Hub::replayPageEntries);
    QCOMPARE(gaps[0].lastEventId,
             's' + StreamId::parseEntryId(entryId(301))->previous().toEntryId());
    // The last page reached the stream's end (400): the ring was not needed after it.
    QCOMPARE(hub.replayedFromStream(), quint64(Hub::replayPageEntries + 100));
}

void tst_Hub::streamRingEvictionFallsBackToSource()
{
    // A client catching up from the ring falls behind what the ring holds: Redis still has the
    // entries, so it goes on from there, without a gap and without a duplicate.
    FakeStream stream;
    stream.count = 110;
    Hub hub(streamOptions(5));
    hub.setStreamSource(stream.source());
    hub.setStreamStart(startAfter(90));
    publishEntries(hub, 91, 95);
    const Log log = addClient(hub, {}, 's' + entryId(90), 0, [](SinkLog &l) {
        l.stalled = true;
        l.unsent = 1024 * 1024; // reads nothing for now
    });
    QCOMPARE(events(*log, "message").size(), 0);
    publishEntries(hub, 96, 110); // the ring now holds 106..110
    QCOMPARE(stream.pagesRead, 0);
    for (int round = 0; round < 100 && log->drained; ++round) {
        log->unsent = 0;
        log->drained();
        settle();
    }
    QCOMPARE(stream.pagesRead, 1);
    publishEntries(hub, 111, 111);
    settle();
    QStringList got;
    for (const QString &p : payloads(*log))
        got.append(p.section(QLatin1Char(' '), 0, 0));
    QCOMPARE(got, numbers(91, 111));
    QCOMPARE(events(*log, "gap").size(), 0);
}

namespace {

// Entries of a stream of several partitions: entry n (from 1) of partition p has the id
// "<1000 + n>-<p>" and the payload "p<p>-<n>".
struct PartitionedEntry
{
    int partition;
    int n;
    QByteArray id() const
    {
        return QByteArray::number(1000 + n) + '-' + QByteArray::number(partition);
    }
    QByteArray payload() const
    {
        return 'p' + QByteArray::number(partition) + '-' + QByteArray::number(n);
    }
};

// All entries of `partitions` partitions of `perPartition` entries each, in an order a gateway
// might read them in: each partition's in order, the partitions interleaved at random.
QList<PartitionedEntry> interleaved(int partitions, int perPartition, quint32 seed)
{
    QRandomGenerator random(seed);
    QList<int> next(partitions, 1);
    QList<PartitionedEntry> out;
    while (out.size() < partitions * perPartition) {
        const int p = int(random.bounded(partitions));
        if (next[p] <= perPartition)
            out.append({p, next[p]++});
    }
    return out;
}

Hub::Options partitionedOptions(int partitions, int history = 1000)
{
    Hub::Options o = streamOptions(history);
    o.partitions = partitions;
    return o;
}

void publish(Hub &hub, const QList<PartitionedEntry> &entries, qsizetype from, qsizetype to)
{
    for (qsizetype i = from; i < to; ++i)
        hub.publishEntry(entries[i].partition, entries[i].id(), "logs:a", entries[i].payload());
}

// The payloads of a client's message events, and their ids.
QByteArrayList entryPayloads(const SinkLog &log, QByteArrayList *ids = nullptr)
{
    QByteArrayList out;
    for (const SseEvent &e : events(log, "message")) {
        out.append(Envelope::decode(e.data)->payload.toString().toUtf8());
        if (ids)
            ids->append(e.lastEventId);
    }
    return out;
}

bool inOrderPerPartition(const QByteArrayList &payloads, int partitions)
{
    QList<int> last(partitions, 0);
    for (const QByteArray &payload : payloads) {
        const int p = payload.mid(1, payload.indexOf('-') - 1).toInt();
        const int n = payload.mid(payload.indexOf('-') + 1).toInt();
        if (n <= last[p])
            return false;
        last[p] = n;
    }
    return true;
}

} // namespace

void tst_Hub::partitionsResumeExactlyOnAnotherGateway_data()
{
    QTest::addColumn<quint32>("seed");
    for (quint32 seed : {1u, 2u, 3u, 4u, 5u})
        QTest::addRow("seed %u", seed) << seed;
}

void tst_Hub::partitionsResumeExactlyOnAnotherGateway()
{
    // Two gateways read the same three partitions, each in its own interleaving; B is behind A.
    // A client that read some events on A resumes on B with the last id it got, and later
    // again on A with the last id B gave it: every entry arrives exactly once, and each
    // partition's entries in order.
    QFETCH(quint32, seed);
    const int partitions = 3;
    const int perPartition = 20;
    const QList<PartitionedEntry> onA = interleaved(partitions, perPartition, seed);
    const QList<PartitionedEntry> onB = interleaved(partitions, perPartition, seed + 1000);
    const qsizetype total = onA.size();
    for (qsizetype cutA = 1; cutA <= total; cutA += 7) {
        Hub a(partitionedOptions(partitions));
        Hub b(partitionedOptions(partitions));
        const Log first = addClient(a);
        publish(a, onA, 0, total);
        publish(b, onB, 0, total / 2);
        settle();
        QByteArrayList idsA;
        const QByteArrayList seen = entryPayloads(*first, &idsA).first(cutA);
        const Log second = addClient(b, {}, idsA[cutA - 1]);
        publish(b, onB, total / 2, total);
        settle();
        QByteArrayList idsB;
        const QByteArrayList fromB = entryPayloads(*second, &idsB);
        // Then, after half of what B sent, back to A.
        const qsizetype cutB = fromB.size() / 2;
        const Log third = addClient(a, {}, cutB > 0 ? idsB[cutB - 1] : idsA[cutA - 1]);
        settle();
        const QByteArrayList fromA = entryPayloads(*third);
        const QByteArrayList all = seen + fromB.first(cutB) + fromA;
        QCOMPARE(events(*second, "gap").size(), 0);
        QCOMPARE(events(*third, "gap").size(), 0);
        QCOMPARE(QSet<QByteArray>(all.cbegin(), all.cend()).size(), total);
        QCOMPARE(all.size(), total);
        QVERIFY(inOrderPerPartition(seen, partitions));
        QVERIFY(inOrderPerPartition(fromB, partitions));
        QVERIFY(inOrderPerPartition(fromA, partitions));
    }
}

void tst_Hub::partitionsReplayEachPartitionFromSource()
{
    // A client resumes behind the ring in two partitions of three: the hub reads those from
    // the source (page by page), then the ring, then live; every entry once.
    const int partitions = 3;
    const QList<PartitionedEntry> order = interleaved(partitions, 300, 7);
    QList<QList<PartitionedEntry>> stored(partitions);
    for (const PartitionedEntry &e : order)
        stored[e.partition].append(e);
    QList<int> pagesRead(partitions, 0);
    Hub hub(partitionedOptions(partitions, 50));
    hub.setStreamSource(
        {[&](int p, const QByteArray &from, int count, Hub::StreamSource::Done done) {
             ++pagesRead[p];
             StreamPage page;
             const StreamId start = *StreamId::parseEntryId(from);
             for (const PartitionedEntry &e : std::as_const(stored[p])) {
                 if (*StreamId::parseEntryId(e.id()) >= start && page.entries.size() < count)
                     page.entries.append({e.id(), "logs:a", e.payload()});
             }
             page.reachedEnd = page.entries.size() < count;
             if (!page.entries.isEmpty()) {
                 page.firstId = page.entries.constFirst().id;
                 page.lastId = page.entries.constLast().id;
             }
             QMetaObject::invokeMethod(
                 qApp, [done, page] { done(page); }, Qt::QueuedConnection);
         },
         [](int, const QByteArray &, Hub::StreamSource::Done done) {
             QMetaObject::invokeMethod(
                 qApp, [done] { done(StreamPage{}); }, Qt::QueuedConnection);
         }});
    // The ring (50) holds only entries of the last 100, which all come after what the client
    // read of partition 1.
    publish(hub, order, 0, order.size() - 100);
    // The client read partition 1 to its 290th entry, partitions 0 and 2 to their 10th.
    const QByteArray resume = "c1," + PartitionedEntry{0, 10}.id() + ',' +
                              PartitionedEntry{1, 290}.id() + ',' + PartitionedEntry{2, 10}.id();
    const Log log = addClient(hub, {}, resume);
    QTRY_VERIFY_WITH_TIMEOUT(entryPayloads(*log).size() >= 290 + 290 - 100, 10000);
    publish(hub, order, order.size() - 100, order.size());
    settle();
    const QByteArrayList got = entryPayloads(*log);
    QCOMPARE(events(*log, "gap").size(), 0);
    QCOMPARE(got.size(), 290 + 10 + 290);
    QCOMPARE(QSet<QByteArray>(got.cbegin(), got.cend()).size(), got.size());
    QVERIFY(!got.contains("p1-290") && got.contains("p1-291") && !got.contains("p0-10"));
    QVERIFY(inOrderPerPartition(got, partitions));
    QVERIFY(pagesRead[0] >= 2 && pagesRead[2] >= 2);
}

QTEST_GUILESS_MAIN(tst_Hub)
#include "tst_hub.moc"
