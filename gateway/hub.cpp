#include "hub.h"

#include "channelglob.h"
#include "eventencoding.h"
#include "eventsink.h"
#include "sseencoder.h"
#include "vocabulary.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QLoggingCategory>

#include <QPointer>
#include <QVarLengthArray>

#include <algorithm>
#include <cmath>
#include <deque>

Q_LOGGING_CATEGORY(lcHub, "llmstreamer.hub")

namespace {

// A replaying client is fed from the ring while it has less than this much unsent.
constexpr qint64 replayLowWater = 256 * 1024;
// How soon a page of the stream that could not be read is asked for again (Redis away: the
// client waits; nothing is lost).
constexpr int streamRetryMs = 1000;

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

struct Hub::Subscriber
{
    std::unique_ptr<EventSink> sink;
    quint64 id = 0; // finds it again when a page of the stream arrives
    bool live = false;
    bool dead = false;
    qint64 cursor = 0; // last sequence number handled while replaying
    // Streams: what a client that resumed ahead of this gateway (in some partition) has seen:
    // events it covers are skipped, the others carry the client's own position as their id,
    // until the gateway's position dominates it (then it is emptied).
    StreamCursor after;
    // Streams transport: the position a replay from Redis goes on from (the last event
    // handled), and while replaying from Redis what the ring no longer holds, the partition
    // being read and the rest of the page being written.
    StreamCursor position;
    bool fromStream = false;
    bool fetching = false;    // a page (or the loss check) is on its way
    bool streamEnded = false; // the last page reached the end of the partition
    int streamPartition = 0;
    StreamId pageEnd; // the last entry of the page, those left out included
    std::deque<StreamEntry> backlog;
    std::vector<qint8> acceptCache; // per channel index: -1 unknown, 0 no, 1 yes

