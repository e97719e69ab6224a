#include "gateway.h"

#include "channelglob.h"
#include "gatewayserver.h"
#include "history.h"
#include "hub.h"
#include "redissubscriber.h"
#include "streamreader.h"

#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcGateway, "llmstreamer.gateway")

namespace {

Hub::Options hubOptions(const GatewayConfig &config)
{
    Hub::Options o;
    o.history = config.history;
    o.historyBytes = config.historyBytes;
    o.maxClientBuffer = config.maxClientBuffer;
    o.heartbeatSeconds = config.heartbeatSeconds;
    o.retryMilliseconds = config.retryMilliseconds;
    o.maxPayloadBytes = config.maxPayloadBytes;
    o.streams = config.transport.isStreams();
    return o;
}

// How often the gateway trims the stream (streams transport): often enough that a producer
// that never trims cannot add much in between, rarely enough to cost Redis nothing.
constexpr int trimIntervalMs = 10'000;
// How soon a failed read of the stream's newest entries is tried again at start.
constexpr int startRetryMs = 1000;
constexpr qsizetype maxCachedChannels = 10'000;

} // namespace

Gateway::Gateway(const GatewayConfig &config, QObject *parent)
    : QObject(parent), m_config(config), m_hub(new Hub(hubOptions(config), this))
{
    if (config.transport.isStreams()) {
        m_streamReader = new StreamReader(config.redis, config.transport.streamKey, this);
        m_streamReader->setEntryHandler(
            [this](QByteArrayView id, QByteArrayView channel, QByteArrayView data) {
                if (allowed(channel))
                    m_hub->publishEntry(id, channel, data);
            });
        connect(m_streamReader, &StreamReader::batchEnded, m_hub, &Hub::flushClients);
        connect(m_streamReader, &StreamReader::ready, m_hub,
                [this] { m_hub->setRedisSubscribed(true); });
        connect(m_streamReader, &StreamReader::lost, m_hub,
                [this](const QString &reason) { m_hub->setRedisSubscribed(false, reason); });
        connect(m_streamReader, &StreamReader::entriesMissing, m_hub,
                [this](const QByteArray &lastId, const QByteArray &, const QString &reason) {
                    const QString after = QString::fromUtf8(lastId);
                    m_hub->announceMissing(
                        reason, reason == StreamReader::trimmedReason
                                    ? QStringLiteral("entries after %1 were trimmed from the "
                                                     "stream before this gateway read them")
                                          .arg(after)
                                    : QStringLiteral("Redis lost the stream's entries after %1 "
                                                     "(restarted without its data, or the key "
                                                     "was deleted)")
                                          .arg(after));
                });
        // Resuming clients get what the ring no longer holds from the stream, allowlisted.
        m_hub->setStreamSource(
            {[this](const QByteArray &from, int count, Hub::StreamSource::Done done) {
                 m_streamReader->fetchFrom(from, count,
                                           [this, done = std::move(done)](const StreamPage &page) {
                                               done(allowedOnly(page));
                                           });
             },
             [this](const QByteArray &id, Hub::StreamSource::Done done) {
                 m_streamReader->fetchRemovedAfter(id, std::move(done));
             }});
        m_trimTimer.setInterval(trimIntervalMs);
        connect(&m_trimTimer, &QTimer::timeout, this, &Gateway::trimStream);
    } else {
        m_subscriber = new RedisSubscriber(config.redis, config.channels, this);
        m_subscriber->setMessageHandler(
            [hub = m_hub](QByteArrayView channel, QByteArrayView payload) {
                hub->publish(channel, payload);
            });
        // The clients get what one read from Redis brought at once, without waiting for the
        // queued flush: that would cost another event-loop pass (a poll() over every client
        // socket).
        connect(m_subscriber, &RedisSubscriber::batchEnded, m_hub, &Hub::flushClients);
        connect(m_subscriber, &RedisSubscriber::subscribed, m_hub,
                [this] { m_hub->setRedisSubscribed(true); });
        connect(m_subscriber, &RedisSubscriber::unsubscribed, m_hub,
                [this](const QString &reason) { m_hub->setRedisSubscribed(false, reason); });
    }
    m_server = new GatewayServer(config, m_hub, feed(), this);
    if (m_streamReader) {
        m_server->setHistorySearch([this](const HistoryQuery &query, auto done) {
            auto *search = new StreamHistorySearch(
                m_streamReader, query, [this](QByteArrayView channel) { return allowed(channel); },
                m_config.maxPayloadBytes, std::move(done), this);
            search->start();
        });
    } else {
        m_server->setHistorySearch([this](const HistoryQuery &query, auto done) {
            done(History::fromRing(m_hub->ring(), m_hub->boot(), query));
        });
    }
}

Gateway::~Gateway()
{
    m_stopped = true;
    if (m_subscriber)
        m_subscriber->stop();
    if (m_streamReader)
        m_streamReader->stop();
}

