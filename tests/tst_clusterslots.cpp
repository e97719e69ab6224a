// The slot router's pure logic (common/clusterslots.h): key slots as the Redis Cluster spec and
// CLUSTER KEYSLOT compute them, CLUSTER SLOTS replies and MOVED/ASK errors as Redis 7.0 sends
// them (captured from redis-server 7.0.15 with each cluster-preferred-endpoint-type).
#include "clusterslots.h"
#include "redisconnection.h"

#include <QTest>

#include <hiredis/hiredis.h>

#include <memory>

Q_DECLARE_METATYPE(RedisUrl::Node)

namespace {

struct ReplyDeleter
{
    void operator()(redisReply *reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// The first reply in `resp`, parsed by hiredis's own reader.
ReplyPtr parse(const QByteArray &resp)
{
    redisReader *reader = redisReaderCreate();
    redisReaderFeed(reader, resp.constData(), size_t(resp.size()));
    void *reply = nullptr;
    redisReaderGetReply(reader, &reply);
    redisReaderFree(reader);
    return ReplyPtr(static_cast<redisReply *>(reply));
}

// cluster-preferred-endpoint-type ip (the default).
const QByteArray slotsIp =
    "*3\r\n*3\r\n:0\r\n:5460\r\n*4\r\n$9\r\n127.0.0.1\r\n:17101\r\n$40\r\n"
    "2a5c6d6d475eaa964a614c91da0fa9d6cf0a8af6\r\n*0\r\n*3\r\n:5461\r\n:10922\r\n*4\r\n$9\r\n"
    "127.0.0.1\r\n:17102\r\n$40\r\n7f7e18d9d25889535ab1cd6bcd7c1f07673edd8d\r\n*0\r\n*3\r\n"
    ":10923\r\n:16383\r\n*4\r\n$9\r\n127.0.0.1\r\n:17103\r\n$40\r\n"
    "82e7f5801c6dbe3c85ab5f428b5801f25e1fe17a\r\n*0\r\n";
// unknown-endpoint: NULL endpoints, the address in the metadata.
const QByteArray slotsUnknown =
    "*2\r\n*3\r\n:0\r\n:5460\r\n*4\r\n$-1\r\n:17101\r\n$40\r\n"
    "2a5c6d6d475eaa964a614c91da0fa9d6cf0a8af6\r\n*2\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n*3\r\n"
    ":5461\r\n:16383\r\n*4\r\n$-1\r\n:17102\r\n$40\r\n"
    "7f7e18d9d25889535ab1cd6bcd7c1f07673edd8d\r\n*2\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n";
// hostname without hostnames set: "?", with replicas after each master.
const QByteArray slotsHostname =
    "*2\r\n*4\r\n:0\r\n:5460\r\n*4\r\n$1\r\n?\r\n:17101\r\n$40\r\n"
    "2a5c6d6d475eaa964a614c91da0fa9d6cf0a8af6\r\n*2\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n*4\r\n$1\r\n"
    "?\r\n:17106\r\n$40\r\nca7a86d864c03da22162f89da1281e05e8b8a22d\r\n*2\r\n$2\r\nip\r\n$9\r\n"
    "127.0.0.1\r\n*4\r\n:5461\r\n:16383\r\n*4\r\n$19\r\nredis-2.example.net\r\n:17102\r\n$40\r\n"
    "7f7e18d9d25889535ab1cd6bcd7c1f07673edd8d\r\n*0\r\n*4\r\n$1\r\n?\r\n:17104\r\n$40\r\n"
    "c12fc536792345376430dea391aea576165bd757\r\n*0\r\n";

} // namespace

class tst_ClusterSlots : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void crc16_data();
    void crc16();
    void keySlot_data();
    void keySlot();
    void slotsReply_data();
    void slotsReply();
    void slotsReplyRejectsOtherReplies();
    void redirect_data();
    void redirect();
};

void tst_ClusterSlots::crc16_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<int>("crc");
    // The spec's check value, and others computed by an independent CRC16/XMODEM.
    QTest::newRow("spec") << QByteArray("123456789") << 0x31C3;
    QTest::newRow("empty") << QByteArray() << 0;
    QTest::newRow("A") << QByteArray("A") << 0x58E5;
    QTest::newRow("nul") << QByteArray(1, '\0') << 0;
    QTest::newRow("ff") << QByteArray(1, '\xff') << 0x1EF0;
}

void tst_ClusterSlots::crc16()
{
    QFETCH(QByteArray, data);
    QFETCH(int, crc);
    QCOMPARE(ClusterSlots::crc16(data), quint16(crc));
}

