#include "trustedproxies.h"

#include "httpsyntax.h"

#include <QStringList>

#include <algorithm>

namespace {

using HttpSyntax::equalsIgnoringCase;
using HttpSyntax::isOws;
using HttpSyntax::isTokenChar;
using HttpSyntax::trimmedOws;

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

// A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; compare them as IPv4.
QHostAddress normalized(const QHostAddress &address)
{
    if (address.protocol() != QAbstractSocket::IPv6Protocol)
        return address;
    // Not toIPv4Address(&ok), which also turns "::" into 0.0.0.0.
    const Q_IPV6ADDR a = address.toIPv6Address();
    for (int i = 0; i < 10; ++i)
        if (a[i] != 0)
            return address;
    if (a[10] != 0xff || a[11] != 0xff)
        return address;
    return QHostAddress(quint32(a[12]) << 24 | quint32(a[13]) << 16 | quint32(a[14]) << 8 | a[15]);
}

// Dotted decimal exactly (RFC 3986 IPv4address): QHostAddress also takes "127.1", "0x7f.0.0.1"
// and leading zeros, which no proxy writes and a person would not mean.
std::optional<QHostAddress> parseIpv4(QByteArrayView s)
{
    quint32 value = 0;
    int parts = 0;
    for (qsizetype i = 0; i <= s.size(); ++parts) {
        qsizetype end = s.indexOf('.', i);
        if (end < 0)
            end = s.size();
        const QByteArrayView part = s.sliced(i, end - i);
        if (part.isEmpty() || part.size() > 3 || !std::all_of(part.begin(), part.end(), isDigit) ||
            (part.size() > 1 && part.front() == '0') || parts == 4)
            return std::nullopt;
        const int octet = part.toInt();
        if (octet > 255)
            return std::nullopt;
        value = (value << 8) | quint32(octet);
        i = end + 1;
    }
    if (parts != 4)
        return std::nullopt;
    return QHostAddress(value);
}

// An IPv6 address without brackets, zone or spaces (QHostAddress reads the rest).
std::optional<QHostAddress> parseIpv6(QByteArrayView s)
{
    if (s.isEmpty() || s.size() > 45 || !s.contains(':') ||
        !std::all_of(s.begin(), s.end(), [](char c) {
            return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
                   c == '.';
        }))
        return std::nullopt;
    QHostAddress address;
    if (!address.setAddress(QString::fromLatin1(s)) ||
        address.protocol() != QAbstractSocket::IPv6Protocol)
        return std::nullopt;
    return normalized(address);
}

std::optional<QHostAddress> parseAddress(QByteArrayView s)
{
    return s.contains(':') ? parseIpv6(s) : parseIpv4(s);
}

bool isObfuscated(QByteArrayView s)
{
    // RFC 7239 6.3: "_" 1*( ALPHA / DIGIT / "." / "_" / "-" )
    return s.size() > 1 && s.front() == '_' && std::all_of(s.begin() + 1, s.end(), [](char c) {
               return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
                      c == '_' || c == '-';
           });
}

bool isPort(QByteArrayView s, bool obfuscatedAllowed)
{
    return (!s.isEmpty() && s.size() <= 5 && std::all_of(s.begin(), s.end(), isDigit)) ||
           (obfuscatedAllowed && isObfuscated(s));
}

// A node of Forwarded (RFC 7239 6), or an entry of X-Forwarded-For: an address with an optional
// port, IPv6 in brackets when there is a port (Forwarded: always), or "unknown" (a null
// address). Nullopt when it is none of these.
std::optional<QHostAddress> parseNode(QByteArrayView s, bool forwarded)
{
    QByteArrayView name = s;
    QByteArrayView port;
    bool hasPort = false;
    if (s.startsWith('[')) {
        const qsizetype close = s.indexOf(']');
        if (close < 0)
            return std::nullopt;
        name = s.sliced(1, close - 1);
        const QByteArrayView rest = s.sliced(close + 1);
        if (!rest.isEmpty()) {
            if (rest.front() != ':')
                return std::nullopt;
            port = rest.sliced(1);
            hasPort = true;
        }
        if (hasPort && !isPort(port, forwarded))
            return std::nullopt;
        return parseIpv6(name);
    }
    const qsizetype colon = s.indexOf(':');
    // Unbracketed IPv6 is X-Forwarded-For's usual form; Forwarded requires the brackets.
    if (colon >= 0 && (forwarded || s.indexOf(':', colon + 1) < 0)) {
        name = s.first(colon);
        port = s.sliced(colon + 1);
        hasPort = true;
    }
    if (hasPort && !isPort(port, forwarded))
        return std::nullopt;
    if (equalsIgnoringCase(name, "unknown") || (forwarded && isObfuscated(name)))
        return QHostAddress();
    return hasPort ? parseIpv4(name) : parseAddress(name);
}

// One Forwarded field value: forwarded-element *( OWS "," OWS forwarded-element ), each
// element [ pair ] *( ";" [ pair ] ), a pair token "=" ( token / quoted-string ). Whitespace
// around the separators is tolerated (some proxies write "; "). Appends one hop per non-empty
// element; false when the value is malformed.
bool readForwarded(QByteArrayView v, QList<QHostAddress> &hops, bool &anyFor)
{
    qsizetype i = 0;
    auto skipOws = [&] {
        while (i < v.size() && isOws(v[i]))
            ++i;
    };
    bool elementEmpty = true, hasFor = false;
    QHostAddress hop;
    for (;;) {
        skipOws();
        if (i < v.size() && v[i] != ',' && v[i] != ';') {
            const qsizetype nameStart = i;
            while (i < v.size() && isTokenChar(v[i]))
                ++i;
            const QByteArrayView name = v.sliced(nameStart, i - nameStart);
            if (name.isEmpty() || i >= v.size() || v[i] != '=')
                return false;
            ++i;
            QByteArray value;
            if (i < v.size() && v[i] == '"') {
                bool closed = false;
                for (++i; i < v.size() && !closed; ++i) {
                    if (v[i] == '"') {
                        closed = true;
                    } else if (v[i] == '\\') {
                        if (++i >= v.size())
                            return false;
                        value.append(v[i]);
                    } else {
                        value.append(v[i]);
                    }
                }
                if (!closed)
                    return false;
            } else {
                const qsizetype valueStart = i;
                while (i < v.size() && isTokenChar(v[i]))
                    ++i;
                value = v.sliced(valueStart, i - valueStart).toByteArray();
                if (value.isEmpty())
                    return false;
            }
            if (equalsIgnoringCase(name, "for")) {
                if (hasFor)
                    return false; // RFC 7239 4: at most once per element
                const auto node = parseNode(value, true);
                if (!node)
                    return false;
                hasFor = true;
                hop = *node;
            }
            elementEmpty = false;
            skipOws();
        }
        const bool end = i >= v.size();
        if (!end && v[i] != ',' && v[i] != ';')
            return false;
        if (end || v[i] == ',') {
            if (!elementEmpty) {
                hops.append(hasFor ? hop : QHostAddress());
                anyFor = anyFor || hasFor;
            }
            elementEmpty = true;
            hasFor = false;
            hop = QHostAddress();
        }
        if (end)
            return true;
        ++i;
    }
}

} // namespace

