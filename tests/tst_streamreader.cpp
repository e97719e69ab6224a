// StreamReader against a real redis-server: entries in order with their exact ids and bytes;
// reading on after a disconnect, a stop or a restart with persistence, with no false gap; real
// loss (a restart without persistence, a recreated stream, trimming past the reader) announced
// once; Redis refusing the read; the watchdog; and fetchRange's pages.
#include "streamreader.h"
#include "testredis.h"

#include <QPointer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace std::chrono_literals;

namespace {

struct Received
{
    QByteArray id;
    QByteArray channel;
    QByteArray data;
};

// A relay in front of Redis whose cable the test pulls: while it is out, open connections are
// cut and new ones refused, so what the test does meanwhile happens while the reader is away.
class CableRelay final : public QObject
{
    Q_OBJECT

public:
    explicit CableRelay(quint16 target) : m_target(target)
    {
        connect(&m_server, &QTcpServer::newConnection, this, &CableRelay::accept);
    }
    bool plugIn()
    {
        if (!m_server.listen(QHostAddress::LocalHost, m_port))
            return false;
        m_port = m_server.serverPort();
        return true;
    }
    void pullOut()
    {
        m_server.close();
        for (const QPointer<QTcpSocket> &socket : std::as_const(m_sockets)) {
            if (socket)
                socket->abort();
        }
        m_sockets.clear();
    }
    QString url() const { return QStringLiteral("redis://127.0.0.1:%1").arg(m_port); }

private:
    void accept()
    {
        while (QTcpSocket *client = m_server.nextPendingConnection()) {
            auto *upstream = new QTcpSocket(this);
            client->setParent(this);
            // What the client sends first waits in its socket until upstream is connected.
            connect(upstream, &QTcpSocket::connected, client,
                    [client, upstream] { upstream->write(client->readAll()); });
            connect(client, &QTcpSocket::readyRead, upstream, [client, upstream] {
                if (upstream->state() == QAbstractSocket::ConnectedState)
                    upstream->write(client->readAll());
            });
            connect(upstream, &QTcpSocket::readyRead, client,
                    [client, upstream] { client->write(upstream->readAll()); });
            connect(client, &QTcpSocket::disconnected, upstream, &QTcpSocket::abort);
            connect(upstream, &QTcpSocket::disconnected, client, &QTcpSocket::abort);
            connect(client, &QTcpSocket::disconnected, client, &QObject::deleteLater);
            connect(upstream, &QTcpSocket::disconnected, upstream, &QObject::deleteLater);
            upstream->connectToHost(QHostAddress::LocalHost, m_target);
            m_sockets << client << upstream;
        }
    }

    QTcpServer m_server;
    quint16 m_target;
    quint16 m_port = 0;
    QList<QPointer<QTcpSocket>> m_sockets;
};

// A reader and everything it reported.
struct Probe
{
    Probe(const QString &url, const QByteArray &key)
        : reader(*RedisUrl::parse(url), key), ready(&reader, &StreamReader::ready),
          lost(&reader, &StreamReader::lost), missing(&reader, &StreamReader::entriesMissing),
          batches(&reader, &StreamReader::batchEnded)
    {
        reader.setEntryHandler(
            [this](QByteArrayView id, QByteArrayView channel, QByteArrayView data) {
                received.append({id.toByteArray(), channel.toByteArray(), data.toByteArray()});
            });
    }
    // Starts the reader and waits until it reads (a bound that only catches a hang).
    bool startReading()
    {
        const qsizetype before = ready.size();
        return reader.start() && QTest::qWaitFor([&] { return ready.size() > before; }, 30000);
    }
    // The first entriesMissing(), as missingText() writes it.
    QString firstMissing() const;
    QByteArrayList ids() const
    {
        QByteArrayList out;
        for (const Received &r : received)
            out.append(r.id);
        return out;
    }