void tst_ClusterSlots::keySlot_data()
{
    QTest::addColumn<QByteArray>("key");
    QTest::addColumn<int>("slot");
    // All as redis-server 7.0's CLUSTER KEYSLOT answers.
    QTest::newRow("123456789") << QByteArray("123456789") << 12739;
    QTest::newRow("following") << QByteArray("{user1000}.following") << 3443;
    QTest::newRow("followers") << QByteArray("{user1000}.followers") << 3443;
    QTest::newRow("empty tag: whole key") << QByteArray("foo{}{bar}") << 8363;
    QTest::newRow("tag {bar") << QByteArray("foo{{bar}}zap") << 4015;
    QTest::newRow("{bar") << QByteArray("{bar") << 4015;
    QTest::newRow("first tag") << QByteArray("foo{bar}{zap}") << 5061;
    QTest::newRow("bar") << QByteArray("bar") << 5061;
    QTest::newRow("unclosed") << QByteArray("a{") << 14311;
    QTest::newRow("empty key") << QByteArray() << 0;
    QTest::newRow("partition 0") << QByteArray("llmstreamer:stream:{0}") << 13907;
    QTest::newRow("partition 1") << QByteArray("llmstreamer:stream:{1}") << 9842;
    QTest::newRow("partition 2") << QByteArray("llmstreamer:stream:{2}") << 5649;
}

void tst_ClusterSlots::keySlot()
{
    QFETCH(QByteArray, key);
    QFETCH(int, slot);
    QCOMPARE(ClusterSlots::keySlot(key), quint16(slot));
    QCOMPARE(RedisConnection::keySlot(key), quint16(slot));
}

void tst_ClusterSlots::slotsReply_data()
{
    QTest::addColumn<QByteArray>("resp");
    QTest::addColumn<int>("ranges");
    QTest::addColumn<int>("slot");
    QTest::addColumn<RedisUrl::Node>("master");
    const RedisUrl::Node n1{QStringLiteral("127.0.0.1"), 17101};
    const RedisUrl::Node n2{QStringLiteral("127.0.0.1"), 17102};
    const RedisUrl::Node n3{QStringLiteral("127.0.0.1"), 17103};
    const RedisUrl::Node seed1{QStringLiteral("seed.example"), 17101};
    const RedisUrl::Node seed2{QStringLiteral("seed.example"), 17102};
    QTest::newRow("ip: first") << slotsIp << 3 << 0 << n1;
    QTest::newRow("ip: 5460") << slotsIp << 3 << 5460 << n1;
    QTest::newRow("ip: 5461") << slotsIp << 3 << 5461 << n2;
    QTest::newRow("ip: last") << slotsIp << 3 << 16383 << n3;
    QTest::newRow("unknown endpoint: replying host") << slotsUnknown << 2 << 9842 << seed2;
    QTest::newRow("? endpoint: replying host") << slotsHostname << 2 << 100 << seed1;
    QTest::newRow("hostname") << slotsHostname << 2 << 9842
                              << RedisUrl::Node{QStringLiteral("redis-2.example.net"), 17102};
}

void tst_ClusterSlots::slotsReply()
{
    QFETCH(QByteArray, resp);
    QFETCH(int, ranges);
    QFETCH(int, slot);
    QFETCH(RedisUrl::Node, master);
    const ReplyPtr reply = parse(resp);
    QVERIFY(reply);
    const auto slots = ClusterSlots::fromReply(reply.get(), QStringLiteral("seed.example"));
    QVERIFY(slots);
    QCOMPARE(slots->rangeCount(), ranges);
    const auto got = slots->master(quint16(slot));
    QVERIFY(got);
    QCOMPARE(got->host, master.host);
    QCOMPARE(got->port, master.port);
}

