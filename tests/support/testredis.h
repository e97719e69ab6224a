#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QProcess>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

// A private redis-server on a free loopback port, for integration tests. Persistence is off and
// it is killed with the test. restart() keeps the port so clients can reconnect.
class TestRedis final
{
public:
    // `port` 0 picks a free one at the first start().
    explicit TestRedis(quint16 port = 0);
    ~TestRedis();
    Q_DISABLE_COPY_MOVE(TestRedis)

    // Starts redis-server and waits until it accepts connections; false with errorString() if not.
    bool start(const QStringList &extraArgs = {});
    void stop();
    bool restart()
    {
        stop();
        return start(m_extraArgs);
    }

    quint16 port() const { return m_port; }
    QString url() const;
    QString errorString() const { return m_error; }

    // Synchronous PUBLISH; returns the receiver count, or -1 on error.
    long long publish(const QByteArray &channel, const QByteArray &payload);
    // Synchronous command with a string/integer reply rendered as text (for CONFIG SET etc.).
    QByteArray command(const QList<QByteArray> &argv);
    // Synchronous command with an array reply, its elements rendered as text.
    QByteArrayList commandArray(const QList<QByteArray> &argv);
    // The stream's entries as (channel, data), read with XRANGE; an entry with other fields is
    // ("unexpected fields", its fields), so that a comparison shows it.
    QList<QPair<QByteArray, QByteArray>> streamEntries(const QByteArray &key) const;
    bool isRunning() const { return m_process.state() != QProcess::NotRunning; }

    static quint16 freePort();

private:
    QProcess m_process;
    quint16 m_port = 0;
    QStringList m_extraArgs;
    QString m_error;
};

// A local Redis Cluster of TestRedis nodes in a directory of their own: `masters` masters with
// `replicasPerMaster` replicas each, joined by redis-cli --cluster create (slots split evenly),
// ready when every node says cluster_state:ok (about 5 s).
class TestRedisCluster final
{
public:
    TestRedisCluster() = default;
    Q_DISABLE_COPY_MOVE(TestRedisCluster)

    bool start(const QString &dir, int masters, int replicasPerMaster = 0,
               int nodeTimeoutMs = 2000);
    QString errorString() const { return m_error; }
    int size() const { return int(m_nodes.size()); }
    TestRedis &node(int i) { return *m_nodes.at(size_t(i)); }
    // The index of the node serving `slot` as a master that is not failed, as the first running
    // node's CLUSTER NODES says; -1 if none.
    int masterOf(quint16 slot);
    int indexOfPort(quint16 port) const;
    QByteArray nodeId(int i) { return node(i).command({"CLUSTER", "MYID"}); }
    // A seed URL naming only node `i`.
    QString url(int i) const { return m_nodes.at(size_t(i))->url(); }
    // Moves `slot` with its keys from its master to node `to` as redis-cli --cluster reshard
    // does: IMPORTING, MIGRATING, MIGRATE of every key, SETSLOT NODE on every master. The
    // number of keys moved, or -1 with errorString().
    // `between` runs between the steps (to let the event loop work).
    int migrateSlot(quint16 slot, int to, const std::function<void()> &between = {});
    // True when every running node reports cluster_state:ok.
    bool isOk();

private:
    std::vector<std::unique_ptr<TestRedis>> m_nodes;
    QString m_error;
};

// Subscribes (PSUBSCRIBE) on a background thread with a blocking hiredis context and records
// every message, so tests can wait for them with QTRY_COMPARE while the event loop runs.
class TestSubscriber final
{
public:
    TestSubscriber(quint16 port, const QByteArray &pattern);
    ~TestSubscriber();
    Q_DISABLE_COPY_MOVE(TestSubscriber)

    bool waitSubscribed(int timeoutMs = 5000);
    qsizetype count() const;
    QList<QPair<QByteArray, QByteArray>> messages() const; // (channel, payload)

private:
    void run(quint16 port, QByteArray pattern);

    mutable std::mutex m_mutex;
    QList<QPair<QByteArray, QByteArray>> m_messages;
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_subscribed{false};
    std::thread m_thread;
};
