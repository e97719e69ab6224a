// Redis over TLS (rediss://, common/redistls.h): a real redis-server with a TLS port and
// certificates made by openssl; the gateway reading it in both transports, the producer
// publishing to it, client certificates, a wrong CA, bad files refused at start, and a TLS Redis
// restarting. The tests publish and read back on Redis's plain port.
#include "gateway.h"
#include "gatewayconfig.h"
#include "hub.h"
#include "redisconnection.h"
#include "redissubscriber.h"
#include "ssetestclient.h"
#include "streamreader.h"
#include "testcertificates.h"
#include "testredis.h"

#include <QProcess>
#include <QSignalSpy>
#include <QTest>

#include <memory>

namespace {

constexpr int hang = 30000; // a bound that only catches a hang

QString caseName(bool streams)
{
    return streams ? QStringLiteral("streams") : QStringLiteral("pubsub");
}

} // namespace

class tst_RedisTls : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void gatewayReadsOverTls_data();
    void gatewayReadsOverTls();
    void producerPublishesOverTls();
    void clientCertificate_data();
    void clientCertificate();
    void wrongCaRefused();
    void badFilesRefusedAtStart_data();
    void badFilesRefusedAtStart();
    void tlsRedisRestartRecovers();

private:
    // A redis-server with a TLS port (and its plain one, for the test's own commands).
    bool startTlsRedis(TestRedis &redis, quint16 *tlsPort, const QString &authClients);
    RedisUrl tlsUrl(quint16 tlsPort, const QString &host = QStringLiteral("localhost")) const;

    TestCertificates m_certs;
};

void tst_RedisTls::initTestCase()
{
    QVERIFY2(m_certs.make(), qPrintable(m_certs.errorString()));
}

bool tst_RedisTls::startTlsRedis(TestRedis &redis, quint16 *tlsPort, const QString &authClients)
{
    *tlsPort = TestRedis::freePort();
    return redis.start(
        {QStringLiteral("--tls-port"), QString::number(*tlsPort), QStringLiteral("--tls-cert-file"),
         m_certs.path(QStringLiteral("gateway-one.pem")), QStringLiteral("--tls-key-file"),
         m_certs.path(QStringLiteral("gateway-one.key")), QStringLiteral("--tls-ca-cert-file"),
         m_certs.path(QStringLiteral("ca.pem")), QStringLiteral("--tls-auth-clients"),
         authClients});
}

RedisUrl tst_RedisTls::tlsUrl(quint16 tlsPort, const QString &host) const
{
    RedisUrl url = *RedisUrl::parse(QStringLiteral("rediss://%1:%2").arg(host).arg(tlsPort));
    url.tlsCaFile = m_certs.path(QStringLiteral("ca.pem"));
    return url;
}

void tst_RedisTls::gatewayReadsOverTls_data()
{
    QTest::addColumn<bool>("streams");
    QTest::newRow("pubsub") << false;
    QTest::newRow("streams") << true;
}

void tst_RedisTls::gatewayReadsOverTls()
{
    QFETCH(bool, streams);
    TestRedis redis;
    quint16 tlsPort = 0;
    QVERIFY2(startTlsRedis(redis, &tlsPort, QStringLiteral("no")), qPrintable(redis.errorString()));
    GatewayConfig c;
    c.port = 0;
    c.redis = tlsUrl(tlsPort); // by name: the certificate is checked against "localhost"
    c.channels = {QByteArrayLiteral("logs:*")};
    if (streams) {
        c.transport.kind = Transport::Kind::Streams;
        c.transport.streamKey = "llmstreamer:stream";
    }
    Gateway gateway(c);
    QString error;
    QVERIFY2(gateway.start(&error), qPrintable(error));
    QVERIFY2(QTest::qWaitFor([&] { return gateway.feed()->isReady(); }, hang),
             qPrintable(gateway.feed()->lastError()));
    SseTestClient client;
    client.open(gateway.port(), "/events");
    QVERIFY(QTest::qWaitFor([&] { return gateway.hub()->clientCount() == 1; }, hang));

    // Small and large payloads, and more than the bridge holds unhanded at once (4 MiB): all of
    // it through the TLS socket and the bridge, in order.
    QByteArrayList sent;
    for (int i = 0; i < 400; ++i)
        sent.append(i % 100 == 7
                        ? QByteArray(256 * 1024, char('a' + i % 26))
                        : caseName(streams).toUtf8() + " over tls " + QByteArray::number(i));
    for (const QByteArray &payload : std::as_const(sent)) {
        if (streams)
            QVERIFY(!redis
                         .command({"XADD", "llmstreamer:stream", "*", "channel", "logs:tls", "data",
                                   payload})
                         .isEmpty());
        else
            QCOMPARE(redis.publish("logs:tls", payload), 1);
    }
    QTRY_COMPARE_WITH_TIMEOUT(client.count(), sent.size(), hang);
    QCOMPARE(client.payloads(), sent);
    QVERIFY(gateway.feed()->isReady());
}

