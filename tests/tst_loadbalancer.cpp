// Three gateway processes behind a real nginx (Debian's, run by tests/support/run-nginx.sh with
// the shipped packaging/nginx/llmstreamer.conf: round-robin, no sticky sessions), all reading one
// Redis stream (--transport streams) of a real redis-server. A client whose gateway is killed
// mid-stream reconnects through nginx with its Last-Event-ID and gets every entry exactly once,
// in order, without a gap; and with --trusted-proxies naming nginx, the gateways count streams
// per client address, not per proxy.
#include "metricssample.h"
#include "ssetestclient.h"
#include "testredis.h"

#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <memory>
#include <vector>

namespace {

constexpr int hang = 60000; // a bound that only catches a hang
const QByteArray key = "llmstreamer:stream";
const QByteArray channel = "logs:lb";
const QHostAddress loopback = QHostAddress::LocalHost;

// llmstreamer-gateway as a process of its own, so that it can be killed with SIGKILL.
class GatewayProcess final
{
public:
    ~GatewayProcess() { kill(); }

    bool start(const TestRedis &redis, QString *error)
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_LOGGING_RULES"), QStringLiteral("llmstreamer.*.info=false"));
        m_process.setProcessEnvironment(env);
        m_process.start(QStringLiteral(LLMSTREAMER_GATEWAY_EXECUTABLE),
                        {QStringLiteral("--bind"), QStringLiteral("127.0.0.1"),
                         QStringLiteral("--port"), QStringLiteral("0"),
                         QStringLiteral("--redis-url"), redis.url(), QStringLiteral("--channels"),
                         QStringLiteral("logs:*"), QStringLiteral("--transport"),
                         QStringLiteral("streams"), QStringLiteral("--trusted-proxies"),
                         QStringLiteral("127.0.0.1"), QStringLiteral("--max-clients-per-address"),
                         QStringLiteral("1")});
        static const QRegularExpression listening(
            QStringLiteral("listening on http://127\\.0\\.0\\.1:(\\d+)"));
        QByteArray out;
        QRegularExpressionMatch m;
        if (!QTest::qWaitFor(
                [&] {
                    out += m_process.readAllStandardOutput();
                    m = listening.match(QString::fromUtf8(out));
                    return m.hasMatch() || m_process.state() == QProcess::NotRunning;
                },
                hang) ||
            !m.hasMatch()) {
            *error = QStringLiteral("the gateway did not start: ") +
                     QString::fromUtf8(out + m_process.readAllStandardError());
            return false;
        }
        m_port = quint16(m.captured(1).toUInt());
        if (!QTest::qWaitFor([&] { return SseTestClient::get(m_port, "/readyz").status == 200; },
                             hang)) {
            *error = QStringLiteral("the gateway on port %1 did not get ready").arg(m_port);
            return false;
        }
        return true;
    }

    void kill()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.kill(); // SIGKILL: no goodbye to its clients
        m_process.waitForFinished(hang);
    }
    bool isRunning() const { return m_process.state() == QProcess::Running; }
    quint16 port() const { return m_port; }
    // Its open streams, from its /metrics.
    int streams() const
    {
        return int(
            metricsSample(SseTestClient::get(m_port, "/metrics").body, "llmstreamer_clients"));
    }

private:
    QProcess m_process;
    quint16 m_port = 0;
};

// XADDs an entry every 10 ms while it runs, as a producer would.
class Producer final
{
public:
    explicit Producer(TestRedis &redis) : m_redis(redis)
    {
        m_timer.setInterval(10);
        QObject::connect(&m_timer, &QTimer::timeout, [this] {
            const QByteArray data = "entry " + QByteArray::number(m_ids.size());
            const QByteArray id =
                m_redis.command({"XADD", key, "*", "channel", channel, "data", data});
            if (!id.isEmpty())
                m_ids.append(id);
        });
    }
    void start() { m_timer.start(); }
    void stop() { m_timer.stop(); }
    qsizetype count() const { return m_ids.size(); }
    // The SSE ids of what it added, in order.
    QByteArrayList eventIds() const
    {
        QByteArrayList out;
        for (const QByteArray &id : m_ids)
            out.append('s' + id);
        return out;
    }

private:
    TestRedis &m_redis;
    QTimer m_timer;
    QByteArrayList m_ids;
};

} // namespace