    StreamReader reader;
    QList<Received> received;
    QSignalSpy ready;
    QSignalSpy lost;
    QSignalSpy missing;
    QSignalSpy batches;
};

// entriesMissing()'s arguments in one string, for QCOMPARE.
QString missingText(const QByteArray &lastId, const QByteArray &firstAvailableId,
                    const QString &reason)
{
    return QString::fromLatin1(QByteArray(lastId + " -> " + firstAvailableId + ": ")) + reason;
}

QString Probe::firstMissing() const
{
    if (missing.isEmpty())
        return {};
    const QList<QVariant> &args = missing.first();
    return missingText(args.at(0).toByteArray(), args.at(1).toByteArray(), args.at(2).toString());
}

QByteArray xadd(TestRedis &redis, const QByteArray &key, const QByteArray &channel,
                const QByteArray &data)
{
    return redis.command({"XADD", key, "*", "channel", channel, "data", data});
}

QByteArrayList xaddMany(TestRedis &redis, const QByteArray &key, int count,
                        const QByteArray &prefix)
{
    QByteArrayList ids;
    for (int i = 0; i < count; ++i)
        ids.append(xadd(redis, key, "logs:a", prefix + QByteArray::number(i)));
    return ids;
}

} // namespace

class tst_StreamReader : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void newEntriesArriveInOrder();
    void binarySafeEntries_data();
    void binarySafeEntries();
    void incompleteEntriesAreSkipped();
    void largeEntriesAreReadFewAtATime();
    void smallBatchesWrittenWhileStopped();
    void startAfterGivenId();
    void invalidStart();
    void readsOnAfterDisconnect();
    void readsOnAfterRestartWithPersistence();
    void restartWithoutPersistenceAnnouncedOnce();
    void restartedAndRefilled_data();
    void restartedAndRefilled();
    void recreatedBehindTheReader();
    void trimmedWhileDisconnected_data();
    void trimmedWhileDisconnected();
    void trimmedWhileBehind();
    void trimmedBeforeGivenStart_data();
    void trimmedBeforeGivenStart();
    void refusedReadIsRetried();
    void watchdogReplacesSilentConnection();
    void fetchRangePagesMeetExactly_data();
    void fetchRangePagesMeetExactly();
    void fetchRangeErrors();

private:
    TestRedis m_redis;
};

void tst_StreamReader::initTestCase()
{
    QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
}

void tst_StreamReader::newEntriesArriveInOrder()
{
    const QByteArray key = "s:order";
    xadd(m_redis, key, "logs:a", "before the reader started");
    Probe p(m_redis.url(), key);
    QVERIFY(p.startReading());
    QVERIFY(p.reader.isReady());
    QByteArrayList ids;
    for (int i = 0; i < 30; ++i)
        ids.append(xadd(m_redis, key, i % 2 ? "logs:odd" : "logs:even", QByteArray::number(i)));
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 30, 30000);
    QCOMPARE(p.ids(), ids);
    for (int i = 0; i < 30; ++i) {
        QCOMPARE(p.received[i].channel, QByteArray(i % 2 ? "logs:odd" : "logs:even"));
        QCOMPARE(p.received[i].data, QByteArray::number(i));
    }
    QCOMPARE(p.reader.lastId(), ids.last());
    QVERIFY(p.batches.size() >= 1);
    QCOMPARE(p.missing.size(), 0);
    QCOMPARE(p.lost.size(), 0);
}

void tst_StreamReader::binarySafeEntries_data()
{
    QTest::addColumn<QByteArray>("channel");
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<bool>("dataFirst");
    QTest::newRow("plain") << QByteArray("logs:a") << QByteArray("{\"msg\":\"hi\"}") << false;
    QTest::newRow("nul") << QByteArray("logs:a") << QByteArray("a\0b\0", 4) << false;
    QTest::newRow("newlines") << QByteArray("logs:a") << QByteArray("one\ntwo\r\n\n") << true;
    QTest::newRow("invalid-utf8") << QByteArray("logs:\xff") << QByteArray("\xff\xfe\xc3\x28")
                                  << false;
    QTest::newRow("empty") << QByteArray("logs:a") << QByteArray() << true;
    QByteArray mib(1024 * 1024, 'x');
    for (qsizetype i = 0; i < mib.size(); i += 4099)
        mib[i] = char(i % 256);
    QTest::newRow("1-mib") << QByteArray("logs:big") << mib << false;
}

