#include "gateway.h"

#include "channelglob.h"
#include "gatewayserver.h"
#include "history.h"
#include "hub.h"
#include "redissubscriber.h"
#include "streamreader.h"

#include <QLoggingCategory>

#include <algorithm>
#include <tuple>
#include <vector>

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
    o.partitions = config.transport.streamPartitions;
    return o;
}

// The stream readers of all partitions as one feed for /readyz and /metrics: ready when all
// are.
class StreamsFeed final : public RedisFeed
{
public:
    explicit StreamsFeed(QList<StreamReader *> readers) : m_readers(std::move(readers)) {}
    bool isReady() const override
    {
        return std::all_of(m_readers.cbegin(), m_readers.cend(),
                           [](const StreamReader *r) { return r->isReady(); });
    }
    QString lastError() const override
    {
        for (const StreamReader *r : m_readers)
            if (!r->lastError().isEmpty())
                return m_readers.size() > 1 ? QStringLiteral("%1: %2").arg(
                                                  QString::fromUtf8(r->key()), r->lastError())
                                            : r->lastError();
        return {};
    }
    quint64 reconnects() const override
    {
        quint64 n = 0;
        for (const StreamReader *r : m_readers)
            n += r->reconnects();
        return n;
    }

private:
    QList<StreamReader *> m_readers;
};

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
        for (int p = 0; p < config.transport.streamPartitions; ++p)
            setUpStreamReader(p);
        m_streamsFeed = std::make_unique<StreamsFeed>(m_streamReaders);
        // Resuming clients get what the ring no longer holds from the stream, allowlisted.
        m_hub->setStreamSource(
            {[this](int partition, const QByteArray &from, int count,
                    Hub::StreamSource::Done done) {
                 m_streamReaders.at(partition)->fetchFrom(
                     from, count, [this, done = std::move(done)](const StreamPage &page) {
                         done(allowedOnly(page));
                     });
             },
             [this](int partition, const QByteArray &id, Hub::StreamSource::Done done) {
                 m_streamReaders.at(partition)->fetchRemovedAfter(id, std::move(done));
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
    if (!m_streamReaders.isEmpty()) {
        m_server->setHistorySearch([this](const HistoryQuery &query, auto done) {
            auto *search = new StreamHistorySearch(
                m_streamReaders, query, [this](QByteArrayView channel) { return allowed(channel); },
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
    for (StreamReader *reader : std::as_const(m_streamReaders))
        reader->stop();
}

void Gateway::setUpStreamReader(int partition)
{
    auto *reader =
        new StreamReader(m_config.redis, m_config.transport.partitionKey(partition), this);
    m_streamReaders.append(reader);
    reader->setEntryHandler(
        [this, partition](QByteArrayView id, QByteArrayView channel, QByteArrayView data) {
            if (allowed(channel))
                m_hub->publishEntry(partition, id, channel, data);
        });
    connect(reader, &StreamReader::batchEnded, m_hub, &Hub::flushClients);
    connect(reader, &StreamReader::ready, m_hub,
            [this] { m_hub->setRedisSubscribed(m_streamsFeed->isReady()); });
    connect(reader, &StreamReader::lost, m_hub,
            [this](const QString &reason) { m_hub->setRedisSubscribed(false, reason); });
    connect(reader, &StreamReader::entriesMissing, m_hub,
            [this, reader](const QByteArray &lastId, const QByteArray &, const QString &reason) {
                const QString after = QString::fromUtf8(lastId);
                const QString where =
                    m_streamReaders.size() > 1
                        ? QStringLiteral(" of partition %1").arg(QString::fromUtf8(reader->key()))
                        : QString();
                m_hub->announceMissing(
                    reason, reason == StreamReader::trimmedReason
                                ? QStringLiteral("entries%1 after %2 were trimmed from the "
                                                 "stream before this gateway read them")
                                      .arg(where, after)
                                : QStringLiteral("Redis lost the stream's entries%1 after %2 "
                                                 "(restarted without its data, or the key "
                                                 "was deleted)")
                                      .arg(where, after));
            });
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
    return m_streamsFeed.get();
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
    const quint64 round = ++m_startRound;
    m_startPages = QList<StreamPage>(m_streamReaders.size());
    m_startPagesDue = int(m_streamReaders.size());
    for (int p = 0; p < m_streamReaders.size(); ++p)
        m_streamReaders.at(p)->fetchNewest(m_config.history + 1,
                                           [this, p, round](const StreamPage &page) {
                                               if (round != m_startRound)
                                                   return;
                                               m_startPages[p] = page;
                                               if (--m_startPagesDue == 0)
                                                   beginStream(m_startPages);
                                           });
}

void Gateway::beginStream(const QList<StreamPage> &newest)
{
    if (m_stopped)
        return;
    for (const StreamPage &page : newest) {
        if (page.error.isEmpty())
            continue;
        m_hub->setRedisSubscribed(false, page.error);
        QTimer::singleShot(startRetryMs, this, [this] {
            if (!m_stopped)
                fetchStreamStart();
        });
        return;
    }
    // The newest `history` entries of all partitions go into the ring, oldest first. Where the
    // ring's coverage of a partition begins: after its newest entry left out; or, when all of
    // a partition fit, before its first entry. (A client that read up to an entry trimmed
    // just before it gets a gap it could have done without.)
    struct Taken
    {
        StreamId id;
        int partition;
        const StreamEntry *entry;
    };
    std::vector<Taken> all;
    for (int p = 0; p < newest.size(); ++p)
        for (const StreamEntry &e : newest.at(p).entries)
            all.push_back({StreamId::parseEntryId(e.id).value_or(StreamId{}), p, &e});
    std::stable_sort(all.begin(), all.end(), [](const Taken &a, const Taken &b) {
        return std::tie(a.id, a.partition) < std::tie(b.id, b.partition);
    });
    const qsizetype leftOut = std::max<qsizetype>(0, qsizetype(all.size()) - m_config.history);
    StreamCursor start(int(newest.size()));
    std::vector<bool> anyLeftOut(newest.size(), false);
    for (qsizetype i = 0; i < leftOut; ++i) {
        start.set(all[i].partition, all[i].id);
        anyLeftOut[all[i].partition] = true;
    }
    for (int p = 0; p < newest.size(); ++p)
        if (!anyLeftOut[p] && !newest.at(p).entries.isEmpty())
            start.set(p, StreamId::parseEntryId(newest.at(p).entries.constFirst().id)
                             .value_or(StreamId{})
                             .previous());
    m_hub->setStreamStart(start);
    for (auto it = all.cbegin() + leftOut; it != all.cend(); ++it)
        if (allowed(it->entry->channel))
            m_hub->publishEntry(it->partition, it->entry->id, it->entry->channel, it->entry->data);
    // Reading on after the newest entry read here; from the very beginning of an empty
    // partition, so nothing added since this page was read is skipped.
    for (int p = 0; p < newest.size(); ++p) {
        const QList<StreamEntry> &entries = newest.at(p).entries;
        const QByteArray after =
            entries.isEmpty() ? start.at(p).toEntryId() : entries.constLast().id;
        if (!m_streamReaders.at(p)->start(after))
            qCWarning(lcGateway, "cannot read the stream %s: %s",
                      m_streamReaders.at(p)->key().constData(),
                      qUtf8Printable(m_streamReaders.at(p)->lastError()));
    }
}

void Gateway::trimStream()
{
    if (m_config.transport.streamMaxEntries > 0 || m_config.streamMaxAgeSeconds > 0)
        for (StreamReader *reader : std::as_const(m_streamReaders))
            reader->trim(m_config.transport.partitionMaxEntries(),
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
    for (StreamReader *reader : std::as_const(m_streamReaders))
        reader->stop();
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