class tst_LoadBalancer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void gatewaysSeeTheClientsThroughNginx();
    void resumeOnAnotherGatewayAfterItsGatewayWasKilled();

private:
    int streams() const; // open on all running gateways
    bool openStream(SseTestClient &client, const QHostAddress &from,
                    const QList<QPair<QByteArray, QByteArray>> &headers = {});
    QString nginxLog() const;

    TestRedis m_redis;
    std::vector<std::unique_ptr<GatewayProcess>> m_gateways;
    QTemporaryDir m_prefix;
    QProcess m_nginx;
    quint16 m_nginxPort = 0;
};

void tst_LoadBalancer::initTestCase()
{
    QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
    QStringList nginxArgs{QStringLiteral(LLMSTREAMER_RUN_NGINX), QStringLiteral(LLMSTREAMER_NGINX),
                          QStringLiteral(LLMSTREAMER_NGINX_CONF), m_prefix.path()};
    m_nginxPort = TestRedis::freePort();
    nginxArgs.append(QString::number(m_nginxPort));
    for (int i = 0; i < 3; ++i) {
        m_gateways.push_back(std::make_unique<GatewayProcess>());
        QString error;
        QVERIFY2(m_gateways.back()->start(m_redis, &error), qPrintable(error));
        nginxArgs.append(QString::number(m_gateways.back()->port()));
    }
    QVERIFY(m_prefix.isValid());
    m_nginx.setProcessChannelMode(QProcess::ForwardedChannels);
    m_nginx.start(QStringLiteral("bash"), nginxArgs);
    QVERIFY2(QTest::qWaitFor(
                 [&] {
                     return m_nginx.state() == QProcess::NotRunning ||
                            SseTestClient::get(m_nginxPort, "/healthz").status == 200;
                 },
                 hang) &&
                 m_nginx.state() == QProcess::Running,
             qPrintable(QStringLiteral("nginx did not serve /healthz; its log:\n") + nginxLog()));
}

void tst_LoadBalancer::cleanupTestCase()
{
    m_nginx.kill(); // one process (master_process off): nothing is left behind
    m_nginx.waitForFinished(hang);
    m_gateways.clear();
}

int tst_LoadBalancer::streams() const
{
    int n = 0;
    for (const auto &g : m_gateways)
        if (g->isRunning())
            n += g->streams();
    return n;
}

bool tst_LoadBalancer::openStream(SseTestClient &client, const QHostAddress &from,
                                  const QList<QPair<QByteArray, QByteArray>> &headers)
{
    client.open(m_nginxPort, "/events?channels=" + channel, headers, from);
    return QTest::qWaitFor([&] { return client.headComplete(); }, hang);
}

QString tst_LoadBalancer::nginxLog() const
{
    QFile log(m_prefix.filePath(QStringLiteral("error.log")));
    return log.open(QIODevice::ReadOnly) ? QString::fromUtf8(log.readAll()) : QString();
}