    // Whether events of channel `name` (row `channelIndex` of the channel table, or -1 when
    // the row counts other channels too) are selected. Cached per row, so fan-out does no glob
    // matching per message.
    bool accepts(int channelIndex, const QByteArray &name);
};

bool Hub::Subscriber::accepts(int channelIndex, const QByteArray &name)
{
    const QByteArrayList &selection = sink->selection();
    if (selection.isEmpty())
        return true;
    auto match = [&] {
        for (const QByteArray &s : selection)
            if (ChannelGlob::matches(s, name))
                return true;
        return false;
    };
    if (channelIndex < 0)
        return match();
    if (size_t(channelIndex) >= acceptCache.size())
        acceptCache.resize(size_t(channelIndex) + 1, -1);
    qint8 &cached = acceptCache[size_t(channelIndex)];
    if (cached < 0)
        cached = match() ? 1 : 0;
    return cached == 1;
}

Hub::Hub(const Options &options, QObject *parent)
    : QObject(parent), m_options(options), m_boot(QDateTime::currentMSecsSinceEpoch()),
      m_ring(options.history, options.historyBytes)
{
    if (m_options.streams) {
        m_position = StreamCursor(m_options.partitions);
        m_streamStart = StreamCursor(m_options.partitions);
    }
    connect(&m_tick, &QTimer::timeout, this, &Hub::tick);
    if (m_options.tickMilliseconds > 0)
        m_tick.start(m_options.tickMilliseconds);
    m_sinceTick.start();
    m_uptime.start();
}

Hub::~Hub() = default;

void Hub::publish(QByteArrayView channel, QByteArrayView payload)
{
    char idBuf[EventId::maxLength];
    const QByteArrayView id(idBuf, EventId{m_boot, m_seq + 1}.write(idBuf));
    publishAs(id, channel, payload, 0, {});
}

void Hub::publishEntry(int partition, QByteArrayView entryId, QByteArrayView channel,
                       QByteArrayView payload)
{
    const auto position = StreamId::parseEntryId(entryId);
    if (!position || partition < 0 || partition >= m_position.partitions() ||
        m_position.covers(partition, *position)) {
        ++m_entriesIgnored;
        return;
    }
    m_position.set(partition, *position);
    QVarLengthArray<char, StreamId::maxEventIdLength> idBuf(
        StreamCursor::maxEventIdLength(m_position.partitions()));
    const QByteArrayView id(idBuf.data(), m_position.writeEventId(idBuf.data(), partition));
    publishAs(id, channel, payload, partition, *position);
}

void Hub::setStreamStart(const StreamCursor &after)
{
    if (after.partitions() != m_position.partitions())
        return;
    m_streamStart = after;
    m_position.raise(after);
}

QByteArray Hub::lastEventId() const
{
    return m_options.streams ? m_position.toEventId() : lastId().toByteArray();
}

void Hub::publishAs(QByteArrayView id, QByteArrayView channel, QByteArrayView payload,
                    int partition, const StreamId &position)
{
    // A stream entry's time is Redis's, in its id: the same on every gateway, live or replayed.
    const qint64 ts = m_options.streams ? position.ms : QDateTime::currentMSecsSinceEpoch();
    const qint64 seq = ++m_seq;

    QByteArray frame;
    const EventEncoding::Result enc =
        EventEncoding::appendFrame(frame, id, channel, ts, payload, m_options.maxPayloadBytes);
    if (enc.truncated)
        ++m_truncatedPayloads;
    if (enc.invalidUtf8)
        ++m_invalidUtf8;

    const int index = m_channels.count(channel, enc.payloadBytes, enc.outputTokens, ts);
    const ChannelStats &stats = m_channels[index];

    ReplayRing::Entry entry;
    entry.seq = seq;
    entry.position = position;
    entry.partition = partition;
    if (m_options.streams)
        entry.cursor = m_position;
    entry.channel = index;
    // Shares the table's copy, except for channels counted under "(other)".
    entry.name = stats.name == channel ? stats.name : channel.toByteArray();
    entry.frame = std::move(frame);
    m_ring.append(entry);
    deliver(entry);
}

void Hub::deliver(const ReplayRing::Entry &entry)
{
    ChannelStats *stats = entry.channel >= 0 ? &m_channels[entry.channel] : nullptr;
    for (const auto &client : m_clients) {
        Subscriber *s = client.get();
        if (!s->live || s->dead)
            continue;
        if (stats && !s->accepts(entry.name == stats->name ? entry.channel : -1, entry.name))
            continue;
        QByteArray own;
        const QByteArray *frame = frameFor(s, entry, own);
        if (!frame)
            continue;
        if (writeOrDrop(s, *frame)) {
            if (stats)
                ++stats->delivered;
        } else if (stats) {
            ++stats->dropped;
        }
    }
}

const QByteArray *Hub::frameFor(Subscriber *s, const ReplayRing::Entry &entry, QByteArray &own)
{
    if (s->after.isEmpty())
        return &entry.frame;
    if (ReplayRing::covers(s->after, entry))
        return nullptr;
    if (entry.cursor.dominates(s->after)) {
        s->after = {}; // the gateway caught up with the client: shared frames from here
        return &entry.frame;
    }
    // The client has seen more of some partition than this event's id says: its id must say
    // so, or resuming from it would repeat those entries.
    StreamCursor id = s->after;
    id.raise(entry.cursor);
    own =
        EventEncoding::withId(entry.frame, id.toEventId(entry.channel >= 0 ? entry.partition : -1));
    return &own;
}

bool Hub::writeOrDrop(Subscriber *s, const QByteArray &frame)
{
    if (s->dead)
        return false;
    const qint64 pending = s->sink->pendingBytes();
    if (pending > 0 && pending + frame.size() > m_options.maxClientBuffer) {
        ++m_clientsDroppedSlow;
        const QByteArray reason = QByteArrayLiteral("client too slow: ") +
                                  QByteArray::number(pending) + QByteArrayLiteral(" bytes unsent");
        qCWarning(lcHub, "dropping client %s: %s",
                  qUtf8Printable(s->sink->peerAddress().toString()), reason.constData());
        QJsonObject o{{QStringLiteral("reason"), QStringLiteral("slow-client")},
                      {QStringLiteral("message"), QString::fromUtf8(reason)}};
        // No id: the frame that did not fit was never queued, so resuming after the newest event
        // would skip it. The client resumes after the last event it got.
        s->sink->close(SseEncoder::eventWithoutId(Vocabulary::droppedEvent, json(o)));
        markDead(s);
        return false;
    }
    // Queued, not written: every client is flushed once per event-loop pass (flushClients),
    // with one sendmsg() for all the events that arrived in that pass.
    if (s->sink->queue(frame)) {
        m_dirty.push_back(s);
        if (!m_flushQueued) {
            m_flushQueued = true;
            QMetaObject::invokeMethod(this, &Hub::flushClients, Qt::QueuedConnection);
        }
    }
    return true;
}

void Hub::writeControl(Subscriber *s, const QByteArray &frame)
{
    if (!s->dead && s->sink->pendingBytes() < controlFrameBacklog)
        writeOrDrop(s, frame);
}

void Hub::flushClients()
{
    m_flushQueued = false;
    for (Subscriber *s : m_dirty)
        if (!s->dead)
            s->sink->flush();
    m_dirty.clear();
}

void Hub::addClient(std::unique_ptr<EventSink> sink, const QByteArray &lastEventId, int tail)
{
    ++m_clientsAccepted;
    sink->begin(m_options.retryMilliseconds, SseEncoder::comment("connected"));
    if (!sink->isConnected()) {
        // Gone before it started; nothing to keep.
        return;
    }
    auto subscriber = std::make_unique<Subscriber>();
    Subscriber *c = subscriber.get();
    c->sink = std::move(sink);
    c->id = ++m_nextClientId;
    // The sink is owned by the subscriber, so these never run after it is gone.
    c->sink->setHandlers([this, c] { markDead(c); },
                         [this, c] {
                             if (!c->live && !c->dead)
                                 pump(c);
                         });
    ++m_perAddress[c->sink->peerAddress()];
    m_clients.push_back(std::move(subscriber));
    Q_EMIT clientCountChanged(clientCount());

    if (lastEventId.isEmpty()) {
        // A fresh stream starts live, or with the newest `tail` events of the history (a new
        // browser tab then shows recent lines at once).
        const qint64 from =
            std::max(m_ring.isEmpty() ? m_seq + 1 : m_ring.firstSeq(), m_seq - tail + 1);
        c->cursor = from - 1;
        c->live = tail <= 0 || from > m_seq;
        if (m_options.streams)
            c->position = positionBefore(from);
        if (!c->live)
            pump(c);
        return;
    }
    if (m_options.streams) {
        QJsonObject gap;
        const qint64 from = resumeStream(c, lastEventId, &gap);
        if (!gap.isEmpty())
            sendGap(c, from, gap);
        c->cursor = from - 1;
        // Where Redis takes over should the ring evict what this client has not read yet.
        if (!c->fromStream) {
            c->position = positionBefore(from);
            c->position.raise(c->after);
        }
        pump(c);
        return;
    }
    // Resume: find the first event the client has not seen.
    const auto last = EventId::parse(lastEventId);
    qint64 from = m_seq + 1;
    QString reason;
    qint64 missed = -1;
    if (!last) {
        reason = Vocabulary::unknownIdGap;
        from = m_ring.isEmpty() ? m_seq + 1 : m_ring.firstSeq();
    } else if (last->boot != m_boot) {
        reason = Vocabulary::gatewayRestartedGap;
        from = m_ring.isEmpty() ? m_seq + 1 : m_ring.firstSeq();
    } else if (last->seq >= m_seq) {
        from = m_seq + 1;
    } else if (m_ring.isEmpty() || last->seq + 1 < m_ring.firstSeq()) {
        reason = Vocabulary::historyExceededGap;
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
        if (reason == Vocabulary::historyExceededGap)
            o.insert(QStringLiteral("message"),
                     QStringLiteral("%1 events are older than the gateway's history").arg(missed));
        else if (reason == Vocabulary::gatewayRestartedGap)
            o.insert(
                QStringLiteral("message"),
                QStringLiteral("the gateway restarted; events published meanwhile may be lost"));
        else
            o.insert(QStringLiteral("message"), QStringLiteral("unrecognised Last-Event-ID"));
        sendGap(c, from, o);
    }
    c->cursor = from - 1;
    pump(c);
}

qint64 Hub::resumeStream(Subscriber *s, const QByteArray &lastEventId, QJsonObject *gap)
{
    const qint64 live = m_seq + 1;
    const auto last = StreamCursor::parseEventId(lastEventId, m_options.partitions);
    if (!last) {
        // An id of another transport, or none at all: nothing to resume from; the live stream.
        ++m_gapsHistory;
        *gap = {{Vocabulary::reasonMember, Vocabulary::unknownIdGap},
                {QStringLiteral("last_event_id"), QString::fromUtf8(lastEventId)},
                {QStringLiteral("missed"), QJsonValue()},
                {QStringLiteral("message"), QStringLiteral("unrecognised Last-Event-ID")}};
        return live;
    }
    if (last->dominates(m_position)) {
        // Up to date, or ahead of this gateway (it came from one that read further): what it
        // has seen is skipped as this gateway catches up.
        s->after = *last;
        return live;
    }
    if (last->dominates(coveredAfter())) {
        // From the ring; with partitions, later events may be seen already (the gateway it
        // came from read the partitions in another order): those are skipped.
        s->after = *last;
        return m_ring.isEmpty() ? live : m_ring.firstAfter(*last);
    }
    if (m_source.fetchFrom) {
        // Older than the ring: from Redis first, paced by the client's socket (pump).
        s->position = *last;
        beginStreamReplay(s);
        return live;
    }
    // Older than what this gateway holds.
    ++m_gapsHistory;
    const qint64 from = m_ring.isEmpty() ? live : m_ring.firstSeq();
    *gap = {{Vocabulary::reasonMember, Vocabulary::historyExceededGap},
            {QStringLiteral("last_event_id"), QString::fromUtf8(lastEventId)},
            {QStringLiteral("resume_id"), QString::fromUtf8(idBefore(from))},
            {QStringLiteral("missed"), QJsonValue()},
            {QStringLiteral("message"),
             QStringLiteral("events after %1 are older than the gateway's history")
                 .arg(QString::fromUtf8(lastEventId))}};
    return from;
}

QByteArray Hub::idBefore(qint64 seq) const
{
    if (!m_options.streams)
        return EventId{m_boot, seq - 1}.toByteArray();
    return positionBefore(seq).toEventId();
}

StreamCursor Hub::positionBefore(qint64 seq) const
{
    if (const ReplayRing::Entry *e = m_ring.find(seq - 1))
        return e->cursor;
    // The ring's first entry: resuming after what the ring no longer holds lands there.
    return m_ring.find(seq) ? coveredAfter() : m_position;
}

void Hub::sendGap(Subscriber *s, qint64 resumeFromSeq, const QJsonObject &body)
{
    s->sink->write(SseEncoder::event(idBefore(resumeFromSeq), Vocabulary::gapEvent, json(body)));
}

void Hub::pump(Subscriber *c)
{
    while (!c->live && !c->dead) {
        if (c->sink->pendingBytes() >= replayLowWater)
            return; // the sink's drained handler brings us back
        if (c->fromStream) {
            if (!pumpStream(c))
                return; // the next page, or the drained handler, brings us back
            continue;
        }
        const qint64 next = c->cursor + 1;
        if (next > m_seq) {
            c->live = true;
            return;
        }
        const ReplayRing::Entry *e = m_ring.find(next);
        if (!e && m_options.streams && m_source.fetchFrom) {
            // Evicted while this client was catching up: Redis still has it.
            beginStreamReplay(c);
            continue;
        }
        if (!e) {
            // Evicted while this client was catching up.
            const qint64 from = m_ring.isEmpty() ? m_seq + 1 : m_ring.firstSeq();
            ++m_gapsHistory;
            QJsonObject o{{Vocabulary::reasonMember, Vocabulary::historyExceededGap},
                          {QStringLiteral("missed"), from - next},
                          {QStringLiteral("message"),
                           QStringLiteral("%1 events left the history before this client read "
                                          "them")
                               .arg(from - next)}};
            sendGap(c, from, o);
            c->cursor = from - 1;
            continue;
        }
        ChannelStats *stats = e->channel >= 0 ? &m_channels[e->channel] : nullptr;
        if (!stats || c->accepts(e->name == stats->name ? e->channel : -1, e->name)) {
            QByteArray own;
            if (const QByteArray *frame = frameFor(c, *e, own)) {
                c->sink->write(*frame);
                if (stats)
                    ++stats->replayed;
            }
        }
        c->cursor = next;
        if (m_options.streams) {
            c->position = e->cursor;
            c->position.raise(c->after);
        }
    }
}

void Hub::beginStreamReplay(Subscriber *c)
{
    c->fromStream = true;
    c->streamPartition = 0;
    c->streamEnded = false;
    c->pageEnd = {};
    c->backlog.clear();
}

bool Hub::pumpStream(Subscriber *c)
{
    // A page on its way, or one whose loss check is: its entries wait behind the gap, if any.
    if (c->fetching)
        return false;
    const int p = c->streamPartition;
    QVarLengthArray<char, StreamId::maxEventIdLength> idBuf(
        StreamCursor::maxEventIdLength(c->position.partitions()));
    while (!c->backlog.empty()) {
        if (c->sink->pendingBytes() >= replayLowWater)
            return false;
        const StreamEntry e = std::move(c->backlog.front());
        c->backlog.pop_front();
        const auto position = StreamId::parseEntryId(e.id);
        if (!position || c->position.covers(p, *position))
            continue;
        c->position.set(p, *position);
        if (!c->accepts(-1, e.channel))
            continue;
        QByteArray frame;
        EventEncoding::appendFrame(
            frame, QByteArrayView(idBuf.data(), c->position.writeEventId(idBuf.data(), p)),
            e.channel, position->ms, e.data, m_options.maxPayloadBytes);
        c->sink->write(frame);
        ++m_replayedFromStream;
    }
    // Entries at the end of the page that were left out (not in the allowlist) are passed too.
    if (!c->position.covers(p, c->pageEnd))
        c->position.set(p, c->pageEnd);
    const StreamCursor covered = coveredAfter();
    if (c->position.at(p) < covered.at(p)) {
        if (!c->streamEnded) {
            fetchStreamPage(c);
            return false;
        }
        // Redis has nothing after here, yet the ring does not reach back to here: what lay
        // between is gone from both.
        sendStreamGap(c, p, covered.at(p));
    }
    // This partition is caught up; the next one the ring does not cover yet, one at a time
    // (a channel's entries are all in one partition, so each keeps its order).
    for (int q = 0; q < covered.partitions(); ++q) {
        if (c->position.at(q) < covered.at(q)) {
            c->streamPartition = q;
            c->streamEnded = false;
            c->pageEnd = {};
            fetchStreamPage(c);
            return false;
        }
    }
    // The ring holds everything after here (or the reader has not taken it yet: live entries
    // up to the position are then skipped, as for a client ahead of this gateway).
    c->fromStream = false;
    c->after.raise(c->position);
    c->cursor = m_ring.isEmpty() ? m_seq : m_ring.firstAfter(c->position) - 1;
    return true;
}

void Hub::fetchStreamPage(Subscriber *c)
{
    c->fetching = true;
    // From the position itself: a page that starts with it shows nothing after it is missing.
    m_source.fetchFrom(c->streamPartition, c->position.at(c->streamPartition).toEntryId(),
                       replayPageEntries + 1,
                       [self = QPointer<Hub>(this), id = c->id](const StreamPage &page) {
                           if (self)
                               self->takeStreamPage(id, page);
                       });
}

Hub::Subscriber *Hub::findClient(quint64 clientId) const
{
    for (const auto &client : m_clients)
        if (client->id == clientId)
            return client->dead ? nullptr : client.get();
    return nullptr;
}

void Hub::takeStreamPage(quint64 clientId, const StreamPage &page)
{
    Subscriber *c = findClient(clientId);
    if (!c)
        return;
    if (!page.error.isEmpty()) {
        // Redis is away: the client waits (its stream stays open) and nothing is lost.
        qCWarning(lcHub, "replay for %s waits: %s",
                  qUtf8Printable(c->sink->peerAddress().toString()), qUtf8Printable(page.error));
        QTimer::singleShot(streamRetryMs, this, [this, clientId] {
            if (Subscriber *waiting = findClient(clientId); waiting && waiting->fromStream)
                fetchStreamPage(waiting);
        });
        return;
    }
    const int p = c->streamPartition;
    const bool holdsPosition = page.firstId == c->position.at(p).toEntryId();
    c->backlog.assign(page.entries.cbegin(), page.entries.cend());
    c->streamEnded = page.reachedEnd;
    c->pageEnd = StreamId::parseEntryId(page.lastId).value_or(c->position.at(p));
    if (holdsPosition) {
        c->fetching = false;
        pump(c);
        return;
    }
    // The page does not start with the position: was anything after it removed, or did it
    // never exist (a gap's id, or the start of a gateway's coverage)?
    m_source.fetchRemovedAfter(p, c->position.at(p).toEntryId(),
                               [self = QPointer<Hub>(this), clientId](const StreamPage &info) {
                                   if (self)
                                       self->checkStreamLoss(clientId, info);
                               });
}

void Hub::checkStreamLoss(quint64 clientId, const StreamPage &info)
{
    Subscriber *c = findClient(clientId);
    if (!c)
        return;
    c->fetching = false;
    // Unknown (an error) counts as a loss: a gap said in vain is better than a loss not said.
    if (!info.error.isEmpty() || info.removedAfter) {
        const int p = c->streamPartition;
        StreamId resume = std::max(c->position.at(p), c->pageEnd);
        if (!c->backlog.empty())
            resume = StreamId::parseEntryId(c->backlog.front().id).value_or(resume).previous();
        else if (c->streamEnded)
            resume = std::max(resume, coveredAfter().at(p));
        sendStreamGap(c, p, resume);
    }
    pump(c);
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
    // A stream reader reads on after its last entry: an outage alone loses nothing.
    if (m_options.streams)
        return;
    // Back after an outage: whatever was published meanwhile never reached us. Say so in the
    // stream itself (and in the ring, so resuming clients see it too).
    ++m_gapsRedis;
    QJsonObject o{{Vocabulary::reasonMember, Vocabulary::redisDisconnectedGap},
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
    appendGap(o);
}

void Hub::announceMissing(const QString &reason, const QString &message)
{
    ++m_gapsRedis;
    appendGap({{Vocabulary::reasonMember, reason},
               {QStringLiteral("missed"), QJsonValue()},
               {QStringLiteral("message"), message}});
}

void Hub::appendGap(const QJsonObject &body)
{
    const qint64 seq = ++m_seq;
    ReplayRing::Entry entry;
    entry.seq = seq;
    // In the streams transport a gap sits at the position of the entry before it: resuming
    // after it goes on with the next entry.
    entry.cursor = m_position;
    entry.frame = SseEncoder::event(m_options.streams ? m_position.toEventId()
                                                      : EventId{m_boot, seq}.toByteArray(),
                                    Vocabulary::gapEvent, json(body));
    m_ring.append(entry);
    for (const auto &client : m_clients) {
        if (!client->live || client->dead)
            continue;
        QByteArray own;
        if (const QByteArray *frame = frameFor(client.get(), entry, own))
            writeOrDrop(client.get(), *frame);
    }
}

void Hub::markDead(Subscriber *s)
{
    if (s->dead)
        return;
    s->dead = true;
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
    std::erase_if(m_clients, [this](const std::unique_ptr<Subscriber> &s) {
        if (!s->dead)
            return false;
        if (auto it = m_perAddress.find(s->sink->peerAddress());
            it != m_perAddress.end() && --*it <= 0)
            m_perAddress.erase(it);
        return true;
    });
    if (m_clients.size() != before)
        Q_EMIT clientCountChanged(clientCount());
}

void Hub::closeAllClients(const QByteArray &reason)
{
    closeClientsWhere([](const EventSink &) { return true; }, reason);
}

QJsonObject Hub::statsJson(Subscriber *s) const
{
    // A client sees the channels it selected, which are within what its token may read; a
    // client without a selection may read everything, the aggregate rows included.
    const bool everything = s->sink->selection().isEmpty();
    QJsonObject channels;
    quint64 received = 0, delivered = 0, dropped = 0;
    double rate = 0, tokenRate = 0;
    const std::vector<ChannelStats> &rows = m_channels.rows();
    for (size_t i = 0; i < rows.size(); ++i) {
        const ChannelStats &row = rows[i];
        if (!everything && (row.aggregate || !s->accepts(int(i), row.name)))
            continue;
        channels.insert(QString::fromUtf8(row.name),
                        QJsonObject{{QStringLiteral("rate"), rounded(row.rate)},
                                    {QStringLiteral("tokens_rate"), rounded(row.tokenRate)},
                                    {QStringLiteral("received"), qint64(row.received)}});
        received += row.received;
        delivered += row.delivered;
        dropped += row.dropped;
        rate += row.rate;
        tokenRate += row.tokenRate;
    }
    if (everything) {
        received = m_channels.received();
        rate = m_channels.rate();
        tokenRate = m_channels.tokenRate();
    }
    return QJsonObject{{QStringLiteral("ts"), QDateTime::currentMSecsSinceEpoch()},
                       {QStringLiteral("uptime_s"), m_uptime.elapsed() / 1000},
                       {QStringLiteral("redis"),
                        m_redisUp ? QStringLiteral("connected") : QStringLiteral("disconnected")},
                       {QStringLiteral("transport"), QLatin1StringView(transportName())},
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
    m_channels.tick(std::max(0.001, double(m_sinceTick.restart()) / 1000.0));

    if (m_clients.empty())
        return;
    // One frame per distinct selection, shared by the clients that made it; its id is the
    // newest event's, so it never moves a client's Last-Event-ID past something it has not been
    // sent.
    const QByteArray id = lastEventId();
    QHash<QByteArray, QByteArray> statsBySelection;
    const bool heartbeat = ++m_ticks % m_options.heartbeatSeconds == 0;
    const QByteArray beat =
        heartbeat ? SseEncoder::comment(QByteArray::number(QDateTime::currentMSecsSinceEpoch()))
                  : QByteArray();
    for (const auto &client : m_clients) {
        Subscriber *s = client.get();
        if (s->dead)
            continue;
        if (heartbeat)
            writeControl(s, beat);
        if (!s->live)
            continue;
        const QByteArray key = s->sink->selection().join('\n');
        auto it = statsBySelection.find(key);
        if (it == statsBySelection.end())
            it = statsBySelection.insert(
                key, SseEncoder::event(id, Vocabulary::statsEvent, json(statsJson(s))));
        writeControl(s, *it);
    }
}

int Hub::closeClientsWhere(const std::function<bool(const EventSink &)> &revoked,
                           const QByteArray &reason)
{
    QJsonObject o{{QStringLiteral("reason"), QString::fromUtf8(reason)}};
    // No id: a client still replaying has not had everything up to the newest event.
    const QByteArray frame = SseEncoder::eventWithoutId(Vocabulary::shutdownEvent, json(o));
    int closed = 0;
    for (const auto &client : m_clients) {
        if (!client->dead && revoked(*client->sink)) {
            client->sink->close(frame);
            markDead(client.get());
            ++closed;
        }
    }
    return closed;
}

void Hub::sendStreamGap(Subscriber *c, int partition, const StreamId &resume)
{
    ++m_gapsHistory;
    const QString after = QString::fromLatin1(c->position.toEventId());
    if (!c->position.covers(partition, resume))
        c->position.set(partition, resume);
    const QByteArray resumeId = c->position.toEventId();
    const QJsonObject o{
        {Vocabulary::reasonMember, Vocabulary::historyExceededGap},
        {QStringLiteral("last_event_id"), after},
        {QStringLiteral("resume_id"), QString::fromLatin1(resumeId)},
        {QStringLiteral("missed"), QJsonValue()},
        {QStringLiteral("message"),
         QStringLiteral("events after %1 were removed from the stream before this client read "
                        "them")
             .arg(after)}};
    c->sink->write(SseEncoder::event(resumeId, Vocabulary::gapEvent, json(o)));
}