void tst_ClusterSlots::slotsReplyRejectsOtherReplies()
{
    const QString host = QStringLiteral("h");
    QVERIFY(!ClusterSlots::fromReply(nullptr, host));
    QVERIFY(!ClusterSlots::fromReply(
        parse("-ERR This instance has cluster support disabled\r\n").get(), host));
    QVERIFY(!ClusterSlots::fromReply(parse("$2\r\nok\r\n").get(), host));
    // An empty map (a cluster with no slots assigned yet), and malformed ranges left out: bad
    // bounds, a port out of range, a master that is not an array, too few fields.
    const auto empty = ClusterSlots::fromReply(parse("*0\r\n").get(), host);
    QVERIFY(empty && empty->rangeCount() == 0 && !empty->master(0));
    const auto junk =
        ClusterSlots::fromReply(parse("*6\r\n*3\r\n:5\r\n:4\r\n*2\r\n$1\r\na\r\n:1\r\n"
                                      "*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\na\r\n:1\r\n"
                                      "*3\r\n:0\r\n:10\r\n*2\r\n$1\r\na\r\n:65536\r\n"
                                      "*3\r\n:0\r\n:10\r\n:7\r\n"
                                      "*2\r\n:0\r\n:10\r\n"
                                      "*3\r\n:0\r\n:10\r\n*2\r\n$1\r\nb\r\n:7000\r\n")
                                    .get(),
                                host);
    QVERIFY(junk);
    QCOMPARE(junk->rangeCount(), 1);
    QCOMPARE(junk->master(10)->host, QStringLiteral("b"));
    QVERIFY(!junk->master(11));
}

void tst_ClusterSlots::redirect_data()
{
    using Kind = ClusterSlots::Redirect::Kind;
    QTest::addColumn<QByteArray>("error");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("slot");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    const auto row = [](const char *name, const QByteArray &error, Kind kind, int slot,
                        const QString &host, int port) {
        QTest::newRow(name) << error << true << int(kind) << slot << host << port;
    };
    const auto bad = [](const char *name, const QByteArray &error) {
        QTest::newRow(name) << error << false << 0 << 0 << QString() << 0;
    };
    const QString local = QStringLiteral("127.0.0.1");
    const QString seed = QStringLiteral("seed");
    row("moved", "MOVED 9842 127.0.0.1:17102", Kind::Moved, 9842, local, 17102);
    row("ask", "ASK 9842 127.0.0.1:17101", Kind::Ask, 9842, local, 17101);
    row("unknown endpoint", "MOVED 9842 :17102", Kind::Moved, 9842, seed, 17102);
    row("? endpoint", "MOVED 9842 ?:17102", Kind::Moved, 9842, seed, 17102);
    row("ipv6 as Redis 7 writes it", "MOVED 0 ::1:7000", Kind::Moved, 0, QStringLiteral("::1"),
        7000);
    row("ipv6 bracketed", "ASK 16383 [fe80::1]:7000", Kind::Ask, 16383, QStringLiteral("fe80::1"),
        7000);
    row("hostname", "MOVED 1 redis-1.example.net:6380", Kind::Moved, 1,
        QStringLiteral("redis-1.example.net"), 6380);
    row("tryagain", "TRYAGAIN Multiple keys request during rehashing of slot", Kind::TryAgain, 0,
        QString(), 6379);
    row("clusterdown", "CLUSTERDOWN The cluster is down", Kind::ClusterDown, 0, QString(), 6379);
    row("clusterdown slot", "CLUSTERDOWN Hash slot not served", Kind::ClusterDown, 0, QString(),
        6379);
    bad("ordinary error", "ERR unknown command");
    bad("wrongtype", "WRONGTYPE Operation against a key holding the wrong kind of value");
    bad("empty", "");
    bad("moved alone", "MOVED");
    bad("moved no endpoint", "MOVED 12");
    bad("slot too big", "MOVED 16384 127.0.0.1:7000");
    bad("slot not a number", "MOVED x1 127.0.0.1:7000");
    bad("negative slot", "MOVED -1 127.0.0.1:7000");
    bad("no port", "MOVED 1 127.0.0.1");
    bad("port 0", "MOVED 1 127.0.0.1:0");
    bad("port too big", "MOVED 1 127.0.0.1:65536");
    bad("port junk", "MOVED 1 127.0.0.1:70a");
    bad("trailing words", "MOVED 1 127.0.0.1:7000 extra");
    bad("lower case", "moved 1 127.0.0.1:7000");
    bad("movedx", "MOVEDX 1 127.0.0.1:7000");
}

void tst_ClusterSlots::redirect()
{
    QFETCH(QByteArray, error);
    QFETCH(bool, valid);
    QFETCH(int, kind);
    QFETCH(int, slot);
    QFETCH(QString, host);
    QFETCH(int, port);
    const auto got = ClusterSlots::parseRedirect(error, QStringLiteral("seed"));
    QCOMPARE(bool(got), valid);
    if (!got)
        return;
    QCOMPARE(int(got->kind), kind);
    QCOMPARE(int(got->slot), slot);
    QCOMPARE(got->node.host, host);
    QCOMPARE(int(got->node.port), port);
}

QTEST_GUILESS_MAIN(tst_ClusterSlots)
#include "tst_clusterslots.moc"
