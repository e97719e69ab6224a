#pragma once

#include "redisurl.h"

#include <QByteArrayView>
#include <QString>

#include <optional>
#include <vector>

struct redisReply;

// What a Redis Cluster client needs to know to send a key's command to the right node, as the
// Redis Cluster specification has it: the hash slot of a key (CRC16/XMODEM of its hash tag or of
// the whole key, & 0x3FFF), which master serves a slot (a CLUSTER SLOTS reply), and where an error
// reply sends the command instead (MOVED, ASK) or that it should be tried again later (TRYAGAIN,
// CLUSTERDOWN). Pure logic over bytes Redis sent: no connection here (RedisConnection uses it).
class ClusterSlots final
{
public:
    static constexpr int slotCount = 16384;

    // CRC16/XMODEM (polynomial 0x1021, initial 0): "123456789" gives 0x31C3.
    static quint16 crc16(QByteArrayView data);
    // The part between the first '{' and the next '}' when that is not empty, else the whole key,
    // hashed with crc16() & 0x3FFF.
    static quint16 keySlot(QByteArrayView key);

    // The masters of a CLUSTER SLOTS reply; nullopt for anything else (an error reply: the node
    // is not in cluster mode, or may not run CLUSTER). A master announced without an endpoint
    // (NULL, "" or "?": the node does not know the address clients reach it by) is on
    // `replyingHost`, the host the reply came from, at its announced port.
    static std::optional<ClusterSlots> fromReply(const redisReply *reply,
                                                 const QString &replyingHost);
    // The master serving `slot`; nullopt when no node does (the cluster is incomplete).
    std::optional<RedisUrl::Node> master(quint16 slot) const;
    qsizetype rangeCount() const { return qsizetype(m_ranges.size()); }

    // An error reply that sends a command elsewhere or asks to wait: "MOVED <slot> <endpoint>",
    // "ASK <slot> <endpoint>" (endpoint "host:port", split at the last colon, so Redis 7's
    // "::1:7000" is the IPv6 host ::1; "[::1]:7000" is taken too; an empty or "?" host is
    // `replyingHost`), "TRYAGAIN ..." and "CLUSTERDOWN ...".
    struct Redirect
    {
        enum class Kind { Moved, Ask, TryAgain, ClusterDown };
        Kind kind = Kind::Moved;
        quint16 slot = 0;    // Moved and Ask only
        RedisUrl::Node node; // Moved and Ask only
    };
    static std::optional<Redirect> parseRedirect(QByteArrayView error, const QString &replyingHost);
    // "host:port" (IPv6 hosts as they are written, "::1:7000") as MOVED and CLUSTER SLOTS give
    // it; nullopt without a port in 1..65535.
    static std::optional<RedisUrl::Node> parseEndpoint(QByteArrayView endpoint,
                                                       const QString &replyingHost);

private:
    struct Range
    {
        quint16 first = 0;
        quint16 last = 0;
        RedisUrl::Node master;
    };
    std::vector<Range> m_ranges;
};
