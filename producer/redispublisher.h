#pragma once

#include "redisurl.h"
#include "transport.h"

#include <QByteArray>
#include <QObject>
#include <QString>
#include <QTimer>

#include <deque>
#include <memory>
#include <vector>

class RedisConnection;
struct redisAsyncContext;

// PUBLISHes messages, or XADDs them to a Redis stream, with at-least-once delivery: every message
// stays buffered until Redis acknowledged it; a bounded number are pipelined at a time, and those
// in flight when the connection drops go back to the front of the queue, in order, and are sent
// again after the reconnect (a message Redis executed just before the drop is then published
// twice). A message Redis refuses is counted and not sent again; a Redis Cluster redirect
// (MOVED, ASK, TRYAGAIN, CLUSTERDOWN) is no refusal: the connection follows it and the message
// goes again, in order. The buffer is bounded in messages and bytes; what happens when it is
// full is the overflow policy.
//
// A stream of several partitions is written by one lane per partition: its own queue and its
// own RedisConnection, routed to the cluster master that serves the partition's key (on a
// single Redis they all reach the same server). A channel always goes to the same partition, so
// its order is kept. The limits are the whole publisher's (maxInFlight is per lane).
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
    // 0: never trimmed). Call before start() and the first publish().
    void setStream(const QByteArray &key, qint64 maxEntries);
    // The same for the transport's stream: with partitions, a message goes to
    // partitionKey(partitionOf(channel)), trimmed to partitionMaxEntries().
    void setStream(const Transport &transport);
    bool isStream() const { return m_stream; }
    int partitionCount() const { return int(m_lanes.size()); }

    // Starts connecting (and reconnecting, forever); messages queue meanwhile.
    void start();

    void publish(const QByteArray &channel, const QByteArray &payload);
    // False while a Block publisher is full: callers stop reading input until spaceAvailable().
    bool hasRoom() const { return !m_full; }

    // Buffered: not sent yet, or not acknowledged yet.
    qsizetype pending() const;
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
    RedisConnection *connection(int partition = 0) const
    {
        return m_lanes.at(size_t(partition))->connection;
    }

Q_SIGNALS:
    // A connection (one per partition) became ready.
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

    // One connection and its messages: the whole publisher, or one stream partition.
    struct Lane
    {
        RedisPublisher *owner = nullptr;
        RedisConnection *connection = nullptr;
        QByteArray key;                 // the stream's; empty: PUBLISH
        std::deque<Message> queue;      // not sent yet
        std::deque<Message> inFlight;   // sent, in the order Redis will acknowledge them
        quint64 inFlightGeneration = 0; // RedisConnection::generation() they were sent on
        bool redirecting = false;       // its connection follows a cluster redirect
    };

    void setLanes(const QList<QByteArray> &keys);
    Lane &laneFor(QByteArrayView channel);
    void handleReady(Lane &lane);
    void handleConnectionLost(Lane &lane, const QString &reason);
    void handleConnectFailed(Lane &lane, const QString &reason);
    bool send(Lane &lane, redisAsyncContext *ac, const Message &message);
    void handleReply(Lane &lane, bool ok, QByteArrayView error);
    void reportRejection(const Lane &lane, const QString &error);
    void requeueInFlight(Lane &lane);
    void requeueStaleInFlight(Lane &lane);
    void sendQueued(Lane &lane);
    // DropOldest: drops the oldest unsent message, of `lane` when it has one besides the one
    // just added, else of another lane; false when there is none.
    bool dropOldest(Lane &lane);
    void notify();
    bool overLimits() const;
    // "Redis at <url>", with the partition's key when there are several.
    QString where(const Lane &lane) const;

    static void onReply(redisAsyncContext *ac, void *reply, void *privdata);

    RedisUrl m_url;
    std::vector<std::unique_ptr<Lane>> m_lanes; // never empty
    Transport m_transport;
    bool m_stream = false;
    Limits m_limits;
    Overflow m_overflow = Overflow::Block;
    QByteArray m_streamMaxLen; // XADD's MAXLEN ~ argument; empty: no trimming
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
