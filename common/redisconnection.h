#pragma once

#include "redisurl.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QTimer>

#include <chrono>
#include <vector>

struct redisAsyncContext;
struct redisReply;
class QHostInfo;
class RedisTlsBridge;
class QSocketNotifier;

// Owns one hiredis async connection driven by the Qt event loop: resolves the host without
// blocking, connects with a timeout, authenticates and selects the database from the URL, and
// reconnects with backoff (100 ms doubling to 2 s) until stop(). The socket is watched by our own
// QSocketNotifier pair instead of hiredis's adapters/qt.h, which frees its adapter inside its own
// notifier slot when the server disconnects. For rediss:// URLs hiredis talks through a
// RedisTlsBridge (common/redistls.h), the rest unchanged. On a Redis Cluster it can be kept on the
// master of one key's slot (setRouteKey, followRedirect; the slot logic is common/clusterslots.h).
class RedisConnection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RedisConnection)

public:
    enum class State { Stopped, Connecting, Ready, WaitingToRetry };

    explicit RedisConnection(const RedisUrl &url, QObject *parent = nullptr);
    ~RedisConnection() override;

    void start();
    // Closes the connection now; pending command callbacks run with a null reply.
    void stop();

    State state() const { return m_state; }
    bool isReady() const { return m_state == State::Ready; }
    const RedisUrl &url() const { return m_url; }
    QString lastError() const { return m_lastError; }
    // Connections made ready after the first one.
    quint64 reconnects() const { return m_reconnects; }
    std::chrono::milliseconds currentBackoff() const { return m_backoff; }
    // Changes with every connection attempt: tells commands sent on an earlier context apart.
    quint64 generation() const { return m_attempt; }
    void setConnectTimeout(std::chrono::milliseconds timeout) { m_connectTimeout = timeout; }
    // Redis Cluster: the connection belongs on the master serving `key`'s hash slot. When the
    // node reports cluster mode, the handshake also asks CLUSTER SLOTS, and if another master
    // serves the slot the connection moves there before it becomes ready. Empty (the default):
    // any node. Takes effect from the next handshake on.
    void setRouteKey(const QByteArray &key) { m_routeKey = key; }
    QByteArray routeKey() const { return m_routeKey; }
    // For an error reply to a command sent on this connection: "MOVED <slot> <host>:<port>"
    // moves the connection to that node; "ASK <slot> <host>:<port>" moves it there and has the
    // next handshake send ASKING, so the first command after ready() is served by the importing
    // node; "TRYAGAIN" and "CLUSTERDOWN ..." reconnect after the backoff. Returns true when
    // `error` was one of these: the connection is then being replaced (connectionLost(reason) as
    // for any drop, then ready()), and the caller sends again after ready(). False: an ordinary
    // error, nothing done. A redirect right after another waits like a failed attempt (100 ms
    // doubling to 2 s), so nodes that disagree about a slot cannot make it spin.
    bool followRedirect(QByteArrayView error);
    // CRC16/XMODEM of the key's hash tag (the part between the first '{' and the next '}' when
    // not empty) or of the whole key, & 0x3FFF (the Redis Cluster spec).
    static quint16 keySlot(QByteArrayView key);
    // The node connected to, or tried next: the URL's, its other nodes, then the cluster's.
    QString nodeAddress() const
    {
        return node().host + QLatin1Char(':') + QString::number(node().port);
    }
    qsizetype nodeCount() const { return m_nodes.size(); }
    // The reachable nodes in a CLUSTER NODES reply.
    static QList<RedisUrl::Node> parseClusterNodes(QByteArrayView text);
    // Writes the commands queued on the context now, rather than on the next event-loop pass
    // (what the kernel does not take waits for the write notifier as usual; an error surfaces
    // there too). For a command that should reach Redis before the caller's own work.
    void flushWrites();

    // The hiredis context while Ready, for sending commands from the owner's .cpp; null
    // otherwise. Never keep it: it is freed when the connection ends.
    redisAsyncContext *context() const { return m_state == State::Ready ? m_ctx : nullptr; }