void tst_StreamReader::binarySafeEntries()
{
    QFETCH(QByteArray, channel);
    QFETCH(QByteArray, data);
    QFETCH(bool, dataFirst);
    const QByteArray key = "s:binary:" + QByteArray(QTest::currentDataTag());
    Probe p(m_redis.url(), key);
    QVERIFY(p.startReading());
    // Other fields, and the order of the two, do not matter.
    const QByteArray id =
        dataFirst
            ? m_redis.command({"XADD", key, "*", "data", data, "trace", "t1", "channel", channel})
            : m_redis.command({"XADD", key, "*", "trace", "t1", "channel", channel, "data", data,
                               "extra", "x"});
    QVERIFY2(id.contains('-'), id.constData());
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 1, 30000);
    QCOMPARE(p.received[0].id, id);
    QCOMPARE(p.received[0].channel, channel);
    QCOMPARE(p.received[0].data, data);
}

void tst_StreamReader::largeEntriesAreReadFewAtATime()
{
    // One XREAD reply is held whole while it is handed out: 256 entries of 512 KiB would be
    // 128 MiB on top of the gateway's history. After one such read, COUNT shrinks to keep a
    // reply near 2 MiB (but not below 8 entries).
    const QByteArray key = "s:large";
    Probe p(m_redis.url(), key);
    QVERIFY(p.startReading());
    QCOMPARE(p.reader.readCount(), 256);
    const QByteArray big(512 * 1024, 'b');
    p.reader.stop();
    QByteArrayList ids;
    for (int i = 0; i < 20; ++i)
        ids.append(xadd(m_redis, key, "logs:big", big + QByteArray::number(i)));
    QVERIFY(p.startReading());
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 20, 30000);
    QCOMPARE(p.reader.readCount(), 8);
    p.reader.stop();
    const qsizetype batchesBefore = p.batches.size();
    for (int i = 20; i < 40; ++i)
        ids.append(xadd(m_redis, key, "logs:big", big + QByteArray::number(i)));
    QVERIFY(p.startReading());
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 40, 30000);
    QCOMPARE(p.ids(), ids);
    QCOMPARE(p.received.last().data, big + "39");
    QCOMPARE(p.batches.size() - batchesBefore, 3); // 8 + 8 + 4
    // Small entries again: back to full batches.
    for (int i = 0; i < 10; ++i)
        xadd(m_redis, key, "logs:small", "s");
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 50, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(p.reader.readCount(), 256, 30000);
}

void tst_StreamReader::incompleteEntriesAreSkipped()
{
    const QByteArray key = "s:incomplete";
    Probe p(m_redis.url(), key);
    QVERIFY(p.startReading());
    m_redis.command({"XADD", key, "*", "channel", "logs:a"});
    m_redis.command({"XADD", key, "*", "data", "d"});
    m_redis.command({"XADD", key, "*", "message", "m"});
    const QByteArray good = xadd(m_redis, key, "logs:a", "good");
    const QByteArray lastSkipped = m_redis.command({"XADD", key, "*", "channel", "logs:a"});
    QTRY_COMPARE_WITH_TIMEOUT(p.reader.skippedEntries(), quint64(4), 30000);
    QCOMPARE(p.received.size(), 1);
    QCOMPARE(p.received[0].id, good);
    QCOMPARE(p.received[0].data, QByteArray("good"));
    // Skipped entries move the position on too: they are not read again.
    QCOMPARE(p.reader.lastId(), lastSkipped);
}

void tst_StreamReader::smallBatchesWrittenWhileStopped()
{
    const QByteArray key = "s:batches";
    Probe p(m_redis.url(), key);
    p.reader.setBatchSize(3);
    QVERIFY(p.startReading());
    p.reader.stop();
    QVERIFY(!p.reader.isReady());
    const QByteArrayList ids = xaddMany(m_redis, key, 20, "while stopped ");
    QVERIFY(p.reader.start());
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 20, 30000);
    QCOMPARE(p.ids(), ids);
    QVERIFY2(p.batches.size() >= 7, QByteArray::number(p.batches.size()).constData());
    QCOMPARE(p.missing.size(), 0);
}

