// Unit tests of EventId: "<boot>-<seq>" text, strict parsing, and (boot, seq) ordering.
#include "eventid.h"

#include <QTest>

#include <limits>

class tst_EventId : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void roundTrip_data();
    void roundTrip();
    void writeExtremes();
    void parseRejects_data();
    void parseRejects();
    void ordering_data();
    void ordering();
    void cursorRoundTrip_data();
    void cursorRoundTrip();
    void cursorRejects_data();
    void cursorRejects();
    void cursorOrder();
};

void tst_EventId::roundTrip_data()
{
    QTest::addColumn<qint64>("boot");
    QTest::addColumn<qint64>("seq");
    QTest::addColumn<QByteArray>("text");

    QTest::newRow("typical") << qint64(1700000000000) << qint64(1) << QByteArray("1700000000000-1");
    QTest::newRow("zeros") << qint64(0) << qint64(0) << QByteArray("0-0");
    QTest::newRow("large seq") << qint64(1700000000000) << qint64(123456789012)
                               << QByteArray("1700000000000-123456789012");
    QTest::newRow("18 digits") << qint64(999999999999999999) << qint64(999999999999999999)
                               << QByteArray("999999999999999999-999999999999999999");
}

void tst_EventId::writeExtremes()
{
    // write() is the gateway's allocation-free form: every digit count, and the extremes that
    // fill maxLength, come out as QByteArray::number would have written them.
    char buf[EventId::maxLength];
    for (qint64 v : {qint64(0), qint64(9), qint64(10), qint64(99), qint64(1000000007),
                     std::numeric_limits<qint64>::max(), std::numeric_limits<qint64>::min()}) {
        const EventId id{v, v};
        const QByteArray expected = QByteArray::number(v) + '-' + QByteArray::number(v);
        QCOMPARE(QByteArray(buf, id.write(buf)), expected);
        QCOMPARE(id.toByteArray(), expected);
    }
    const EventId widest{std::numeric_limits<qint64>::min(), std::numeric_limits<qint64>::min()};
    QCOMPARE(widest.write(buf), EventId::maxLength);
}

void tst_EventId::roundTrip()
{
    QFETCH(qint64, boot);
    QFETCH(qint64, seq);
    QFETCH(QByteArray, text);

    const EventId id{boot, seq};
    QCOMPARE(id.toByteArray(), text);
    const auto parsed = EventId::parse(text);
    QVERIFY(parsed);
    QCOMPARE(parsed->boot, boot);
    QCOMPARE(parsed->seq, seq);
    QVERIFY(*parsed == id);
}

void tst_EventId::parseRejects_data()
{
    QTest::addColumn<QByteArray>("text");

    QTest::newRow("empty") << QByteArray();
    QTest::newRow("dash only") << QByteArray("-");
    QTest::newRow("no dash") << QByteArray("12");
    QTest::newRow("empty boot") << QByteArray("-5");
    QTest::newRow("empty seq") << QByteArray("5-");
    QTest::newRow("negative boot") << QByteArray("-1-5");
    QTest::newRow("negative seq") << QByteArray("1--5");
    QTest::newRow("three parts") << QByteArray("1-2-3");
    QTest::newRow("letters in boot") << QByteArray("a-1");
    QTest::newRow("letters in seq") << QByteArray("1-1a");
    QTest::newRow("hex") << QByteArray("1-0x10");
    QTest::newRow("plus sign") << QByteArray("+1-2");
    QTest::newRow("decimal") << QByteArray("1.5-2");
    QTest::newRow("leading space") << QByteArray(" 1-2");
    QTest::newRow("trailing space") << QByteArray("1-2 ");
    QTest::newRow("space around dash") << QByteArray("1 - 2");
    QTest::newRow("NUL") << QByteArray("1-2\0", 4);
    QTest::newRow("19-digit boot") << QByteArray("1000000000000000000-1");
    QTest::newRow("19-digit seq") << QByteArray("1-1000000000000000000");
    QTest::newRow("overflowing boot") << QByteArray("99999999999999999999-1");
    QTest::newRow("overflowing seq") << QByteArray("1-99999999999999999999");
    QTest::newRow("underscore") << QByteArray("1_2");
    QTest::newRow("UTF-8 digits") << QByteArray("\xD9\xA1-2"); // ARABIC-INDIC DIGIT ONE
}

void tst_EventId::parseRejects()
{
    QFETCH(QByteArray, text);

    QVERIFY(!EventId::parse(text));
}

void tst_EventId::ordering_data()
{
    QTest::addColumn<QByteArray>("a");
    QTest::addColumn<QByteArray>("b");
    QTest::addColumn<int>("order"); // sign of a <=> b

    QTest::newRow("equal") << QByteArray("5-7") << QByteArray("5-7") << 0;
    QTest::newRow("same boot, by seq") << QByteArray("5-7") << QByteArray("5-8") << -1;
    QTest::newRow("seq compares as a number") << QByteArray("5-10") << QByteArray("5-9") << 1;
    QTest::newRow("later boot wins over larger seq")
        << QByteArray("1700000000000-999999") << QByteArray("1700000000001-1") << -1;
    QTest::newRow("boot compares as a number") << QByteArray("999-1") << QByteArray("1000-1") << -1;
    QTest::newRow("earlier boot") << QByteArray("2-1") << QByteArray("1-50") << 1;
}

