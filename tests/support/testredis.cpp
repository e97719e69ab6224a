#include "testredis.h"

#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <hiredis/hiredis.h>

TestRedis::TestRedis(quint16 port) : m_port(port) {}

TestRedis::~TestRedis()
{
    stop();
}

quint16 TestRedis::freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

QString TestRedis::url() const
{
    return QStringLiteral("redis://127.0.0.1:%1").arg(m_port);
}

bool TestRedis::start(const QStringList &extraArgs)
{
    m_extraArgs = extraArgs;
    if (m_port == 0)
        m_port = freePort();
    QStringList args{QStringLiteral("--port"),       QString::number(m_port),
                     QStringLiteral("--bind"),       QStringLiteral("127.0.0.1"),
                     QStringLiteral("--save"),       QString(),
                     QStringLiteral("--appendonly"), QStringLiteral("no"),
                     QStringLiteral("--daemonize"),  QStringLiteral("no")};
    args += extraArgs;
    m_process.setProgram(QStringLiteral("redis-server"));
    m_process.setArguments(args);
    m_process.setProcessChannelMode(QProcess::MergedChannels);
    m_process.start();
    if (!m_process.waitForStarted(5000)) {
        m_error = QStringLiteral("cannot start redis-server: %1 (is it installed? run "
                                 "scripts/install-deps.sh)")
                      .arg(m_process.errorString());
        return false;
    }
    // Ready when a PING is answered (the port may still belong to a dying previous server).
    const bool up = QTest::qWaitFor(
        // Any answer will do: with a password set, PING answers NOAUTH.
        [&] { return m_process.state() != QProcess::Running || !command({"PING"}).isEmpty(); },
        10000);
    if (m_process.state() != QProcess::Running) {
        m_error = QStringLiteral("redis-server exited: %1")
                      .arg(QString::fromLocal8Bit(m_process.readAll()));
        return false;
    }
    if (!up)
        m_error = QStringLiteral("redis-server did not answer PING on port %1").arg(m_port);
    return up;
}

void TestRedis::stop()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_process.kill();
    m_process.waitForFinished(5000);
}

QByteArray TestRedis::command(const QList<QByteArray> &argv)
{
    const timeval tv{2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", m_port, tv);
    if (!c || c->err) {
        if (c)
            redisFree(c);
        return {};
    }
    std::vector<const char *> ptrs;
    std::vector<size_t> lens;
    for (const QByteArray &a : argv) {
        ptrs.push_back(a.constData());
        lens.push_back(size_t(a.size()));
    }
    auto *reply =
        static_cast<redisReply *>(redisCommandArgv(c, int(argv.size()), ptrs.data(), lens.data()));
    QByteArray out;
    if (reply) {
        if (reply->type == REDIS_REPLY_INTEGER)
            out = QByteArray::number(reply->integer);
        else if (reply->str)
            out = QByteArray(reply->str, qsizetype(reply->len));
        freeReplyObject(reply);
    }
    redisFree(c);
    return out;
}

long long TestRedis::publish(const QByteArray &channel, const QByteArray &payload)
{
    bool ok = false;
    const long long n = command({"PUBLISH", channel, payload}).toLongLong(&ok);
    return ok ? n : -1;
}

TestSubscriber::TestSubscriber(quint16 port, const QByteArray &pattern)
    : m_thread([this, port, pattern] { run(port, pattern); })
{}

TestSubscriber::~TestSubscriber()
{
    m_stop = true;
    m_thread.join();
}

bool TestSubscriber::waitSubscribed(int timeoutMs)
{
    return QTest::qWaitFor([this] { return m_subscribed.load(); }, timeoutMs);
}

qsizetype TestSubscriber::count() const
{
    std::lock_guard lock(m_mutex);
    return m_messages.size();
}

QList<QPair<QByteArray, QByteArray>> TestSubscriber::messages() const
{
    std::lock_guard lock(m_mutex);
    return m_messages;
}

void TestSubscriber::run(quint16 port, QByteArray pattern)
{
    const timeval tv{2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!c || c->err) {
        if (c)
            redisFree(c);
        return;
    }
    const timeval poll{0, 100 * 1000};
    redisSetTimeout(c, poll);
    const char *argv[] = {"PSUBSCRIBE", pattern.constData()};
    const size_t lens[] = {10, size_t(pattern.size())};
    redisAppendCommandArgv(c, 2, argv, lens);
    while (!m_stop) {
        void *r = nullptr;
        if (redisGetReply(c, &r) != REDIS_OK) {
            if (c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                c->err = 0; // read timeout: poll m_stop again
                continue;
            }
            break;
        }
        auto *reply = static_cast<redisReply *>(r);
        if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 3) {
            const QByteArray kind(reply->element[0]->str, qsizetype(reply->element[0]->len));
            if (kind == "psubscribe") {
                m_subscribed = true;
            } else if (kind == "pmessage" && reply->elements == 4) {
                std::lock_guard lock(m_mutex);
                m_messages.append(
                    {QByteArray(reply->element[2]->str, qsizetype(reply->element[2]->len)),
                     QByteArray(reply->element[3]->str, qsizetype(reply->element[3]->len))});
            }
        }
        freeReplyObject(reply);
    }
    redisFree(c);
}