void tst_StreamReader::startAfterGivenId()
{
    const QByteArray key = "s:given";
    const QByteArrayList ids = xaddMany(m_redis, key, 5, "history ");
    Probe p(m_redis.url(), key);
    QVERIFY(p.reader.start(ids[1]));
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 3, 30000);
    QCOMPARE(p.ids(), ids.mid(2));
    QCOMPARE(p.missing.size(), 0);

    Probe all(m_redis.url(), key);
    QVERIFY(all.reader.start("0"));
    QTRY_COMPARE_WITH_TIMEOUT(all.received.size(), 5, 30000);
    QCOMPARE(all.ids(), ids);
    QCOMPARE(all.missing.size(), 0);
}

void tst_StreamReader::invalidStart()
{
    Probe p(m_redis.url(), "s:invalid");
    QVERIFY(!p.reader.start("yesterday"));
    QVERIFY2(p.reader.lastError().contains(QLatin1String("not a stream entry id")),
             qPrintable(p.reader.lastError()));
    QVERIFY(!p.reader.start("1-2-3"));
    QVERIFY(p.reader.start("1-2"));
    QCOMPARE(p.reader.lastId(), QByteArray("1-2"));
    QVERIFY(!p.reader.start()); // already started
}

void tst_StreamReader::readsOnAfterDisconnect()
{
    const QByteArray key = "s:disconnect";
    CableRelay relay(m_redis.port());
    QVERIFY(relay.plugIn());
    Probe p(relay.url(), key);
    QVERIFY(p.startReading());
    QByteArrayList ids{xadd(m_redis, key, "logs:a", "before")};
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 1, 30000);

    relay.pullOut();
    QTRY_VERIFY_WITH_TIMEOUT(p.lost.size() >= 1, 30000);
    QVERIFY(!p.reader.isReady());
    ids += xaddMany(m_redis, key, 4, "while away ");
    QVERIFY(relay.plugIn());
    QTRY_COMPARE_WITH_TIMEOUT(p.ready.size(), 2, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 5, 30000);
    QCOMPARE(p.ids(), ids);
    QCOMPARE(p.missing.size(), 0);
    QVERIFY(p.reader.reconnects() >= 1);
}

void tst_StreamReader::readsOnAfterRestartWithPersistence()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    TestRedis redis;
    QVERIFY2(redis.start({QStringLiteral("--appendonly"), QStringLiteral("yes"),
                          QStringLiteral("--appendfsync"), QStringLiteral("always"),
                          QStringLiteral("--dir"), dir.path()}),
             qPrintable(redis.errorString()));
    const QByteArray key = "s:aof";
    Probe p(redis.url(), key);
    QVERIFY(p.startReading());
    QByteArrayList ids = xaddMany(redis, key, 2, "before ");
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 2, 30000);

    QVERIFY2(redis.restart(), qPrintable(redis.errorString())); // SIGKILL, then the AOF is read
    QTRY_COMPARE_WITH_TIMEOUT(redis.command({"XLEN", key}), QByteArray("2"), 30000);
    ids += xaddMany(redis, key, 3, "after ");
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 5, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(p.ready.size() >= 2, 30000);
    QCOMPARE(p.ids(), ids);
    QVERIFY(p.lost.size() >= 1);
    QCOMPARE(p.missing.size(), 0);
}

