#pragma once

#include "eventid.h"
#include "replayring.h"

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

class SseClient;

// The fan-out core: gives every Redis message an id, encodes it once into SSE bytes shared by
// all clients, keeps it in the replay ring, and writes it to each live client that selected its
// channel. Replays after Last-Event-ID, announces gaps, cuts loose clients that stop reading,
// and once a second computes per-channel rates for the "stats" event and /metrics.
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
    };

    // Per-channel counters; rates are per second over the last stats tick.
    struct ChannelStats
    {
        QByteArray name;
        quint64 received = 0;
        quint64 delivered = 0;
        quint64 dropped = 0;
        quint64 replayed = 0;
        quint64 bytes = 0;
        quint64 outputTokens = 0;
        qint64 lastTs = 0;
        double rate = 0;
        double tokenRate = 0;
        quint64 receivedAtTick = 0;
        quint64 tokensAtTick = 0;
        bool aggregate = false; // "(other)" or "(long names)": many channels, not one
    };

    // Channels tracked one by one, at most this many and with names of at most this many bytes
    // (and this many in all); the rest share the rows "(other)" and "(long names)", so a
    // producer inventing channel names cannot grow memory, /metrics or the stats event without
    // bound (the stats event goes to every client once a second).
    static constexpr int maxTrackedChannels = 1000;
    static constexpr qsizetype maxTrackedNameBytes = 256;
    static constexpr qsizetype maxTrackedNameTotal = 64 * 1024;
    // Stats and heartbeats are skipped for a client with this much unsent: the gateway's own
    // frames never count against a client's slow-reader budget.
    static constexpr qint64 controlFrameBacklog = 64 * 1024;

    explicit Hub(const Options &options, QObject *parent = nullptr);
    ~Hub() override;

    // A message from Redis (the hot path).
    void publish(QByteArrayView channel, QByteArrayView payload);
    // Redis subscription state; a gap event is announced when it comes back after a loss.
    void setRedisSubscribed(bool subscribed, const QString &reason = {});

    // Takes over a client whose response head is not written yet; `lastEventId` is what it
    // asked to resume from (empty for a fresh stream, which then gets the newest `tail` events
    // of the history first).
    void addClient(std::unique_ptr<SseClient> client, const QByteArray &lastEventId, int tail = 0);
    void closeAllClients(const QByteArray &reason);
    // Ends the streams whose access `keep` no longer grants (token file reloaded), with an
    // "event: shutdown" saying why; returns how many.
    int closeClientsWhere(const std::function<bool(const SseClient &)> &revoked,
                          const QByteArray &reason);
    int clientCount() const { return int(m_clients.size()); }
    int clientsFrom(const QHostAddress &address) const { return m_perAddress.value(address); }

    qint64 boot() const { return m_boot; }
    EventId lastId() const { return {m_boot, m_seq}; }
    const ReplayRing &ring() const { return m_ring; }
    const std::vector<ChannelStats> &channels() const { return m_channels; }
    bool redisSubscribed() const { return m_redisUp; }

    quint64 invalidUtf8Payloads() const { return m_invalidUtf8; }
    quint64 truncatedPayloads() const { return m_truncatedPayloads; }
    quint64 clientsAccepted() const { return m_clientsAccepted; }
    quint64 clientsDroppedSlow() const { return m_clientsDroppedSlow; }
    quint64 gapsRedis() const { return m_gapsRedis; }
    quint64 gapsHistory() const { return m_gapsHistory; }
    double totalRate() const { return m_totalRate; }

    // Builds the stats JSON (the body of the stats event): the channels `client` selected (all
    // of them, and the aggregate rows, for a client without a selection or for null), with
    // totals over those.
    QJsonObject statsJson(SseClient *client = nullptr) const;

Q_SIGNALS:
    void clientCountChanged(int count);

private:
    int channelIndex(QByteArrayView name);
    int lookupChannel(QByteArrayView name);
    int aggregateRow(const QByteArray &name, const char *why);
    void deliver(const ReplayRing::Entry &entry);
    void pump(SseClient *client);
    void sendGap(SseClient *client, qint64 resumeFromSeq, const QByteArray &json);
    // Writes `frame` unless that would exceed the client's buffer cap; then cuts it loose. A
    // client with nothing unsent is never cut, however large the frame.
    bool writeOrDrop(SseClient *client, const QByteArray &frame);
    // Queues a frame the gateway made itself (stats, heartbeat): skipped, never a reason to cut
    // the client, when the client is behind.
    void writeControl(SseClient *client, const QByteArray &frame);
    void markDead(SseClient *client);
    void sweep();
    void tick();

    Options m_options;
    qint64 m_boot;
    qint64 m_seq = 0;
    ReplayRing m_ring;
    std::vector<std::unique_ptr<SseClient>> m_clients;
    QHash<QHostAddress, int> m_perAddress;
    std::vector<ChannelStats> m_channels;
    QHash<QByteArray, int> m_channelIndex;
    int m_lastChannel = -1; // the index channelIndex() found last
    qsizetype m_channelNameBytes = 0;
    QTimer m_tick;
    QElapsedTimer m_sinceTick;
    QElapsedTimer m_uptime;
    int m_ticks = 0;
    bool m_sweepQueued = false;
    std::vector<SseClient *> m_dirty; // clients with queued frames, flushed once per pass
    bool m_flushQueued = false;
    bool m_redisUp = false;
    bool m_wasEverUp = false;
    qint64 m_downSinceMs = 0;
    QString m_downReason;
    double m_totalRate = 0;
    double m_totalTokenRate = 0;
    quint64 m_receivedAtTick = 0;
    quint64 m_received = 0;
    quint64 m_invalidUtf8 = 0;
    quint64 m_truncatedPayloads = 0;
    quint64 m_clientsAccepted = 0;
    quint64 m_clientsDroppedSlow = 0;
    quint64 m_gapsRedis = 0;
    quint64 m_gapsHistory = 0;
};
