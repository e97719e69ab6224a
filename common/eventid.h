#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <QVarLengthArray>

#include <optional>

// An SSE event id, "<boot>-<seq>": the gateway's boot time (ms since the epoch) and a sequence
// number from 1. Ids compare by (boot, seq), so they keep growing across gateway restarts and a
// client can tell an id of this boot from one of an earlier boot.
struct EventId
{
    qint64 boot = 0;
    qint64 seq = 0;

    QByteArray toByteArray() const;
    // Writes the id into `out` (at least maxLength bytes), no terminator; returns its length.
    // The hot path's form: no allocation.
    static constexpr int maxLength = 41;
    int write(char *out) const;
    static std::optional<EventId> parse(QByteArrayView text);

    friend auto operator<=>(const EventId &, const EventId &) = default;
};

// A Redis Stream entry id, "<ms>-<seq>", and the SSE id made of it in the streams transport:
// "s<ms>-<seq>". The same entry has the same SSE id on every gateway; the "s" keeps it from
// being taken for a pub/sub id of the form above, which looks exactly like an entry id.
struct StreamId
{
    qint64 ms = 0;
    qint64 seq = 0;

    // Redis's form, "<ms>-<seq>" (what XADD returns and XREAD reports).
    static std::optional<StreamId> parseEntryId(QByteArrayView text);
    QByteArray toEntryId() const;
    // The SSE form, "s<ms>-<seq>".
    static std::optional<StreamId> parseEventId(QByteArrayView text);
    static constexpr int maxEventIdLength = EventId::maxLength + 1;
    int writeEventId(char *out) const;
    QByteArray toEventId() const;
    // The largest id before this one (no entry can lie between the two); {} for {}.
    StreamId previous() const;
    // The smallest id after this one (no entry can lie between the two).
    StreamId next() const { return seq < largestSeq ? StreamId{ms, seq + 1} : StreamId{ms + 1, 0}; }

    // The largest sequence number we read and write (18 digits, see EventId::parse):
    // "<ms>-<largestSeq>" is just before "<ms + 1>-0".
    static constexpr qint64 largestSeq = 999'999'999'999'999'999;

    friend auto operator<=>(const StreamId &, const StreamId &) = default;
};

// Where a reader of a partitioned stream stands (--stream-partitions): the id of the last entry
// taken from each partition ({} for none yet). Entries of different partitions have no order
// among themselves, so a position is one id per partition, and it is what a client resumes
// from: its SSE form is "c1,<id 0>,<id 1>,..." ("c1": version 1 of the form; {} written as
// nothing), the same on every gateway. The id of an entry's event marks the entry's own
// partition with '*' ("c1,5-0,*7-1,"), which tells /api/history?before= to leave that entry
// out but the positions of the others in. With one partition it is the stream's id alone, in
// StreamId's SSE form "s<ms>-<seq>", as before partitions existed.
class StreamCursor final
{
public:
    StreamCursor() = default; // no partitions: covers nothing, dominated by every cursor
    explicit StreamCursor(int partitions) : m_ids(partitions) {}

    int partitions() const { return int(m_ids.size()); }
    bool isEmpty() const { return m_ids.isEmpty(); }
    const StreamId &at(int partition) const { return m_ids.at(partition); }
    void set(int partition, const StreamId &id) { m_ids[partition] = id; }
    // Whether entry `id` of `partition` is at or before this cursor.
    bool covers(int partition, const StreamId &id) const
    {
        return partition < m_ids.size() && id <= m_ids.at(partition);
    }
    // Whether this cursor is at or past `other` in every partition.
    bool dominates(const StreamCursor &other) const;
    // Moves each partition forward to `other`'s where that is further; a cursor without
    // partitions takes other's.
    void raise(const StreamCursor &other);

    // The SSE form, `own` the partition of the entry whose event it is (-1: none). Writes into
    // `out` (at least maxEventIdLength(partitions()) bytes).
    static constexpr int maxEventIdLength(int partitions)
    {
        return partitions <= 1 ? StreamId::maxEventIdLength
                               : 2 + partitions * (EventId::maxLength + 2);
    }
    int writeEventId(char *out, int own = -1) const;
    QByteArray toEventId(int own = -1) const;
    // A cursor of exactly `partitions` partitions in SSE form; nullopt for anything else (an id
    // of another transport, or of a deployment with another number of partitions). `own` gets
    // the partition marked as the event's own (-1: none; always 0 with one partition).
    static std::optional<StreamCursor> parseEventId(QByteArrayView text, int partitions,
                                                    int *own = nullptr);

    friend bool operator==(const StreamCursor &a, const StreamCursor &b)
    {
        return a.m_ids == b.m_ids;
    }

private:
    QVarLengthArray<StreamId, 1> m_ids; // one partition needs no allocation (the hot path's)
};
