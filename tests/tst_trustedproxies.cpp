// Unit tests of TrustedProxies: the list of trusted proxies, the readers of Forwarded (RFC 7239)
// and X-Forwarded-For, and which client address a request is attributed to, including forged,
// contradicting and malformed headers (always the peer, never a crash).
#include "trustedproxies.h"

#include <QTest>

namespace {

TrustedProxies proxies(const char *text)
{
    QString why;
    auto p = TrustedProxies::parse(QString::fromUtf8(text), &why);
    if (!p)
        qFatal("bad test list %s: %s", text, qPrintable(why));
    return *p;
}

// Hops as text: "1.2.3.4 ? ::1" ("?" for unknown), or "malformed".
QString hopsText(const std::optional<QList<QHostAddress>> &hops)
{
    if (!hops)
        return QStringLiteral("malformed");
    QStringList out;
    for (const QHostAddress &h : *hops)
        out.append(h.isNull() ? QStringLiteral("?") : h.toString());
    return out.join(QLatin1Char(' '));
}

QByteArrayList fields(std::initializer_list<const char *> list)
{
    QByteArrayList out;
    for (const char *f : list)
        out.append(f);
    return out;
}

} // namespace

class tst_TrustedProxies : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void contains_data();
    void contains();
    void forwardedHops_data();
    void forwardedHops();
    void forwardedForHops_data();
    void forwardedForHops();
    void clientAddress_data();
    void clientAddress();
};

void tst_TrustedProxies::contains_data()
{
    QTest::addColumn<QString>("list");
    QTest::addColumn<QString>("address");
    QTest::addColumn<bool>("trusted");

    const auto row = [](const char *list, const char *address, bool trusted) {
        QTest::addRow("%s in %s", address, list)
            << QString::fromUtf8(list) << QString::fromUtf8(address) << trusted;
    };
    row("", "127.0.0.1", false);
    row("127.0.0.1", "127.0.0.1", true);
    row("127.0.0.1", "127.0.0.2", false);
    row("10.0.0.0/8", "10.255.1.2", true);
    row("10.0.0.0/8", "11.0.0.1", false);
    row("10.0.0.0/8", "::ffff:10.1.2.3", true); // a dual-stack socket's IPv4 peer
    row("64:ff9b::/96", "10.1.2.3", false);     // an IPv6 network holds no IPv4 address
    row("fd00::/8", "fd12::1", true);
    row("fd00::/8", "fe80::1", false);
    row("::1", "::1", true);
    row("::1", "127.0.0.1", false);
    row("0.0.0.0/0", "203.0.113.9", true);
    row("0.0.0.0/0", "2001:db8::1", false);
    row("::/0", "2001:db8::1", true);
    row("10.0.0.1, 192.168.0.0/16", "192.168.7.7", true);
}

void tst_TrustedProxies::contains()
{
    QFETCH(QString, list);
    QFETCH(QString, address);
    QFETCH(bool, trusted);
    QString why;
    const auto p = TrustedProxies::parse(list, &why);
    QVERIFY2(p, qPrintable(why));
    QCOMPARE(p->contains(QHostAddress(address)), trusted);
}