std::optional<TrustedProxies> TrustedProxies::parse(const QString &text, QString *why)
{
    TrustedProxies proxies;
    for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const QString entry = part.trimmed();
        if (entry.isEmpty())
            continue;
        const qsizetype slash = entry.indexOf(QLatin1Char('/'));
        const QByteArray addressText = entry.left(slash).toLatin1();
        const auto address = parseAddress(addressText);
        if (!address || entry.left(slash) != QString::fromLatin1(addressText)) {
            *why = QStringLiteral("\"%1\" is not an IP address or a network like 10.0.0.0/8 or "
                                  "fd00::/8 (host names are not looked up)")
                       .arg(entry);
            return std::nullopt;
        }
        const bool v4 = address->protocol() == QAbstractSocket::IPv4Protocol;
        if (v4 && addressText.contains(':')) {
            *why = QStringLiteral("\"%1\" is an IPv4-mapped IPv6 address: write %2 instead (IPv4 "
                                  "peers are compared as IPv4)")
                       .arg(entry, address->toString());
            return std::nullopt;
        }
        const int bits = v4 ? 32 : 128;
        int prefix = bits;
        if (slash >= 0) {
            const QString prefixText = entry.mid(slash + 1);
            bool ok = false;
            prefix = prefixText.toInt(&ok);
            if (!ok || prefixText.isEmpty() || prefixText.size() > 3 ||
                !std::all_of(prefixText.begin(), prefixText.end(),
                             [](QChar c) { return c.isDigit(); }) ||
                prefix > bits) {
                *why = QStringLiteral("\"%1\": the prefix length of an %2 network is 0 to %3")
                           .arg(entry, v4 ? QStringLiteral("IPv4") : QStringLiteral("IPv6"))
                           .arg(bits);
                return std::nullopt;
            }
        }
        const QHostAddress network =
            QHostAddress::parseSubnet(address->toString() + QLatin1Char('/') +
                                      QString::number(prefix))
                .first;
        if (network != *address) {
            *why = QStringLiteral("\"%1\" has address bits set beyond its /%2 prefix; did you mean "
                                  "%3/%2?")
                       .arg(entry)
                       .arg(prefix)
                       .arg(network.toString());
            return std::nullopt;
        }
        proxies.m_networks.append({network, prefix});
    }
    return proxies;
}

