#pragma once

#include "redisfeed.h"
#include "redisurl.h"

#include <QByteArrayList>
#include <QByteArrayView>
#include <QHash>
#include <QObject>
#include <QTimer>

#include <functional>

class RedisConnection;

// The gateway's one Redis subscription: SUBSCRIBE for names and PSUBSCRIBE for globs of the
// allowlist, re-established after every reconnect. Messages go to a plain callback (the hot
// path); state changes are signals. Following hiredis 0.14's pub/sub pitfalls, it sends no other
// command on this connection, never unsubscribes, and dispatches on the reply's own kind and
// channel rather than on callback privdata.
class RedisSubscriber final : public QObject, public RedisFeed
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RedisSubscriber)

public:
    using MessageHandler = std::function<void(QByteArrayView channel, QByteArrayView payload)>;

    RedisSubscriber(const RedisUrl &url, const QByteArrayList &channels, QObject *parent = nullptr);
    ~RedisSubscriber() override;

    void setMessageHandler(MessageHandler handler) { m_onMessage = std::move(handler); }
    void start();
    void stop();

    bool isSubscribed() const { return m_subscribed; }
    bool isReady() const override { return m_subscribed; }
    QString lastError() const override;
    quint64 reconnects() const override;
    const QByteArrayList &channels() const { return m_channels; }
    RedisConnection *connection() const { return m_connection; }

Q_SIGNALS:
    void subscribed();
    // The subscription is gone (connection lost or never made); reconnecting is under way.
    void unsubscribed(const QString &reason);
    // Direct, after the messages of one read from Redis (see Hub::flushClients).
    void batchEnded();

private:
    static void onReply(struct redisAsyncContext *ac, void *reply, void *privdata);
    void handleReady();
    void handleLost(const QString &reason);
    void handleReply(const struct redisReply *reply);
    // Redis delivers a message once per matching subscription; of overlapping allowlist
    // entries ("logs:a*" and "logs:*b" both match "logs:ab") only the first one passes it on.
    bool isOwner(QByteArrayView entry, QByteArrayView channel);

    RedisConnection *m_connection;
    QByteArrayList m_channels;
    MessageHandler m_onMessage;
    QHash<QByteArray, int> m_ownerCache; // channel -> index of its first matching entry
    QTimer m_confirmTimer;
    int m_confirmed = 0;
    bool m_subscribed = false;
};
