#include "redispublisher.h"

#include "producerlogging.h"
#include "redisconnection.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>

RedisPublisher::RedisPublisher(const RedisUrl &url, QObject *parent) : QObject(parent), m_url(url)
{
    m_notifyTimer.setSingleShot(true);
    m_notifyTimer.setInterval(0);
    connect(&m_notifyTimer, &QTimer::timeout, this, &RedisPublisher::notify);
    setLanes({QByteArray()});
}

RedisPublisher::~RedisPublisher()
{
    // Pending callbacks run now, with a null reply, while our members still exist.
    for (const auto &lane : m_lanes)
        lane->connection->stop();
}

void RedisPublisher::setLanes(const QList<QByteArray> &keys)
{
    for (const auto &lane : m_lanes)
        delete lane->connection;
    m_lanes.clear();
    for (const QByteArray &key : keys) {
        auto lane = std::make_unique<Lane>();
        Lane *l = lane.get();
        l->owner = this;
        l->key = key;
        l->connection = new RedisConnection(m_url, this);
        // A stream key lives on one cluster node; PUBLISH works on any.
        l->connection->setRouteKey(key);
        connect(l->connection, &RedisConnection::ready, this, [this, l] { handleReady(*l); });
        connect(l->connection, &RedisConnection::connectionLost, this,
                [this, l](const QString &reason) { handleConnectionLost(*l, reason); });
        connect(l->connection, &RedisConnection::connectFailed, this,
                [this, l](const QString &reason) { handleConnectFailed(*l, reason); });
        m_lanes.push_back(std::move(lane));
    }
}

void RedisPublisher::setStream(const QByteArray &key, qint64 maxEntries)
{
    Transport transport;
    transport.kind = Transport::Kind::Streams;
    transport.streamKey = key;
    transport.streamMaxEntries = maxEntries;
    setStream(transport);
}

void RedisPublisher::setStream(const Transport &transport)
{
    m_transport = transport;
    m_stream = true;
    const qint64 maxEntries = transport.partitionMaxEntries();
    m_streamMaxLen = maxEntries > 0 ? QByteArray::number(maxEntries) : QByteArray();
    QList<QByteArray> keys;
    for (int p = 0; p < std::max(1, transport.streamPartitions); ++p)
        keys.append(transport.partitionKey(p));
    setLanes(keys);
}

void RedisPublisher::start()
{
    for (const auto &lane : m_lanes)
        lane->connection->start();
}

quint64 RedisPublisher::reconnects() const
{
    quint64 total = 0;
    for (const auto &lane : m_lanes)
        total += lane->connection->reconnects();
    return total;
}

bool RedisPublisher::isConnected() const
{
    return std::all_of(m_lanes.begin(), m_lanes.end(),
                       [](const auto &lane) { return lane->connection->isReady(); });
}

qsizetype RedisPublisher::pending() const
{
    qsizetype total = 0;
    for (const auto &lane : m_lanes)
        total += qsizetype(lane->queue.size() + lane->inFlight.size());
    return total;
}

bool RedisPublisher::overLimits() const
{
    return pending() > m_limits.maxMessages || m_pendingBytes > m_limits.maxBytes;
}

RedisPublisher::Lane &RedisPublisher::laneFor(QByteArrayView channel)
{
    return m_lanes.size() == 1 ? *m_lanes.front()
                               : *m_lanes.at(size_t(m_transport.partitionOf(channel)));
}

void RedisPublisher::publish(const QByteArray &channel, const QByteArray &payload)
{
    Lane &lane = laneFor(channel);
    lane.queue.push_back({channel, payload});
    m_pendingBytes += lane.queue.back().bytes();
    if (m_overflow == Overflow::DropOldest) {
        while (overLimits() && dropOldest(lane)) {
        }
    } else if (pending() >= m_limits.maxMessages || m_pendingBytes >= m_limits.maxBytes) {
        m_full = true;
    }
    sendQueued(lane);
}

bool RedisPublisher::dropOldest(Lane &lane)
{
    // Never the message just added (the last of `lane`), nor those already on the wire.
    std::deque<Message> *from = lane.queue.size() > 1 ? &lane.queue : nullptr;
    for (auto it = m_lanes.begin(); !from && it != m_lanes.end(); ++it) {
        if (it->get() != &lane && !(*it)->queue.empty())
            from = &(*it)->queue;
    }
    if (!from)
        return false;
    m_pendingBytes -= from->front().bytes();
    from->pop_front();
    ++m_dropped;
    return true;
}

void RedisPublisher::sendQueued(Lane &lane)
{
    redisAsyncContext *ac = lane.connection->context();
    if (!ac)
        return;
    requeueStaleInFlight(lane);
    lane.inFlightGeneration = lane.connection->generation();
    while (!lane.queue.empty() && qsizetype(lane.inFlight.size()) < m_limits.maxInFlight) {
        if (!send(lane, ac, lane.queue.front()))
            return; // the context is going away; the connection signals will follow
        lane.inFlight.push_back(std::move(lane.queue.front()));
        lane.queue.pop_front();
    }
}

bool RedisPublisher::send(Lane &lane, redisAsyncContext *ac, const Message &message)
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
    if (!m_stream) {
        add("PUBLISH", 7);
        addBytes(message.channel);
        addBytes(message.payload);
    } else {
        add("XADD", 4);
        addBytes(lane.key);
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
    return redisAsyncCommandArgv(ac, &RedisPublisher::onReply, &lane, argc, argv.data(),
                                 lengths.data()) == REDIS_OK;
}

