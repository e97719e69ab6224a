// Redis Cluster with the streams transport: the slot router of RedisConnection (setRouteKey,
// followRedirect) and the producer writing a partitioned stream through it, against real local
// clusters (3 masters; 3 masters + 3 replicas for the failover). Seeded with one node each time:
// the rest is learned from the cluster.
#include "clusterslots.h"
#include "numberedfeed.h"
#include "redisconnection.h"
#include "redispublisher.h"
#include "testredis.h"
#include "transport.h"

#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <map>

namespace {

constexpr int hang = 60000; // a bound that only catches a hang

// A key of the form "<prefix>{<n>}" whose slot `cluster` node `master` serves.
QByteArray keyOn(TestRedisCluster &cluster, int master, const QByteArray &prefix)
{
    for (int n = 0;; ++n) {
        const QByteArray key = prefix + '{' + QByteArray::number(n) + '}';
        if (cluster.masterOf(ClusterSlots::keySlot(key)) == master)
            return key;
    }
}

// The error or status text of one command sent on `connection`'s context, once it is answered.
QByteArray ask(RedisConnection &connection, const QByteArrayList &argv)
{
    struct Answer
    {
        bool done = false;
        QByteArray text;
    } answer;
    std::vector<const char *> ptrs;
    std::vector<size_t> lens;
    for (const QByteArray &a : argv) {
        ptrs.push_back(a.constData());
        lens.push_back(size_t(a.size()));
    }
    redisAsyncContext *ac = connection.context();
    if (!ac)
        return "not connected";
    redisAsyncCommandArgv(
        ac,
        [](redisAsyncContext *, void *r, void *privdata) {
            auto *a = static_cast<Answer *>(privdata);
            const auto *reply = static_cast<const redisReply *>(r);
            a->done = true;
            a->text = !reply       ? QByteArray("no reply")
                      : reply->str ? QByteArray(reply->str, qsizetype(reply->len))
                                   : QByteArray::number(reply->integer);
        },
        &answer, int(argv.size()), ptrs.data(), lens.data());
    if (!QTest::qWaitFor([&] { return answer.done; }, hang))
        return "no answer";
    return answer.text;
}

// Lets `feed` publish `count` more messages, stops it and waits until the publisher has none
// left unacknowledged; false on a hang.
bool publishMoreAndDrain(RedisPublisher &publisher, NumberedFeed &feed, quint64 count)
{
    const quint64 goal = publisher.published() + count;
    if (!QTest::qWaitFor([&] { return publisher.published() >= goal; }, hang))
        return false;
    feed.stop();
    QSignalSpy drained(&publisher, &RedisPublisher::drained);
    return publisher.pending() == 0 || drained.wait(hang);
}

} // namespace

class tst_ClusterRouting : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void routeKeyReachesTheOwningMaster();
    void movedMovesTheConnection();
    void clusterRefusesAnotherDatabase();
    void producerWritesEveryPartitionToItsMaster();
    void publisherFollowsASlotMigration();
    void publisherFollowsAFailover();

private:
    // Every entry of the transport's partitions, each read on the master of its slot; an entry
    // in the wrong partition fails the test.
    QList<QPair<QByteArray, QByteArray>> allEntries(TestRedisCluster &cluster,
                                                    const Transport &transport);

    QTemporaryDir m_dir;
    std::unique_ptr<TestRedisCluster> m_cluster; // 3 masters
};

void tst_ClusterRouting::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_cluster = std::make_unique<TestRedisCluster>();
    QVERIFY2(m_cluster->start(m_dir.filePath(QStringLiteral("masters")), 3),
             qPrintable(m_cluster->errorString()));
}

void tst_ClusterRouting::cleanupTestCase()
{
    m_cluster.reset();
}

