#include "redispublisher.h"

#include "producerlogging.h"
#include "redisconnection.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <array>

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

void RedisPublisher::setStream(const QByteArray &key, qint64 maxEntries)
{
    m_streamKey = key;
    m_streamMaxLen = maxEntries > 0 ? QByteArray::number(maxEntries) : QByteArray();
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
        if (!send(ac, m_queue.front()))
            return; // the context is going away; the connection signals will follow
        m_inFlight.push_back(std::move(m_queue.front()));
        m_queue.pop_front();
    }
}

bool RedisPublisher::send(redisAsyncContext *ac, const Message &message)
{
    // Arguments with their lengths: channels and payloads are bytes (NUL, invalid UTF-8), and
    // hiredis's format strings would stop at a NUL.
    std::array<const char *, 10> argv{};
    std::array<size_t, 10> lengths{};
    int argc = 0;
    const auto add = [&](const char *data, qsizetype size) {
        argv[size_t(argc)] = data;
        lengths[size_t(argc)] = size_t(size);
        ++argc;
    };
    const auto addBytes = [&](const QByteArray &bytes) { add(bytes.constData(), bytes.size()); };
    if (m_streamKey.isEmpty()) {
        add("PUBLISH", 7);
        addBytes(message.channel);
        addBytes(message.payload);
    } else {
        add("XADD", 4);
        addBytes(m_streamKey);
        if (!m_streamMaxLen.isEmpty()) {
            // "~": Redis trims only whole nodes, which costs next to nothing; "=" would cut
            // inside a node on every XADD.
            add("MAXLEN", 6);
            add("~", 1);
            addBytes(m_streamMaxLen);
        }
        add("*", 1);
        add("channel", 7);
        addBytes(message.channel);
        add("data", 4);
        addBytes(message.payload);
    }
    // Only formats into hiredis's output buffer; the socket is written from the event loop.
    return redisAsyncCommandArgv(ac, &RedisPublisher::onReply, this, argc, argv.data(),
                                 lengths.data()) == REDIS_OK;
}

void RedisPublisher::onReply(redisAsyncContext *, void *r, void *privdata)
{
    // A null reply means the context is being freed (possibly during our destructor): leave the
    // message in flight; handleReady()/handleConnectionLost() requeue it.
    const auto *reply = static_cast<const redisReply *>(r);
    if (!reply)
        return;
    auto *self = static_cast<RedisPublisher *>(privdata);
    switch (reply->type) {
    case REDIS_REPLY_INTEGER: // PUBLISH: how many subscribers got it
    case REDIS_REPLY_STRING:  // XADD: the new entry's id
        self->handleReply(true, {});
        break;
    case REDIS_REPLY_ERROR:
        self->handleReply(false, QString::fromUtf8(reply->str, qsizetype(reply->len)));
        break;
    default: // e.g. nil: XADD added nothing
        self->handleReply(false, QStringLiteral("unexpected reply (type %1)").arg(reply->type));
        break;
    }
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
        // Resending would fail the same way (OOM, READONLY, NOPERM, WRONGTYPE...): count it and
        // move on.
        ++m_rejected;
        reportRejection(error);
    }
    sendQueued();
    if (!m_notifyTimer.isActive())
        m_notifyTimer.start();
}

void RedisPublisher::reportRejection(const QString &error)
{
    m_lastError = isStream() ? QStringLiteral("Redis refused an XADD to the stream %1: %2")
                                   .arg(QString::fromUtf8(m_streamKey), error)
                             : QStringLiteral("Redis refused a PUBLISH: %1").arg(error);
    if (isStream() && error.startsWith(QLatin1StringView("WRONGTYPE")))
        m_lastError += QStringLiteral("; the key %1 is not a stream: delete it or choose another "
                                      "--stream-key")
                           .arg(QString::fromUtf8(m_streamKey));
    // Once per kind of refusal: when every message is refused, the summary has the count.
    if (error == m_lastRejection)
        return;
    m_lastRejection = error;
    qCWarning(lcProducer, "%s", qUtf8Printable(m_lastError));
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
