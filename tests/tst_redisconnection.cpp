// RedisConnection against a real redis-server: handshake, failures, reconnect with backoff; and
// against a server that stops in the middle of a reply (the reply's memory is the connection's
// ReplyArena, let go of with the context: the ASan build reports a leak or a use after free).
#include "redisconnection.h"
#include "testredis.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

using namespace std::chrono_literals;

class tst_RedisConnection : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void connectsAndBecomesReady_data();
    void connectsAndBecomesReady();
    void refusedConnectionRetriesWithBackoff();
    void wrongPasswordIsReportedClearly();
    void silentServerTimesOut();
    void reconnectsAfterServerRestart();
    void stopWhileConnectingIsQuiet();
    void endsInTheMiddleOfAReply_data();
    void endsInTheMiddleOfAReply();
};

void tst_RedisConnection::connectsAndBecomesReady_data()
{
    QTest::addColumn<QString>("urlTemplate");
    QTest::addColumn<QStringList>("serverArgs");
    QTest::newRow("ip") << QStringLiteral("redis://127.0.0.1:%1") << QStringList{};
    QTest::newRow("hostname") << QStringLiteral("redis://localhost:%1/3") << QStringList{};
    QTest::newRow("password") << QStringLiteral("redis://:s3cr%40t@127.0.0.1:%1")
                              << QStringList{QStringLiteral("--requirepass"),
                                             QStringLiteral("s3cr@t")};
    QTest::newRow("acl-user") << QStringLiteral("redis://bob:pw@127.0.0.1:%1")
                              << QStringList{QStringLiteral("--user"), QStringLiteral("bob"),
                                             QStringLiteral("on"),     QStringLiteral(">pw"),
                                             QStringLiteral("~*"),     QStringLiteral("&*"),
                                             QStringLiteral("+@all")};
}

void tst_RedisConnection::connectsAndBecomesReady()
{
    QFETCH(QString, urlTemplate);
    QFETCH(QStringList, serverArgs);
    TestRedis redis;
    QVERIFY2(redis.start(serverArgs), qPrintable(redis.errorString()));
    const auto url = RedisUrl::parse(urlTemplate.arg(redis.port()));
    QVERIFY(url);
    RedisConnection conn(*url);
    QSignalSpy ready(&conn, &RedisConnection::ready);
    conn.start();
    QVERIFY(ready.wait(5000));
    QVERIFY(conn.isReady());
    QVERIFY(conn.context() != nullptr);
    QCOMPARE(conn.reconnects(), quint64(0));
}

void tst_RedisConnection::refusedConnectionRetriesWithBackoff()
{
    const quint16 port = TestRedis::freePort(); // nothing listens there
    RedisConnection conn(*RedisUrl::parse(QStringLiteral("redis://127.0.0.1:%1").arg(port)));
    QSignalSpy failed(&conn, &RedisConnection::connectFailed);
    conn.start();
    QVERIFY(failed.wait(3000));
    QVERIFY2(
        failed.first().first().toString().contains(QLatin1String("refused"), Qt::CaseInsensitive),
        qPrintable(failed.first().first().toString()));
    QVERIFY(conn.context() == nullptr);
    // 100 ms, then 200, 400, ... capped at 2 s.
    QTRY_VERIFY_WITH_TIMEOUT(failed.size() >= 4, 30000);
    QCOMPARE(conn.currentBackoff(), 1600ms);
    QTRY_VERIFY_WITH_TIMEOUT(failed.size() >= 6, 30000);
    QCOMPARE(conn.currentBackoff(), 2000ms);

    // Redis appears on that port: a later retry succeeds without anyone's help.
    TestRedis redis(port);
    QSignalSpy ready(&conn, &RedisConnection::ready);
    QVERIFY(redis.start());
    QVERIFY(ready.wait(5000));
    QVERIFY(conn.isReady());
    QCOMPARE(conn.currentBackoff(), 100ms);
}

void tst_RedisConnection::wrongPasswordIsReportedClearly()
{
    TestRedis redis;
    QVERIFY(redis.start({QStringLiteral("--requirepass"), QStringLiteral("right")}));
    RedisConnection conn(
        *RedisUrl::parse(QStringLiteral("redis://:wrong@127.0.0.1:%1").arg(redis.port())));
    QSignalSpy failed(&conn, &RedisConnection::connectFailed);
    conn.start();
    QVERIFY(failed.wait(5000));
    QVERIFY2(failed.first().first().toString().contains(QLatin1String("authentication failed")),
             qPrintable(failed.first().first().toString()));
    QVERIFY(!conn.isReady());
    QVERIFY(conn.lastError().contains(QLatin1String("password")));
}

