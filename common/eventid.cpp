#include "eventid.h"

#include <charconv>

int EventId::write(char *out) const
{
    // maxLength holds two 20-character numbers and the dash: to_chars cannot run out of room.
    char *end = std::to_chars(out, out + maxLength, boot).ptr;
    *end++ = '-';
    return int(std::to_chars(end, out + maxLength, seq).ptr - out);
}

QByteArray EventId::toByteArray() const
{
    char buf[maxLength];
    return QByteArray(buf, write(buf));
}

std::optional<EventId> EventId::parse(QByteArrayView text)
{
    const qsizetype dash = text.indexOf('-');
    if (dash <= 0 || dash == text.size() - 1)
        return std::nullopt;
    auto number = [](QByteArrayView v) -> std::optional<qint64> {
        if (v.size() > 18)
            return std::nullopt;
        qint64 n = 0;
        for (char c : v) {
            if (c < '0' || c > '9')
                return std::nullopt;
            n = n * 10 + (c - '0');
        }
        return n;
    };
    const auto boot = number(text.first(dash));
    const auto seq = number(text.sliced(dash + 1));
    if (!boot || !seq)
        return std::nullopt;
    return EventId{*boot, *seq};
}

std::optional<StreamId> StreamId::parseEntryId(QByteArrayView text)
{
    // Redis's ids are two unsigned 64-bit numbers; ours stay below 2^63 (EventId::parse caps
    // each at 18 digits), which holds for every id Redis generates with a real clock.
    const auto id = EventId::parse(text);
    if (!id)
        return std::nullopt;
    return StreamId{id->boot, id->seq};
}

QByteArray StreamId::toEntryId() const
{
    return EventId{ms, seq}.toByteArray();
}

std::optional<StreamId> StreamId::parseEventId(QByteArrayView text)
{
    if (!text.startsWith('s'))
        return std::nullopt;
    return parseEntryId(text.sliced(1));
}

int StreamId::writeEventId(char *out) const
{
    out[0] = 's';
    return 1 + EventId{ms, seq}.write(out + 1);
}

QByteArray StreamId::toEventId() const
{
    char buf[maxEventIdLength];
    return QByteArray(buf, writeEventId(buf));
}

StreamId StreamId::previous() const
{
    if (seq > 0)
        return {ms, seq - 1};
    return ms > 0 ? StreamId{ms - 1, largestSeq} : StreamId{};
}
