#include "hub.h"

#include "envelope.h"
#include "sseclient.h"
#include "sseencoder.h"
#include "truncation.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QLoggingCategory>

#include <algorithm>
#include <cmath>

Q_LOGGING_CATEGORY(lcHub, "llmstreamer.hub")

namespace {

// A replaying client is fed from the ring while it has less than this much unsent.
constexpr qint64 replayLowWater = 256 * 1024;

// Rates are shown, not computed with: two decimals are plenty.
double rounded(double rate)
{
    return std::round(rate * 100.0) / 100.0;
}

QByteArray json(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace

Hub::Hub(const Options &options, QObject *parent)
    : QObject(parent), m_options(options), m_boot(QDateTime::currentMSecsSinceEpoch()),
      m_ring(options.history, options.historyBytes)
{
    m_tick.setInterval(1000);
    connect(&m_tick, &QTimer::timeout, this, &Hub::tick);
    m_tick.start();
    m_sinceTick.start();
    m_uptime.start();
}

Hub::~Hub() = default;

int Hub::channelIndex(QByteArrayView name)
{
    // Producers publish bursts on one channel: the last answer saves a hash (SipHash in Qt 6)
    // and an allocation per message.
    if (m_lastChannel >= 0 && m_channels[size_t(m_lastChannel)].name == name)
        return m_lastChannel;
    m_lastChannel = lookupChannel(name);
    return m_lastChannel;
}

int Hub::lookupChannel(QByteArrayView name)
{
    if (name.size() > maxTrackedNameBytes)
        return aggregateRow(QByteArrayLiteral("(long names)"),
                            "channel names longer than 256 bytes");
    const QByteArray key = name.toByteArray();
    if (const auto it = m_channelIndex.constFind(key); it != m_channelIndex.constEnd())
        return *it;
    if (m_channels.size() >= size_t(maxTrackedChannels) ||
        m_channelNameBytes + key.size() > maxTrackedNameTotal)
        return aggregateRow(QByteArrayLiteral("(other)"),
                            "more than 1000 channels, or 64 KiB of channel names");
    m_channelNameBytes += key.size();
    m_channels.push_back(ChannelStats{key});
    m_channelIndex.insert(key, int(m_channels.size() - 1));
    return int(m_channels.size() - 1);
}

int Hub::aggregateRow(const QByteArray &name, const char *why)
{
    // Created once, and said so once.
    if (const auto it = m_channelIndex.constFind(name); it != m_channelIndex.constEnd())
        return *it;
    ChannelStats row{name};
    row.aggregate = true;
    m_channels.push_back(row);
    m_channelIndex.insert(name, int(m_channels.size() - 1));
    qCWarning(lcHub, "%s seen; counting them as %s", why, name.constData());
    return int(m_channels.size() - 1);
}

void Hub::publish(QByteArrayView channel, QByteArrayView payload)
{
    const qint64 ts = QDateTime::currentMSecsSinceEpoch();
    const qint64 seq = ++m_seq;
    char idBuf[EventId::maxLength];
    const QByteArrayView id(idBuf, EventId{m_boot, seq}.write(idBuf));

    // A payload over the cap is cut on a UTF-8 boundary and says so, in its text and in the
    // envelope: one event must not grow past what a client may have unsent.
    QByteArray cut;
    qint64 truncatedFrom = -1;
    if (payload.size() > m_options.maxPayloadBytes) {
        cut = Truncation::cut(payload, qsizetype(m_options.maxPayloadBytes));
        truncatedFrom = payload.size();
        payload = cut;
        ++m_truncatedPayloads;
    }

    // The SSE frame is written in one buffer: "id: <id>\ndata: <envelope>\n\n". The envelope
    // has no raw line break unless an object payload carries some between its tokens; only
    // then does the encoder split it into data lines.
    QByteArray frame;
    frame.reserve(payload.size() + channel.size() + 2 * id.size() + 64);
    frame.append("id: ", 4).append(id).append("\ndata: ", 7);
    const qsizetype jsonStart = frame.size();
    const Envelope::Encoded enc =
        Envelope::encodeInto(frame, id, channel, ts, payload, truncatedFrom);
    if (enc.payloadIsObject) {
        const QByteArrayView json = QByteArrayView(frame).sliced(jsonStart);
        if (json.contains('\n') || json.contains('\r'))
            frame = SseEncoder::event(id, {}, json);
        else
            frame.append("\n\n", 2);
    } else {
        frame.append("\n\n", 2);
    }
    if (enc.invalidUtf8)
        ++m_invalidUtf8;

    const int index = channelIndex(channel);
    ChannelStats &stats = m_channels[size_t(index)];
    ++stats.received;
    ++m_received;
    stats.bytes += quint64(payload.size());
    stats.outputTokens += quint64(std::max<qint64>(enc.outputTokens, 0));
    stats.lastTs = ts;

    ReplayRing::Entry entry;
    entry.seq = seq;
    entry.channel = index;
    // Shares the table's copy, except for channels counted under "(other)".
    entry.name = stats.name == channel ? stats.name : channel.toByteArray();
    entry.frame = std::move(frame);
    m_ring.append(entry);
    deliver(entry);
}

void Hub::deliver(const ReplayRing::Entry &entry)
{
    ChannelStats *stats = entry.channel >= 0 ? &m_channels[size_t(entry.channel)] : nullptr;
    for (const auto &client : m_clients) {
        SseClient *c = client.get();
        if (!c->live || c->dead)
            continue;
        if (stats && !c->accepts(entry.name == stats->name ? entry.channel : -1, entry.name))
            continue;
        if (writeOrDrop(c, entry.frame)) {
            if (stats)
                ++stats->delivered;
        } else if (stats) {
            ++stats->dropped;
        }
    }
}

bool Hub::writeOrDrop(SseClient *client, const QByteArray &frame)
{
    if (client->dead)
        return false;
    const qint64 pending = client->pendingBytes();
    if (pending > 0 && pending + frame.size() > m_options.maxClientBuffer) {
        ++m_clientsDroppedSlow;
        const QByteArray reason = QByteArrayLiteral("client too slow: ") +
                                  QByteArray::number(pending) + QByteArrayLiteral(" bytes unsent");
        qCWarning(lcHub, "dropping client %s: %s", qUtf8Printable(client->peerAddress().toString()),
                  reason.constData());
        QJsonObject o{{QStringLiteral("reason"), QStringLiteral("slow-client")},
                      {QStringLiteral("message"), QString::fromUtf8(reason)}};
        client->close(SseEncoder::event(lastId().toByteArray(), "dropped", json(o)));
        markDead(client);
        return false;
    }
    // Queued, not written: every client is flushed once per event-loop pass (flushClients),
    // with one sendmsg() for all the events that arrived in that pass.
    if (client->queue(frame)) {
        m_dirty.push_back(client);
        if (!m_flushQueued) {
            m_flushQueued = true;
            QMetaObject::invokeMethod(this, &Hub::flushClients, Qt::QueuedConnection);
        }
    }
    return true;
}

void Hub::writeControl(SseClient *client, const QByteArray &frame)
{
    if (!client->dead && client->pendingBytes() < controlFrameBacklog)
        writeOrDrop(client, frame);
}

void Hub::flushClients()
{
    m_flushQueued = false;
    for (SseClient *c : m_dirty)
        if (!c->dead)
            c->flush();
    m_dirty.clear();
}

void Hub::addClient(std::unique_ptr<SseClient> client, const QByteArray &lastEventId, int tail)
{
    SseClient *c = client.get();
    ++m_clientsAccepted;
    c->begin(m_options.retryMilliseconds, SseEncoder::comment("connected"));

    QTcpSocket *socket = c->socket();
    if (!socket || !c->isConnected()) {
        // Gone before it started; nothing to keep.
        return;
    }
    c->connections.push_back(
        connect(socket, &QAbstractSocket::disconnected, this, [this, c] { markDead(c); }));
    c->connections.push_back(
        connect(socket, &QObject::destroyed, this, [this, c] { markDead(c); }));
    c->connections.push_back(connect(socket, &QIODevice::bytesWritten, this, [this, c] {
        if (!c->live && !c->dead)
            pump(c);
    }));
    ++m_perAddress[c->peerAddress()];
    m_clients.push_back(std::move(client));
    Q_EMIT clientCountChanged(clientCount());

    if (lastEventId.isEmpty()) {
        // A fresh stream starts live, or with the newest `tail` events of the history (a new
        // browser tab then shows recent lines at once).
        const qint64 from =
            std::max(m_ring.isEmpty() ? m_seq + 1 : m_ring.firstSeq(), m_seq - tail + 1);
        c->cursor = from - 1;
        c->live = tail <= 0 || from > m_seq;
        if (!c->live)
            pump(c);
        return;
    }
    // Resume: find the first event the client has not seen.
    const auto last = EventId::parse(lastEventId);
    qint64 from = m_seq + 1;
    QString reason;
    qint64 missed = -1;
    if (!last) {
        reason = QStringLiteral("unknown-id");
        from = m_ring.isEmpty() ? m_seq + 1 : m_ring.firstSeq();
    } else if (last->boot != m_boot) {
        reason = QStringLiteral("gateway-restarted");
        from = m_ring.isEmpty() ? m_seq + 1 : m_ring.firstSeq();
    } else if (last->seq >= m_seq) {
        from = m_seq + 1;
    } else if (m_ring.isEmpty() || last->seq + 1 < m_ring.firstSeq()) {
        reason = QStringLiteral("history-exceeded");
        from = m_ring.isEmpty() ? m_seq + 1 : m_ring.firstSeq();
        missed = from - last->seq - 1;
    } else {
        from = last->seq + 1;
    }
    if (!reason.isEmpty()) {
        ++m_gapsHistory;
        QJsonObject o{{QStringLiteral("reason"), reason},
                      {QStringLiteral("last_event_id"), QString::fromUtf8(lastEventId)},
                      {QStringLiteral("resume_id"),
                       QString::fromUtf8(EventId{m_boot, from - 1}.toByteArray())},
                      {QStringLiteral("missed"), missed >= 0 ? QJsonValue(missed) : QJsonValue()}};
        if (reason == QLatin1String("history-exceeded"))
            o.insert(QStringLiteral("message"),
                     QStringLiteral("%1 events are older than the gateway's history").arg(missed));
        else if (reason == QLatin1String("gateway-restarted"))
            o.insert(
                QStringLiteral("message"),
                QStringLiteral("the gateway restarted; events published meanwhile may be lost"));
        else
            o.insert(QStringLiteral("message"), QStringLiteral("unrecognised Last-Event-ID"));
        sendGap(c, from, json(o));
    }
    c->cursor = from - 1;
    pump(c);
}

void Hub::sendGap(SseClient *client, qint64 resumeFromSeq, const QByteArray &body)
{
    client->write(SseEncoder::event(EventId{m_boot, resumeFromSeq - 1}.toByteArray(), "gap", body));
}

void Hub::pump(SseClient *c)
{
    while (!c->live && !c->dead) {
        if (c->pendingBytes() >= replayLowWater)
            return; // bytesWritten brings us back
        const qint64 next = c->cursor + 1;
        if (next > m_seq) {
            c->live = true;
            return;
        }
        const ReplayRing::Entry *e = m_ring.find(next);
        if (!e) {
            // Evicted while this client was catching up.
            const qint64 from = m_ring.isEmpty() ? m_seq + 1 : m_ring.firstSeq();
            ++m_gapsHistory;
            QJsonObject o{{QStringLiteral("reason"), QStringLiteral("history-exceeded")},
                          {QStringLiteral("missed"), from - next},
                          {QStringLiteral("message"),
                           QStringLiteral("%1 events left the history before this client read "
                                          "them")
                               .arg(from - next)}};
            sendGap(c, from, json(o));
            c->cursor = from - 1;
            continue;
        }
        ChannelStats *stats = e->channel >= 0 ? &m_channels[size_t(e->channel)] : nullptr;
        if (!stats || c->accepts(e->name == stats->name ? e->channel : -1, e->name)) {
            c->write(e->frame);
            if (stats)
                ++stats->replayed;
        }
        c->cursor = next;
    }
}

void Hub::setRedisSubscribed(bool subscribed, const QString &reason)
{
    if (subscribed == m_redisUp) {
        if (!subscribed)
            m_downReason = reason;
        return;
    }
    m_redisUp = subscribed;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (!subscribed) {
        m_downSinceMs = now;
        m_downReason = reason;
        return;
    }
    if (!m_wasEverUp) {
        m_wasEverUp = true;
        return;
    }
    // Back after an outage: whatever was published meanwhile never reached us. Say so in the
    // stream itself (and in the ring, so resuming clients see it too).
    ++m_gapsRedis;
    const qint64 seq = ++m_seq;
    QJsonObject o{{QStringLiteral("reason"), QStringLiteral("redis-disconnected")},
                  {QStringLiteral("down_ms"), now - m_downSinceMs},
                  {QStringLiteral("since"), m_downSinceMs},
                  {QStringLiteral("until"), now},
                  {QStringLiteral("error"), m_downReason},
                  {QStringLiteral("missed"), QJsonValue()},
                  {QStringLiteral("message"),
                   QStringLiteral("Redis was unreachable for %1 ms (%2); messages published "
                                  "meanwhile are lost")
                       .arg(now - m_downSinceMs)
                       .arg(m_downReason)}};
    ReplayRing::Entry entry;
    entry.seq = seq;
    entry.frame = SseEncoder::event(EventId{m_boot, seq}.toByteArray(), "gap", json(o));
    m_ring.append(entry);
    for (const auto &client : m_clients)
        if (client->live && !client->dead)
            writeOrDrop(client.get(), entry.frame);
}

void Hub::markDead(SseClient *client)
{
    if (client->dead)
        return;
    client->dead = true;
    if (!m_sweepQueued) {
        m_sweepQueued = true;
        QMetaObject::invokeMethod(this, &Hub::sweep, Qt::QueuedConnection);
    }
}

void Hub::sweep()
{
    m_sweepQueued = false;
    flushClients(); // m_dirty must not outlive the clients erased here
    const auto before = m_clients.size();
    std::erase_if(m_clients, [this](const std::unique_ptr<SseClient> &c) {
        if (!c->dead)
            return false;
        if (auto it = m_perAddress.find(c->peerAddress()); it != m_perAddress.end() && --*it <= 0)
            m_perAddress.erase(it);
        return true;
    });
    if (m_clients.size() != before)
        Q_EMIT clientCountChanged(clientCount());
}

void Hub::closeAllClients(const QByteArray &reason)
{
    QJsonObject o{{QStringLiteral("reason"), QString::fromUtf8(reason)}};
    const QByteArray frame = SseEncoder::event(lastId().toByteArray(), "shutdown", json(o));
    for (const auto &client : m_clients) {
        if (!client->dead) {
            client->close(frame);
            markDead(client.get());
        }
    }
}

QJsonObject Hub::statsJson(SseClient *client) const
{
    // A client sees the channels it selected, which are within what its token may read; a
    // client without a selection may read everything, the aggregate rows included.
    const bool everything = !client || client->selection().isEmpty();
    QJsonObject channels;
    quint64 received = 0, delivered = 0, dropped = 0;
    double rate = 0, tokenRate = 0;
    for (size_t i = 0; i < m_channels.size(); ++i) {
        const ChannelStats &s = m_channels[i];
        if (!everything && (s.aggregate || !client->accepts(int(i), s.name)))
            continue;
        channels.insert(QString::fromUtf8(s.name),
                        QJsonObject{{QStringLiteral("rate"), rounded(s.rate)},
                                    {QStringLiteral("tokens_rate"), rounded(s.tokenRate)},
                                    {QStringLiteral("received"), qint64(s.received)}});
        received += s.received;
        delivered += s.delivered;
        dropped += s.dropped;
        rate += s.rate;
        tokenRate += s.tokenRate;
    }
    if (everything) {
        received = m_received;
        rate = m_totalRate;
        tokenRate = m_totalTokenRate;
    }
    return QJsonObject{{QStringLiteral("ts"), QDateTime::currentMSecsSinceEpoch()},
                       {QStringLiteral("uptime_s"), m_uptime.elapsed() / 1000},
                       {QStringLiteral("redis"),
                        m_redisUp ? QStringLiteral("connected") : QStringLiteral("disconnected")},
                       {QStringLiteral("clients"), clientCount()},
                       {QStringLiteral("rate"), rounded(rate)},
                       {QStringLiteral("tokens_rate"), rounded(tokenRate)},
                       {QStringLiteral("received"), qint64(received)},
                       {QStringLiteral("delivered"), qint64(delivered)},
                       {QStringLiteral("dropped"), qint64(dropped)},
                       {QStringLiteral("dropped_clients"), qint64(m_clientsDroppedSlow)},
                       {QStringLiteral("channels"), channels}};
}

void Hub::tick()
{
    const double seconds = std::max(0.001, m_sinceTick.restart() / 1000.0);
    double tokenRate = 0;
    for (ChannelStats &s : m_channels) {
        s.rate = double(s.received - s.receivedAtTick) / seconds;
        s.tokenRate = double(s.outputTokens - s.tokensAtTick) / seconds;
        s.receivedAtTick = s.received;
        s.tokensAtTick = s.outputTokens;
        tokenRate += s.tokenRate;
    }
    m_totalRate = double(m_received - m_receivedAtTick) / seconds;
    m_receivedAtTick = m_received;
    m_totalTokenRate = tokenRate;

    if (m_clients.empty())
        return;
    // One frame per distinct selection, shared by the clients that made it; its id is the
    // newest event's, so it never moves a client's Last-Event-ID past something it has not been
    // sent.
    const QByteArray id = lastId().toByteArray();
    QHash<QByteArray, QByteArray> statsBySelection;
    const bool heartbeat = ++m_ticks % m_options.heartbeatSeconds == 0;
    const QByteArray beat =
        heartbeat ? SseEncoder::comment(QByteArray::number(QDateTime::currentMSecsSinceEpoch()))
                  : QByteArray();
    for (const auto &client : m_clients) {
        SseClient *c = client.get();
        if (c->dead)
            continue;
        if (heartbeat)
            writeControl(c, beat);
        if (!c->live)
            continue;
        const QByteArray key = c->selection().join('\n');
        auto it = statsBySelection.find(key);
        if (it == statsBySelection.end())
            it = statsBySelection.insert(key, SseEncoder::event(id, "stats", json(statsJson(c))));
        writeControl(c, *it);
    }
}

int Hub::closeClientsWhere(const std::function<bool(const SseClient &)> &revoked,
                           const QByteArray &reason)
{
    QJsonObject o{{QStringLiteral("reason"), QString::fromUtf8(reason)}};
    const QByteArray frame = SseEncoder::event(lastId().toByteArray(), "shutdown", json(o));
    int closed = 0;
    for (const auto &client : m_clients) {
        if (!client->dead && revoked(*client)) {
            client->close(frame);
            markDead(client.get());
            ++closed;
        }
    }
    return closed;
}