void tst_StreamReader::restartWithoutPersistenceAnnouncedOnce()
{
    TestRedis redis;
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    const QByteArray key = "s:volatile";
    Probe p(redis.url(), key);
    QVERIFY(p.startReading());
    const QByteArray first = xadd(redis, key, "logs:a", "before");
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 1, 30000);

    QVERIFY2(redis.restart(), qPrintable(redis.errorString()));
    QTRY_COMPARE_WITH_TIMEOUT(p.missing.size(), 1, 30000);
    // Nothing there yet to read on from.
    QCOMPARE(p.firstMissing(), missingText(first, {}, QString(StreamReader::restartedEmptyReason)));
    QTRY_COMPARE_WITH_TIMEOUT(p.ready.size(), 2, 30000);
    const QByteArray second = xadd(redis, key, "logs:a", "after");
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 2, 30000);
    QCOMPARE(p.received[1].id, second);

    // Another reconnect finds the new stream in order: no second announcement.
    QVERIFY(redis.command({"CLIENT", "KILL", "TYPE", "normal"}).toInt() >= 1);
    QTRY_COMPARE_WITH_TIMEOUT(p.ready.size(), 3, 30000);
    const QByteArray third = xadd(redis, key, "logs:a", "later");
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 3, 30000);
    QCOMPARE(p.received[2].id, third);
    QCOMPARE(p.missing.size(), 1);
}

void tst_StreamReader::restartedAndRefilled_data()
{
    QTest::addColumn<bool>("givenStart");
    // Started with `$`, it read three entries itself.
    QTest::newRow("read-them") << false;
    // As the gateway starts: after the newest entry it read itself. The first check learns how
    // many entries the stream took up to there.
    QTest::newRow("given-start") << true;
}

void tst_StreamReader::restartedAndRefilled()
{
    // Redis restarted without its data and was refilled while the reader was stopped. The new
    // stream's ids come after ours (they come from the clock): only its entry count tells it
    // from ours, and from trimming.
    QFETCH(bool, givenStart);
    TestRedis redis;
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    const QByteArray key = "s:refilled";
    QByteArrayList before;
    Probe p(redis.url(), key);
    if (givenStart) {
        before = xaddMany(redis, key, 3, "before ");
        QVERIFY(p.reader.start(before.last()));
        QTRY_COMPARE_WITH_TIMEOUT(p.ready.size(), 1, 30000);
    } else {
        QVERIFY(p.startReading());
        before = xaddMany(redis, key, 3, "before ");
        QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 3, 30000);
    }
    p.reader.stop();
    QVERIFY2(redis.restart(), qPrintable(redis.errorString()));
    const QByteArrayList after = xaddMany(redis, key, 2, "after ");
    QVERIFY(p.reader.start());
    QTRY_COMPARE_WITH_TIMEOUT(p.missing.size(), 1, 30000);
    QCOMPARE(p.firstMissing(), missingText(before.last(), after.first(),
                                           QString(StreamReader::restartedEmptyReason)));
    const QByteArrayList expected = givenStart ? after : before + after;
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), expected.size(), 30000);
    QCOMPARE(p.ids(), expected);
}

void tst_StreamReader::recreatedBehindTheReader()
{
    const QByteArray key = "s:recreated";
    Probe p(m_redis.url(), key);
    QVERIFY(p.startReading());
    const QByteArray first = xadd(m_redis, key, "logs:a", "first");
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 1, 30000);
    p.reader.stop();
    m_redis.command({"DEL", key});
    QCOMPARE(m_redis.command({"XADD", key, "1-1", "channel", "logs:a", "data", "old id"}),
             QByteArray("1-1"));

    QVERIFY(p.reader.start());
    QTRY_COMPARE_WITH_TIMEOUT(p.missing.size(), 1, 30000);
    QCOMPARE(p.firstMissing(),
             missingText(first, QByteArray(), QString(StreamReader::restartedEmptyReason)));
    // Reading goes on after our position: ids never go back. The new entry's id comes from the
    // clock, which must first pass the ms of ours: the same ms gives the same id (the stream's
    // last is 1-1), and that one is, rightly, not read.
    const qint64 firstMs = first.left(first.indexOf('-')).toLongLong();
    QVERIFY(QTest::qWaitFor([&] { return QDateTime::currentMSecsSinceEpoch() > firstMs; }, 5000));
    const QByteArray next = xadd(m_redis, key, "logs:a", "new");
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 2, 30000);
    QCOMPARE(p.received[1].id, next);
}

