#pragma once

#include "eventid.h"

#include <QByteArray>
#include <QContiguousCache>

// The last N encoded events, for replay after Last-Event-ID, bounded by count and by bytes.
// Sequence numbers are consecutive, so an event is found by arithmetic, not search; in the
// streams transport, by its stream position (a binary search over one partition, a scan over
// several, whose entries interleave).
class ReplayRing final
{
public:
    struct Entry
    {
        qint64 seq = 0;
        int channel = -1; // index into the hub's channel table; -1 for gateway events (gaps)
        QByteArray name;  // the channel's name (shared with the table's copy)
        QByteArray frame; // the SSE bytes, shared with every client that gets them
        // Streams transport: the Redis entry id the event came from, and its partition.
        StreamId position;
        int partition = 0;
        // Streams transport: the position after the event, its SSE id (a gap: the position
        // before it). Never decreases along the ring in any partition.
        StreamCursor cursor;
    };

    ReplayRing(int capacity, qint64 maxBytes);

    void append(Entry entry);
    // The entry with sequence number `seq`, or null if it is not (or no longer) held.
    const Entry *find(qint64 seq) const;
    // The sequence number of the first event a reader at `position` has not seen (an entry
    // `position` does not cover, a gap it does not dominate), or lastSeq() + 1 when there is
    // none (streams transport; not for an empty ring). Events after that one may be seen
    // already too, when `position` came from a gateway that read the partitions in another
    // order.
    qint64 firstAfter(const StreamCursor &position) const;
    // Whether a reader at `position` has seen `entry`.
    static bool covers(const StreamCursor &position, const Entry &entry)
    {
        return entry.channel >= 0 ? position.covers(entry.partition, entry.position)
                                  : position.dominates(entry.cursor);
    }

    bool isEmpty() const { return m_cache.isEmpty(); }
    qsizetype size() const { return m_cache.size(); }
    qsizetype capacity() const { return m_cache.capacity(); }
    qint64 bytes() const { return m_bytes; }
    // Oldest and newest sequence numbers held; 0 when empty.
    qint64 firstSeq() const { return m_cache.isEmpty() ? 0 : m_cache.first().seq; }
    qint64 lastSeq() const { return m_cache.isEmpty() ? 0 : m_cache.last().seq; }
    quint64 evicted() const { return m_evicted; }
    // Streams transport: the position after the newest event evicted so far (no partitions
    // before any).
    const StreamCursor &evictedUpTo() const { return m_evictedUpTo; }

private:
    QContiguousCache<Entry> m_cache;
    qint64 m_maxBytes;
    qint64 m_bytes = 0;
    quint64 m_evicted = 0;
    StreamCursor m_evictedUpTo;

    void evictFirst();
};
