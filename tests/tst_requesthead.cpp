// The strict request head reader in front of Qt's parser (gateway/requesthead.h): what it
// accepts, where a head ends, and every smuggling shape it refuses.
#include "requesthead.h"

#include <QTest>

using State = RequestHead::State;

class tst_RequestHead : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parse_data();
    void parse();
    void endsExactlyAtTheHead();
    void everyPrefixOfAGoodHeadIsIncomplete();
    void fieldCountLimit();
    void sizeLimit();
    void forwardingFields();
};

void tst_RequestHead::parse_data()
{
    QTest::addColumn<QByteArray>("head");
    QTest::addColumn<int>("state");
    QTest::addColumn<int>("status");
    QTest::addColumn<bool>("close");
    const int ok = int(State::Complete), no = int(State::Refused), more = int(State::Incomplete);
    auto row = [](const char *name, const QByteArray &head, int state, int status = 0,
                  bool close = false) { QTest::newRow(name) << head << state << status << close; };
    row("plain", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", ok);
    row("bare LF", "GET / HTTP/1.1\nHost: x\n\n", ok);
    row("empty lines before", "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", ok);
    row("absolute form", "GET http://x/events HTTP/1.1\r\nHost: x\r\n\r\n", ok);
    row("Content-Length 0", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", ok);
    row("value with tab and obs-text", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\tb \xc3\xa9\r\n\r\n",
        ok);
    row("Connection close", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", ok, 0, true);
    row("Connection list", "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, CLOSE\r\n\r\n", ok, 0,
        true);
    row("HTTP/1.0 closes", "GET / HTTP/1.0\r\n\r\n", ok, 0, true);
    row("HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", ok, 0, false);
    row("incomplete line", "GET / HTT", more);
    row("incomplete head", "GET / HTTP/1.1\r\nHost: x\r\n", more);
    row("empty", "", more);

    row("missing Host", "GET / HTTP/1.1\r\n\r\n", no, 400);
    row("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", no, 400);
    row("Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", no, 400);
    row("CL and TE",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", no,
        400);
    row("TE and CL 0",
        "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n", no,
        400);
    row("two CL equal",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", no, 400);
    row("CL 5x", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\n\r\n", no, 400);
    row("CL -1", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", no, 400);
    row("CL +5", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n", no, 400);
    row("CL empty", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", no, 400);
    row("CL huge", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", no,
        400);
    row("obs-fold TE", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n Transfer-Encoding: chunked\r\n\r\n",
        no, 400);
    row("obs-fold tab", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tb\r\n\r\n", no, 400);
    row("space before colon", "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n",
        no, 400);
    row("no colon", "GET / HTTP/1.1\r\nHost: x\r\nJunk\r\n\r\n", no, 400);
    row("empty name", "GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", no, 400);
    row("bare CR", "GET / HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n", no, 400);
    row("NUL in value", QByteArray("GET / HTTP/1.1\r\nHost: x\r\nX-A: a") + '\0' + "b\r\n\r\n", no,
        400);
    row("DEL in value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7f\r\n\r\n", no, 400);
    row("double space", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", no, 400);
    row("leading space", " GET / HTTP/1.1\r\nHost: x\r\n\r\n", no, 400);
    row("no version", "GET /\r\nHost: x\r\n\r\n", no, 400);
    row("space in target", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", no, 400);
    row("raw UTF-8 target", "GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", no, 400);
    row("bad method", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", no, 400);
    row("HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", no, 505);
    row("HTTP/1.1x", "GET / HTTP/1.1x\r\nHost: x\r\n\r\n", no, 400);
    row("body", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", no, 413);
    row("chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", no,
        413);
    row("TE in HTTP/1.0", "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", no, 400);
}

void tst_RequestHead::parse()
{
    QFETCH(QByteArray, head);
    QFETCH(int, state);
    QFETCH(int, status);
    QFETCH(bool, close);
    const RequestHead h = RequestHead::parse(head, 8192);
    QCOMPARE(int(h.state), state);
    QCOMPARE(h.status, status);
    if (h.state == State::Refused)
        QVERIFY(!h.reason.isEmpty());
    if (h.state == State::Complete) {
        QCOMPARE(h.close, close);
        QVERIFY(h.length > 0 && h.length <= head.size());
    }
}

void tst_RequestHead::endsExactlyAtTheHead()
{
    // What follows a head (a pipelined or smuggled request) is never part of it.
    const QByteArray first = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
    const QByteArray second = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    const RequestHead h = RequestHead::parse(QByteArray(first + second), 8192);
    QCOMPARE(h.state, State::Complete);
    QCOMPARE(h.length, first.size());
    const RequestHead lf = RequestHead::parse("GET / HTTP/1.1\nHost: x\n\nrest", 8192);
    QCOMPARE(lf.length, qsizetype(24));
}

void tst_RequestHead::everyPrefixOfAGoodHeadIsIncomplete()
{
    const QByteArray head = "\r\nGET /events?channels=logs:* HTTP/1.1\r\nHost: gw\r\n"
                            "Authorization: Bearer abcdefgh\r\nLast-Event-ID: 17-3\r\n\r\n";
    for (qsizetype n = 0; n < head.size(); ++n)
        QCOMPARE(RequestHead::parse(head.first(n), 8192).state, State::Incomplete);
    QCOMPARE(RequestHead::parse(head, 8192).state, State::Complete);
}

void tst_RequestHead::fieldCountLimit()
{
    // Qt drops every field of a head with more than 100: refused before Qt sees it.
    auto head = [](int fields) -> QByteArray {
        QByteArray h = "GET / HTTP/1.1\r\nHost: x\r\n";
        for (int i = 1; i < fields; ++i)
            h += "X-" + QByteArray::number(i) + ": v\r\n";
        return h + "\r\n";
    };
    QCOMPARE(RequestHead::parse(head(100), 65536).state, State::Complete);
    const RequestHead over = RequestHead::parse(head(101), 65536);
    QCOMPARE(over.state, State::Refused);
    QCOMPARE(over.status, 431);
    const RequestHead smuggled =
        RequestHead::parse(head(120).replace("X-5: v", "Content-Length: 40"), 65536);
    QCOMPARE(smuggled.state, State::Refused);
}

void tst_RequestHead::sizeLimit()
{
    const QByteArray head =
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + QByteArray(5000, 'a') + "\r\n\r\n";
    QCOMPARE(RequestHead::parse(head, 8192).state, State::Complete);
    const RequestHead over = RequestHead::parse(head, 4096);
    QCOMPARE(over.state, State::Refused);
    QCOMPARE(over.status, 431);
    // Incomplete but already past the limit: refused without waiting for the rest.
    const RequestHead flood = RequestHead::parse(head.first(4500), 4096);
    QCOMPARE(flood.state, State::Refused);
    QCOMPARE(flood.status, 431);
    QCOMPARE(RequestHead::parse(head.first(4000), 4096).state, State::Incomplete);
}

void tst_RequestHead::forwardingFields()
{
    // Every line of Forwarded and X-Forwarded-For, in order, trimmed, any case: what a trusted
    // proxy says about the client (TrustedProxies); nothing of a head that follows.
    const QByteArray head = "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.1.1.1, 10.0.0.2 \r\n"
                            "forwarded:for=1.1.1.1\r\nX-Other: 9.9.9.9\r\n"
                            "x-forwarded-for:\t10.0.0.3\r\nFORWARDED: for=\"[::1]\"\r\n\r\n"
                            "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n";
    const RequestHead h = RequestHead::parse(head, 8192);
    QCOMPARE(h.state, State::Complete);
    QCOMPARE(h.forwardedFor, (QByteArrayList{"1.1.1.1, 10.0.0.2", "10.0.0.3"}));
    QCOMPARE(h.forwarded, (QByteArrayList{"for=1.1.1.1", "for=\"[::1]\""}));
    const RequestHead none = RequestHead::parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 8192);
    QVERIFY(none.forwarded.isEmpty() && none.forwardedFor.isEmpty());
}

QTEST_APPLESS_MAIN(tst_RequestHead)
#include "tst_requesthead.moc"