void tst_LoadBalancer::gatewaysSeeTheClientsThroughNginx()
{
    // Each gateway takes one stream per client address (--max-clients-per-address 1). Round
    // robin sends three streams of one client (127.0.0.2) to the three gateways ...
    const QHostAddress alice(QStringLiteral("127.0.0.2"));
    std::vector<std::unique_ptr<SseTestClient>> open;
    for (int i = 0; i < 3; ++i) {
        open.push_back(std::make_unique<SseTestClient>());
        QVERIFY(openStream(*open.back(), alice));
        QCOMPARE(open.back()->status(), 200);
    }
    QTRY_COMPARE_WITH_TIMEOUT(streams(), 3, hang);
    for (const auto &g : m_gateways)
        QCOMPARE(g->streams(), 1);
    // ... so a fourth is refused by whichever gets it, which names the client, not nginx.
    SseTestClient fourth;
    QVERIFY(openStream(fourth, alice));
    QCOMPARE(fourth.status(), 429);
    QTRY_VERIFY_WITH_TIMEOUT(fourth.body().contains("too many streams from 127.0.0.2"), hang);
    // A client that claims to be 127.0.0.2 is still itself: nginx adds the address it saw, and
    // the gateway believes only that.
    SseTestClient forger;
    QVERIFY(openStream(forger, QHostAddress(QStringLiteral("127.0.0.9")),
                       {{"X-Forwarded-For", "127.0.0.2"}, {"Forwarded", "for=127.0.0.2"}}));
    QCOMPARE(forger.status(), 200);
    // Other clients are not held back by the first one's streams (counted per proxy, all six
    // would be nginx's and two of three gateways would refuse).
    for (const char *address : {"127.0.0.3", "127.0.0.4"}) {
        open.push_back(std::make_unique<SseTestClient>());
        QVERIFY(openStream(*open.back(), QHostAddress(QString::fromLatin1(address))));
        QCOMPARE(open.back()->status(), 200);
    }
    QTRY_COMPARE_WITH_TIMEOUT(streams(), 6, hang);

    // Closed through nginx, they are closed at the gateways.
    forger.close();
    open.clear();
    QTRY_COMPARE_WITH_TIMEOUT(streams(), 0, hang);
}

void tst_LoadBalancer::resumeOnAnotherGatewayAfterItsGatewayWasKilled()
{
    SseTestClient first;
    QVERIFY(openStream(first, loopback));
    QCOMPARE(first.status(), 200);
    QTRY_COMPARE_WITH_TIMEOUT(streams(), 1, hang);
    Producer producer(m_redis);
    producer.start();
    QTRY_VERIFY_WITH_TIMEOUT(first.count() >= 30, hang);

    // Its gateway (the one with a stream open) is killed mid-stream; entries keep coming.
    GatewayProcess *victim = nullptr;
    for (const auto &g : m_gateways)
        if (g->streams() == 1)
            victim = g.get();
    QVERIFY(victim);
    victim->kill();
    // nginx ends the response (the gateway's stream is delimited by its connection).
    QTRY_VERIFY_WITH_TIMEOUT(first.ended(), hang);
    const QByteArrayList firstIds = first.ids();
    QVERIFY(!firstIds.isEmpty());
    const qsizetype atKill = producer.count();
    QTRY_VERIFY_WITH_TIMEOUT(producer.count() >= atKill + 30, hang);

    // Back through nginx with the last id it got: another gateway continues where it stopped.
    SseTestClient second;
    QVERIFY(openStream(second, loopback, {{"Last-Event-ID", firstIds.last()}}));
    QCOMPARE(second.status(), 200);
    QTRY_VERIFY_WITH_TIMEOUT(second.count() >= 30, hang);
    producer.stop();
    const QByteArray last = producer.eventIds().last();
    QTRY_VERIFY_WITH_TIMEOUT(!second.events("message").isEmpty() &&
                                 second.events("message").last().lastEventId == last,
                             hang);

    // Every entry exactly once, in order, and nothing announced missing.
    QCOMPARE(firstIds + second.ids(), producer.eventIds());
    QByteArrayList expected;
    for (qsizetype i = 0; i < producer.count(); ++i)
        expected.append("entry " + QByteArray::number(i));
    QCOMPARE(first.payloads() + second.payloads(), expected);
    QCOMPARE(first.count("gap"), 0);
    QCOMPARE(second.count("gap"), 0);
}

QTEST_GUILESS_MAIN(tst_LoadBalancer)
#include "tst_loadbalancer.moc"
