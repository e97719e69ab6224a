// Unit tests of SseParser against the WHATWG "server-sent events" interpretation rules. Every
// stream is parsed whole, byte by byte and split in two and in three at every position: all must
// agree.
#include "sseparser.h"

#include <QTest>

namespace {

// Bytes of a string literal, embedded NULs included.
template <qsizetype N> QByteArray raw(const char (&s)[N])
{
    return QByteArray(s, N - 1);
}

SseEvent ev(const QByteArray &data, const QByteArray &id = {},
            const QByteArray &type = QByteArrayLiteral("message"))
{
    return SseEvent{type, data, id};
}

struct Result
{
    QList<SseEvent> events;
    QByteArray lastEventId;
    int retry = -1;
    qint64 comments = 0;
    bool ok = true;
};

Result parseChunks(const QByteArrayList &chunks)
{
    Result r;
    SseParser parser([&r](const SseEvent &e) { r.events.append(e); });
    for (const QByteArray &chunk : chunks)
        r.ok = parser.feed(chunk) && r.ok;
    r.lastEventId = parser.lastEventId();
    r.retry = parser.retryMilliseconds();
    r.comments = parser.commentsSeen();
    return r;
}

QByteArrayList bytewise(const QByteArray &input)
{
    QByteArrayList chunks;
    for (char c : input)
        chunks.append(QByteArray(1, c));
    return chunks;
}

// QCOMPARE of two results, naming how the input was cut on failure.
#define COMPARE_RESULT(actual, expected, how)                                                      \
    do {                                                                                           \
        const Result &a_ = (actual);                                                               \
        const Result &e_ = (expected);                                                             \
        QVERIFY2(a_.events.size() == e_.events.size(),                                             \
                 qPrintable(QStringLiteral("%1: %2 events, expected %3")                           \
                                .arg(how)                                                          \
                                .arg(a_.events.size())                                             \
                                .arg(e_.events.size())));                                          \
        for (qsizetype i_ = 0; i_ < e_.events.size(); ++i_) {                                      \
            QCOMPARE(a_.events[i_].type, e_.events[i_].type);                                      \
            QCOMPARE(a_.events[i_].data, e_.events[i_].data);                                      \
            QCOMPARE(a_.events[i_].lastEventId, e_.events[i_].lastEventId);                        \
        }                                                                                          \
        QCOMPARE(a_.lastEventId, e_.lastEventId);                                                  \
        QCOMPARE(a_.retry, e_.retry);                                                              \
        QCOMPARE(a_.comments, e_.comments);                                                        \
        QCOMPARE(a_.ok, e_.ok);                                                                    \
    } while (false)

} // namespace

class tst_SseParser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void interpretation_data();
    void interpretation();
    void crlfSplitAcrossChunks();
    void crAtChunkEndThenEmptyChunk();
    void bomSplitAcrossChunks();
    void bomOnlyAtStreamStart();
    void resetForgetsPartialInputKeepsLastEventId();
    void resetAllowsBomAgain();
    void maxLineSize_data();
    void maxLineSize();
    void failedParserStaysFailedUntilReset();
    void largeEvent();
    void largeEventsBackToBack();
};

