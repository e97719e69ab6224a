// Unit tests of SseEncoder: exact framing, and hostile payloads surviving SseEncoder -> SseParser
// as exactly one event whose data is the payload (line breaks normalized to LF).
#include "sseencoder.h"
#include "sseparser.h"

#include <QRandomGenerator>
#include <QTest>

namespace {

template <qsizetype N> QByteArray raw(const char (&s)[N])
{
    return QByteArray(s, N - 1);
}

// What a client reads back: every CR, LF and CRLF becomes one LF.
QByteArray normalizedLineBreaks(const QByteArray &in)
{
    QByteArray out;
    out.reserve(in.size());
    for (qsizetype i = 0; i < in.size(); ++i) {
        if (in[i] == '\r') {
            out.append('\n');
            if (i + 1 < in.size() && in[i + 1] == '\n')
                ++i;
        } else {
            out.append(in[i]);
        }
    }
    return out;
}

QByteArray noisyBytes(qsizetype size, quint32 seed)
{
    QRandomGenerator rng(seed);
    QByteArray out(size, Qt::Uninitialized);
    for (char &c : out) {
        // Mostly text, with plenty of line breaks, colons, NULs and high bytes.
        const quint32 r = rng.bounded(100);
        c = r < 5    ? '\n'
            : r < 10 ? '\r'
            : r < 13 ? ':'
            : r < 15 ? '\0'
            : r < 20 ? char(0x80 + rng.bounded(0x80))
                     : char(0x20 + rng.bounded(0x5F));
    }
    return out;
}

} // namespace

class tst_SseEncoder : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void encodeEvent_data();
    void encodeEvent();
    void comment_data();
    void eventWithoutIdKeepsTheLastId();
    void comment();
    void retry_data();
    void retry();
    void roundTrip_data();
    void roundTrip();
    void roundTripByteByByte();
    void commentAndRetryRoundTrip();
};

void tst_SseEncoder::encodeEvent_data()
{
    QTest::addColumn<QByteArray>("id");
    QTest::addColumn<QByteArray>("type");
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("plain") << QByteArray("1-1") << QByteArray() << QByteArray("hello")
                           << QByteArray("id: 1-1\ndata: hello\n\n");
    QTest::newRow("with type") << QByteArray("1-2") << QByteArray("gap") << QByteArray("{}")
                               << QByteArray("id: 1-2\nevent: gap\ndata: {}\n\n");
    QTest::newRow("empty data") << QByteArray("1-3") << QByteArray() << QByteArray()
                                << QByteArray("id: 1-3\ndata: \n\n");
    QTest::newRow("empty id") << QByteArray() << QByteArray() << QByteArray("x")
                              << QByteArray("id: \ndata: x\n\n");
    QTest::newRow("LF") << QByteArray("1") << QByteArray() << QByteArray("a\nb")
                        << QByteArray("id: 1\ndata: a\ndata: b\n\n");
    QTest::newRow("CR") << QByteArray("1") << QByteArray() << QByteArray("a\rb")
                        << QByteArray("id: 1\ndata: a\ndata: b\n\n");
    QTest::newRow("CRLF is one break") << QByteArray("1") << QByteArray() << QByteArray("a\r\nb")
                                       << QByteArray("id: 1\ndata: a\ndata: b\n\n");
    QTest::newRow("LF CR is two breaks") << QByteArray("1") << QByteArray() << QByteArray("a\n\rb")
                                         << QByteArray("id: 1\ndata: a\ndata: \ndata: b\n\n");
    QTest::newRow("CR CR is two breaks") << QByteArray("1") << QByteArray() << QByteArray("a\r\rb")
                                         << QByteArray("id: 1\ndata: a\ndata: \ndata: b\n\n");
    QTest::newRow("two LFs") << QByteArray("1") << QByteArray() << QByteArray("\n\n")
                             << QByteArray("id: 1\ndata: \ndata: \ndata: \n\n");
    QTest::newRow("trailing LF") << QByteArray("1") << QByteArray() << QByteArray("a\n")
                                 << QByteArray("id: 1\ndata: a\ndata: \n\n");
    QTest::newRow("trailing CR") << QByteArray("1") << QByteArray() << QByteArray("a\r")
                                 << QByteArray("id: 1\ndata: a\ndata: \n\n");
    QTest::newRow("leading CRLF") << QByteArray("1") << QByteArray() << QByteArray("\r\na")
                                  << QByteArray("id: 1\ndata: \ndata: a\n\n");
    QTest::newRow("leading spaces kept") << QByteArray("1") << QByteArray() << QByteArray("  x")
                                         << QByteArray("id: 1\ndata:   x\n\n");
    QTest::newRow("NUL kept") << QByteArray("1") << QByteArray() << raw("a\0b")
                              << raw("id: 1\ndata: a\0b\n\n");
    QTest::newRow("field injection")
        << QByteArray("7") << QByteArray("message")
        << QByteArray("x\n\nid: 666\nevent: evil\ndata: evil\nretry: 1")
        << QByteArray("id: 7\nevent: message\ndata: x\ndata: \ndata: id: 666\ndata: event: evil\n"
                      "data: data: evil\ndata: retry: 1\n\n");
}