Q_SIGNALS:
    // Queued: by the time it arrives the connection may be gone again, in which case it is not
    // emitted. connectionLost() and connectFailed() come after the context was let go of.
    void ready();
    // A ready connection ended; a retry is scheduled.
    void connectionLost(const QString &reason);
    // An attempt ended before becoming ready; a retry is scheduled.
    void connectFailed(const QString &reason);
    // Direct: the replies read in one wake-up of the socket have all been handed out.
    void readDrained();

private:
    void attempt();
    void connectTo(const QString &host);
    void handleResolved(const QHostInfo &info);
    void handleTcpConnected();
    void handleHandshakeReply(bool ok, const QString &error);
    void becomeReady();
    // Ends the current attempt or connection; runs once per attempt.
    void fail(const QString &reason);
    // Ends it to go to `nextNode` after `delay`, for the reason (a redirect when `redirected`:
    // logged as a move, and an attempt that was not ready yet is not reported).
    void endAttempt(const QString &reason, int nextNode, std::chrono::milliseconds delay,
                    bool redirected);
    // Ends the attempt or connection to continue on `target` (ASKING first when `ask`).
    void moveTo(const RedisUrl::Node &target, const QString &reason, bool ask);
    void handleClusterSlots(const redisReply *reply);
    bool isCurrentNode(const RedisUrl::Node &other) const;
    // The wait before following a redirect: none for one on its own, a growing one for several
    // in quick succession; `immediate` false: never less than the minimum backoff.
    std::chrono::milliseconds redirectDelay(bool immediate);
    void detachContext();
    // The read notifier's work: reads what the socket holds and hands hiredis the replies.
    void readSocket(redisAsyncContext *ac);

    static void onConnect(const redisAsyncContext *ac, int status);
    static void onDisconnect(const redisAsyncContext *ac, int status);
    static void onHandshakeReply(redisAsyncContext *ac, void *reply, void *privdata);
    static void onClusterNodes(redisAsyncContext *ac, void *reply, void *privdata);
    static void onClusterSlots(redisAsyncContext *ac, void *reply, void *privdata);
    const RedisUrl::Node &node() const { return m_nodes.at(m_node); }
    // The URL for messages, and the node when there are several.
    QString where() const;
    // hiredis's event hooks get a context's ContextHooks, which lives as long as the context.
    struct ContextHooks;
    static void evAddRead(void *hooks);
    static void evDelRead(void *hooks);
    static void evAddWrite(void *hooks);
    static void evDelWrite(void *hooks);
    static void evCleanup(void *hooks);

    RedisUrl m_url;
    QList<RedisUrl::Node> m_nodes; // never empty
    int m_node = 0;
    QString m_peerAddress; // the address connected to, when it is a TCP one
    QByteArray m_routeKey;
    bool m_askNext = false; // the next handshake ends with ASKING
    QElapsedTimer m_lastRedirect;
    std::chrono::milliseconds m_redirectDelay{0};
    State m_state = State::Stopped;
    redisAsyncContext *m_ctx = nullptr;
    ContextHooks *m_hooks = nullptr; // m_ctx's
    RedisTlsBridge *m_tls = nullptr; // for rediss:// URLs
    QString m_tlsEndReason;          // why its established TLS connection ended
    QSocketNotifier *m_readNotifier = nullptr;
    QSocketNotifier *m_writeNotifier = nullptr;
    QTimer m_retryTimer;
    QTimer m_connectTimer;
    std::chrono::milliseconds m_backoff{100};
    std::chrono::milliseconds m_connectTimeout{5000};
    int m_pendingHandshake = 0;
    quint64 m_attempt = 0;
    int m_lookupId = -1;
    bool m_wasReady = false;
    bool m_everReady = false;
    quint64 m_reconnects = 0;
    QString m_lastError;
    std::vector<char> m_readBuffer; // allocated on the first read
};