void tst_SseParser::interpretation_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QList<SseEvent>>("events");
    QTest::addColumn<QByteArray>("lastEventId");
    QTest::addColumn<int>("retry");
    QTest::addColumn<int>("comments");

    using E = QList<SseEvent>;
    const QByteArray none;

    QTest::newRow("empty stream") << QByteArray() << E{} << none << -1 << 0;
    QTest::newRow("blank lines only") << raw("\n\r\n\r\n\n") << E{} << none << -1 << 0;
    // Line endings.
    QTest::newRow("LF") << raw("data: a\n\n") << E{ev("a")} << none << -1 << 0;
    QTest::newRow("CR") << raw("data: a\r\r") << E{ev("a")} << none << -1 << 0;
    QTest::newRow("CRLF") << raw("data: a\r\n\r\n") << E{ev("a")} << none << -1 << 0;
    QTest::newRow("mixed endings")
        << raw("data: a\rdata: b\ndata: c\r\n\n") << E{ev("a\nb\nc")} << none << -1 << 0;
    QTest::newRow("CR then CRLF is two line ends")
        << raw("data: a\r\r\n") << E{ev("a")} << none << -1 << 0;
    QTest::newRow("LF then CR is two line ends")
        << raw("data: a\n\rdata: b\n\n") << E{ev("a"), ev("b")} << none << -1 << 0;
    QTest::newRow("several events") << raw("data: 1\n\ndata: 2\r\rdata: 3\r\n\r\n")
                                    << E{ev("1"), ev("2"), ev("3")} << none << -1 << 0;
    // Byte order mark.
    QTest::newRow("leading BOM") << raw("\xEF\xBB\xBF"
                                        "data: a\n\n")
                                 << E{ev("a")} << none << -1 << 0;
    QTest::newRow("BOM before a blank line")
        << raw("\xEF\xBB\xBF\ndata: a\n\n") << E{ev("a")} << none << -1 << 0;
    QTest::newRow("second BOM is part of a field name") << raw("\xEF\xBB\xBF"
                                                               "data: a\n\n\xEF\xBB\xBF"
                                                               "data: b\n\n")
                                                        << E{ev("a")} << none << -1 << 0;
    QTest::newRow("BOM not first is not stripped") << raw("\n\xEF\xBB\xBF"
                                                          "data: a\n\n")
                                                   << E{} << none << -1 << 0;
    // Comments.
    QTest::newRow("comment") << raw(": hello\ndata: a\n\n") << E{ev("a")} << none << -1 << 1;
    QTest::newRow("bare colon") << raw(":\n") << E{} << none << -1 << 1;
    QTest::newRow("comment between data lines")
        << raw("data: a\n: x\ndata: b\n\n") << E{ev("a\nb")} << none << -1 << 1;
    QTest::newRow("comment does not dispatch") << raw("data: a\n: x\n") << E{} << none << -1 << 1;
    QTest::newRow("comment with field text") << raw(":data: x\n\n") << E{} << none << -1 << 1;
    // Field and value splitting.
    QTest::newRow("data without colon") << raw("data\n\n") << E{ev("")} << none << -1 << 0;
    QTest::newRow("data without space") << raw("data:a\n\n") << E{ev("a")} << none << -1 << 0;
    QTest::newRow("data with two spaces") << raw("data:  a\n\n") << E{ev(" a")} << none << -1 << 0;
    QTest::newRow("tab is not stripped") << raw("data:\ta\n\n") << E{ev("\ta")} << none << -1 << 0;
    QTest::newRow("colon in value")
        << raw("data: a: b:c\n\n") << E{ev("a: b:c")} << none << -1 << 0;
    QTest::newRow("empty data") << raw("data:\n\n") << E{ev("")} << none << -1 << 0;
    QTest::newRow("space before field name") << raw(" data: a\n\n") << E{} << none << -1 << 0;
    QTest::newRow("field names are case-sensitive")
        << raw("DATA: a\nData: b\n\n") << E{} << none << -1 << 0;
    QTest::newRow("unknown fields ignored")
        << raw("foo: bar\ndata: a\nbaz\nevents: x\n\n") << E{ev("a")} << none << -1 << 0;
    // Data buffer.
    QTest::newRow("multi-line data")
        << raw("data: a\ndata: b\ndata: c\n\n") << E{ev("a\nb\nc")} << none << -1 << 0;
    QTest::newRow("only the last newline removed")
        << raw("data: a\ndata\n\n") << E{ev("a\n")} << none << -1 << 0;
    QTest::newRow("two empty data lines")
        << raw("data\ndata\n\n") << E{ev("\n")} << none << -1 << 0;
    QTest::newRow("NUL in data kept")
        << raw("data: a\0b\n\n") << E{ev(raw("a\0b"))} << none << -1 << 0;
    QTest::newRow("UTF-8 data kept") << raw("data: \xC3\xA9\xE2\x82\xAC\n\n")
                                     << E{ev("\xC3\xA9\xE2\x82\xAC")} << none << -1 << 0;
    QTest::newRow("incomplete last event not dispatched")
        << raw("data: a\n\ndata: b\n") << E{ev("a")} << none << -1 << 0;
    QTest::newRow("unterminated line not dispatched") << raw("data: a") << E{} << none << -1 << 0;
    QTest::newRow("unterminated blank line") << raw("data: a\n") << E{} << none << -1 << 0;
    // Event type.
    QTest::newRow("event type") << raw("event: add\ndata: a\n\n") << E{ev("a", {}, "add")} << none
                                << -1 << 0;
    QTest::newRow("event type after data")
        << raw("data: a\nevent: add\n\n") << E{ev("a", {}, "add")} << none << -1 << 0;
    QTest::newRow("last event type wins")
        << raw("event: x\nevent: y\ndata: a\n\n") << E{ev("a", {}, "y")} << none << -1 << 0;
    QTest::newRow("empty event type means message")
        << raw("event:\ndata: a\n\n") << E{ev("a")} << none << -1 << 0;
    QTest::newRow("event type reset after dispatch")
        << raw("event: add\ndata: a\n\ndata: b\n\n") << E{ev("a", {}, "add"), ev("b")} << none << -1
        << 0;
    QTest::newRow("event without data not dispatched")
        << raw("event: add\n\n") << E{} << none << -1 << 0;
    QTest::newRow("event type reset by an event without data")
        << raw("event: add\n\ndata: b\n\n") << E{ev("b")} << none << -1 << 0;
    // Event id.
    QTest::newRow("id") << raw("id: 1\ndata: a\n\n") << E{ev("a", "1")} << QByteArray("1") << -1
                        << 0;
    QTest::newRow("id after data")
        << raw("data: a\nid: 5\n\n") << E{ev("a", "5")} << QByteArray("5") << -1 << 0;
    QTest::newRow("id persists across events")
        << raw("id: 1\ndata: a\n\ndata: b\n\n") << E{ev("a", "1"), ev("b", "1")} << QByteArray("1")
        << -1 << 0;
    QTest::newRow("id with NUL ignored")
        << raw("id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n") << E{ev("a", "1"), ev("b", "1")}
        << QByteArray("1") << -1 << 0;
    QTest::newRow("empty id resets")
        << raw("id: 1\ndata: a\n\nid:\ndata: b\n\n") << E{ev("a", "1"), ev("b")} << none << -1 << 0;
    QTest::newRow("id without colon resets")
        << raw("id: 1\ndata: a\n\nid\ndata: b\n\n") << E{ev("a", "1"), ev("b")} << none << -1 << 0;
    QTest::newRow("id of an event without data is kept")
        << raw("id: 7\n\ndata: a\n\n") << E{ev("a", "7")} << QByteArray("7") << -1 << 0;
    QTest::newRow("id of an unfinished event is not the last event id")
        << raw("id: 1\ndata: a\n\nid: 2\ndata: b\n") << E{ev("a", "1")} << QByteArray("1") << -1
        << 0;
    QTest::newRow("id value keeps inner spaces")
        << raw("id:  1 2\ndata: a\n\n") << E{ev("a", " 1 2")} << QByteArray(" 1 2") << -1 << 0;
    // Retry.
    QTest::newRow("retry") << raw("retry: 1500\n") << E{} << none << 1500 << 0;
    QTest::newRow("retry without space") << raw("retry:200\n") << E{} << none << 200 << 0;
    QTest::newRow("retry zero") << raw("retry: 0\n") << E{} << none << 0 << 0;
    QTest::newRow("retry last valid wins")
        << raw("retry: 100\nretry: 250\n") << E{} << none << 250 << 0;
    QTest::newRow("retry with letters ignored")
        << raw("retry: 100\nretry: 15x\n") << E{} << none << 100 << 0;
    QTest::newRow("retry negative ignored") << raw("retry: -5\n") << E{} << none << -1 << 0;
    QTest::newRow("retry decimal ignored") << raw("retry: 1.5\n") << E{} << none << -1 << 0;
    QTest::newRow("retry empty ignored") << raw("retry: 100\nretry:\n") << E{} << none << 100 << 0;
    QTest::newRow("retry with two spaces ignored")
        << raw("retry:  100\n") << E{} << none << -1 << 0;
    QTest::newRow("retry overflow ignored")
        << raw("retry: 100\nretry: 99999999999999\n") << E{} << none << 100 << 0;
    QTest::newRow("retry does not dispatch")
        << raw("data: a\nretry: 10\n\n") << E{ev("a")} << none << 10 << 0;
    // Injection attempts inside values stay values.
    QTest::newRow("field text inside data")
        << raw("data: id: 9\ndata: event: x\n\n") << E{ev("id: 9\nevent: x")} << none << -1 << 0;
}