void tst_RedisTls::producerPublishesOverTls()
{
    TestRedis redis;
    quint16 tlsPort = 0;
    QVERIFY2(startTlsRedis(redis, &tlsPort, QStringLiteral("no")), qPrintable(redis.errorString()));
    TestSubscriber subscriber(redis.port(), "logs:*");
    QVERIFY(subscriber.waitSubscribed());
    QProcess producer;
    producer.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    producer.start(QStringLiteral(LLMSTREAMER_PRODUCER_EXECUTABLE),
                   {QStringLiteral("pipe"), QStringLiteral("--channel"), QStringLiteral("logs:p"),
                    QStringLiteral("--redis-url"),
                    QStringLiteral("rediss://localhost:%1").arg(tlsPort),
                    QStringLiteral("--redis-ca"), m_certs.path(QStringLiteral("ca.pem"))});
    QVERIFY(producer.waitForStarted(hang));
    producer.write("first line\nsecond line\n");
    producer.closeWriteChannel();
    QVERIFY(producer.waitForFinished(hang));
    QCOMPARE(producer.exitCode(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), 2, hang);
    const auto messages = subscriber.messages();
    QCOMPARE(messages.at(0).first, QByteArray("logs:p"));
    QVERIFY(messages.at(0).second.contains("first line"));
    QVERIFY(messages.at(1).second.contains("second line"));
}

void tst_RedisTls::clientCertificate_data()
{
    QTest::addColumn<QString>("certificate"); // empty: none
    QTest::addColumn<QString>("refusal");     // empty: accepted
    QTest::newRow("signed-by-the-ca") << QStringLiteral("gateway-two") << QString();
    QTest::newRow("none") << QString() << QStringLiteral("certificate required");
    QTest::newRow("signed-by-another-ca")
        << QStringLiteral("gateway-other") << QStringLiteral("unknown ca");
}

void tst_RedisTls::clientCertificate()
{
    QFETCH(QString, certificate);
    QFETCH(QString, refusal);
    TestRedis redis;
    quint16 tlsPort = 0;
    QVERIFY2(startTlsRedis(redis, &tlsPort, QStringLiteral("yes")),
             qPrintable(redis.errorString()));
    RedisUrl url = tlsUrl(tlsPort);
    if (!certificate.isEmpty()) {
        url.tlsCertFile = m_certs.path(certificate + QStringLiteral(".pem"));
        url.tlsKeyFile = m_certs.path(certificate + QStringLiteral(".key"));
    }
    QVERIFY2(url.tlsProblem().isEmpty(), qPrintable(url.tlsProblem()));
    RedisConnection connection(url);
    QSignalSpy ready(&connection, &RedisConnection::ready);
    QSignalSpy failed(&connection, &RedisConnection::connectFailed);
    QSignalSpy lost(&connection, &RedisConnection::connectionLost);
    connection.start();
    if (refusal.isEmpty()) {
        QVERIFY2(ready.wait(hang), qPrintable(connection.lastError()));
        return;
    }
    // Redis refuses during or right after the handshake (TLS 1.3 sends its verdict after it):
    // either way no connection stays, and the reason is the TLS alert Redis sent.
    QTRY_VERIFY_WITH_TIMEOUT(!failed.isEmpty() || !lost.isEmpty(), hang);
    QVERIFY(!connection.isReady());
    QVERIFY2(connection.lastError().contains(refusal), qPrintable(connection.lastError()));
}

