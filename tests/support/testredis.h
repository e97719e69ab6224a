#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QProcess>
#include <QString>

#include <atomic>
#include <mutex>
#include <thread>

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

    static quint16 freePort();

private:
    QProcess m_process;
    quint16 m_port = 0;
    QStringList m_extraArgs;
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
