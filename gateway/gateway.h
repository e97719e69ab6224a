#pragma once

#include "gatewayconfig.h"
#include "streampage.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>

#include <memory>

class GatewayServer;
class Hub;
class RedisFeed;
class RedisSubscriber;
class StreamReader;

// The whole gateway as one object: the Redis reader feeding the hub (a subscription, or with
// the streams transport a stream reader), and the HTTP server in front of it. main() and the
// integration tests both run exactly this.
class Gateway final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Gateway)

public:
    explicit Gateway(const GatewayConfig &config, QObject *parent = nullptr);
    ~Gateway() override;

    // Listens and starts subscribing (Redis may come later; /readyz tells).
    bool start(QString *error);
    // Reads the token file again (SIGHUP): sessions and streams of removed or changed tokens
    // end. On an unreadable or malformed file the old tokens stay. `message` says what happened.
    bool reloadTokens(QString *message);
    // Reads the TLS certificate and key again (SIGHUP): new connections get them; open streams
    // go on. On failure the old ones stay.
    bool reloadTls(QString *message);
    bool isTls() const;
    QString tlsSummary() const;
    // Stops accepting, tells every stream it is closing, and drops the subscription.
    void shutdown();

    quint16 port() const;
    QString baseUrl() const;
    Hub *hub() const { return m_hub; }
    // The pub/sub subscription; null with the streams transport.
    RedisSubscriber *subscriber() const { return m_subscriber; }
    // The stream readers, one per partition (--stream-partitions); none with the pub/sub
    // transport.
    const QList<StreamReader *> &streamReaders() const { return m_streamReaders; }
    // The first of them; null with the pub/sub transport.
    StreamReader *streamReader() const
    {
        return m_streamReaders.isEmpty() ? nullptr : m_streamReaders.constFirst();
    }
    // Whichever of the two is in use.
    RedisFeed *feed() const;
    const GatewayConfig &config() const { return m_config; }

private:
    // Streams transport: the ring starts with the newest `history` entries, so clients resume
    // across a gateway restart; then the reader reads on after them.
    void fetchStreamStart();
    // Once the newest entries of every partition are in: fills the ring with the newest of
    // them all, in id order, and starts the readers after them.
    void beginStream(const QList<StreamPage> &newest);
    void setUpStreamReader(int partition);
    void trimStream();
    // Streams transport: whether entries of `channel` are within the allowlist (--channels).
    bool allowed(QByteArrayView channel);
    // `page` without the entries outside the allowlist (its first and last ids unchanged).
    StreamPage allowedOnly(StreamPage page);

    GatewayConfig m_config;
    Hub *m_hub;
    RedisSubscriber *m_subscriber = nullptr;
    QList<StreamReader *> m_streamReaders;
    std::unique_ptr<RedisFeed> m_streamsFeed; // all the readers as one
    QList<StreamPage> m_startPages;           // per partition, while starting
    int m_startPagesDue = 0;
    quint64 m_startRound = 0;
    GatewayServer *m_server;
    QTimer m_trimTimer;
    QHash<QByteArray, bool> m_allowedCache;
    QByteArray m_lastChannel; // a key of m_allowedCache, and its value
    bool m_lastAllowed = false;
    bool m_stopped = false;
};
