// Unit tests of ReplayRing: bounded by count and by bytes, oldest evicted first, the newest
// always kept, lookup by sequence number across wrap-around.
#include "replayring.h"

#include <QTest>

namespace {

ReplayRing::Entry entry(qint64 seq, qsizetype bytes)
{
    ReplayRing::Entry e;
    e.seq = seq;
    e.channel = int(seq % 3);
    e.name = "logs:" + QByteArray::number(seq);
    e.frame = QByteArray(bytes, char('a' + seq % 26));
    return e;
}

StreamCursor cursor(std::initializer_list<StreamId> ids)
{
    StreamCursor c(int(ids.size()));
    int p = 0;
    for (const StreamId &id : ids)
        c.set(p++, id);
    return c;
}

} // namespace

class tst_ReplayRing : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void empty();
    void caps_data();
    void caps();
    void oversizedNewestIsKept();
    void findAcrossWrapAround();
    void capacityZero();
    void findByStreamPosition();
    void findByPositionInPartitions();
};

void tst_ReplayRing::empty()
{
    const ReplayRing ring(4, 1000);
    QVERIFY(ring.isEmpty());
    QCOMPARE(ring.size(), 0);
    QCOMPARE(ring.capacity(), 4);
    QCOMPARE(ring.bytes(), 0);
    QCOMPARE(ring.firstSeq(), 0);
    QCOMPARE(ring.lastSeq(), 0);
    QCOMPARE(ring.evicted(), quint64(0));
    QVERIFY(!ring.find(0));
    QVERIFY(!ring.find(1));
}

void tst_ReplayRing::caps_data()
{
    QTest::addColumn<int>("capacity");
    QTest::addColumn<qint64>("maxBytes");
    QTest::addColumn<QList<int>>("sizes"); // frame sizes of seq 1, 2, ...
    QTest::addColumn<qint64>("firstSeq");
    QTest::addColumn<qint64>("bytes");
    QTest::addColumn<int>("evicted");

    QTest::newRow("under both caps")
        << 4 << qint64(100) << QList<int>{10, 10, 10} << qint64(1) << qint64(30) << 0;
    QTest::newRow("count cap") << 3 << qint64(1000) << QList<int>{10, 10, 10, 10, 10} << qint64(3)
                               << qint64(30) << 2;
    QTest::newRow("count cap exactly")
        << 3 << qint64(1000) << QList<int>{1, 2, 3} << qint64(1) << qint64(6) << 0;
    QTest::newRow("byte cap") << 10 << qint64(25) << QList<int>{10, 10, 10, 10} << qint64(3)
                              << qint64(20) << 2;
    QTest::newRow("byte cap exactly")
        << 10 << qint64(30) << QList<int>{10, 10, 10} << qint64(1) << qint64(30) << 0;
    QTest::newRow("big entry evicts several")
        << 10 << qint64(50) << QList<int>{10, 10, 10, 10, 45} << qint64(5) << qint64(45) << 4;
    QTest::newRow("both caps") << 3 << qint64(25) << QList<int>{5, 5, 5, 5, 20} << qint64(4)
                               << qint64(25) << 3;
    QTest::newRow("empty frames count only")
        << 2 << qint64(0) << QList<int>{0, 0, 0} << qint64(2) << qint64(0) << 1;
    QTest::newRow("wrap many times")
        << 4 << qint64(1000) << QList<int>(50, 7) << qint64(47) << qint64(28) << 46;
}

void tst_ReplayRing::caps()
{
    QFETCH(int, capacity);
    QFETCH(qint64, maxBytes);
    QFETCH(QList<int>, sizes);
    QFETCH(qint64, firstSeq);
    QFETCH(qint64, bytes);
    QFETCH(int, evicted);

    ReplayRing ring(capacity, maxBytes);
    for (qsizetype i = 0; i < sizes.size(); ++i)
        ring.append(entry(i + 1, sizes[i]));

    const qint64 lastSeq = sizes.size();
    QCOMPARE(ring.firstSeq(), firstSeq);
    QCOMPARE(ring.lastSeq(), lastSeq);
    QCOMPARE(ring.size(), lastSeq - firstSeq + 1);
    QCOMPARE(ring.bytes(), bytes);
    QCOMPARE(ring.evicted(), quint64(evicted));
    QCOMPARE(quint64(ring.size()) + ring.evicted(), quint64(sizes.size()));
    QVERIFY(ring.size() <= capacity);
    qint64 sum = 0;
    for (qint64 seq = firstSeq; seq <= lastSeq; ++seq) {
        const ReplayRing::Entry *e = ring.find(seq);
        QVERIFY(e);
        QCOMPARE(e->seq, seq);
        QCOMPARE(e->frame, entry(seq, sizes[seq - 1]).frame);
        sum += e->frame.size();
    }
    QCOMPARE(sum, bytes);
    QVERIFY(!ring.find(firstSeq - 1));
    QVERIFY(!ring.find(lastSeq + 1));
}

void tst_ReplayRing::oversizedNewestIsKept()
{
    ReplayRing ring(10, 100);
    ring.append(entry(1, 30));
    ring.append(entry(2, 500)); // alone above the cap: kept, everything older goes
    QCOMPARE(ring.size(), 1);
    QCOMPARE(ring.firstSeq(), 2);
    QCOMPARE(ring.bytes(), 500);
    QCOMPARE(ring.evicted(), quint64(1));
    QVERIFY(ring.find(2));

    ring.append(entry(3, 10)); // now the oversized one goes
    QCOMPARE(ring.size(), 1);
    QCOMPARE(ring.firstSeq(), 3);
    QCOMPARE(ring.bytes(), 10);
    QCOMPARE(ring.evicted(), quint64(2));
    QVERIFY(!ring.find(2));
}