void tst_StreamReader::trimmedWhileDisconnected_data()
{
    QTest::addColumn<int>("added");
    QTest::addColumn<int>("kept");
    QTest::addColumn<bool>("missing");
    QTest::newRow("past-the-reader") << 5 << 2 << true;
    QTest::newRow("everything") << 3 << 0 << true;
    // What the reader had read is gone, nothing after it: no gap.
    QTest::newRow("only-what-was-read") << 1 << 1 << false;
    QTest::newRow("exactly-to-the-reader") << 2 << 2 << false;
    QTest::newRow("nothing-read-trimmed") << 2 << 4 << false;
}

void tst_StreamReader::trimmedWhileDisconnected()
{
    QFETCH(int, added);
    QFETCH(int, kept);
    QFETCH(bool, missing);
    const QByteArray key = "s:trim:" + QByteArray(QTest::currentDataTag());
    CableRelay relay(m_redis.port());
    QVERIFY(relay.plugIn());
    Probe p(relay.url(), key);
    QVERIFY(p.startReading());
    const QByteArrayList read = xaddMany(m_redis, key, 3, "read ");
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 3, 30000);

    relay.pullOut();
    const QByteArrayList unread = xaddMany(m_redis, key, added, "unread ");
    m_redis.command({"XTRIM", key, "MAXLEN", QByteArray::number(kept)});
    QVERIFY(relay.plugIn());
    QTRY_COMPARE_WITH_TIMEOUT(p.ready.size(), 2, 30000);
    const QByteArrayList left = unread.mid(std::max(0, added - kept));
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 3 + left.size(), 30000);
    QCOMPARE(p.ids(), read + left);
    QCOMPARE(p.missing.size(), missing ? 1 : 0);
    if (missing) {
        QCOMPARE(p.firstMissing(),
                 missingText(read.last(), left.value(0), QString(StreamReader::trimmedReason)));
    }
}

void tst_StreamReader::trimmedWhileBehind()
{
    const QByteArray key = "s:trim-behind";
    Probe p(m_redis.url(), key);
    p.reader.setBatchSize(2);
    QVERIFY(p.startReading());
    p.reader.stop();
    const QByteArrayList ids = xaddMany(m_redis, key, 10, "backlog ");
    // Trimming overtakes the reader while it works through its first batch. The next read (and
    // its check) went out before the batch was handed out, so it may still get the next batch;
    // either way the check of a later full batch sees the loss, and announces it once, in place.
    p.reader.setEntryHandler([&](QByteArrayView id, QByteArrayView channel, QByteArrayView data) {
        p.received.append({id.toByteArray(), channel.toByteArray(), data.toByteArray()});
        if (p.received.size() == 1)
            m_redis.command({"XTRIM", key, "MAXLEN", "3"});
    });
    QVERIFY(p.reader.start());
    QTRY_VERIFY_WITH_TIMEOUT(!p.received.isEmpty() && p.received.last().id == ids.last(), 30000);
    const qsizetype before = p.received.size() - 3; // read before the trimming took effect
    QVERIFY2(before == 2 || before == 4, qPrintable(QString::number(before)));
    QCOMPARE(p.ids(), ids.mid(0, before) + ids.mid(7));
    QCOMPARE(p.missing.size(), 1);
    QCOMPARE(p.firstMissing(),
             missingText(ids[before - 1], ids[7], QString(StreamReader::trimmedReason)));
}

void tst_StreamReader::trimmedBeforeGivenStart_data()
{
    QTest::addColumn<int>("after"); // index of the start id; -1: 0-0
    QTest::newRow("from-0-0") << -1;
    QTest::newRow("from-a-trimmed-id") << 0;
}

void tst_StreamReader::trimmedBeforeGivenStart()
{
    QFETCH(int, after);
    const QByteArray key = "s:trimmed-start:" + QByteArray(QTest::currentDataTag());
    const QByteArrayList ids = xaddMany(m_redis, key, 5, "entry ");
    m_redis.command({"XTRIM", key, "MAXLEN", "2"});
    Probe p(m_redis.url(), key);
    QVERIFY(p.reader.start(after < 0 ? QByteArray("0-0") : ids[after]));
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 2, 30000);
    QCOMPARE(p.ids(), ids.mid(3));
    QCOMPARE(p.missing.size(), 1);
    QCOMPARE(p.firstMissing(), missingText(after < 0 ? QByteArray("0-0") : ids[after], ids[3],
                                           QString(StreamReader::trimmedReason)));
}