bool TrustedProxies::contains(const QHostAddress &address) const
{
    if (m_networks.isEmpty())
        return false;
    const QHostAddress a = normalized(address);
    return std::any_of(m_networks.begin(), m_networks.end(),
                       [&](const auto &n) { return a.isInSubnet(n.first, n.second); });
}

QString TrustedProxies::toString() const
{
    QStringList parts;
    for (const auto &[network, prefix] : m_networks) {
        const int bits = network.protocol() == QAbstractSocket::IPv4Protocol ? 32 : 128;
        parts.append(prefix == bits
                         ? network.toString()
                         : network.toString() + QLatin1Char('/') + QString::number(prefix));
    }
    return parts.join(QStringLiteral(", "));
}

std::optional<QList<QHostAddress>> TrustedProxies::forwardedHops(const QByteArrayList &fields)
{
    QList<QHostAddress> hops;
    bool anyFor = false;
    for (const QByteArray &field : fields)
        if (!readForwarded(field, hops, anyFor))
            return std::nullopt;
    if (!anyFor)
        hops.clear(); // e.g. "proto=https" alone names no hop
    return hops;
}

std::optional<QList<QHostAddress>> TrustedProxies::forwardedForHops(const QByteArrayList &fields)
{
    QList<QHostAddress> hops;
    for (const QByteArray &field : fields) {
        for (QByteArrayView rest = field; !rest.isEmpty();) {
            const qsizetype comma = rest.indexOf(',');
            const QByteArrayView entry = trimmedOws(comma < 0 ? rest : rest.first(comma));
            rest = comma < 0 ? QByteArrayView() : rest.sliced(comma + 1);
            if (entry.isEmpty())
                continue; // RFC 9110 5.6.1: empty list elements do not count
            const auto hop = parseNode(entry, false);
            if (!hop)
                return std::nullopt;
            hops.append(*hop);
        }
    }
    return hops;
}

std::optional<TrustedProxies::Resolved>
TrustedProxies::resolve(const QList<QHostAddress> &hops) const
{
    for (qsizetype i = hops.size() - 1; i >= 0; --i) {
        if (hops[i].isNull())
            return std::nullopt; // an unknown hop: whoever is left of it cannot be vouched for
        if (!contains(hops[i]))
            return Resolved{hops[i], true};
    }
    // Proxies all the way: the farthest one is the best known (as nginx's real_ip_recursive).
    return Resolved{hops.front(), false};
}

QHostAddress TrustedProxies::clientAddress(const QHostAddress &peer,
                                           const QByteArrayList &forwarded,
                                           const QByteArrayList &forwardedFor) const
{
    if ((forwarded.isEmpty() && forwardedFor.isEmpty()) || !contains(peer))
        return peer;
    const auto forwardedList = forwardedHops(forwarded);
    const auto forwardedForList = forwardedForHops(forwardedFor);
    if (!forwardedList || !forwardedForList)
        return peer;
    std::optional<Resolved> byForwarded, byForwardedFor;
    if (!forwardedList->isEmpty() && !(byForwarded = resolve(*forwardedList)))
        return peer;
    if (!forwardedForList->isEmpty() && !(byForwardedFor = resolve(*forwardedForList)))
        return peer;
    if (byForwarded && byForwardedFor && byForwarded->address != byForwardedFor->address) {
        if (byForwarded->client == byForwardedFor->client)
            return peer; // they contradict each other: one of them is the client's own
        return byForwarded->client ? byForwarded->address : byForwardedFor->address;
    }
    if (byForwarded)
        return byForwarded->address;
    if (byForwardedFor)
        return byForwardedFor->address;
    return peer;
}