void tst_ReplayRing::findAcrossWrapAround()
{
    ReplayRing ring(4, 1 << 20);
    const qint64 start = 1000; // sequence numbers need not start at 1
    for (qint64 seq = start; seq < start + 10; ++seq)
        ring.append(entry(seq, 8));
    QCOMPARE(ring.firstSeq(), start + 6);
    QCOMPARE(ring.lastSeq(), start + 9);
    for (qint64 seq = start + 6; seq <= start + 9; ++seq) {
        const ReplayRing::Entry *e = ring.find(seq);
        QVERIFY(e);
        QCOMPARE(e->seq, seq);
        QCOMPARE(e->channel, int(seq % 3));
        QCOMPARE(e->name, "logs:" + QByteArray::number(seq));
    }
    for (qint64 seq : {qint64(0), qint64(-1), start, start + 5, start + 10})
        QVERIFY(!ring.find(seq));
}

void tst_ReplayRing::capacityZero()
{
    ReplayRing ring(0, 1000);
    ring.append(entry(1, 10));
    ring.append(entry(2, 10));
    QVERIFY(ring.isEmpty());
    QCOMPARE(ring.size(), 0);
    QCOMPARE(ring.bytes(), 0);
    QCOMPARE(ring.firstSeq(), 0);
    QCOMPARE(ring.lastSeq(), 0);
    QVERIFY(!ring.find(1));
    QVERIFY(!ring.find(2));
}

void tst_ReplayRing::findByStreamPosition()
{
    // Positions 10-0, 10-1, 11-0, ... (two per millisecond), a gap at the position of the
    // entry before it; 6 held of 9.
    ReplayRing ring(6, 1 << 20);
    const QList<StreamId> positions{{10, 0}, {10, 1}, {11, 0}, {11, 1}, {11, 1} /* gap */,
                                    {12, 0}, {12, 1}, {13, 0}, {13, 1}};
    for (qsizetype i = 0; i < positions.size(); ++i) {
        ReplayRing::Entry e = entry(i + 1, 10);
        if (i == 4)
            e.channel = -1;
        e.position = positions[i];
        e.cursor = cursor({positions[i]});
        ring.append(e);
    }
    QCOMPARE(ring.firstSeq(), 4);
    QCOMPARE(ring.evictedUpTo(), cursor({{11, 0}}));
    QCOMPARE(ring.firstAfter(cursor({{11, 0}})), 4);
    // after the entry and the gap at its position
    QCOMPARE(ring.firstAfter(cursor({{11, 1}})), 6);
    QCOMPARE(ring.firstAfter(cursor({{11, 7}})), 6);
    QCOMPARE(ring.firstAfter(cursor({{12, 1}})), 8);
    QCOMPARE(ring.firstAfter(cursor({{13, 1}})), 10); // none: lastSeq() + 1
    QCOMPARE(ring.firstAfter(cursor({{99, 0}})), 10);
    QCOMPARE(ring.firstAfter(cursor({{0, 0}})), 4);
}

void tst_ReplayRing::findByPositionInPartitions()
{
    // Two partitions, interleaved as one gateway read them: a0 b0 a1 b1 gap a2 b2.
    ReplayRing ring(100, 1 << 20);
    struct Step
    {
        int partition; // -1: a gap
        StreamId id;
    };
    const QList<Step> steps{{0, {10, 0}}, {1, {5, 0}},  {0, {11, 0}}, {1, {6, 0}},
                            {-1, {}},     {0, {12, 0}}, {1, {7, 0}}};
    StreamCursor position(2);
    for (qsizetype i = 0; i < steps.size(); ++i) {
        ReplayRing::Entry e = entry(i + 1, 10);
        if (steps[i].partition < 0) {
            e.channel = -1;
        } else {
            e.partition = steps[i].partition;
            e.position = steps[i].id;
            position.set(e.partition, e.position);
        }
        e.cursor = position;
        ring.append(e);
    }
    // Another gateway read b further first: a reader there at (a0, b1) has not seen a1 (seq 3).
    QCOMPARE(ring.firstAfter(cursor({{10, 0}, {6, 0}})), 3);
    QVERIFY(ReplayRing::covers(cursor({{10, 0}, {6, 0}}), *ring.find(4)));  // b1: seen
    QVERIFY(!ReplayRing::covers(cursor({{10, 0}, {6, 0}}), *ring.find(5))); // the gap after a1
    QCOMPARE(ring.firstAfter(cursor({{11, 0}, {6, 0}})), 6);                // after the gap
    QCOMPARE(ring.firstAfter(cursor({{12, 0}, {6, 0}})), 7);                // b2
    QCOMPARE(ring.firstAfter(cursor({{12, 0}, {7, 0}})), 8);
    QCOMPARE(ring.firstAfter(cursor({{}, {}})), 1);
    QCOMPARE(ring.firstAfter(cursor({{}, {7, 0}})), 1);
}

QTEST_GUILESS_MAIN(tst_ReplayRing)
#include "tst_replayring.moc"
