#include "clusterslots.h"

#include <hiredis/hiredis.h>

#include <array>

namespace {

// The table of CRC16/XMODEM, built once at compile time.
constexpr std::array<quint16, 256> crc16Table = [] {
    std::array<quint16, 256> table{};
    for (unsigned byte = 0; byte < 256; ++byte) {
        unsigned crc = byte << 8;
        for (int bit = 0; bit < 8; ++bit)
            crc = (crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1;
        table[byte] = quint16(crc);
    }
    return table;
}();

// Redis announces a node whose address it does not know as NULL, "" or "?".
bool isUnknownHost(QByteArrayView host)
{
    return host.isEmpty() || host == "?";
}

std::optional<quint16> parseNumber(QByteArrayView text, uint max)
{
    if (text.isEmpty() || text.size() > 5)
        return std::nullopt;
    uint value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        value = value * 10 + uint(c - '0');
    }
    if (value > max)
        return std::nullopt;
    return quint16(value);
}

} // namespace

quint16 ClusterSlots::crc16(QByteArrayView data)
{
    quint16 crc = 0;
    for (char c : data)
        crc = quint16((crc << 8) ^ crc16Table[((crc >> 8) ^ quint8(c)) & 0xff]);
    return crc;
}

quint16 ClusterSlots::keySlot(QByteArrayView key)
{
    if (const qsizetype open = key.indexOf('{'); open >= 0) {
        const qsizetype close = key.indexOf('}', open + 1);
        if (close > open + 1)
            key = key.sliced(open + 1, close - open - 1);
    }
    return crc16(key) & (slotCount - 1);
}

std::optional<RedisUrl::Node> ClusterSlots::parseEndpoint(QByteArrayView endpoint,
                                                          const QString &replyingHost)
{
    const qsizetype colon = endpoint.lastIndexOf(':');
    if (colon < 0)
        return std::nullopt;
    const auto port = parseNumber(endpoint.sliced(colon + 1), 65535);
    if (!port || *port == 0)
        return std::nullopt;
    QByteArrayView host = endpoint.first(colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.sliced(1, host.size() - 2);
    if (host.contains(' ') || host.contains('[') || host.contains(']'))
        return std::nullopt;
    return RedisUrl::Node{isUnknownHost(host) ? replyingHost : QString::fromUtf8(host), *port};
}

std::optional<ClusterSlots::Redirect> ClusterSlots::parseRedirect(QByteArrayView error,
                                                                  const QString &replyingHost)
{
    if (error.startsWith("TRYAGAIN"))
        return Redirect{Redirect::Kind::TryAgain, 0, {}};
    if (error.startsWith("CLUSTERDOWN"))
        return Redirect{Redirect::Kind::ClusterDown, 0, {}};
    Redirect redirect;
    if (error.startsWith("MOVED "))
        redirect.kind = Redirect::Kind::Moved;
    else if (error.startsWith("ASK "))
        redirect.kind = Redirect::Kind::Ask;
    else
        return std::nullopt;
    // "<word> <slot> <endpoint>", nothing after it.
    QByteArrayView rest = error.sliced(error.indexOf(' ') + 1);
    const qsizetype space = rest.indexOf(' ');
    if (space < 0)
        return std::nullopt;
    const auto slot = parseNumber(rest.first(space), slotCount - 1);
    const auto node = parseEndpoint(rest.sliced(space + 1), replyingHost);
    if (!slot || !node)
        return std::nullopt;
    redirect.slot = *slot;
    redirect.node = *node;
    return redirect;
}

std::optional<ClusterSlots> ClusterSlots::fromReply(const redisReply *reply,
                                                    const QString &replyingHost)
{
    // [[first, last, [host, port, id, ...], replica..., ], ...]
    if (!reply || reply->type != REDIS_REPLY_ARRAY)
        return std::nullopt;
    ClusterSlots slots;
    for (size_t i = 0; i < reply->elements; ++i) {
        const redisReply *range = reply->element[i];
        if (range->type != REDIS_REPLY_ARRAY || range->elements < 3)
            continue;
        const redisReply *first = range->element[0];
        const redisReply *last = range->element[1];
        const redisReply *master = range->element[2];
        if (first->type != REDIS_REPLY_INTEGER || last->type != REDIS_REPLY_INTEGER ||
            first->integer < 0 || last->integer < first->integer || last->integer >= slotCount ||
            master->type != REDIS_REPLY_ARRAY || master->elements < 2)
            continue;
        const redisReply *host = master->element[0];
        const redisReply *port = master->element[1];
        if (port->type != REDIS_REPLY_INTEGER || port->integer <= 0 || port->integer > 65535)
            continue;
        QByteArrayView hostText;
        if (host->type == REDIS_REPLY_STRING)
            hostText = QByteArrayView(host->str, qsizetype(host->len));
        else if (host->type != REDIS_REPLY_NIL)
            continue;
        slots.m_ranges.push_back(
            {quint16(first->integer), quint16(last->integer),
             RedisUrl::Node{isUnknownHost(hostText) ? replyingHost : QString::fromUtf8(hostText),
                            quint16(port->integer)}});
    }
    return slots;
}

std::optional<RedisUrl::Node> ClusterSlots::master(quint16 slot) const
{
    for (const Range &range : m_ranges) {
        if (slot >= range.first && slot <= range.last)
            return range.master;
    }
    return std::nullopt;
}
