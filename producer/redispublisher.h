#pragma once

#include "redisurl.h"

#include <QByteArray>
#include <QObject>
#include <QString>
#include <QTimer>

#include <deque>

class RedisConnection;
struct redisAsyncContext;

// PUBLISHes messages, or XADDs them to one Redis stream, over one RedisConnection with
// at-least-once delivery: every message stays buffered until Redis acknowledged it; a bounded
// number are pipelined at a time, and those in flight when the connection drops go back to the
// front of the queue, in order, and are sent again after the reconnect (a message Redis executed
// just before the drop is then published twice). A message Redis refuses is counted and not sent
// again. The buffer is bounded in messages and bytes; what happens when it is full is the
// overflow policy.
class RedisPublisher final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RedisPublisher)

public:
    enum class Overflow {
        Block,     // accept, but report !hasRoom() until the buffer drained to three quarters
        DropOldest // drop the oldest unsent messages to make room, counting them
    };
    struct Limits
    {
        qsizetype maxMessages = 100'000;
        qint64 maxBytes = 64LL * 1024 * 1024;
        int maxInFlight = 1000; // sent but not yet acknowledged; keeps hiredis's buffers small
    };

    explicit RedisPublisher(const RedisUrl &url, QObject *parent = nullptr);
    ~RedisPublisher() override;

    void setLimits(const Limits &limits) { m_limits = limits; }
    Limits limits() const { return m_limits; }
    void setOverflow(Overflow overflow) { m_overflow = overflow; }
    // Appends messages to the stream `key` as entries with the fields channel and data instead of
    // PUBLISHing them, trimming it to about `maxEntries` (XADD key MAXLEN ~ maxEntries * ...;
    // 0: never trimmed). Call before the first publish().
    void setStream(const QByteArray &key, qint64 maxEntries);
    bool isStream() const { return !m_streamKey.isEmpty(); }

    // Starts connecting (and reconnecting, forever); messages queue meanwhile.
    void start();

    void publish(const QByteArray &channel, const QByteArray &payload);
    // False while a Block publisher is full: callers stop reading input until spaceAvailable().
    bool hasRoom() const { return !m_full; }

    qsizetype pending() const { return qsizetype(m_queue.size() + m_inFlight.size()); }
    qint64 pendingBytes() const { return m_pendingBytes; }
    quint64 published() const { return m_published; }
    quint64 dropped() const { return m_dropped; }
    quint64 rejected() const { return m_rejected; }
    quint64 resent() const { return m_resent; }
    quint64 reconnects() const;
    bool isConnected() const;
    // The connection's last failure, or the last command Redis refused; cleared on connecting.
    QString lastError() const { return m_lastError; }
    // For tests that need to hold the reconnect back; the publisher owns it.
    RedisConnection *connection() const { return m_connection; }

Q_SIGNALS:
    void connected();
    // A one-line message for the user: Redis unreachable (once per outage) or connection lost.
    void errorOccurred(const QString &message);
    void spaceAvailable();
    // Everything published so far was acknowledged.
    void drained();

private:
    struct Message
    {
        QByteArray channel;
        QByteArray payload;
        qint64 bytes() const { return channel.size() + payload.size(); }
    };

    void handleReady();
    void handleConnectionLost(const QString &reason);
    void handleConnectFailed(const QString &reason);
    bool send(redisAsyncContext *ac, const Message &message);
    void handleReply(bool ok, const QString &error);
    void reportRejection(const QString &error);
    void requeueInFlight();
    void requeueStaleInFlight();
    void sendQueued();
    void notify();
    bool overLimits() const;

    static void onReply(redisAsyncContext *ac, void *reply, void *privdata);

    RedisConnection *m_connection;
    Limits m_limits;
    Overflow m_overflow = Overflow::Block;
    QByteArray m_streamKey;           // empty: PUBLISH
    QByteArray m_streamMaxLen;        // XADD's MAXLEN ~ argument; empty: no trimming
    std::deque<Message> m_queue;      // not sent yet
    std::deque<Message> m_inFlight;   // sent, in the order Redis will acknowledge them
    quint64 m_inFlightGeneration = 0; // RedisConnection::generation() they were sent on
    qint64 m_pendingBytes = 0;
    bool m_full = false;
    bool m_outageReported = false;
    quint64 m_published = 0;
    quint64 m_dropped = 0;
    quint64 m_rejected = 0;
    quint64 m_resent = 0;
    QString m_lastError;
    QString m_lastRejection;
    // Signals are emitted from here, never from inside a hiredis callback, so their receivers
    // may do anything (even stop the connection).
    QTimer m_notifyTimer;
};