void tst_SseParser::interpretation()
{
    QFETCH(QByteArray, input);
    QFETCH(QList<SseEvent>, events);
    QFETCH(QByteArray, lastEventId);
    QFETCH(int, retry);
    QFETCH(int, comments);

    const Result expected{events, lastEventId, retry, comments, true};

    COMPARE_RESULT(parseChunks({input}), expected, QStringLiteral("one chunk"));
    COMPARE_RESULT(parseChunks(bytewise(input)), expected, QStringLiteral("byte by byte"));
    for (qsizetype cut = 0; cut <= input.size(); ++cut)
        COMPARE_RESULT(parseChunks({input.first(cut), input.sliced(cut)}), expected,
                       QStringLiteral("cut at %1").arg(cut));
    // Three pieces: a data line can be opened in one chunk, go on through a second and end in
    // a third (its value then goes straight into the event's data).
    for (qsizetype a = 0; a <= input.size(); ++a)
        for (qsizetype b = a; b <= input.size(); ++b)
            COMPARE_RESULT(parseChunks({input.first(a), input.sliced(a, b - a), input.sliced(b)}),
                           expected, QStringLiteral("cut at %1 and %2").arg(a).arg(b));
}

void tst_SseParser::crlfSplitAcrossChunks()
{
    // If the LF after the chunk-final CR were a line end of its own, this would be two events.
    const Result r = parseChunks({"data: a\r", "\ndata: b\r", "\n\r", "\n"});
    QCOMPARE(r.events.size(), 1);
    QCOMPARE(r.events[0].data, QByteArray("a\nb"));
}

