#include "eventid.h"

#include <algorithm>
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

bool StreamCursor::dominates(const StreamCursor &other) const
{
    for (int p = 0; p < other.partitions(); ++p)
        if (other.at(p) > (p < partitions() ? at(p) : StreamId{}))
            return false;
    return true;
}

void StreamCursor::raise(const StreamCursor &other)
{
    if (m_ids.isEmpty()) {
        m_ids = other.m_ids;
        return;
    }
    for (int p = 0; p < std::min(partitions(), other.partitions()); ++p)
        m_ids[p] = std::max(m_ids[p], other.at(p));
}

int StreamCursor::writeEventId(char *out, int own) const
{
    if (m_ids.size() == 1)
        return m_ids.front().writeEventId(out);
    char *at = out;
    *at++ = 'c';
    *at++ = '1';
    for (int p = 0; p < partitions(); ++p) {
        *at++ = ',';
        if (p == own)
            *at++ = '*';
        const StreamId &id = m_ids.at(p);
        if (id != StreamId{})
            at += EventId{id.ms, id.seq}.write(at);
    }
    return int(at - out);
}

QByteArray StreamCursor::toEventId(int own) const
{
    QByteArray out(maxEventIdLength(partitions()), Qt::Uninitialized);
    out.truncate(writeEventId(out.data(), own));
    return out;
}

std::optional<StreamCursor> StreamCursor::parseEventId(QByteArrayView text, int partitions,
                                                       int *own)
{
    StreamCursor cursor(partitions);
    if (own)
        *own = partitions == 1 ? 0 : -1;
    if (partitions == 1) {
        const auto id = StreamId::parseEventId(text);
        if (!id)
            return std::nullopt;
        cursor.set(0, *id);
        return cursor;
    }
    if (!text.startsWith("c1,"))
        return std::nullopt;
    text = text.sliced(3);
    int marked = -1;
    for (int p = 0; p < partitions; ++p) {
        const qsizetype comma = text.indexOf(',');
        if ((comma < 0) != (p == partitions - 1))
            return std::nullopt; // too few or too many parts
        QByteArrayView part = comma < 0 ? text : text.first(comma);
        if (part.startsWith('*')) {
            if (marked >= 0)
                return std::nullopt;
            marked = p;
            part = part.sliced(1);
        }
        if (!part.isEmpty()) {
            const auto id = StreamId::parseEntryId(part);
            if (!id)
                return std::nullopt;
            cursor.set(p, *id);
        }
        text = comma < 0 ? QByteArrayView() : text.sliced(comma + 1);
    }
    if (own)
        *own = marked;
    return cursor;
}