void tst_RedisTls::wrongCaRefused()
{
    TestRedis redis;
    quint16 tlsPort = 0;
    QVERIFY2(startTlsRedis(redis, &tlsPort, QStringLiteral("no")), qPrintable(redis.errorString()));
    RedisUrl url = tlsUrl(tlsPort);
    url.tlsCaFile = m_certs.path(QStringLiteral("otherca.pem"));
    RedisConnection connection(url);
    QSignalSpy failed(&connection, &RedisConnection::connectFailed);
    connection.start();
    QVERIFY(failed.wait(hang));
    const QString reason = failed.first().first().toString();
    QVERIFY2(
        reason.startsWith(QStringLiteral("TLS connection to localhost:%1 failed: ").arg(tlsPort)),
        qPrintable(reason));
    QVERIFY2(reason.contains(QLatin1String("certificate"), Qt::CaseInsensitive),
             qPrintable(reason));
    QVERIFY(!connection.isReady());
}

void tst_RedisTls::badFilesRefusedAtStart_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("reason");
    const auto row = [](const char *name, std::initializer_list<const char *> arguments,
                        const char *reason) {
        QStringList list;
        for (const char *a : arguments)
            list.append(QString::fromUtf8(a));
        QTest::newRow(name) << list << QString::fromUtf8(reason);
    };
    row("missing-ca", {"--redis-url", "rediss://localhost:6380", "--redis-ca", "/nonexistent/ca"},
        "cannot read the CA file /nonexistent/ca");
    row("ca-not-pem", {"--redis-url", "rediss://localhost:6380", "--redis-ca", "@garbage.pem"},
        "holds no PEM certificate");
    row("key-of-another-certificate",
        {"--redis-url", "rediss://localhost:6380", "--redis-cert", "@gateway-one.pem",
         "--redis-key", "@gateway-two.key"},
        "does not belong to the certificate");
    row("cert-without-key",
        {"--redis-url", "rediss://localhost:6380", "--redis-cert", "@gateway-two.pem"},
        "--redis-cert needs its private key (--redis-key)");
    row("encrypted-key",
        {"--redis-url", "rediss://localhost:6380", "--redis-cert", "@gateway-one.pem",
         "--redis-key", "@encrypted.key"},
        "is encrypted; it is needed without a passphrase");
    row("files-without-tls", {"--redis-ca", "@ca.pem", "--redis-url", "redis://localhost:6379"},
        "are for TLS: use a rediss:// URL");
}

void tst_RedisTls::badFilesRefusedAtStart()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, reason);
    for (QString &a : arguments)
        if (a.startsWith(QLatin1Char('@')))
            a = m_certs.path(a.mid(1));
    QString output;
    int exitCode = -1;
    const auto config = GatewayConfig::fromArguments(
        QStringList{QStringLiteral("llmstreamer-gateway")} + arguments, {}, &output, &exitCode);
    QVERIFY(!config);
    QCOMPARE(exitCode, 2);
    QVERIFY2(output.contains(reason), qPrintable(output));
}

void tst_RedisTls::tlsRedisRestartRecovers()
{
    TestRedis redis;
    quint16 tlsPort = 0;
    QVERIFY2(startTlsRedis(redis, &tlsPort, QStringLiteral("no")), qPrintable(redis.errorString()));
    StreamReader reader(tlsUrl(tlsPort, QStringLiteral("127.0.0.1")), "s:tls-restart");
    QByteArrayList received;
    reader.setEntryHandler([&](QByteArrayView id, QByteArrayView, QByteArrayView) {
        received.append(id.toByteArray());
    });
    QSignalSpy ready(&reader, &StreamReader::ready);
    QSignalSpy lost(&reader, &StreamReader::lost);
    QVERIFY(reader.start());
    QVERIFY(ready.wait(hang));
    const QByteArray before = redis.command(
        {"XADD", "s:tls-restart", "*", "channel", "logs:a", "data", "before the restart"});
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), 1, hang);
    QVERIFY2(redis.restart(), qPrintable(redis.errorString()));
    QTRY_VERIFY_WITH_TIMEOUT(!lost.isEmpty(), hang);
    QTRY_VERIFY_WITH_TIMEOUT(ready.size() >= 2, hang);
    const QByteArray after = redis.command(
        {"XADD", "s:tls-restart", "*", "channel", "logs:a", "data", "after the restart"});
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), 2, hang);
    QCOMPARE(received, (QByteArrayList{before, after}));
}

QTEST_GUILESS_MAIN(tst_RedisTls)
#include "tst_redistls.moc"
