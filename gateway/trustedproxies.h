#pragma once

#include <QByteArrayList>
#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QString>

#include <optional>

// The reverse proxies whose word the gateway takes for a client's address (--trusted-proxies),
// and the reading of what they forward. Behind a proxy every TCP peer is the proxy, so
// per-address limits would count all its clients as one. A request whose peer is one of these
// is attributed to the client its Forwarded (RFC 7239) or X-Forwarded-For header names: the
// right-most hop that is not itself a trusted proxy, i.e. the address the last trusted proxy saw
// (hops further left are claims of the client, which anyone can forge; qBittorrent's "trusted
// reverse proxies" take the first global address instead, which a client can choose). From any
// other peer both headers are ignored. What cannot be read for certain leaves the peer's address.
class TrustedProxies final
{
public:
    // "10.0.0.1, 10.1.0.0/16, ::1, fd00::/8": addresses and networks, comma-separated; empty:
    // none. Nullopt with the reason when an entry is neither.
    static std::optional<TrustedProxies> parse(const QString &text, QString *why);

    bool isEmpty() const { return m_networks.isEmpty(); }
    // IPv4-mapped IPv6 addresses (a dual-stack socket's peers) count as the IPv4 address.
    bool contains(const QHostAddress &address) const;
    QString toString() const;

    // The client for which `peer` sent a request with these header fields (the values of every
    // Forwarded and X-Forwarded-For field line, in order). `peer` itself unless it is trusted and
    // the headers name the client: Forwarded when it has a for= parameter, else X-Forwarded-For.
    // When a request has both, they must agree, or one must end in trusted proxies only (an
    // earlier proxy set just the other one); if they contradict each other the peer's address
    // is used, so a client cannot pick its address by sending the header its proxy leaves alone.
    // An unknown or obfuscated hop before the client, or a malformed header, also leaves `peer`.
    QHostAddress clientAddress(const QHostAddress &peer, const QByteArrayList &forwarded,
                               const QByteArrayList &forwardedFor) const;

    // The hops a header lists, from the farthest (left) to the nearest (right); a null address
    // for a hop that is "unknown", obfuscated (RFC 7239 6.3) or, in Forwarded, an element
    // without for=. Empty when no hop is named (no field, or Forwarded without any for=).
    // Nullopt when the header is malformed.
    static std::optional<QList<QHostAddress>> forwardedHops(const QByteArrayList &fields);
    static std::optional<QList<QHostAddress>> forwardedForHops(const QByteArrayList &fields);

private:
    struct Resolved
    {
        QHostAddress address;
        bool client = false; // an untrusted hop; false: the hops were all trusted proxies
    };
    std::optional<Resolved> resolve(const QList<QHostAddress> &hops) const;

    QList<QPair<QHostAddress, int>> m_networks; // address, prefix length
};