QList<QPair<QByteArray, QByteArray>> tst_ClusterRouting::allEntries(TestRedisCluster &cluster,
                                                                    const Transport &transport)
{
    QList<QPair<QByteArray, QByteArray>> all;
    for (int p = 0; p < transport.streamPartitions; ++p) {
        const QByteArray key = transport.partitionKey(p);
        const int owner = cluster.masterOf(ClusterSlots::keySlot(key));
        if (owner < 0) {
            qWarning("no master serves %s", key.constData());
            return {};
        }
        const auto entries = cluster.node(owner).streamEntries(key);
        for (const auto &entry : entries) {
            if (transport.partitionOf(entry.first) != p) {
                qWarning("%s holds an entry of channel %s", key.constData(),
                         entry.first.constData());
                return {};
            }
        }
        all += entries;
    }
    return all;
}

void tst_ClusterRouting::routeKeyReachesTheOwningMaster()
{
    for (int master = 0; master < 3; ++master) {
        const QByteArray key = keyOn(*m_cluster, master, "route:");
        // Redis's own slot for it, and ours.
        QCOMPARE(m_cluster->node(0).command({"CLUSTER", "KEYSLOT", key}).toInt(),
                 int(RedisConnection::keySlot(key)));
        // Seeded with another node: CLUSTER SLOTS sends it on before it is ready.
        RedisConnection connection(*RedisUrl::parse(m_cluster->url((master + 1) % 3)));
        connection.setRouteKey(key);
        QSignalSpy ready(&connection, &RedisConnection::ready);
        QSignalSpy lost(&connection, &RedisConnection::connectionLost);
        QSignalSpy failed(&connection, &RedisConnection::connectFailed);
        connection.start();
        QVERIFY(ready.wait(hang));
        QCOMPARE(connection.nodeAddress(),
                 QStringLiteral("127.0.0.1:%1").arg(m_cluster->node(master).port()));
        QCOMPARE(ask(connection, {"SET", key, "here"}), QByteArray("OK"));
        QCOMPARE(ready.size(), 1);
        QCOMPARE(lost.size() + failed.size(), 0); // the move is no failure
    }

    // Without a cluster the route key changes nothing.
    TestRedis single;
    QVERIFY2(single.start(), qPrintable(single.errorString()));
    RedisConnection connection(*RedisUrl::parse(single.url()));
    connection.setRouteKey("route:{0}");
    QSignalSpy ready(&connection, &RedisConnection::ready);
    connection.start();
    QVERIFY(ready.wait(hang));
    QCOMPARE(ask(connection, {"SET", "route:{0}", "x"}), QByteArray("OK"));
    QVERIFY(!connection.followRedirect("ERR unknown command"));
}

void tst_ClusterRouting::movedMovesTheConnection()
{
    const QByteArray elsewhere = keyOn(*m_cluster, 2, "moved:");
    RedisConnection connection(*RedisUrl::parse(m_cluster->url(0))); // no route key: stays
    QSignalSpy ready(&connection, &RedisConnection::ready);
    QSignalSpy lost(&connection, &RedisConnection::connectionLost);
    connection.start();
    QVERIFY(ready.wait(hang));
    const QByteArray error = ask(connection, {"SET", elsewhere, "v"});
    QCOMPARE(error, "MOVED " + QByteArray::number(RedisConnection::keySlot(elsewhere)) +
                        " 127.0.0.1:" + QByteArray::number(m_cluster->node(2).port()));
    QVERIFY(!connection.followRedirect("WRONGTYPE Operation against a key"));
    QVERIFY(connection.isReady());
    QVERIFY(connection.followRedirect(error));
    QCOMPARE(lost.size(), 1);
    QCOMPARE(lost.first().first().toString(), QString::fromUtf8(error));
    QVERIFY(ready.wait(hang));
    QCOMPARE(connection.nodeAddress(),
             QStringLiteral("127.0.0.1:%1").arg(m_cluster->node(2).port()));
    QCOMPARE(ask(connection, {"SET", elsewhere, "v"}), QByteArray("OK"));

    // TRYAGAIN: the same node again, after the backoff.
    QVERIFY(connection.followRedirect("TRYAGAIN Multiple keys request during rehashing of slot"));
    QCOMPARE(lost.size(), 2);
    QVERIFY(ready.wait(hang));
    QCOMPARE(connection.nodeAddress(),
             QStringLiteral("127.0.0.1:%1").arg(m_cluster->node(2).port()));
}

