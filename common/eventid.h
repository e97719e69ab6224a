#pragma once

#include <QByteArray>
#include <QByteArrayView>

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

    // The largest sequence number we read and write (18 digits, see EventId::parse):
    // "<ms>-<largestSeq>" is just before "<ms + 1>-0".
    static constexpr qint64 largestSeq = 999'999'999'999'999'999;

    friend auto operator<=>(const StreamId &, const StreamId &) = default;
};
