#include "redissubscriber.h"

#include "channelglob.h"
#include "redisconnection.h"

#include <QLoggingCategory>

#include <cstring>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

Q_LOGGING_CATEGORY(lcSubscriber, "llmstreamer.subscriber")

RedisSubscriber::RedisSubscriber(const RedisUrl &url, const QByteArrayList &channels,
                                 QObject *parent)
    : QObject(parent), m_connection(new RedisConnection(url, this)), m_channels(channels)
{
    connect(m_connection, &RedisConnection::ready, this, &RedisSubscriber::handleReady);
    connect(m_connection, &RedisConnection::connectionLost, this, &RedisSubscriber::handleLost);
    connect(m_connection, &RedisConnection::connectFailed, this, &RedisSubscriber::handleLost);
    connect(m_connection, &RedisConnection::readDrained, this, &RedisSubscriber::batchEnded);
    // hiredis 0.14 silently drops an error reply to SUBSCRIBE (e.g. an ACL refusal), so an
    // unconfirmed subscription is treated as a failed connection.
    m_confirmTimer.setSingleShot(true);
    m_confirmTimer.setInterval(5000);
    connect(&m_confirmTimer, &QTimer::timeout, this, [this] {
        m_connection->stop();
        handleLost(QStringLiteral("Redis did not confirm SUBSCRIBE within 5 s (ACL permissions?)"));
        m_connection->start();
    });
}

RedisSubscriber::~RedisSubscriber()
{
    // Pending hiredis callbacks still point at us: end the connection while we are whole.
    stop();
}

void RedisSubscriber::start()
{
    m_connection->start();
}

void RedisSubscriber::stop()
{
    m_confirmTimer.stop();
    m_connection->stop();
    m_subscribed = false;
}

QString RedisSubscriber::lastError() const
{
    return m_connection->lastError();
}

quint64 RedisSubscriber::reconnects() const
{
    return m_connection->reconnects();
}

void RedisSubscriber::handleReady()
{
    m_confirmed = 0;
    redisAsyncContext *ac = m_connection->context();
    for (const QByteArray &channel : std::as_const(m_channels)) {
        const char *argv[] = {ChannelGlob::isPattern(channel) ? "PSUBSCRIBE" : "SUBSCRIBE",
                              channel.constData()};
        const size_t lens[] = {strlen(argv[0]), size_t(channel.size())};
        redisAsyncCommandArgv(ac, &RedisSubscriber::onReply, this, 2, argv, lens);
    }
    m_confirmTimer.start();
}

void RedisSubscriber::handleLost(const QString &reason)
{
    m_confirmTimer.stop();
    const bool was = m_subscribed;
    m_subscribed = false;
    if (was)
        qCWarning(lcSubscriber, "subscription lost: %s", qUtf8Printable(reason));
    Q_EMIT unsubscribed(reason);
}

void RedisSubscriber::onReply(redisAsyncContext *, void *reply, void *privdata)
{
    // A null reply means the context is being freed; the connection reports why.
    if (reply)
        static_cast<RedisSubscriber *>(privdata)->handleReply(static_cast<redisReply *>(reply));
}

void RedisSubscriber::handleReply(const redisReply *reply)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3)
        return;
    const redisReply *kind = reply->element[0];
    if (kind->type != REDIS_REPLY_STRING)
        return;
    const QByteArrayView k(kind->str, qsizetype(kind->len));
    if (k == "message" && reply->elements == 3) {
        const redisReply *ch = reply->element[1];
        const redisReply *payload = reply->element[2];
        const QByteArrayView channel(ch->str, qsizetype(ch->len));
        if (m_onMessage && isOwner(channel, channel))
            m_onMessage(QByteArrayView(ch->str, qsizetype(ch->len)),
                        QByteArrayView(payload->str, qsizetype(payload->len)));
    } else if (k == "pmessage" && reply->elements == 4) {
        const redisReply *pattern = reply->element[1];
        const redisReply *ch = reply->element[2];
        const redisReply *payload = reply->element[3];
        if (m_onMessage && isOwner(QByteArrayView(pattern->str, qsizetype(pattern->len)),
                                   QByteArrayView(ch->str, qsizetype(ch->len))))
            m_onMessage(QByteArrayView(ch->str, qsizetype(ch->len)),
                        QByteArrayView(payload->str, qsizetype(payload->len)));
    } else if (k == "subscribe" || k == "psubscribe") {
        if (++m_confirmed == m_channels.size() && !m_subscribed) {
            m_confirmTimer.stop();
            m_subscribed = true;
            qCInfo(lcSubscriber, "subscribed to %s", m_channels.join(", ").constData());
            Q_EMIT subscribed();
        }
    }
}

bool RedisSubscriber::isOwner(QByteArrayView entry, QByteArrayView channel)
{
    if (m_channels.size() == 1)
        return true;
    const QByteArray key = channel.toByteArray();
    auto it = m_ownerCache.constFind(key);
    if (it == m_ownerCache.constEnd()) {
        int owner = -1;
        for (qsizetype i = 0; i < m_channels.size() && owner < 0; ++i) {
            const QByteArray &c = m_channels[i];
            if (ChannelGlob::isPattern(c) ? ChannelGlob::matches(c, channel) : c == channel)
                owner = int(i);
        }
        if (m_ownerCache.size() >= 4096) // channel names are the producers' to choose
            m_ownerCache.clear();
        it = m_ownerCache.insert(key, owner);
    }
    return *it >= 0 && m_channels[*it] == entry;
}