void tst_TrustedProxies::forwardedHops_data()
{
    QTest::addColumn<QByteArrayList>("fields");
    QTest::addColumn<QString>("hops");

    const auto row = [](const char *name, const QByteArrayList &f, const char *hops) {
        QTest::newRow(name) << f << QString::fromUtf8(hops);
    };
    row("none", {}, "");
    row("IPv4", fields({"for=192.0.2.43"}), "192.0.2.43");
    row("case-insensitive name", fields({"For=192.0.2.43"}), "192.0.2.43");
    row("quoted IPv4", fields({"for=\"192.0.2.43\""}), "192.0.2.43");
    row("IPv4 with port", fields({"for=\"192.0.2.43:4711\""}), "192.0.2.43");
    row("IPv6", fields({"for=\"[2001:db8:cafe::17]\""}), "2001:db8:cafe::17");
    row("IPv6 with port", fields({"for=\"[2001:db8:cafe::17]:4711\""}), "2001:db8:cafe::17");
    row("loopback IPv6 with port", fields({"for=\"[::1]:54321\""}), "::1");
    row("IPv4-mapped", fields({"for=\"[::ffff:10.0.0.1]\""}), "10.0.0.1");
    row("with other pairs", fields({"for=192.0.2.60;proto=http;by=203.0.113.43"}), "192.0.2.60");
    row("pairs in another order", fields({"proto=https;for=192.0.2.60"}), "192.0.2.60");
    row("spaces around separators", fields({"for=192.0.2.60 ; proto=http , for=198.51.100.17"}),
        "192.0.2.60 198.51.100.17");
    row("list", fields({"for=192.0.2.43, for=198.51.100.17"}), "192.0.2.43 198.51.100.17");
    row("two field lines", fields({"for=192.0.2.43", "for=198.51.100.17"}),
        "192.0.2.43 198.51.100.17");
    row("unknown", fields({"for=unknown, for=198.51.100.17"}), "? 198.51.100.17");
    row("obfuscated", fields({"for=_hidden, for=\"_SEVKISEK\""}), "? ?");
    row("obfuscated port", fields({"for=\"192.0.2.43:_port1\""}), "192.0.2.43");
    row("element without for", fields({"for=192.0.2.43, proto=https"}), "192.0.2.43 ?");
    row("no for at all", fields({"proto=https;host=example.com"}), "");
    row("empty elements", fields({",for=192.0.2.43,,"}), "192.0.2.43");
    row("empty pairs", fields({";for=192.0.2.43;;"}), "192.0.2.43");
    row("quoted-pair", fields({"for=\"\\1\\92.0.2.43\""}), "192.0.2.43");
    row("comma in quotes", fields({"for=192.0.2.1;host=\"a,b\""}), "192.0.2.1");
    // Malformed: the whole header is not read.
    row("unbracketed IPv6", fields({"for=\"2001:db8::1\""}), "malformed");
    row("unquoted port", fields({"for=192.0.2.43:80"}), "malformed");
    row("unquoted IPv6", fields({"for=[::1]"}), "malformed");
    row("unterminated quote", fields({"for=\"192.0.2.43"}), "malformed");
    row("quote at the end", fields({"for=\"192.0.2.43\\"}), "malformed");
    row("for twice", fields({"for=192.0.2.1;for=192.0.2.2"}), "malformed");
    row("no value", fields({"for="}), "malformed");
    row("no equals sign", fields({"for"}), "malformed");
    row("space in pair", fields({"for = 192.0.2.1"}), "malformed");
    row("garbage after value", fields({"for=\"192.0.2.1\"x"}), "malformed");
    row("host name", fields({"for=proxy.example"}), "malformed");
    row("short IPv4", fields({"for=127.1"}), "malformed");
    row("octet too large", fields({"for=192.0.2.256"}), "malformed");
    row("bad port", fields({"for=\"192.0.2.1:123456\""}), "malformed");
    row("empty brackets", fields({"for=\"[]\""}), "malformed");
    row("unclosed bracket", fields({"for=\"[::1\""}), "malformed");
    row("zone id", fields({"for=\"[fe80::1%eth0]\""}), "malformed");
    row("one bad field line", fields({"for=192.0.2.43", "for=\""}), "malformed");
}

void tst_TrustedProxies::forwardedHops()
{
    QFETCH(QByteArrayList, fields);
    QFETCH(QString, hops);
    QCOMPARE(hopsText(TrustedProxies::forwardedHops(fields)), hops);
}

