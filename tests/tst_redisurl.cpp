// Unit tests of REDIS_URL parsing and of its display form, which must never reveal a password.
#include "redisurl.h"

#include <QTest>

class tst_RedisUrl : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parse_data();
    void parse();
    void tls();
    void severalNodes();
    void rejects_data();
    void rejects();
    void toDisplayString_data();
    void toDisplayString();
    void defaults();
    void errorsNeverShowPassword_data();
    void errorsNeverShowPassword();
};

void tst_RedisUrl::parse_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("socketPath");
    QTest::addColumn<QString>("username");
    QTest::addColumn<QString>("password");
    QTest::addColumn<int>("db");

    const QString none;
    const QString local = QStringLiteral("127.0.0.1");
    QTest::newRow("host") << QStringLiteral("redis://cache") << QStringLiteral("cache") << 6379
                          << none << none << none << 0;
    QTest::newRow("host and port") << QStringLiteral("redis://cache:6380")
                                   << QStringLiteral("cache") << 6380 << none << none << none << 0;
    QTest::newRow("port 65535") << QStringLiteral("redis://h:65535") << QStringLiteral("h") << 65535
                                << none << none << none << 0;
    QTest::newRow("db") << QStringLiteral("redis://h:6380/2") << QStringLiteral("h") << 6380 << none
                        << none << none << 2;
    QTest::newRow("db without port") << QStringLiteral("redis://h/15") << QStringLiteral("h")
                                     << 6379 << none << none << none << 15;
    QTest::newRow("trailing slash")
        << QStringLiteral("redis://h/") << QStringLiteral("h") << 6379 << none << none << none << 0;
    QTest::newRow("IPv4") << QStringLiteral("redis://127.0.0.1:6379/0") << local << 6379 << none
                          << none << none << 0;
    QTest::newRow("IPv6") << QStringLiteral("redis://[::1]:6380") << QStringLiteral("::1") << 6380
                          << none << none << none << 0;
    QTest::newRow("IPv6 without port")
        << QStringLiteral("redis://[fe80::1]/1") << QStringLiteral("fe80::1") << 6379 << none
        << none << none << 1;
    QTest::newRow("user and password")
        << QStringLiteral("redis://alice:s3cret@h:1/3") << QStringLiteral("h") << 1 << none
        << QStringLiteral("alice") << QStringLiteral("s3cret") << 3;
    QTest::newRow("password only") << QStringLiteral("redis://:s3cret@h") << QStringLiteral("h")
                                   << 6379 << none << none << QStringLiteral("s3cret") << 0;
    QTest::newRow("user only") << QStringLiteral("redis://alice@h") << QStringLiteral("h") << 6379
                               << none << QStringLiteral("alice") << none << 0;
    QTest::newRow("percent-encoded credentials")
        << QStringLiteral("redis://al%40ice:p%40ss%3Aw%2Fo%25rd%20x@h") << QStringLiteral("h")
        << 6379 << none << QStringLiteral("al@ice") << QStringLiteral("p@ss:w/o%rd x") << 0;
    QTest::newRow("UTF-8 password") << QStringLiteral("redis://:p%C3%A4ss@h") << QStringLiteral("h")
                                    << 6379 << none << none << QStringLiteral("p\u00e4ss") << 0;
    QTest::newRow("upper-case scheme and host")
        << QStringLiteral("REDIS://Cache.Example") << QStringLiteral("cache.example") << 6379
        << none << none << none << 0;
    QTest::newRow("surrounding whitespace")
        << QStringLiteral("  redis://h:7000 \n") << QStringLiteral("h") << 7000 << none << none
        << none << 0;
    QTest::newRow("unix socket") << QStringLiteral("unix:///var/run/redis/redis.sock") << local
                                 << 6379 << QStringLiteral("/var/run/redis/redis.sock") << none
                                 << none << 0;
    QTest::newRow("unix socket with db")
        << QStringLiteral("unix:///tmp/r.sock?db=2") << local << 6379
        << QStringLiteral("/tmp/r.sock") << none << none << 2;
    QTest::newRow("unix socket with localhost")
        << QStringLiteral("unix://localhost/tmp/r.sock") << local << 6379
        << QStringLiteral("/tmp/r.sock") << none << none << 0;
    QTest::newRow("unix socket, encoded path")
        << QStringLiteral("unix:///tmp/my%20redis.sock") << local << 6379
        << QStringLiteral("/tmp/my redis.sock") << none << none << 0;
}

void tst_RedisUrl::parse()
{
    QFETCH(QString, text);
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(QString, socketPath);
    QFETCH(QString, username);
    QFETCH(QString, password);
    QFETCH(int, db);

    QString error;
    const auto url = RedisUrl::parse(text, &error);
    QVERIFY2(url, qPrintable(error));
    QCOMPARE(url->host, host);
    QCOMPARE(int(url->port), port);
    QCOMPARE(url->socketPath, socketPath);
    QCOMPARE(url->isUnixSocket(), !socketPath.isEmpty());
    QCOMPARE(url->username, username);
    QCOMPARE(url->password, password);
    QCOMPARE(url->db, db);
    QVERIFY(RedisUrl::parse(text)); // the error out-parameter is optional
}