void tst_EventId::ordering()
{
    QFETCH(QByteArray, a);
    QFETCH(QByteArray, b);
    QFETCH(int, order);

    const auto x = EventId::parse(a);
    const auto y = EventId::parse(b);
    QVERIFY(x && y);
    QCOMPARE(*x < *y, order < 0);
    QCOMPARE(*x > *y, order > 0);
    QCOMPARE(*x == *y, order == 0);
    QCOMPARE(*y<*x, order> 0);
}

void tst_EventId::cursorRoundTrip_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<int>("partitions");
    QTest::newRow("one partition: a stream id") << QByteArray("s1733500000000-5") << 1;
    QTest::newRow("three") << QByteArray("c1,1733500000000-0,1733500000001-3,2-0") << 3;
    QTest::newRow("none read yet") << QByteArray("c1,,,") << 3;
    QTest::newRow("some") << QByteArray("c1,,17-1") << 2;
    QTest::newRow("an entry's own partition") << QByteArray("c1,5-0,*7-1,") << 3;
    QByteArray many = "c1";
    for (int p = 0; p < 64; ++p)
        many += ",999999999999999999-999999999999999999";
    QTest::newRow("64 at their largest") << many << 64;
}

void tst_EventId::cursorRoundTrip()
{
    QFETCH(QByteArray, text);
    QFETCH(int, partitions);
    int own = -2;
    const auto cursor = StreamCursor::parseEventId(text, partitions, &own);
    QVERIFY(cursor);
    QCOMPARE(cursor->partitions(), partitions);
    QCOMPARE(cursor->toEventId(partitions > 1 ? own : -1), text);
    QCOMPARE(own,
             partitions == 1
                 ? 0
                 : int(text.indexOf('*') < 0 ? -1 : text.left(text.indexOf('*')).count(',') - 1));
    QVERIFY(cursor->toEventId().size() <= StreamCursor::maxEventIdLength(partitions));
}

void tst_EventId::cursorRejects_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<int>("partitions");
    QTest::newRow("too few") << QByteArray("c1,1-0,2-0") << 3;
    QTest::newRow("too many") << QByteArray("c1,1-0,2-0,3-0,4-0") << 3;
    QTest::newRow("another version") << QByteArray("c2,1-0,2-0,3-0") << 3;
    QTest::newRow("a stream id for partitions") << QByteArray("s1-0") << 3;
    QTest::newRow("a cursor for one partition") << QByteArray("c1,1-0") << 1;
    QTest::newRow("pub/sub id") << QByteArray("1733500000000-3") << 2;
    QTest::newRow("bad part") << QByteArray("c1,1-0,x-1") << 2;
    QTest::newRow("no dash") << QByteArray("c1,10,1-1") << 2;
    QTest::newRow("empty") << QByteArray() << 2;
    QTest::newRow("just the version") << QByteArray("c1") << 2;
    QTest::newRow("two marked") << QByteArray("c1,*1-0,*2-0") << 2;
    QTest::newRow("marked twice") << QByteArray("c1,**1-0,2-0") << 2;
}

void tst_EventId::cursorRejects()
{
    QFETCH(QByteArray, text);
    QFETCH(int, partitions);
    QVERIFY(!StreamCursor::parseEventId(text, partitions));
}

void tst_EventId::cursorOrder()
{
    const auto a = *StreamCursor::parseEventId("c1,5-0,,9-0", 3);
    const auto b = *StreamCursor::parseEventId("c1,4-0,1-0,9-0", 3);
    QVERIFY(!a.dominates(b) && !b.dominates(a)); // each ahead in some partition
    QVERIFY(a.dominates(a));
    QVERIFY(a.covers(0, {5, 0}) && !a.covers(0, {5, 1}) && !a.covers(1, {0, 1}));
    StreamCursor c = a;
    c.raise(b);
    QCOMPARE(c.toEventId(), QByteArray("c1,5-0,1-0,9-0"));
    QVERIFY(c.dominates(a) && c.dominates(b));
    // Neighbours of an id: nothing lies between.
    QCOMPARE((StreamId{5, 0}).next(), (StreamId{5, 1}));
    QCOMPARE((StreamId{5, StreamId::largestSeq}).next(), (StreamId{6, 0}));
    QCOMPARE((StreamId{6, 0}).previous().next(), (StreamId{6, 0}));
    StreamCursor none;
    none.raise(b);
    QCOMPARE(none, b);
    QVERIFY(a.dominates(StreamCursor()));
}

QTEST_GUILESS_MAIN(tst_EventId)
#include "tst_eventid.moc"
