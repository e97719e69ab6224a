// GatewayUrl: what people type as the gateway's address, and the endpoint URLs built from it.
#include "gatewayurl.h"

#include <QTest>
#include <QUrlQuery>

class tst_GatewayUrl : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parse_data();
    void parse();
    void endpoints();
    void historyEndpoint();
};

void tst_GatewayUrl::parse_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("base"); // empty: refused
    QTest::addColumn<QString>("error");

    QTest::newRow("full") << QStringLiteral("http://127.0.0.1:8000")
                          << QStringLiteral("http://127.0.0.1:8000") << QString();
    QTest::newRow("host:port") << QStringLiteral("localhost:8000")
                               << QStringLiteral("http://localhost:8000") << QString();
    QTest::newRow("host only") << QStringLiteral("gateway.internal")
                               << QStringLiteral("http://gateway.internal") << QString();
    QTest::newRow("trailing slash and spaces")
        << QStringLiteral("  http://h:1/  ") << QStringLiteral("http://h:1") << QString();
    QTest::newRow("the /events URL") << QStringLiteral("http://h:1/events?channels=x")
                                     << QStringLiteral("http://h:1") << QString();
    QTest::newRow("behind a proxy path") << QStringLiteral("https://example.com/llm/")
                                         << QStringLiteral("https://example.com/llm") << QString();
    QTest::newRow("upper-case scheme")
        << QStringLiteral("HTTP://h:1") << QStringLiteral("http://h:1") << QString();
    QTest::newRow("IPv6") << QStringLiteral("http://[::1]:8000")
                          << QStringLiteral("http://[::1]:8000") << QString();
    QTest::newRow("empty") << QString() << QString() << QStringLiteral("no gateway URL");
    QTest::newRow("ws scheme") << QStringLiteral("ws://h:1") << QString()
                               << QStringLiteral("must start with http:// or https://, not ws://");
    QTest::newRow("redis URL by mistake")
        << QStringLiteral("redis://127.0.0.1:6379") << QString() << QStringLiteral("not redis://");
    QTest::newRow("no host") << QStringLiteral("http://") << QString()
                             << QStringLiteral("is not a valid gateway URL");
    QTest::newRow("bad port") << QStringLiteral("http://h:99999") << QString()
                              << QStringLiteral("is not a valid gateway URL");
    QTest::newRow("spaces inside") << QStringLiteral("http://my host:1") << QString()
                                   << QStringLiteral("is not a valid gateway URL");
}

void tst_GatewayUrl::parse()
{
    QFETCH(QString, input);
    QFETCH(QString, base);
    QFETCH(QString, error);
    QString why;
    const auto url = GatewayUrl::parse(input, &why);
    if (base.isEmpty()) {
        QVERIFY(!url);
        QVERIFY2(why.contains(error), qPrintable(why));
    } else {
        QVERIFY2(url, qPrintable(why));
        QCOMPARE(url->toString(), base);
    }
}

void tst_GatewayUrl::endpoints()
{
    const QUrl base(QStringLiteral("https://example.com/llm"));
    QCOMPARE(GatewayUrl::events(base, {}).toString(),
             QStringLiteral("https://example.com/llm/events"));
    QCOMPARE(GatewayUrl::events(base, {QStringLiteral("logs:a"), QStringLiteral("logs:b*")})
                 .toString(QUrl::FullyDecoded),
             QStringLiteral("https://example.com/llm/events?channels=logs:a,logs:b*"));
    // Characters that mean something in a query are encoded.
    QCOMPARE(GatewayUrl::events(base, {QStringLiteral("a&b=c#d")}).query(QUrl::FullyEncoded),
             QStringLiteral("channels=a%26b%3Dc%23d"));
    QCOMPARE(GatewayUrl::channelsApi(base).toString(),
             QStringLiteral("https://example.com/llm/api/channels"));
}

void tst_GatewayUrl::historyEndpoint()
{
    const QUrl base(QStringLiteral("https://example.com/llm"));
    QCOMPARE(GatewayUrl::history(base, {}, {}, 100, {}).toString(),
             QStringLiteral("https://example.com/llm/api/history?limit=100"));
    const QUrl url =
        GatewayUrl::history(base, {QStringLiteral("logs:a"), QStringLiteral("logs:b*")},
                            QStringLiteral("s17-0"), 500, QStringLiteral("a+b & c=100%41 #1/é"));
    QCOMPARE(url.query(QUrl::FullyEncoded),
             QStringLiteral("channels=logs:a,logs:b*&before=s17-0&limit=500&"
                            "q=a%2Bb%20%26%20c%3D100%2541%20%231%2F%C3%A9"));
    // What the gateway reads back (QUrlQuery, fully decoded) is what was typed.
    const QUrlQuery read(url);
    QCOMPARE(read.queryItemValue(QStringLiteral("q"), QUrl::FullyDecoded),
             QStringLiteral("a+b & c=100%41 #1/é"));
    QCOMPARE(read.queryItemValue(QStringLiteral("channels"), QUrl::FullyDecoded),
             QStringLiteral("logs:a,logs:b*"));
}

QTEST_GUILESS_MAIN(tst_GatewayUrl)
#include "tst_gatewayurl.moc"