void tst_StreamReader::refusedReadIsRetried()
{
    const QByteArray key = "s:wrongtype";
    m_redis.command({"SET", key, "not a stream"});
    Probe p(m_redis.url(), key);
    QVERIFY(p.reader.start());
    QTRY_VERIFY_WITH_TIMEOUT(p.lost.size() >= 1, 30000);
    QVERIFY2(p.lost.first().first().toString().contains(QLatin1String("WRONGTYPE")),
             qPrintable(p.lost.first().first().toString()));
    QCOMPARE(p.ready.size(), 0);
    m_redis.command({"DEL", key});
    QTRY_COMPARE_WITH_TIMEOUT(p.ready.size(), 1, 30000);
    const QByteArray id = xadd(m_redis, key, "logs:a", "fixed");
    QTRY_COMPARE_WITH_TIMEOUT(p.received.size(), 1, 30000);
    QCOMPARE(p.received[0].id, id);
    QCOMPARE(p.missing.size(), 0);
}

void tst_StreamReader::watchdogReplacesSilentConnection()
{
    // Answers the handshake (a Redis without cluster mode), then nothing more, like a peer
    // gone without a reset.
    QTcpServer silent;
    QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
    QSignalSpy accepted(&silent, &QTcpServer::newConnection);
    connect(&silent, &QTcpServer::newConnection, &silent, [&silent] {
        while (QTcpSocket *socket = silent.nextPendingConnection()) {
            connect(socket, &QTcpSocket::readyRead, socket, [socket] {
                // Each command is an array ("*<n>\r\n..."); the first two (CLUSTER NODES and
                // CLUSTER SLOTS) get an error, whatever comes later nothing.
                const QByteArray data = socket->readAll();
                int answered = socket->property("answered").toInt();
                for (qsizetype i = 0; i < data.size() && answered < 2; ++i) {
                    if (data[i] == '*' && (i == 0 || data[i - 1] == '\n')) {
                        socket->write("-ERR This instance has cluster support disabled\r\n");
                        ++answered;
                    }
                }
                socket->setProperty("answered", answered);
            });
        }
    });
    Probe p(QStringLiteral("redis://127.0.0.1:%1").arg(silent.serverPort()), "s:silent");
    p.reader.setBlockTimeout(50ms);
    QVERIFY(p.reader.start());
    QTRY_VERIFY_WITH_TIMEOUT(p.lost.size() >= 1, 30000);
    QVERIFY2(p.lost.first().first().toString().contains(QLatin1String("no reply")),
             qPrintable(p.lost.first().first().toString()));
    QTRY_VERIFY_WITH_TIMEOUT(accepted.size() >= 2, 30000); // a new connection replaced it
    QCOMPARE(p.ready.size(), 0);
}

void tst_StreamReader::fetchRangePagesMeetExactly_data()
{
    QTest::addColumn<int>("pageSize");
    QTest::newRow("10") << 10; // the first page ends on an entry left out
    QTest::newRow("5") << 5;   // pages end on the last entry: one more, empty, page
    QTest::newRow("1") << 1;
    QTest::newRow("all") << 1000;
}

