#include "testredis.h"

#include <QDir>
#include <QProcess>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <hiredis/hiredis.h>

#include <algorithm>
#include <memory>

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

QByteArrayList TestRedis::commandArray(const QList<QByteArray> &argv)
{
    QByteArrayList out;
    const std::unique_ptr<redisContext, decltype(&redisFree)> c(
        redisConnectWithTimeout("127.0.0.1", m_port, timeval{10, 0}), &redisFree);
    if (!c || c->err)
        return out;
    std::vector<const char *> ptrs;
    std::vector<size_t> lens;
    for (const QByteArray &a : argv) {
        ptrs.push_back(a.constData());
        lens.push_back(size_t(a.size()));
    }
    const std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(
        static_cast<redisReply *>(
            redisCommandArgv(c.get(), int(argv.size()), ptrs.data(), lens.data())),
        &freeReplyObject);
    if (!reply || reply->type != REDIS_REPLY_ARRAY)
        return out;
    for (size_t i = 0; i < reply->elements; ++i) {
        const redisReply *e = reply->element[i];
        out.append(e->type == REDIS_REPLY_INTEGER ? QByteArray::number(e->integer)
                   : e->str                       ? QByteArray(e->str, qsizetype(e->len))
                                                  : QByteArray());
    }
    return out;
}

QList<QPair<QByteArray, QByteArray>> TestRedis::streamEntries(const QByteArray &key) const
{
    QList<QPair<QByteArray, QByteArray>> out;
    const std::unique_ptr<redisContext, decltype(&redisFree)> c(
        redisConnectWithTimeout("127.0.0.1", m_port, timeval{10, 0}), &redisFree);
    if (!c || c->err)
        return out;
    const char *argv[] = {"XRANGE", key.constData(), "-", "+"};
    const size_t lengths[] = {6, size_t(key.size()), 1, 1};
    const std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(
        static_cast<redisReply *>(redisCommandArgv(c.get(), 4, argv, lengths)), &freeReplyObject);
    if (!reply || reply->type != REDIS_REPLY_ARRAY)
        return out;
    const auto text = [](const redisReply *r) { return QByteArray(r->str, qsizetype(r->len)); };
    for (size_t i = 0; i < reply->elements; ++i) {
        const redisReply *entry = reply->element[i]; // [id, [field, value, ...]]
        if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) {
            out.append({"unexpected entry", QByteArray()});
            continue;
        }
        const redisReply *fields = entry->element[1];
        QByteArrayList flat;
        for (size_t j = 0; j < fields->elements; ++j)
            flat.append(text(fields->element[j]));
        if (flat.size() == 4 && flat.at(0) == "channel" && flat.at(2) == "data")
            out.append({flat.at(1), flat.at(3)});
        else
            out.append({"unexpected fields", flat.join(' ')});
    }
    return out;
}

long long TestRedis::publish(const QByteArray &channel, const QByteArray &payload)
{
    bool ok = false;
    const long long n = command({"PUBLISH", channel, payload}).toLongLong(&ok);
    return ok ? n : -1;
}

bool TestRedisCluster::start(const QString &dir, int masters, int replicasPerMaster,
                             int nodeTimeoutMs)
{
    QStringList addresses;
    for (int i = 0; i < masters * (1 + replicasPerMaster); ++i) {
        auto node = std::make_unique<TestRedis>();
        // Each node keeps its own nodes.conf.
        const QString nodeDir = QDir(dir).filePath(QStringLiteral("node%1").arg(i));
        if (!QDir().mkpath(nodeDir)) {
            m_error = QStringLiteral("cannot create %1").arg(nodeDir);
            return false;
        }
        if (!node->start({QStringLiteral("--cluster-enabled"), QStringLiteral("yes"),
                          QStringLiteral("--cluster-node-timeout"), QString::number(nodeTimeoutMs),
                          // Replicas sync at once, not after the default 5 s.
                          QStringLiteral("--repl-diskless-sync-delay"), QStringLiteral("0"),
                          QStringLiteral("--dir"), nodeDir})) {
            m_error = node->errorString();
            return false;
        }
        addresses.append(QStringLiteral("127.0.0.1:%1").arg(node->port()));
        m_nodes.push_back(std::move(node));
    }
    QProcess create;
    create.setProcessChannelMode(QProcess::MergedChannels);
    create.start(QStringLiteral("redis-cli"),
                 QStringList{QStringLiteral("--cluster"), QStringLiteral("create")} + addresses +
                     QStringList{QStringLiteral("--cluster-replicas"),
                                 QString::number(replicasPerMaster),
                                 QStringLiteral("--cluster-yes")});
    if (!create.waitForFinished(60000) || create.exitCode() != 0) {
        m_error = QStringLiteral("redis-cli --cluster create failed: %1")
                      .arg(QString::fromLocal8Bit(create.readAll()));
        return false;
    }
    if (!QTest::qWaitFor([this] { return isOk(); }, 60000)) {
        m_error = QStringLiteral("the cluster did not reach cluster_state:ok");
        return false;
    }
    // A replica that never synced with its master does not stand for election when the master
    // fails ("disconnected from master for longer than allowed"): wait for every link.
    const auto synced = [this] {
        return std::all_of(m_nodes.begin(), m_nodes.end(), [](const auto &node) {
            const QByteArray info = node->command({"INFO", "REPLICATION"});
            return info.contains("role:master") || info.contains("master_link_status:up");
        });
    };
    if (!QTest::qWaitFor(synced, 60000)) {
        m_error = QStringLiteral("the replicas did not sync with their masters");
        return false;
    }
    return true;
}