void tst_ClusterRouting::clusterRefusesAnotherDatabase()
{
    RedisConnection connection(*RedisUrl::parse(m_cluster->url(0) + QStringLiteral("/1")));
    QSignalSpy failed(&connection, &RedisConnection::connectFailed);
    connection.start();
    QVERIFY(failed.wait(hang));
    connection.stop();
    QVERIFY2(failed.first().first().toString().contains(
                 QLatin1StringView("a Redis Cluster has only database 0: remove /1")),
             qPrintable(failed.first().first().toString()));
}

void tst_ClusterRouting::producerWritesEveryPartitionToItsMaster()
{
    Transport transport;
    transport.kind = Transport::Kind::Streams;
    transport.streamKey = "program:stream";
    transport.streamPartitions = 3;
    QProcess producer;
    producer.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    producer.start(QStringLiteral(LLMSTREAMER_PRODUCER_EXECUTABLE),
                   {QStringLiteral("simulate"), QStringLiteral("--rate"), QStringLiteral("0"),
                    QStringLiteral("--count"), QStringLiteral("3000"), QStringLiteral("--seed"),
                    QStringLiteral("7"), QStringLiteral("--transport"), QStringLiteral("streams"),
                    QStringLiteral("--stream-key"), QString::fromUtf8(transport.streamKey),
                    QStringLiteral("--stream-partitions"), QStringLiteral("3"),
                    QStringLiteral("--redis-url"), m_cluster->url(0)});
    QVERIFY(producer.waitForFinished(hang));
    QCOMPARE(producer.exitStatus(), QProcess::NormalExit);
    QCOMPARE(producer.exitCode(), 0);

    const auto entries = allEntries(*m_cluster, transport);
    QCOMPARE(entries.size(), 3000);
    std::map<QByteArray, int> perChannel;
    for (const auto &entry : entries)
        ++perChannel[entry.first];
    QCOMPARE(perChannel.size(), size_t(3)); // generation, metrics, errors
    // Each partition is on its master only: the others redirect.
    for (int p = 0; p < 3; ++p) {
        const QByteArray key = transport.partitionKey(p);
        const int owner = m_cluster->masterOf(ClusterSlots::keySlot(key));
        for (int n = 0; n < 3; ++n) {
            if (n != owner)
                QVERIFY(m_cluster->node(n).command({"XLEN", key}).startsWith("MOVED "));
        }
    }
}

