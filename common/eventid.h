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