void tst_TrustedProxies::forwardedForHops_data()
{
    QTest::addColumn<QByteArrayList>("fields");
    QTest::addColumn<QString>("hops");

    const auto row = [](const char *name, const QByteArrayList &f, const char *hops) {
        QTest::newRow(name) << f << QString::fromUtf8(hops);
    };
    row("none", {}, "");
    row("one", fields({"203.0.113.195"}), "203.0.113.195");
    row("list", fields({"203.0.113.195, 70.41.3.18,150.172.238.178"}),
        "203.0.113.195 70.41.3.18 150.172.238.178");
    row("two field lines", fields({"203.0.113.195", "70.41.3.18"}), "203.0.113.195 70.41.3.18");
    row("IPv6", fields({"2001:db8:85a3:8d3:1319:8a2e:370:7348"}),
        "2001:db8:85a3:8d3:1319:8a2e:370:7348");
    row("bracketed IPv6", fields({"[2001:db8::1]"}), "2001:db8::1");
    row("bracketed IPv6 with port", fields({"[2001:db8::1]:443"}), "2001:db8::1");
    row("IPv4 with port", fields({"203.0.113.195:41237"}), "203.0.113.195");
    row("IPv4-mapped", fields({"::ffff:192.0.2.1"}), "192.0.2.1");
    row("unknown", fields({"unknown, 70.41.3.18"}), "? 70.41.3.18");
    row("empty elements", fields({" , 203.0.113.195 ,,"}), "203.0.113.195");
    row("tabs", fields({"\t203.0.113.195\t,\t70.41.3.18"}), "203.0.113.195 70.41.3.18");
    row("only commas", fields({","}), "");
    row("host name", fields({"client.example, 70.41.3.18"}), "malformed");
    row("quoted", fields({"\"203.0.113.195\""}), "malformed");
    row("space inside", fields({"203.0.113. 195"}), "malformed");
    row("obfuscated is not for this header", fields({"_hidden"}), "malformed");
    row("bad port", fields({"203.0.113.195:http"}), "malformed");
    row("port on unbracketed IPv6 is IPv6", fields({"2001:db8::1:443"}), "2001:db8::1:443");
    row("too many colons", fields({"1:2:3:4:5:6:7:8:9"}), "malformed");
    row("five octets", fields({"1.2.3.4.5"}), "malformed");
    row("hex IPv4", fields({"0x7f.0.0.1"}), "malformed");
}

void tst_TrustedProxies::forwardedForHops()
{
    QFETCH(QByteArrayList, fields);
    QFETCH(QString, hops);
    QCOMPARE(hopsText(TrustedProxies::forwardedForHops(fields)), hops);
}