void tst_SseEncoder::encodeEvent()
{
    QFETCH(QByteArray, id);
    QFETCH(QByteArray, type);
    QFETCH(QByteArray, data);
    QFETCH(QByteArray, expected);

    QCOMPARE(SseEncoder::event(id, type, data), expected);
}

void tst_SseEncoder::comment_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("heartbeat") << QByteArray("hb") << QByteArray(": hb\n\n");
    QTest::newRow("empty") << QByteArray() << QByteArray(": \n\n");
    QTest::newRow("LF") << QByteArray("a\nb") << QByteArray(": a\n: b\n\n");
    QTest::newRow("CR") << QByteArray("a\rb") << QByteArray(": a\n: b\n\n");
    QTest::newRow("CRLF") << QByteArray("a\r\nb") << QByteArray(": a\n: b\n\n");
    QTest::newRow("injection") << QByteArray("x\n\ndata: evil\n")
                               << QByteArray(": x\n: \n: data: evil\n: \n\n");
}

void tst_SseEncoder::comment()
{
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, expected);

    QCOMPARE(SseEncoder::comment(text), expected);
}

void tst_SseEncoder::retry_data()
{
    QTest::addColumn<int>("ms");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("2 s") << 2000 << QByteArray("retry: 2000\n\n");
    QTest::newRow("zero") << 0 << QByteArray("retry: 0\n\n");
    QTest::newRow("large") << 2147483647 << QByteArray("retry: 2147483647\n\n");
}

void tst_SseEncoder::retry()
{
    QFETCH(int, ms);
    QFETCH(QByteArray, expected);

    QCOMPARE(SseEncoder::retry(ms), expected);
}

void tst_SseEncoder::roundTrip_data()
{
    QTest::addColumn<QByteArray>("data");

    QTest::newRow("plain") << QByteArray("hello world");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("json") << QByteArray(R"({"level":"info","msg":"ok"})");
    QTest::newRow("data injection") << QByteArray("a\ndata: injected");
    QTest::newRow("id injection") << QByteArray("a\nid: 999-999\n\ndata: x");
    QTest::newRow("event injection") << QByteArray("a\r\nevent: gap\r\n\r\ndata: x");
    QTest::newRow("retry injection") << QByteArray("a\rretry: 1\r\r");
    QTest::newRow("comment-like") << QByteArray(":not a comment\n: neither");
    QTest::newRow("LF LF") << QByteArray("\n\n");
    QTest::newRow("CR CR") << QByteArray("\r\r");
    QTest::newRow("CRLF CRLF") << QByteArray("\r\n\r\n");
    QTest::newRow("LF CR") << QByteArray("\n\r");
    QTest::newRow("only LF") << QByteArray("\n");
    QTest::newRow("trailing newline") << QByteArray("line\n");
    QTest::newRow("leading space") << QByteArray(" x");
    QTest::newRow("two leading spaces") << QByteArray("  x");
    QTest::newRow("NUL") << raw("\0");
    QTest::newRow("NULs and breaks") << raw("a\0\n\0b\r\0");
    QTest::newRow("BOM at start") << QByteArray("\xEF\xBB\xBF"
                                                "data");
    QTest::newRow("invalid UTF-8") << QByteArray("\xFF\xFE\xC0\xAF");
    QTest::newRow("noise 64 KiB") << noisyBytes(64 * 1024, 1);
    QTest::newRow("1 MiB") << noisyBytes(1024 * 1024, 2);
    QTest::newRow("1 MiB single line") << QByteArray(1024 * 1024, 'z');
}