void tst_SseParser::crAtChunkEndThenEmptyChunk()
{
    const Result r = parseChunks({"data: a\r", "", "\ndata: b\n\n"});
    QCOMPARE(r.events.size(), 1);
    QCOMPARE(r.events[0].data, QByteArray("a\nb"));
}

void tst_SseParser::bomSplitAcrossChunks()
{
    const Result r = parseChunks({"\xEF", "\xBB", "\xBF", "data: a\n\n"});
    QCOMPARE(r.events.size(), 1);
    QCOMPARE(r.events[0].data, QByteArray("a"));
}

void tst_SseParser::bomOnlyAtStreamStart()
{
    const Result r = parseChunks({"data: a\n\n", "\xEF\xBB\xBF", "data: b\n\n"});
    QCOMPARE(r.events.size(), 1);
    QCOMPARE(r.events[0].data, QByteArray("a"));
}

void tst_SseParser::resetForgetsPartialInputKeepsLastEventId()
{
    QList<SseEvent> events;
    SseParser parser([&events](const SseEvent &e) { events.append(e); });
    QVERIFY(parser.feed("id: 1\nevent: x\ndata: a\n\nid: 2\nevent: y\ndata: partial\ndata: mo"));
    QCOMPARE(events.size(), 1);
    QCOMPARE(parser.lastEventId(), QByteArray("1"));

    parser.reset();
    QCOMPARE(parser.lastEventId(), QByteArray("1")); // what to send as Last-Event-ID
    QVERIFY(parser.feed("re\ndata: b\n\n"));
    QCOMPARE(events.size(), 2);
    // "re" was the tail of a forgotten line, not a field; the event type and id of the
    // unfinished event are gone too.
    QCOMPARE(events[1].data, QByteArray("b"));
    QCOMPARE(events[1].type, QByteArray("message"));
    QCOMPARE(events[1].lastEventId, QByteArray("1"));
}

void tst_SseParser::resetAllowsBomAgain()
{
    QList<SseEvent> events;
    SseParser parser([&events](const SseEvent &e) { events.append(e); });
    QVERIFY(parser.feed("\xEF\xBB\xBF"
                        "data: a\n\n"));
    parser.reset();
    QVERIFY(parser.feed("\xEF\xBB\xBF"
                        "data: b\n\n"));
    QCOMPARE(events.size(), 2);
    QCOMPARE(events[1].data, QByteArray("b"));
}