void tst_TrustedProxies::clientAddress_data()
{
    QTest::addColumn<QString>("trusted");
    QTest::addColumn<QString>("peer");
    QTest::addColumn<QByteArrayList>("forwarded");
    QTest::addColumn<QByteArrayList>("forwardedFor");
    QTest::addColumn<QString>("client");

    const auto row = [](const char *name, const char *trusted, const char *peer,
                        const QByteArrayList &forwarded, const QByteArrayList &forwardedFor,
                        const char *client) {
        QTest::newRow(name) << QString::fromUtf8(trusted) << QString::fromUtf8(peer) << forwarded
                            << forwardedFor << QString::fromUtf8(client);
    };
    const char *proxy = "10.0.0.1";
    // Only a trusted peer's word counts.
    row("no trusted proxies", "", proxy, {}, fields({"203.0.113.7"}), "10.0.0.1");
    row("untrusted peer", proxy, "10.0.0.2", fields({"for=203.0.113.7"}), fields({"203.0.113.7"}),
        "10.0.0.2");
    row("trusted peer without headers", proxy, proxy, {}, {}, "10.0.0.1");
    row("X-Forwarded-For", proxy, proxy, {}, fields({"203.0.113.7"}), "203.0.113.7");
    row("Forwarded", proxy, proxy, fields({"for=203.0.113.7"}), {}, "203.0.113.7");
    row("Forwarded IPv6", proxy, proxy, fields({"for=\"[2001:db8::7]:5000\""}), {}, "2001:db8::7");
    row("peer IPv4-mapped", proxy, "::ffff:10.0.0.1", {}, fields({"203.0.113.7"}), "203.0.113.7");
    row("network", "10.0.0.0/8", "10.9.8.7", {}, fields({"203.0.113.7"}), "203.0.113.7");
    // The right-most hop that is not a trusted proxy: what a client writes itself is further left.
    row("forged X-Forwarded-For", proxy, proxy, {}, fields({"1.1.1.1, 203.0.113.7"}),
        "203.0.113.7");
    row("forged Forwarded", proxy, proxy, fields({"for=1.1.1.1, for=203.0.113.7"}), {},
        "203.0.113.7");
    row("chain of trusted proxies", "10.0.0.0/8", "10.0.0.1", {},
        fields({"1.1.1.1, 203.0.113.7, 10.0.0.9"}), "203.0.113.7");
    row("chain over two field lines", "10.0.0.0/8", "10.0.0.1", {},
        fields({"1.1.1.1, 203.0.113.7", "10.0.0.9"}), "203.0.113.7");
    row("proxies all the way", "10.0.0.0/8", "10.0.0.1", {}, fields({"10.0.0.3, 10.0.0.9"}),
        "10.0.0.3");
    row("client on the proxy's host", "127.0.0.1", "127.0.0.1", {}, fields({"127.0.0.1"}),
        "127.0.0.1");
    row("unknown behind the client", proxy, proxy, {}, fields({"unknown, 203.0.113.7"}),
        "203.0.113.7");
    // What cannot be vouched for leaves the peer.
    row("unknown hop", proxy, proxy, fields({"for=unknown"}), {}, "10.0.0.1");
    row("unknown between proxies", "10.0.0.0/8", "10.0.0.1", {},
        fields({"203.0.113.7, unknown, 10.0.0.9"}), "10.0.0.1");
    row("obfuscated", proxy, proxy, fields({"for=_hidden"}), {}, "10.0.0.1");
    row("Forwarded element without for", proxy, proxy, fields({"for=203.0.113.7, proto=https"}), {},
        "10.0.0.1");
    row("malformed X-Forwarded-For", proxy, proxy, {}, fields({"not an address"}), "10.0.0.1");
    row("malformed Forwarded", proxy, proxy, fields({"for=\"[::1"}), {}, "10.0.0.1");
    row("malformed Forwarded beside a good X-Forwarded-For", proxy, proxy, fields({"for="}),
        fields({"203.0.113.7"}), "10.0.0.1");
    row("empty X-Forwarded-For", proxy, proxy, {}, fields({""}), "10.0.0.1");
    // Forwarded without for= names nobody: X-Forwarded-For decides.
    row("Forwarded without for", proxy, proxy, fields({"proto=https"}), fields({"203.0.113.7"}),
        "203.0.113.7");
    // Both: they agree, or one ends in proxies only, or the peer.
    row("both agree", proxy, proxy, fields({"for=203.0.113.7"}), fields({"203.0.113.7"}),
        "203.0.113.7");
    row("both agree on IPv6", proxy, proxy, fields({"for=\"[2001:db8::7]\""}),
        fields({"2001:db8::7"}), "2001:db8::7");
    row("client's Forwarded through a proxy that sets X-Forwarded-For", proxy, proxy,
        fields({"for=1.1.1.1"}), fields({"203.0.113.7"}), "10.0.0.1");
    row("client's X-Forwarded-For through a proxy that sets Forwarded", proxy, proxy,
        fields({"for=203.0.113.7"}), fields({"1.1.1.1"}), "10.0.0.1");
    row("an earlier proxy set only X-Forwarded-For", "10.0.0.0/8", "10.0.0.1",
        fields({"for=10.0.0.9"}), fields({"203.0.113.7, 10.0.0.9"}), "203.0.113.7");
    row("an earlier proxy set only Forwarded", "10.0.0.0/8", "10.0.0.1",
        fields({"for=203.0.113.7, for=10.0.0.9"}), fields({"10.0.0.9"}), "203.0.113.7");
    row("client names a trusted proxy in Forwarded", proxy, proxy, fields({"for=10.0.0.1"}),
        fields({"203.0.113.7"}), "203.0.113.7");
}

void tst_TrustedProxies::clientAddress()
{
    QFETCH(QString, trusted);
    QFETCH(QString, peer);
    QFETCH(QByteArrayList, forwarded);
    QFETCH(QByteArrayList, forwardedFor);
    QFETCH(QString, client);
    const TrustedProxies p = proxies(trusted.toUtf8().constData());
    const QHostAddress peerAddress(peer);
    QCOMPARE(p.clientAddress(peerAddress, forwarded, forwardedFor), QHostAddress(client));
}

QTEST_GUILESS_MAIN(tst_TrustedProxies)
#include "tst_trustedproxies.moc"