void tst_SseEncoder::roundTrip()
{
    QFETCH(QByteArray, data);

    const QByteArray frame = SseEncoder::event("5-6", "message", data);

    // No injected frames: every line is one of ours and the only blank line ends the frame.
    QVERIFY(!frame.contains('\r'));
    QVERIFY(frame.endsWith("\n\n"));
    QCOMPARE(frame.indexOf("\n\n"), frame.size() - 2);
    const QByteArrayList lines = frame.chopped(2).split('\n');
    QCOMPARE(lines.value(0), QByteArray("id: 5-6"));
    QCOMPARE(lines.value(1), QByteArray("event: message"));
    for (qsizetype i = 2; i < lines.size(); ++i)
        QVERIFY2(lines[i].startsWith("data: "), lines[i].left(40).constData());

    QList<SseEvent> events;
    SseParser parser([&events](const SseEvent &e) { events.append(e); });
    QVERIFY(parser.feed(frame));
    QCOMPARE(events.size(), 1);
    QCOMPARE(events[0].type, QByteArray("message"));
    QCOMPARE(events[0].lastEventId, QByteArray("5-6"));
    QCOMPARE(events[0].data, normalizedLineBreaks(data));
    QCOMPARE(parser.lastEventId(), QByteArray("5-6"));
}

void tst_SseEncoder::roundTripByteByByte()
{
    const QByteArray data = noisyBytes(4096, 3);
    const QByteArray stream = SseEncoder::retry(1234) + SseEncoder::comment("hi") +
                              SseEncoder::event("1-1", {}, data) +
                              SseEncoder::event("1-2", "stats", "{}");
    QList<SseEvent> events;
    SseParser parser([&events](const SseEvent &e) { events.append(e); });
    for (char c : stream)
        QVERIFY(parser.feed(QByteArrayView(&c, 1)));
    QCOMPARE(events.size(), 2);
    QCOMPARE(events[0].data, normalizedLineBreaks(data));
    QCOMPARE(events[0].type, QByteArray("message"));
    QCOMPARE(events[1].type, QByteArray("stats"));
    QCOMPARE(events[1].lastEventId, QByteArray("1-2"));
    QCOMPARE(parser.retryMilliseconds(), 1234);
    QCOMPARE(parser.commentsSeen(), 1);
}

void tst_SseEncoder::commentAndRetryRoundTrip()
{
    int dispatched = 0;
    SseParser parser([&dispatched](const SseEvent &) { ++dispatched; });
    QVERIFY(parser.feed(SseEncoder::comment("a\nb\r\ndata: x\rid: 3")));
    QVERIFY(parser.feed(SseEncoder::retry(750)));
    QCOMPARE(dispatched, 0);
    QCOMPARE(parser.commentsSeen(), 4);
    QCOMPARE(parser.lastEventId(), QByteArray());
    QCOMPARE(parser.retryMilliseconds(), 750);
}

void tst_SseEncoder::eventWithoutIdKeepsTheLastId()
{
    const QByteArray frame = SseEncoder::eventWithoutId("dropped", "a\nb");
    QCOMPARE(frame, QByteArray("event: dropped\ndata: a\ndata: b\n\n"));
    // A client's Last-Event-ID stays that of the event before.
    QList<SseEvent> seen;
    SseParser parser([&](const SseEvent &e) { seen.append(e); });
    parser.feed(QByteArray(SseEncoder::event("7-1", {}, "x") + frame));
    QCOMPARE(seen.size(), 2);
    QCOMPARE(seen[1].type, QByteArray("dropped"));
    QCOMPARE(seen[1].lastEventId, QByteArray("7-1"));
    QCOMPARE(parser.lastEventId(), QByteArray("7-1"));
}

QTEST_GUILESS_MAIN(tst_SseEncoder)
#include "tst_sseencoder.moc"