void tst_SseParser::maxLineSize_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<int>("events");

    // Limit 16 bytes per line, line end excluded.
    QTest::newRow("exactly the limit") << QByteArray("data: 0123456789\n\n") << true << 1;
    QTest::newRow("one byte over, terminated") << QByteArray("data: 0123456789a\n\n") << false << 0;
    QTest::newRow("one byte over, unterminated") << QByteArray("data: 0123456789a") << false << 0;
    QTest::newRow("long comment") << QByteArray(": 0123456789abcdef\n") << false << 0;
    QTest::newRow("many short lines")
        << QByteArray(QByteArray("data: 0123456789\n").repeated(20) + "\n") << true << 1;
    QTest::newRow("data line over the limit in its continuation")
        << QByteArray("data: 0123456789" + QByteArray(64, 'a') + "\n\n") << false << 0;
    QTest::newRow("two data lines, each within the limit")
        << QByteArray("data: 0123456789\ndata: 0123456789\n\n") << true << 1;
    QTest::newRow("event before the long line is dispatched")
        << QByteArray("data: a\n\ndata: 0123456789abcdef\n\n") << false << 1;
}

void tst_SseParser::maxLineSize()
{
    QFETCH(QByteArray, input);
    QFETCH(bool, ok);
    QFETCH(int, events);

    const auto run = [&](const QByteArrayList &chunks) {
        int dispatched = 0;
        SseParser parser([&dispatched](const SseEvent &) { ++dispatched; });
        parser.setMaxLineSize(16);
        bool allOk = true;
        for (const QByteArray &chunk : chunks)
            allOk = parser.feed(chunk) && allOk;
        QCOMPARE(allOk, ok);
        QCOMPARE(dispatched, events);
    };
    run({input});
    run(bytewise(input));
    for (qsizetype cut = 0; cut <= input.size(); ++cut)
        run({input.first(cut), input.sliced(cut)});
}

void tst_SseParser::failedParserStaysFailedUntilReset()
{
    int dispatched = 0;
    SseParser parser([&dispatched](const SseEvent &) { ++dispatched; });
    parser.setMaxLineSize(8);
    QVERIFY(!parser.feed("data: 0123456789"));
    QVERIFY(!parser.feed("\n\ndata: a\n\n"));
    QCOMPARE(dispatched, 0);
    parser.reset();
    QVERIFY(parser.feed("data: a\n\n"));
    QCOMPARE(dispatched, 1);
}

void tst_SseParser::largeEvent()
{
    // A 1 MiB line arriving in 4 KiB pieces, as from a socket.
    const QByteArray payload(1024 * 1024, 'x');
    const QByteArray stream = "data: " + payload + "\n\n";
    QByteArrayList chunks;
    for (qsizetype i = 0; i < stream.size(); i += 4096)
        chunks.append(stream.mid(i, 4096));
    const Result r = parseChunks(chunks);
    QVERIFY(r.ok);
    QCOMPARE(r.events.size(), 1);
    QCOMPARE(r.events[0].data, payload);
}

void tst_SseParser::largeEventsBackToBack()
{
    // Multi-line events of 64 KiB lines in odd-sized pieces: each line is opened in one chunk
    // and finished in another, with CRLF line ends that are themselves cut.
    QByteArray stream;
    QList<QByteArray> expected;
    for (int i = 0; i < 5; ++i) {
        const QByteArray a(65536 + i, char('a' + i));
        const QByteArray b(1000 * i, char('A' + i));
        stream += "id: " + QByteArray::number(i) + "\r\ndata:" + a + "\r\ndata: " + b + "\r\n\r\n";
        expected.append(a + '\n' + b);
    }
    for (const qsizetype piece : {qsizetype(4093), qsizetype(65537), qsizetype(100000)}) {
        QByteArrayList chunks;
        for (qsizetype i = 0; i < stream.size(); i += piece)
            chunks.append(stream.mid(i, piece));
        const Result r = parseChunks(chunks);
        QVERIFY(r.ok);
        QCOMPARE(r.events.size(), expected.size());
        for (qsizetype i = 0; i < expected.size(); ++i) {
            QCOMPARE(r.events[i].data, expected[i]);
            QCOMPARE(r.events[i].lastEventId, QByteArray::number(i));
        }
    }
}

QTEST_GUILESS_MAIN(tst_SseParser)
#include "tst_sseparser.moc"