void tst_RedisConnection::silentServerTimesOut()
{
    // Accepts TCP connections and never answers: AUTH gets no reply.
    QTcpServer silent;
    QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
    RedisConnection conn(
        *RedisUrl::parse(QStringLiteral("redis://:pw@127.0.0.1:%1").arg(silent.serverPort())));
    conn.setConnectTimeout(300ms);
    QSignalSpy failed(&conn, &RedisConnection::connectFailed);
    conn.start();
    QVERIFY(failed.wait(3000));
    QVERIFY2(failed.first().first().toString().contains(QLatin1String("no answer")),
             qPrintable(failed.first().first().toString()));
}

void tst_RedisConnection::reconnectsAfterServerRestart()
{
    TestRedis redis;
    QVERIFY(redis.start());
    RedisConnection conn(*RedisUrl::parse(redis.url()));
    QSignalSpy ready(&conn, &RedisConnection::ready);
    QSignalSpy lost(&conn, &RedisConnection::connectionLost);
    conn.start();
    QVERIFY(ready.wait(5000));
    for (int round = 1; round <= 3; ++round) {
        redis.stop();
        QTRY_COMPARE_WITH_TIMEOUT(lost.size(), round, 30000);
        QVERIFY(!conn.isReady());
        QVERIFY(redis.start());
        QTRY_COMPARE_WITH_TIMEOUT(ready.size(), round + 1, 30000);
        QCOMPARE(conn.reconnects(), quint64(round));
        QCOMPARE(conn.currentBackoff(), 100ms); // reset by success
    }
}

void tst_RedisConnection::stopWhileConnectingIsQuiet()
{
    TestRedis redis;
    QVERIFY(redis.start());
    RedisConnection conn(*RedisUrl::parse(redis.url()));
    QSignalSpy ready(&conn, &RedisConnection::ready);
    QSignalSpy failed(&conn, &RedisConnection::connectFailed);
    conn.start();
    conn.stop(); // before the event loop ran: the context is freed mid-connect
    QVERIFY(!ready.wait(300));
    QCOMPARE(failed.size(), 0);
    QCOMPARE(conn.state(), RedisConnection::State::Stopped);
    conn.start();
    QVERIFY(ready.wait(5000));
}

void tst_RedisConnection::endsInTheMiddleOfAReply_data()
{
    QTest::addColumn<bool>("serverCloses");
    QTest::newRow("server-closes") << true;
    QTest::newRow("stopped-by-us") << false;
}

void tst_RedisConnection::endsInTheMiddleOfAReply()
{
    QFETCH(bool, serverCloses);
    // Sends the first half of a reply to every connection, and closes it when asked to.
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    QList<QTcpSocket *> sockets;
    connect(&server, &QTcpServer::newConnection, this, [&] {
        while (QTcpSocket *s = server.nextPendingConnection()) {
            sockets.append(s);
            s->write("*3\r\n$5\r\nhello\r\n*2\r\n:1\r\n$10\r\nhal");
        }
    });
    RedisConnection conn(
        *RedisUrl::parse(QStringLiteral("redis://127.0.0.1:%1").arg(server.serverPort())));
    QSignalSpy ready(&conn, &RedisConnection::ready);
    QSignalSpy drained(&conn, &RedisConnection::readDrained);
    QSignalSpy lost(&conn, &RedisConnection::connectionLost);
    conn.start();
    QVERIFY(ready.wait(5000));
    QTRY_VERIFY_WITH_TIMEOUT(!drained.isEmpty(), 5000); // the half reply was read and parsed
    if (serverCloses) {
        sockets.first()->close();
        QVERIFY(lost.wait(5000));
        // It reconnects, and reads the next half reply as well.
        QTRY_COMPARE_WITH_TIMEOUT(ready.size(), 2, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(drained.size() >= 2, 5000);
    }
    conn.stop();
    QCOMPARE(conn.state(), RedisConnection::State::Stopped);
    QCOMPARE(lost.size(), serverCloses ? 1 : 0);
}

QTEST_GUILESS_MAIN(tst_RedisConnection)
#include "tst_redisconnection.moc"
