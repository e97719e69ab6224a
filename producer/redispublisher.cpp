#include "redispublisher.h"

#include "producerlogging.h"
#include "redisconnection.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

RedisPublisher::RedisPublisher(const RedisUrl &url, QObject *parent)
    : QObject(parent), m_connection(new RedisConnection(url, this))
{
    m_notifyTimer.setSingleShot(true);
    m_notifyTimer.setInterval(0);
    connect(&m_notifyTimer, &QTimer::timeout, this, &RedisPublisher::notify);
    connect(m_connection, &RedisConnection::ready, this, &RedisPublisher::handleReady);
    connect(m_connection, &RedisConnection::connectionLost, this,
            &RedisPublisher::handleConnectionLost);
    connect(m_connection, &RedisConnection::connectFailed, this,
            &RedisPublisher::handleConnectFailed);
}

RedisPublisher::~RedisPublisher()
{
    // Pending callbacks run now, with a null reply, while our members still exist.
    m_connection->stop();
}

void RedisPublisher::start()
{
    m_connection->start();
}

quint64 RedisPublisher::reconnects() const
{
    return m_connection->reconnects();
}

bool RedisPublisher::isConnected() const
{
    return m_connection->isReady();
}

bool RedisPublisher::overLimits() const
{
    return pending() > m_limits.maxMessages || m_pendingBytes > m_limits.maxBytes;
}

void RedisPublisher::publish(const QByteArray &channel, const QByteArray &payload)
{
    m_queue.push_back({channel, payload});
    m_pendingBytes += m_queue.back().bytes();
    if (m_overflow == Overflow::DropOldest) {
        // Never the message just added, nor those already on the wire.
        while (overLimits() && m_queue.size() > 1) {
            m_pendingBytes -= m_queue.front().bytes();
            m_queue.pop_front();
            ++m_dropped;
        }
    } else if (pending() >= m_limits.maxMessages || m_pendingBytes >= m_limits.maxBytes) {
        m_full = true;
    }
    sendQueued();
}

void RedisPublisher::sendQueued()
{
    redisAsyncContext *ac = m_connection->context();
    if (!ac)
        return;
    requeueStaleInFlight();
    m_inFlightGeneration = m_connection->generation();
    while (!m_queue.empty() && qsizetype(m_inFlight.size()) < m_limits.maxInFlight) {
        const Message &m = m_queue.front();
        const char *argv[] = {"PUBLISH", m.channel.constData(), m.payload.constData()};
        const size_t lengths[] = {7, size_t(m.channel.size()), size_t(m.payload.size())};
        // Only formats into hiredis's output buffer; the socket is written from the event loop.
        if (redisAsyncCommandArgv(ac, &RedisPublisher::onReply, this, 3, argv, lengths) != REDIS_OK)
            return; // the context is going away; the connection signals will follow
        m_inFlight.push_back(std::move(m_queue.front()));
        m_queue.pop_front();
    }
}

void RedisPublisher::onReply(redisAsyncContext *, void *r, void *privdata)
{
    // A null reply means the context is being freed (possibly during our destructor): leave the
    // message in flight; handleReady()/handleConnectionLost() requeue it.
    const auto *reply = static_cast<const redisReply *>(r);
    if (!reply)
        return;
    auto *self = static_cast<RedisPublisher *>(privdata);
    if (reply->type == REDIS_REPLY_ERROR)
        self->handleReply(false, QString::fromUtf8(reply->str, qsizetype(reply->len)));
    else
        self->handleReply(true, {});
}

void RedisPublisher::handleReply(bool ok, const QString &error)
{
    if (m_inFlight.empty())
        return;
    m_pendingBytes -= m_inFlight.front().bytes();
    m_inFlight.pop_front();
    if (ok) {
        ++m_published;
    } else {
        // Resending would fail the same way (OOM, READONLY, NOPERM...): count it and move on.
        ++m_rejected;
        if (error != m_lastRejection) {
            m_lastRejection = error;
            qCWarning(lcProducer, "Redis refused a PUBLISH: %s", qUtf8Printable(error));
        }
    }
    sendQueued();
    if (!m_notifyTimer.isActive())
        m_notifyTimer.start();
}

void RedisPublisher::notify()
{
    if (m_full && pending() <= m_limits.maxMessages / 4 * 3 &&
        m_pendingBytes <= m_limits.maxBytes / 4 * 3) {
        m_full = false;
        Q_EMIT spaceAvailable();
    }
    if (pending() == 0)
        Q_EMIT drained();
}

void RedisPublisher::requeueInFlight()
{
    m_resent += m_inFlight.size();
    m_queue.insert(m_queue.begin(), std::make_move_iterator(m_inFlight.begin()),
                   std::make_move_iterator(m_inFlight.end()));
    m_inFlight.clear();
}

void RedisPublisher::requeueStaleInFlight()
{
    // Messages sent on a context that is gone (e.g. after connection()->stop()) got no reply.
    if (!m_inFlight.empty() && m_inFlightGeneration != m_connection->generation())
        requeueInFlight();
}

void RedisPublisher::handleReady()
{
    requeueStaleInFlight();
    m_outageReported = false;
    m_lastError.clear();
    sendQueued();
    // Queued: RedisConnection reports ready from inside a hiredis callback.
    QMetaObject::invokeMethod(this, &RedisPublisher::connected, Qt::QueuedConnection);
}

void RedisPublisher::handleConnectionLost(const QString &reason)
{
    requeueInFlight();
    m_lastError = QStringLiteral("lost connection to Redis at %1 (%2); reconnecting, %3 "
                                 "buffered")
                      .arg(m_connection->url().toDisplayString(), reason,
                           pending() == 1 ? QStringLiteral("1 message")
                                          : QStringLiteral("%1 messages").arg(pending()));
    // Queued: we are inside hiredis's disconnect callback.
    QMetaObject::invokeMethod(
        this, [this, message = m_lastError] { Q_EMIT errorOccurred(message); },
        Qt::QueuedConnection);
}

void RedisPublisher::handleConnectFailed(const QString &reason)
{
    m_lastError = QStringLiteral("cannot reach Redis at %1 (%2); is redis-server running? Check "
                                 "--redis-url or REDIS_URL. Retrying; messages are buffered")
                      .arg(m_connection->url().toDisplayString(), reason);
    if (m_outageReported)
        return;
    m_outageReported = true;
    QMetaObject::invokeMethod(
        this, [this, message = m_lastError] { Q_EMIT errorOccurred(message); },
        Qt::QueuedConnection);
}
