// Redis Cluster with the pub/sub transport: a real local cluster of three masters
// (redis-server --cluster-enabled yes, joined by redis-cli --cluster create). Classic pub/sub is
// cluster-wide, so the gateway subscribes on one node; it learns the others (CLUSTER NODES) and,
// when its node dies, moves to another and announces the gap. The producer moves on the same way
// between the seed nodes of its URL.
#include "gateway.h"
#include "hub.h"
#include "redisconnection.h"
#include "redissubscriber.h"
#include "ssetestclient.h"
#include "testredis.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

namespace {

constexpr int hang = 30000; // a bound that only catches a hang

} // namespace

class tst_RedisCluster : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void parsesClusterNodes();
    void gatewayMovesToAnotherNode();
    void producerMovesToAnotherSeed();

private:
    QString nodeUrl(int i) const { return m_cluster->url(i); }
    TestRedis &node(int i) { return m_cluster->node(i); }

    QTemporaryDir m_dir;
    int m_round = 0;
    std::unique_ptr<TestRedisCluster> m_cluster;
};

void tst_RedisCluster::init()
{
    QVERIFY(m_dir.isValid());
    // A directory per test: each node keeps its own nodes.conf.
    m_cluster = std::make_unique<TestRedisCluster>();
    QVERIFY2(m_cluster->start(m_dir.filePath(QString::number(++m_round)), 3),
             qPrintable(m_cluster->errorString()));
}

void tst_RedisCluster::cleanup()
{
    m_cluster.reset();
}

void tst_RedisCluster::parsesClusterNodes()
{
    // As Redis 7.0 writes it: this node, a master, a replica, a failed one, one without an
    // address yet, and a hostname after the ports.
    const QByteArray text =
        "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001 myself,master - 0 0 1 "
        "connected 0-5460\n"
        "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 10.0.0.2:30002@40002,redis-2 master - 0 "
        "1426238316232 2 connected 5461-10922\n"
        "292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f ::1:30004@40004 slave "
        "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317741 4 connected\n"
        "824fe116063bc5fcf9f4ffd895bc17aee7731ac3 127.0.0.1:30006@40006 master,fail - "
        "1426238316232 1426238315000 6 disconnected\n"
        "6ec23923021cf3ffec47632106199cb7f496ce01 :0@0 master,noaddr - 0 0 5 disconnected\n";
    const auto nodes = RedisConnection::parseClusterNodes(text);
    QCOMPARE(nodes.size(), 3);
    QCOMPARE(nodes[0], (RedisUrl::Node{QStringLiteral("127.0.0.1"), 30001}));
    QCOMPARE(nodes[1], (RedisUrl::Node{QStringLiteral("10.0.0.2"), 30002}));
    QCOMPARE(nodes[2], (RedisUrl::Node{QStringLiteral("::1"), 30004}));
    QVERIFY(RedisConnection::parseClusterNodes("ERR garbage\n\n  \n").isEmpty());
}

void tst_RedisCluster::gatewayMovesToAnotherNode()
{
    GatewayConfig c;
    c.port = 0;
    c.redis = *RedisUrl::parse(nodeUrl(0)); // one seed: the others are learned
    c.channels = {QByteArrayLiteral("logs:*")};
    Gateway gateway(c);
    QString error;
    QVERIFY2(gateway.start(&error), qPrintable(error));
    QVERIFY(QTest::qWaitFor([&] { return gateway.subscriber()->isSubscribed(); }, hang));
    SseTestClient client;
    client.open(gateway.port(), "/events");
    QVERIFY(QTest::qWaitFor([&] { return gateway.hub()->clientCount() == 1; }, hang));

    // Published on another node: the cluster relays it to the gateway's.
    // (PUBLISH counts the subscribers of the node it was sent to: 0 here.)
    QCOMPARE(node(1).publish("logs:c", "through the cluster bus"), 0);
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), 1, hang);

    // Its node dies: it moves to another it learned of, and says what it may have missed.
    node(0).stop();
    QTRY_VERIFY_WITH_TIMEOUT(!gateway.subscriber()->isSubscribed(), hang);
    QTRY_VERIFY_WITH_TIMEOUT(gateway.subscriber()->isSubscribed(), hang);
    QVERIFY(node(2).publish("logs:c", "after the move") >= 0);
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), 2, hang);
    QCOMPARE(client.payloads(), (QByteArrayList{"through the cluster bus", "after the move"}));
    QCOMPARE(client.count("gap"), 1);
    const QJsonObject gap = QJsonDocument::fromJson(client.events("gap")[0].data).object();
    QCOMPARE(gap.value(QStringLiteral("reason")).toString(), QStringLiteral("redis-disconnected"));
}

void tst_RedisCluster::producerMovesToAnotherSeed()
{
    TestSubscriber subscriber(node(2).port(), "logs:*");
    QVERIFY(subscriber.waitSubscribed());
    const QString url =
        QStringLiteral("redis://127.0.0.1:%1,127.0.0.1:%2").arg(node(0).port()).arg(node(1).port());
    RedisConnection connection(*RedisUrl::parse(url));
    QSignalSpy ready(&connection, &RedisConnection::ready);
    connection.start();
    QVERIFY(ready.wait(hang));
    QCOMPARE(connection.nodeAddress(), QStringLiteral("127.0.0.1:%1").arg(node(0).port()));
    QTRY_COMPARE_WITH_TIMEOUT(connection.nodeCount(), 3, hang); // the seeds, the third learned
    node(0).stop();
    QTRY_COMPARE_WITH_TIMEOUT(ready.size(), 2, hang);
    QCOMPARE(connection.nodeAddress(), QStringLiteral("127.0.0.1:%1").arg(node(1).port()));
}

QTEST_GUILESS_MAIN(tst_RedisCluster)
#include "tst_rediscluster.moc"