bool Gateway::allowed(QByteArrayView channel)
{
    // Redis only sends a subscriber the channels it subscribed to; a stream holds every
    // channel, so the allowlist is applied here, once per channel name (the answer is cached).
    // Entries come in runs of one channel: the last answer first, a compare instead of a hash
    // (hashing the name was a tenth of the gateway's time per entry in bench a).
    if (!m_lastChannel.isNull() && channel == m_lastChannel)
        return m_lastAllowed;
    const QByteArray name = QByteArray::fromRawData(channel.data(), channel.size()); // no copy
    if (const auto it = m_allowedCache.constFind(name); it != m_allowedCache.constEnd()) {
        m_lastChannel = it.key();
        m_lastAllowed = *it;
        return *it;
    }
    bool ok = false;
    for (const QByteArray &pattern : std::as_const(m_config.channels))
        if (ChannelGlob::matches(pattern, channel)) {
            ok = true;
            break;
        }
    // Bounded: a stream with endless channel names costs a glob match per entry, not memory.
    if (m_allowedCache.size() < maxCachedChannels)
        m_allowedCache.insert(channel.toByteArray(), ok);
    return ok;
}

StreamPage Gateway::allowedOnly(StreamPage page)
{
    page.entries.removeIf([this](const StreamEntry &e) { return !allowed(e.channel); });
    return page;
}

RedisFeed *Gateway::feed() const
{
    if (m_subscriber)
        return m_subscriber;
    return m_streamReader;
}

bool Gateway::start(QString *error)
{
    if (!m_server->start(error))
        return false;
    if (m_subscriber) {
        m_subscriber->start();
    } else {
        fetchStreamStart();
        trimStream();
        m_trimTimer.start();
    }
    return true;
}

void Gateway::fetchStreamStart()
{
    m_streamReader->fetchNewest(m_config.history + 1,
                                [this](const StreamPage &page) { beginStream(page); });
}

void Gateway::beginStream(const StreamPage &newest)
{
    if (m_stopped)
        return;
    if (!newest.error.isEmpty()) {
        m_hub->setRedisSubscribed(false, newest.error);
        QTimer::singleShot(startRetryMs, this, [this] {
            if (!m_stopped)
                fetchStreamStart();
        });
        return;
    }
    QList<StreamEntry> entries = newest.entries;
    StreamId start;
    if (entries.size() > m_config.history) {
        // One more than the history: the oldest of them is where the ring's coverage begins.
        start = StreamId::parseEntryId(entries.constFirst().id).value_or(StreamId{});
        entries.removeFirst();
    } else if (!entries.isEmpty()) {
        // The whole stream fits: the ring covers it from its first entry on. (A client that
        // read up to an entry trimmed just before it gets a gap it could have done without.)
        start = StreamId::parseEntryId(entries.constFirst().id).value_or(StreamId{}).previous();
    }
    m_hub->setStreamStart(start);
    for (const StreamEntry &e : std::as_const(entries))
        if (allowed(e.channel))
            m_hub->publishEntry(e.id, e.channel, e.data);
    // Reading on after the newest entry read here; from the very beginning of an empty stream,
    // so nothing added since this page was read is skipped.
    const QByteArray after = entries.isEmpty() ? start.toEntryId() : entries.constLast().id;
    if (!m_streamReader->start(after))
        qCWarning(lcGateway, "cannot read the stream: %s",
                  qUtf8Printable(m_streamReader->lastError()));
}

void Gateway::trimStream()
{
    if (m_config.transport.streamMaxEntries > 0 || m_config.streamMaxAgeSeconds > 0)
        m_streamReader->trim(m_config.transport.streamMaxEntries,
                             m_config.streamMaxAgeSeconds * 1000);
}

bool Gateway::reloadTokens(QString *message)
{
    if (m_config.tokenFile.isEmpty()) {
        *message = QStringLiteral("no --token-file: nothing to reload");
        return false;
    }
    QString error;
    auto policy = AccessPolicy::load(m_config.tokenFile, &error);
    if (!policy) {
        *message = QStringLiteral("token file not reloaded, the old tokens stay: %1").arg(error);
        return false;
    }
    const qsizetype tokens = policy->size();
    const int closed = m_server->replaceAccess(std::move(*policy));
    *message = QStringLiteral("token file reloaded: %1 token(s), %2 stream(s) closed")
                   .arg(tokens)
                   .arg(closed);
    return true;
}

bool Gateway::reloadTls(QString *message)
{
    return m_server->reloadTls(message);
}

bool Gateway::isTls() const
{
    return m_server->isTls();
}

QString Gateway::tlsSummary() const
{
    return m_server->tlsSummary();
}

void Gateway::shutdown()
{
    m_stopped = true;
    m_trimTimer.stop();
    m_server->stopListening();
    m_hub->closeAllClients("gateway shutting down");
    if (m_subscriber)
        m_subscriber->stop();
    if (m_streamReader)
        m_streamReader->stop();
}

quint16 Gateway::port() const
{
    return m_server->port();
}

QString Gateway::baseUrl() const
{
    QString host = m_config.bind.toString();
    if (m_config.bind == QHostAddress::Any || m_config.bind == QHostAddress::AnyIPv4)
        host = QStringLiteral("127.0.0.1");
    else if (m_config.bind == QHostAddress::AnyIPv6)
        host = QStringLiteral("[::1]");
    else if (m_config.bind.protocol() == QAbstractSocket::IPv6Protocol)
        host = QLatin1Char('[') + host + QLatin1Char(']');
    return QStringLiteral("%1://%2:%3")
        .arg(isTls() ? QStringLiteral("https") : QStringLiteral("http"), host)
        .arg(port());
}
