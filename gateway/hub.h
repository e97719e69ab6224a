#pragma once

#include "channeltable.h"
#include "eventid.h"
#include "replayring.h"
#include "streampage.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QJsonObject>
#include <QObject>
#include <QTimer>

#include <functional>
#include <memory>
#include <vector>

class EventSink;

// The fan-out core: gives every Redis message an id, encodes it once into SSE bytes shared by
// all clients, keeps it in the replay ring, and writes it to each live client that selected its
// channel. Replays after Last-Event-ID, announces gaps, cuts loose clients that stop reading,
// and once a second computes per-channel rates for the "stats" event and /metrics. Sees clients
// only as EventSinks, so it runs without sockets in tests.
class Hub final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Hub)

public:
    // Writes what is queued for each client (one sendmsg each). Runs once per event-loop pass
    // by itself; the gateway also calls it after each batch read from Redis.
    void flushClients();
    struct Options
    {
        int history = 10000;
        qint64 historyBytes = 256LL * 1024 * 1024;
        qint64 maxClientBuffer = 8LL * 1024 * 1024;
        int heartbeatSeconds = 15;
        int retryMilliseconds = 2000;
        // Longer payloads are cut to this many bytes, visibly (a marker and "truncated").
        qint64 maxPayloadBytes = 4LL * 1024 * 1024;
        // The stats and heartbeat timer; 0: none (tests call tick() themselves).
        int tickMilliseconds = 1000;
        // The streams transport: events come with their Redis entry ids (publishEntry) and
        // carry them as SSE ids, the same on every gateway; a Redis outage loses nothing, so it
        // is no gap; only announceMissing() is.
        bool streams = false;
        // Streams transport: partitions of the stream (--stream-partitions); events carry the
        // position in all of them (StreamCursor) as their SSE id.
        int partitions = 1;
    };

    // Per-channel counters and their limits: see ChannelTable.
    using ChannelStats = ChannelTable::Row;
    static constexpr int maxTrackedChannels = ChannelTable::maxTrackedChannels;
    static constexpr qsizetype maxTrackedNameBytes = ChannelTable::maxTrackedNameBytes;
    static constexpr qsizetype maxTrackedNameTotal = ChannelTable::maxTrackedNameTotal;
    // Stats and heartbeats are skipped for a client with this much unsent: the gateway's own
    // frames never count against a client's slow-reader budget.
    static constexpr qint64 controlFrameBacklog = 64 * 1024;

    explicit Hub(const Options &options, QObject *parent = nullptr);
    ~Hub() override;

    // A message from Redis (the hot path).
    void publish(QByteArrayView channel, QByteArrayView payload);
    // An entry of partition `partition` of the Redis Stream (streams transport), `entryId` as
    // Redis wrote it. Entries at or before the last one taken from that partition are ignored:
    // a reader that reconnects may see them again.
    void publishEntry(int partition, QByteArrayView entryId, QByteArrayView channel,
                      QByteArrayView payload);
    // Streams transport: entries after the last one taken are gone for good (Redis restarted
    // without its data, or trimming overtook the reader). Announced as a gap with `reason`.
    void announceMissing(const QString &reason, const QString &message);
    // Redis subscription state; a gap event is announced when it comes back after a loss.
    void setRedisSubscribed(bool subscribed, const QString &reason = {});

    // Takes over a client whose response head is not written yet; `lastEventId` is what it
    // asked to resume from (empty for a fresh stream, which then gets the newest `tail` events
    // of the history first).
    void addClient(std::unique_ptr<EventSink> sink, const QByteArray &lastEventId, int tail = 0);
    void closeAllClients(const QByteArray &reason);
    // Ends the streams whose access `revoked` says is gone (token file reloaded), with an
    // "event: shutdown" saying why; returns how many.
    int closeClientsWhere(const std::function<bool(const EventSink &)> &revoked,
                          const QByteArray &reason);
    int clientCount() const { return int(m_clients.size()); }
    int clientsFrom(const QHostAddress &address) const { return m_perAddress.value(address); }

    qint64 boot() const { return m_boot; }
    EventId lastId() const { return {m_boot, m_seq}; }
    // The SSE id of the newest event, in the transport's form.
    QByteArray lastEventId() const;
    // Streams transport: the newest entry taken from each partition.
    const StreamCursor &lastPosition() const { return m_position; }
    // Streams transport: the readers start after `after`; every later entry will be
    // published. Resuming from before it is a gap (in any partition).
    void setStreamStart(const StreamCursor &after);
    // Streams transport: where a resuming client gets what the ring no longer holds. `fetchFrom`
    // reads a page of a partition from an entry id on (inclusive; only entries of the gateway's
    // allowlist), `fetchRemovedAfter` whether entries of a partition after an id were removed
    // (see StreamReader); both answer from the event loop. Without one, such a client gets a gap
    // (history-exceeded) and the ring.
    struct StreamSource
    {
        using Done = std::function<void(const StreamPage &)>;
        std::function<void(int partition, const QByteArray &fromEntryId, int count, Done done)>
            fetchFrom;
        std::function<void(int partition, const QByteArray &entryId, Done done)> fetchRemovedAfter;
    };
    void setStreamSource(StreamSource source) { m_source = std::move(source); }
    // Entries per page of such a replay: bounds what one replaying client holds besides its
    // socket buffer.
    static constexpr int replayPageEntries = 128;
    // Streams transport: a client that has seen up to here can resume without a gap.
    StreamCursor coveredAfter() const
    {
        StreamCursor c = m_streamStart;
        c.raise(m_ring.evictedUpTo());
        return c;
    }
    const ReplayRing &ring() const { return m_ring; }
    const std::vector<ChannelStats> &channels() const { return m_channels.rows(); }
    bool redisSubscribed() const { return m_redisUp; }
    // "streams" or "pubsub", as stats, /api/channels and /metrics say.
    const char *transportName() const { return m_options.streams ? "streams" : "pubsub"; }

    quint64 invalidUtf8Payloads() const { return m_invalidUtf8; }
    quint64 truncatedPayloads() const { return m_truncatedPayloads; }
    quint64 clientsAccepted() const { return m_clientsAccepted; }
    quint64 clientsDroppedSlow() const { return m_clientsDroppedSlow; }
    quint64 gapsRedis() const { return m_gapsRedis; }
    quint64 gapsHistory() const { return m_gapsHistory; }
    // Streams transport: entries replayed from Redis (older than the ring) to resuming clients.
    quint64 replayedFromStream() const { return m_replayedFromStream; }
    double totalRate() const { return m_channels.rate(); }

    // Once a second by the hub's timer: rates, the stats event, and a heartbeat every
    // heartbeatSeconds. Public so tests can drive it (with tickMilliseconds = 0).
    void tick();

