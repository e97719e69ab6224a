// Fuzzes the readers of Forwarded (RFC 7239) and X-Forwarded-For (gateway/trustedproxies.h),
// which turn what a proxy, or a client through it, sent into the address the gateway limits and
// logs. The input is the field lines of both headers: lines up to the first empty line are
// Forwarded, the rest X-Forwarded-For. Whatever they hold: the client is the peer, or an address
// one of the headers names (never a null one); a peer that is not trusted is always itself; a
// header split into more field lines reads the same; and the hops read back from the form the
// gateway's proxies write (for="[v6]", "v4, v6") are the same hops.

#include "fuzzsupport.h"

#include "trustedproxies.h"

#include <QString>

namespace {

const TrustedProxies &trusted()
{
    static const TrustedProxies proxies = [] {
        QString why;
        auto p = TrustedProxies::parse(
            QStringLiteral("127.0.0.1, 10.0.0.0/8, 192.0.2.0/24, ::1, fd00::/8"), &why);
        FUZZ_CHECK(p.has_value());
        return *p;
    }();
    return proxies;
}

QByteArrayList lines(QByteArrayView text)
{
    QByteArrayList out;
    for (const QByteArray &line : text.toByteArray().split('\n'))
        if (!line.isEmpty())
            out.append(line);
    return out;
}

// The hops as a proxy would write them.
QByteArray asForwarded(const QList<QHostAddress> &hops)
{
    QByteArrayList elements;
    for (const QHostAddress &h : hops) {
        if (h.isNull())
            elements.append("for=unknown");
        else if (h.protocol() == QAbstractSocket::IPv6Protocol)
            elements.append("for=\"[" + h.toString().toLatin1() + "]:443\";proto=https");
        else
            elements.append("for=" + h.toString().toLatin1());
    }
    return elements.join(", ");
}

QByteArray asForwardedFor(const QList<QHostAddress> &hops)
{
    QByteArrayList entries;
    for (const QHostAddress &h : hops)
        entries.append(h.isNull() ? QByteArray("unknown") : h.toString().toLatin1());
    return entries.join(",");
}

bool contains(const std::optional<QList<QHostAddress>> &hops, const QHostAddress &a)
{
    return hops && hops->contains(a);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input = FuzzSupport::view(data, size);
    const qsizetype split = input.indexOf("\n\n");
    const QByteArrayList forwarded = lines(split < 0 ? input : input.first(split));
    const QByteArrayList forwardedFor = lines(split < 0 ? QByteArrayView() : input.sliced(split));

    const auto forwardedHops = TrustedProxies::forwardedHops(forwarded);
    const auto forwardedForHops = TrustedProxies::forwardedForHops(forwardedFor);

    for (const QHostAddress &peer : {QHostAddress(QStringLiteral("10.1.2.3")),
                                     QHostAddress(QStringLiteral("::ffff:127.0.0.1")),
                                     QHostAddress(QStringLiteral("203.0.113.9"))}) {
        const QHostAddress client = trusted().clientAddress(peer, forwarded, forwardedFor);
        FUZZ_CHECK(!client.isNull());
        if (!trusted().contains(peer)) {
            FUZZ_CHECK(client == peer);
            continue;
        }
        if (client != peer) {
            FUZZ_CHECK(forwardedHops && forwardedForHops); // nothing from a malformed header
            FUZZ_CHECK(contains(forwardedHops, client) || contains(forwardedForHops, client));
        }
    }

    // X-Forwarded-For is a list: one field line per entry reads the same.
    if (forwardedForHops) {
        QByteArrayList oneEach;
        for (const QByteArray &line : forwardedFor)
            oneEach += line.split(',');
        FUZZ_CHECK(TrustedProxies::forwardedForHops(oneEach) == forwardedForHops);
        const auto again = TrustedProxies::forwardedForHops({asForwardedFor(*forwardedForHops)});
        FUZZ_CHECK(again == forwardedForHops);
    }
    // Forwarded: the proxy's own form of the hops reads back as the same hops.
    if (forwardedHops && !forwardedHops->isEmpty()) {
        const auto again = TrustedProxies::forwardedHops({asForwarded(*forwardedHops)});
        FUZZ_CHECK(again == forwardedHops);
    }
    return 0;
}