bool TestRedisCluster::isOk()
{
    for (const auto &node : m_nodes) {
        if (node->isRunning() && !node->command({"CLUSTER", "INFO"}).contains("cluster_state:ok"))
            return false;
    }
    return true;
}

int TestRedisCluster::indexOfPort(quint16 port) const
{
    for (size_t i = 0; i < m_nodes.size(); ++i) {
        if (m_nodes[i]->port() == port)
            return int(i);
    }
    return -1;
}

int TestRedisCluster::masterOf(quint16 slot)
{
    for (const auto &asked : m_nodes) {
        if (!asked->isRunning())
            continue;
        // "<id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot>..."
        for (const QByteArray &line : asked->command({"CLUSTER", "NODES"}).split('\n')) {
            const QList<QByteArray> f = line.split(' ');
            if (f.size() < 9 || !f[2].contains("master") || f[2].contains("fail"))
                continue;
            for (qsizetype i = 8; i < f.size(); ++i) {
                if (f[i].startsWith('['))
                    continue; // a slot being migrated or imported
                const QList<QByteArray> range = f[i].split('-');
                const int first = range.first().toInt();
                const int last = range.last().toInt();
                if (slot >= first && slot <= last) {
                    const QByteArray address = f[1].left(f[1].indexOf('@'));
                    return indexOfPort(quint16(address.mid(address.lastIndexOf(':') + 1).toUInt()));
                }
            }
        }
        return -1;
    }
    return -1;
}

int TestRedisCluster::migrateSlot(quint16 slot, int to, const std::function<void()> &between)
{
    const int from = masterOf(slot);
    if (from < 0 || from == to) {
        m_error = QStringLiteral("slot %1 has no master other than node %2").arg(slot).arg(to);
        return -1;
    }
    const auto step = [&] {
        if (between)
            between();
    };
    const QByteArray s = QByteArray::number(slot);
    const QByteArray fromId = nodeId(from);
    const QByteArray toId = nodeId(to);
    TestRedis &source = node(from);
    if (node(to).command({"CLUSTER", "SETSLOT", s, "IMPORTING", fromId}) != "OK") {
        m_error = QStringLiteral("SETSLOT IMPORTING refused");
        return -1;
    }
    step();
    if (source.command({"CLUSTER", "SETSLOT", s, "MIGRATING", toId}) != "OK") {
        m_error = QStringLiteral("SETSLOT MIGRATING refused");
        return -1;
    }
    step();
    int moved = 0;
    for (;;) {
        const QByteArrayList keys = source.commandArray({"CLUSTER", "GETKEYSINSLOT", s, "100"});
        if (keys.isEmpty())
            break;
        const QByteArray reply = source.command(QByteArrayList{"MIGRATE", "127.0.0.1",
                                                               QByteArray::number(node(to).port()),
                                                               "", "0", "5000", "KEYS"} +
                                                keys);
        if (reply != "OK") {
            m_error = QStringLiteral("MIGRATE: %1").arg(QString::fromUtf8(reply));
            return -1;
        }
        moved += int(keys.size());
    }
    step();
    // The new owner first, then the others, as redis-cli does (replicas refuse it and follow
    // their master).
    node(to).command({"CLUSTER", "SETSLOT", s, "NODE", toId});
    for (int i = 0; i < size(); ++i) {
        if (i != to && node(i).isRunning())
            node(i).command({"CLUSTER", "SETSLOT", s, "NODE", toId});
    }
    return moved;
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