void tst_StreamReader::fetchRangePagesMeetExactly()
{
    QFETCH(int, pageSize);
    const QByteArray key = "s:range:" + QByteArray(QTest::currentDataTag());
    QByteArrayList expected;
    for (int i = 0; i < 25; ++i) {
        if (i == 9) {
            m_redis.command({"XADD", key, "*", "channel", "logs:a"});
            continue;
        }
        const QByteArray data = QByteArray::number(i) + QByteArray("\0\n", 2);
        expected.append(xadd(m_redis, key, "logs:a", data));
    }
    StreamReader reader(*RedisUrl::parse(m_redis.url()), key);
    QList<StreamPage> pages;
    QByteArrayList got;
    QByteArray after;
    for (int round = 0; round < 100; ++round) {
        reader.fetchRange(after, pageSize, [&](const StreamPage &page) { pages.append(page); });
        QCOMPARE(pages.size(), round); // handed out from the event loop, never from the call
        QTRY_COMPARE_WITH_TIMEOUT(pages.size(), round + 1, 30000);
        const StreamPage &page = pages.last();
        QVERIFY2(page.error.isEmpty(), qPrintable(page.error));
        QVERIFY(page.entries.size() <= pageSize);
        for (const StreamEntry &e : page.entries) {
            got.append(e.id);
            QCOMPARE(e.channel, QByteArray("logs:a"));
            QCOMPARE(e.data,
                     QByteArray::number(expected.indexOf(e.id) + (expected.indexOf(e.id) >= 9)) +
                         QByteArray("\0\n", 2));
        }
        if (page.reachedEnd)
            break;
        QVERIFY(!page.lastId.isEmpty());
        after = page.lastId;
    }
    QCOMPARE(got, expected);
    // Past the end: nothing, and no position to go on from.
    reader.fetchRange(expected.last(), pageSize,
                      [&](const StreamPage &page) { pages.append(page); });
    const qsizetype before = pages.size();
    QTRY_COMPARE_WITH_TIMEOUT(pages.size(), before + 1, 30000);
    QVERIFY(pages.last().entries.isEmpty());
    QVERIFY(pages.last().reachedEnd);
    QVERIFY(pages.last().lastId.isEmpty());
}

void tst_StreamReader::fetchRangeErrors()
{
    StreamReader reader(*RedisUrl::parse(m_redis.url()), "s:range-errors");
    QList<StreamPage> pages;
    const auto collect = [&](const StreamPage &page) { pages.append(page); };
    reader.fetchRange("not-an-id", 10, collect);
    reader.fetchRange({}, 0, collect);
    reader.fetchRange({}, 10, collect); // no such key: an empty stream
    QTRY_COMPARE_WITH_TIMEOUT(pages.size(), 3, 30000);
    QVERIFY(pages[0].error.contains(QLatin1String("not a stream entry id")));
    QVERIFY(pages[1].error.contains(QLatin1String("positive")));
    QVERIFY2(pages[2].error.isEmpty(), qPrintable(pages[2].error));
    QVERIFY(pages[2].entries.isEmpty());
    QVERIFY(pages[2].reachedEnd);

    m_redis.command({"SET", "s:range-wrongtype", "x"});
    StreamReader wrongType(*RedisUrl::parse(m_redis.url()), "s:range-wrongtype");
    wrongType.fetchRange({}, 10, collect);
    QTRY_COMPARE_WITH_TIMEOUT(pages.size(), 4, 30000);
    QVERIFY2(pages[3].error.contains(QLatin1String("WRONGTYPE")), qPrintable(pages[3].error));

    const quint16 nobody = TestRedis::freePort();
    StreamReader unreachable(*RedisUrl::parse(QStringLiteral("redis://127.0.0.1:%1").arg(nobody)),
                             "s:range");
    unreachable.fetchRange({}, 10, collect);
    QTRY_COMPARE_WITH_TIMEOUT(pages.size(), 5, 30000);
    QVERIFY2(pages[4].error.contains(QLatin1String("cannot read")), qPrintable(pages[4].error));
    // A later request tries again, and works once Redis is there.
    TestRedis late(nobody);
    QVERIFY(late.start());
    xadd(late, "s:range", "logs:a", "late");
    unreachable.fetchRange({}, 10, collect);
    QTRY_COMPARE_WITH_TIMEOUT(pages.size(), 6, 30000);
    QVERIFY2(pages[5].error.isEmpty(), qPrintable(pages[5].error));
    QCOMPARE(pages[5].entries.size(), 1);
    QCOMPARE(pages[5].entries[0].data, QByteArray("late"));
}

QTEST_GUILESS_MAIN(tst_StreamReader)
#include "tst_streamreader.moc"