void tst_RedisUrl::tls()
{
    const auto url = RedisUrl::parse(QStringLiteral("rediss://alice:s3cret@redis.example:6380/2"));
    QVERIFY(url);
    QVERIFY(url->tls);
    QCOMPARE(url->host, QStringLiteral("redis.example"));
    QCOMPARE(url->port, 6380);
    QCOMPARE(url->password, QStringLiteral("s3cret"));
    QCOMPARE(url->db, 2);
    QCOMPARE(url->toDisplayString(), QStringLiteral("rediss://alice:***@redis.example:6380/2"));
    QVERIFY(!RedisUrl::parse(QStringLiteral("redis://h"))->tls);
    QVERIFY(!RedisUrl::parse(QStringLiteral("unix:///tmp/r.sock"))->tls);
    // With the system's CAs and no client certificate, nothing to read: nothing to refuse.
    QCOMPARE(url->tlsProblem(), QString());
}

void tst_RedisUrl::severalNodes()
{
    const auto url = RedisUrl::parse(
        QStringLiteral("redis://:p,w@10.0.0.1:7000, 10.0.0.2:7001,redis://[::1]:7002,h4/0"));
    QVERIFY(url);
    QCOMPARE(url->password, QStringLiteral("p,w")); // commas before the '@' are the password's
    QCOMPARE(url->host, QStringLiteral("10.0.0.1"));
    QCOMPARE(url->port, 7000);
    const QList<RedisUrl::Node> more{{QStringLiteral("10.0.0.2"), 7001},
                                     {QStringLiteral("::1"), 7002},
                                     {QStringLiteral("h4"), 6379}};
    QCOMPARE(url->moreNodes, more);
    QCOMPARE(url->nodes().size(), 4);
    QCOMPARE(url->toDisplayString(),
             QStringLiteral("redis://:***@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002,h4:6379"));
    const auto tls = RedisUrl::parse(QStringLiteral("rediss://a:1,rediss://b:2/3"));
    QVERIFY(tls && tls->tls);
    QCOMPARE(tls->db, 3);
    QCOMPARE(tls->moreNodes, (QList<RedisUrl::Node>{{QStringLiteral("b"), 2}}));

    QString error;
    for (const char *bad : {"redis://a:1,", "redis://a:1,b:x", "redis://a:1,rediss://b:2",
                            "redis://a:1,b:2/x,c:3", "unix:///tmp/r.sock,b:2"}) {
        QVERIFY2(!RedisUrl::parse(QString::fromLatin1(bad), &error), bad);
        QVERIFY2(!error.isEmpty(), bad);
    }
    QVERIFY(!RedisUrl::parse(QStringLiteral("redis://:secret@a:1,b:x"), &error));
    QCOMPARE(error, QStringLiteral("node 2 of the list is not host:port"));
}

void tst_RedisUrl::rejects_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("reason"); // a part of the message

    QTest::newRow("empty") << QString() << QStringLiteral("empty Redis URL");
    QTest::newRow("blank") << QStringLiteral("  ") << QStringLiteral("empty Redis URL");
    QTest::newRow("rediss without host")
        << QStringLiteral("rediss://:s3cret@") << QStringLiteral("missing host");
    QTest::newRow("http") << QStringLiteral("http://h") << QStringLiteral("unsupported scheme");
    QTest::newRow("no scheme") << QStringLiteral("h:6379") << QStringLiteral("unsupported scheme");
    QTest::newRow("bare host") << QStringLiteral("cache") << QStringLiteral("unsupported scheme");
    QTest::newRow("port too large")
        << QStringLiteral("redis://h:70000") << QStringLiteral("not a valid URL");
    QTest::newRow("port not a number")
        << QStringLiteral("redis://h:abc") << QStringLiteral("not a valid URL");
    QTest::newRow("port zero") << QStringLiteral("redis://h:0")
                               << QStringLiteral("port out of range");
    QTest::newRow("missing host") << QStringLiteral("redis://") << QStringLiteral("missing host");
    QTest::newRow("port without host")
        << QStringLiteral("redis://:6379") << QStringLiteral("missing host");
    QTest::newRow("db not a number")
        << QStringLiteral("redis://h/abc") << QStringLiteral("database must be a number");
    QTest::newRow("negative db") << QStringLiteral("redis://h/-1")
                                 << QStringLiteral("database must be a number");
    QTest::newRow("db with extra path")
        << QStringLiteral("redis://h/1/2") << QStringLiteral("database must be a number");
    QTest::newRow("space in host")
        << QStringLiteral("redis://ho st") << QStringLiteral("not a valid URL");
    QTest::newRow("unix without path")
        << QStringLiteral("unix://") << QStringLiteral("without a socket path");
    QTest::newRow("unix with bad db")
        << QStringLiteral("unix:///tmp/r.sock?db=x") << QStringLiteral("database must be a number");
    QTest::newRow("unix with negative db") << QStringLiteral("unix:///tmp/r.sock?db=-2")
                                           << QStringLiteral("database must be a number");
    QTest::newRow("unix with two slashes")
        << QStringLiteral("unix://tmp/redis.sock") << QStringLiteral("unix:///path/to/redis.sock");
    // Found by fuzz/fuzz_redisurl: a relative socket path was taken (and shown as a host).
    QTest::newRow("unix with a relative path")
        << QStringLiteral("unix:redis.sock") << QStringLiteral("not absolute");
    QTest::newRow("unix with a dot path")
        << QStringLiteral("unix:./run/redis.sock") << QStringLiteral("not absolute");
}