void tst_ClusterRouting::publisherFollowsASlotMigration()
{
    Transport transport;
    transport.kind = Transport::Kind::Streams;
    transport.streamKey = "migrating:stream";
    transport.streamPartitions = 3;
    transport.streamMaxEntries = 0;
    RedisPublisher publisher(*RedisUrl::parse(m_cluster->url(0)));
    publisher.setStream(transport);
    QCOMPARE(publisher.partitionCount(), 3);
    NumberedFeed feed(&publisher, "route:c", 8, 20);
    publisher.start();
    feed.start();
    QTRY_VERIFY_WITH_TIMEOUT(publisher.published() >= 2000, hang);

    // Partition 1's slot goes to another master while the feed goes on: its XADDs meet ASK
    // (after the key left) and MOVED (once the slot is the other master's).
    const QByteArray key = transport.partitionKey(1);
    const quint16 slot = ClusterSlots::keySlot(key);
    const int from = m_cluster->masterOf(slot);
    const int to = (from + 1) % 3;
    const quint64 reconnectsBefore = publisher.reconnects();
    const int moved = m_cluster->migrateSlot(slot, to, [&] {
        const quint64 goal = publisher.published() + 200;
        QTRY_VERIFY_WITH_TIMEOUT(publisher.published() >= goal, hang);
    });
    // With the partition key: those of other tests with the same hash tag.
    QVERIFY2(moved >= 1, qPrintable(m_cluster->errorString()));
    QTRY_COMPARE_WITH_TIMEOUT(m_cluster->masterOf(slot), to, hang);
    QVERIFY(publishMoreAndDrain(publisher, feed, 2000));

    QCOMPARE(publisher.rejected(), 0u);
    QCOMPARE(publisher.dropped(), 0u);
    QCOMPARE(publisher.published(), feed.published());
    QVERIFY(publisher.reconnects() > reconnectsBefore); // it did follow the slot
    QCOMPARE(publisher.connection(1)->nodeAddress(),
             QStringLiteral("127.0.0.1:%1").arg(m_cluster->node(to).port()));
    const auto entries = allEntries(*m_cluster, transport);
    const auto check = feed.check(entries);
    QVERIFY2(check.problem.isEmpty(), qPrintable(check.problem));
    qInfo("slot migration: %llu published, %lld stored, %d duplicates, %llu resent",
          static_cast<unsigned long long>(feed.published()), static_cast<long long>(entries.size()),
          check.duplicates, static_cast<unsigned long long>(publisher.resent()));
    // A redirected XADD was not executed: following it adds nothing twice.
    QCOMPARE(check.duplicates, 0);
    QCOMPARE(entries.size(), qsizetype(feed.published()));
}

void tst_ClusterRouting::publisherFollowsAFailover()
{
    TestRedisCluster cluster;
    QVERIFY2(cluster.start(m_dir.filePath(QStringLiteral("replicated")), 3, 1),
             qPrintable(cluster.errorString()));
    Transport transport;
    transport.kind = Transport::Kind::Streams;
    transport.streamKey = "failover:stream";
    transport.streamPartitions = 3;
    transport.streamMaxEntries = 0;
    const quint16 slot = ClusterSlots::keySlot(transport.partitionKey(1));
    const int victim = cluster.masterOf(slot);
    QVERIFY(victim >= 0);
    // Seeded with a node that stays.
    RedisPublisher publisher(*RedisUrl::parse(cluster.url((victim + 1) % 3)));
    publisher.setStream(transport);
    NumberedFeed feed(&publisher, "route:c", 8, 20);
    publisher.start();
    feed.start();
    QTRY_VERIFY_WITH_TIMEOUT(publisher.published() >= 2000, hang);

    cluster.node(victim).stop();
    // Its replica takes over after the node timeout (2 s) and an election.
    QTRY_VERIFY_WITH_TIMEOUT(cluster.masterOf(slot) >= 0 && cluster.masterOf(slot) != victim, hang);
    QTRY_VERIFY_WITH_TIMEOUT(cluster.isOk(), hang);
    const auto promotedAt = feed.next();
    QVERIFY(publishMoreAndDrain(publisher, feed, 2000));

    QCOMPARE(publisher.rejected(), 0u);
    QCOMPARE(publisher.published(), feed.published());
    QCOMPARE(publisher.connection(1)->nodeAddress(),
             QStringLiteral("127.0.0.1:%1").arg(cluster.node(cluster.masterOf(slot)).port()));
    const auto entries = allEntries(cluster, transport);
    const auto check = feed.check(entries, promotedAt);
    // Lost can only be what the old master acknowledged but had not replicated yet (Redis's
    // replication is asynchronous); everything from the promotion on is there, in order.
    qInfo("failover: %llu published, %lld stored, %d lost before the promotion, %d duplicates, "
          "%llu resent",
          static_cast<unsigned long long>(feed.published()), static_cast<long long>(entries.size()),
          check.missing, check.duplicates, static_cast<unsigned long long>(publisher.resent()));
    QVERIFY2(check.problem.isEmpty(), qPrintable(check.problem));
}

QTEST_GUILESS_MAIN(tst_ClusterRouting)
#include "tst_clusterrouting.moc"