Q_SIGNALS:
    void clientCountChanged(int count);

private:
    struct Subscriber; // a client and where it stands: live, or replaying from the ring

    void publishAs(QByteArrayView id, QByteArrayView channel, QByteArrayView payload, int partition,
                   const StreamId &position);
    // Puts a gap event made by the gateway into the ring and sends it to every live client.
    void appendGap(const QJsonObject &body);
    // Streams transport: where a client resuming after `lastEventId` starts, and why not
    // where it asked, if so.
    qint64 resumeStream(Subscriber *s, const QByteArray &lastEventId, QJsonObject *gap);
    // The SSE id that resumes at sequence number `seq`: that of the event before it.
    QByteArray idBefore(qint64 seq) const;
    // Streams transport: the stream position a client that goes on with `seq` has read up to.
    StreamCursor positionBefore(qint64 seq) const;
    // The bytes a ring event goes to a live or ring-replaying client as: null when the client
    // has seen it (it came from a gateway that read further), the event's frame, or, while the
    // client's position differs from the event's, the frame with the client's own position as
    // its id, made in `own`.
    static const QByteArray *frameFor(Subscriber *s, const ReplayRing::Entry &entry,
                                      QByteArray &own);
    // Starts replaying from Redis what a client has not seen and the ring no longer holds.
    void beginStreamReplay(Subscriber *s);
    void deliver(const ReplayRing::Entry &entry);
    void pump(Subscriber *s);
    // Streams transport: writes what a client replaying from Redis has fetched; asks for the
    // next page, or hands the client over to the ring once it covers the rest. True when the
    // client now replays from the ring.
    bool pumpStream(Subscriber *s);
    void fetchStreamPage(Subscriber *s);
    void takeStreamPage(quint64 clientId, const StreamPage &page);
    void checkStreamLoss(quint64 clientId, const StreamPage &info);
    Subscriber *findClient(quint64 clientId) const;
    // Tells a client replaying partition `partition` from Redis that entries after its
    // position are gone; it goes on after `resume`.
    void sendStreamGap(Subscriber *s, int partition, const StreamId &resume);
    void sendGap(Subscriber *s, qint64 resumeFromSeq, const QJsonObject &body);
    // Writes `frame` unless that would exceed the client's buffer cap; then cuts it loose. A
    // client with nothing unsent is never cut, however large the frame.
    bool writeOrDrop(Subscriber *s, const QByteArray &frame);
    // Queues a frame the gateway made itself (stats, heartbeat): skipped, never a reason to cut
    // the client, when the client is behind.
    void writeControl(Subscriber *s, const QByteArray &frame);
    void markDead(Subscriber *s);
    void sweep();
    // The body of the stats event for `s`: the channels it selected (all of them, and the
    // aggregate rows, for a client without a selection), with totals over those.
    QJsonObject statsJson(Subscriber *s) const;

    Options m_options;
    qint64 m_boot;
    qint64 m_seq = 0;
    StreamCursor m_position;    // streams transport: the newest entry taken, per partition
    StreamCursor m_streamStart; // streams transport: where the readers started
    ReplayRing m_ring;
    std::vector<std::unique_ptr<Subscriber>> m_clients;
    QHash<QHostAddress, int> m_perAddress;
    ChannelTable m_channels;
    QTimer m_tick;
    QElapsedTimer m_sinceTick;
    QElapsedTimer m_uptime;
    int m_ticks = 0;
    bool m_sweepQueued = false;
    std::vector<Subscriber *> m_dirty; // clients with queued frames, flushed once per pass
    bool m_flushQueued = false;
    bool m_redisUp = false;
    bool m_wasEverUp = false;
    qint64 m_downSinceMs = 0;
    QString m_downReason;
    quint64 m_invalidUtf8 = 0;
    quint64 m_truncatedPayloads = 0;
    quint64 m_clientsAccepted = 0;
    quint64 m_clientsDroppedSlow = 0;
    quint64 m_gapsRedis = 0;
    quint64 m_gapsHistory = 0;
    quint64 m_entriesIgnored = 0; // streams: already taken, or an id that is not one
    quint64 m_replayedFromStream = 0;
    quint64 m_nextClientId = 0;
    StreamSource m_source;
};