void tst_RedisUrl::rejects()
{
    QFETCH(QString, text);
    QFETCH(QString, reason);

    QString error;
    QVERIFY(!RedisUrl::parse(text, &error));
    QVERIFY2(error.contains(reason), qPrintable(error));
    QVERIFY(!RedisUrl::parse(text)); // no crash without an error out-parameter
}

void tst_RedisUrl::toDisplayString_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("display");
    QTest::addColumn<QString>("password"); // must appear in no message

    QTest::newRow("host") << QStringLiteral("redis://h") << QStringLiteral("redis://h:6379")
                          << QString();
    QTest::newRow("port and db") << QStringLiteral("redis://h:7000/4")
                                 << QStringLiteral("redis://h:7000/4") << QString();
    QTest::newRow("user and password")
        << QStringLiteral("redis://alice:hunter2@h/1")
        << QStringLiteral("redis://alice:***@h:6379/1") << QStringLiteral("hunter2");
    QTest::newRow("password only")
        << QStringLiteral("redis://:hunter2@h") << QStringLiteral("redis://:***@h:6379")
        << QStringLiteral("hunter2");
    QTest::newRow("encoded password")
        << QStringLiteral("redis://:hun%40ter2@h") << QStringLiteral("redis://:***@h:6379")
        << QStringLiteral("hun@ter2");
    QTest::newRow("user only") << QStringLiteral("redis://alice@h")
                               << QStringLiteral("redis://alice@h:6379") << QString();
    QTest::newRow("IPv6") << QStringLiteral("redis://[::1]:6380")
                          << QStringLiteral("redis://[::1]:6380") << QString();
    QTest::newRow("unix") << QStringLiteral("unix:///tmp/r.sock")
                          << QStringLiteral("unix:///tmp/r.sock") << QString();
    QTest::newRow("unix with db") << QStringLiteral("unix:///tmp/r.sock?db=3")
                                  << QStringLiteral("unix:///tmp/r.sock?db=3") << QString();
    QTest::newRow("unix with password")
        << QStringLiteral("unix://:hunter2@/tmp/r.sock")
        << QStringLiteral("unix://:***@/tmp/r.sock") << QStringLiteral("hunter2");
}

void tst_RedisUrl::toDisplayString()
{
    QFETCH(QString, text);
    QFETCH(QString, display);
    QFETCH(QString, password);

    QString error;
    const auto url = RedisUrl::parse(text, &error);
    QVERIFY2(url, qPrintable(error));
    QCOMPARE(url->toDisplayString(), display);
    if (!password.isEmpty()) {
        QCOMPARE(url->password, password);
        QVERIFY(!url->toDisplayString().contains(password));
    }
    // What is displayed reads back as the same target.
    const auto again = RedisUrl::parse(
        url->toDisplayString().replace(QStringLiteral(":***@"), QStringLiteral(":x@")));
    QVERIFY(again);
    QCOMPARE(again->host, url->host);
    QCOMPARE(again->port, url->port);
    QCOMPARE(again->socketPath, url->socketPath);
    QCOMPARE(again->db, url->db);
}

void tst_RedisUrl::defaults()
{
    const RedisUrl url;
    QCOMPARE(url.toDisplayString(), QStringLiteral("redis://127.0.0.1:6379"));
    QVERIFY(!url.isUnixSocket());
}

void tst_RedisUrl::errorsNeverShowPassword_data()
{
    QTest::addColumn<QString>("text");

    QTest::newRow("bad port") << QStringLiteral("redis://alice:hunter2@h:abc");
    QTest::newRow("port too large") << QStringLiteral("redis://alice:hunter2@h:70000");
    QTest::newRow("bad host") << QStringLiteral("redis://alice:hunter2@ho st");
    QTest::newRow("bad user") << QStringLiteral("redis://al ice:hunter2@h");
    QTest::newRow("bad db") << QStringLiteral("redis://:hunter2@h/notadb");
    QTest::newRow("rediss bad port") << QStringLiteral("rediss://:hunter2@h:abc");
    QTest::newRow("other scheme") << QStringLiteral("foo://:hunter2@h");
    QTest::newRow("unix with host") << QStringLiteral("unix://:hunter2@tmp/r.sock");
}

void tst_RedisUrl::errorsNeverShowPassword()
{
    QFETCH(QString, text);

    QString error;
    QVERIFY(!RedisUrl::parse(text, &error));
    QVERIFY(!error.isEmpty());
    QVERIFY2(!error.contains(QStringLiteral("hunter2")), qPrintable(error));
}

QTEST_GUILESS_MAIN(tst_RedisUrl)
#include "tst_redisurl.moc"