void RedisPublisher::onReply(redisAsyncContext *, void *r, void *privdata)
{
    // A null reply means the context is being freed (possibly during our destructor): leave the
    // message in flight; handleReady()/handleConnectionLost() requeue it.
    const auto *reply = static_cast<const redisReply *>(r);
    if (!reply)
        return;
    auto *lane = static_cast<Lane *>(privdata);
    RedisPublisher *self = lane->owner;
    switch (reply->type) {
    case REDIS_REPLY_INTEGER: // PUBLISH: how many subscribers got it
    case REDIS_REPLY_STRING:  // XADD: the new entry's id
        self->handleReply(*lane, true, {});
        break;
    case REDIS_REPLY_ERROR:
        self->handleReply(*lane, false, QByteArrayView(reply->str, qsizetype(reply->len)));
        break;
    default: // e.g. nil: XADD added nothing
        self->handleReply(*lane, false,
                          QStringLiteral("unexpected reply (type %1)").arg(reply->type).toUtf8());
        break;
    }
}

void RedisPublisher::handleReply(Lane &lane, bool ok, QByteArrayView error)
{
    if (lane.inFlight.empty())
        return;
    if (!ok) {
        // A cluster redirect: the connection is replaced at once (handleConnectionLost() puts
        // this message and those after it back in front of the queue), and they go again on
        // the next one.
        lane.redirecting = true;
        const bool redirected = lane.connection->followRedirect(error);
        lane.redirecting = false;
        if (redirected)
            return;
    }
    m_pendingBytes -= lane.inFlight.front().bytes();
    lane.inFlight.pop_front();
    if (ok) {
        ++m_published;
    } else {
        // Resending would fail the same way (OOM, READONLY, NOPERM, WRONGTYPE...): count it and
        // move on.
        ++m_rejected;
        reportRejection(lane, QString::fromUtf8(error));
    }
    sendQueued(lane);
    if (!m_notifyTimer.isActive())
        m_notifyTimer.start();
}

void RedisPublisher::reportRejection(const Lane &lane, const QString &error)
{
    m_lastError = isStream() ? QStringLiteral("Redis refused an XADD to the stream %1: %2")
                                   .arg(QString::fromUtf8(lane.key), error)
                             : QStringLiteral("Redis refused a PUBLISH: %1").arg(error);
    if (isStream() && error.startsWith(QLatin1StringView("WRONGTYPE")))
        m_lastError += QStringLiteral("; the key %1 is not a stream: delete it or choose another "
                                      "--stream-key")
                           .arg(QString::fromUtf8(lane.key));
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

void RedisPublisher::requeueInFlight(Lane &lane)
{
    m_resent += lane.inFlight.size();
    lane.queue.insert(lane.queue.begin(), std::make_move_iterator(lane.inFlight.begin()),
                      std::make_move_iterator(lane.inFlight.end()));
    lane.inFlight.clear();
}

void RedisPublisher::requeueStaleInFlight(Lane &lane)
{
    // Messages sent on a context that is gone (e.g. after connection()->stop()) got no reply.
    if (!lane.inFlight.empty() && lane.inFlightGeneration != lane.connection->generation())
        requeueInFlight(lane);
}

QString RedisPublisher::where(const Lane &lane) const
{
    const QString url = m_url.toDisplayString();
    return m_lanes.size() > 1
               ? QStringLiteral("%1 (partition %2)").arg(url, QString::fromUtf8(lane.key))
               : url;
}

void RedisPublisher::handleReady(Lane &lane)
{
    requeueStaleInFlight(lane);
    m_outageReported = false;
    m_lastError.clear();
    sendQueued(lane);
    // Queued: RedisConnection reports ready from inside a hiredis callback.
    QMetaObject::invokeMethod(this, &RedisPublisher::connected, Qt::QueuedConnection);
}

void RedisPublisher::handleConnectionLost(Lane &lane, const QString &reason)
{
    requeueInFlight(lane);
    if (lane.redirecting) {
        // The cluster moved the partition (or asked to wait): no outage, nothing to tell the
        // user beyond the log.
        qCInfo(lcProducer, "following the cluster to %s (%s)", qUtf8Printable(where(lane)),
               qUtf8Printable(reason));
        return;
    }
    m_lastError = QStringLiteral("lost connection to Redis at %1 (%2); reconnecting, %3 "
                                 "buffered")
                      .arg(where(lane), reason,
                           pending() == 1 ? QStringLiteral("1 message")
                                          : QStringLiteral("%1 messages").arg(pending()));
    // Queued: we are inside hiredis's disconnect callback.
    QMetaObject::invokeMethod(
        this, [this, message = m_lastError] { Q_EMIT errorOccurred(message); },
        Qt::QueuedConnection);
}

void RedisPublisher::handleConnectFailed(Lane &lane, const QString &reason)
{
    m_lastError = QStringLiteral("cannot reach Redis at %1 (%2); is redis-server running? Check "
                                 "--redis-url or REDIS_URL. Retrying; messages are buffered")
                      .arg(where(lane), reason);
    if (m_outageReported)
        return;
    m_outageReported = true;
    QMetaObject::invokeMethod(
        this, [this, message = m_lastError] { Q_EMIT errorOccurred(message); },
        Qt::QueuedConnection);
}
