#include "transport.h"

#include <QTest>

// The partition a channel goes to is part of the wire format: every producer, in any language,
// must pick the same one. These vectors were computed with Python's zlib.crc32(name) % n.
class TestTransport : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void partitionOf_data()
    {
        QTest::addColumn<QByteArray>("channel");
        QTest::addColumn<int>("partitions");
        QTest::addColumn<int>("partition");
        QTest::newRow("errors/3") << QByteArray("logs:errors") << 3 << 2;
        QTest::newRow("metrics/3") << QByteArray("logs:metrics") << 3 << 2;
        QTest::newRow("generation/3") << QByteArray("logs:generation") << 3 << 0;
        QTest::newRow("otel/4") << QByteArray("logs:otel") << 4 << 2;
        QTest::newRow("metrics/4") << QByteArray("logs:metrics") << 4 << 1;
        QTest::newRow("metrics/16") << QByteArray("logs:metrics") << 16 << 13;
        QTest::newRow("generation/16") << QByteArray("logs:generation") << 16 << 8;
        QTest::newRow("utf8/16") << QByteArray("logs:\xc3\xa9t\xc3\xa9") << 16 << 11;
        QTest::newRow("utf8/4") << QByteArray("logs:\xc3\xa9t\xc3\xa9") << 4 << 3;
        QTest::newRow("empty/16") << QByteArray() << 16 << 0;
        QTest::newRow("one partition") << QByteArray("logs:metrics") << 1 << 0;
    }
    void partitionOf()
    {
        QFETCH(QByteArray, channel);
        QFETCH(int, partitions);
        QFETCH(int, partition);
        Transport t;
        t.streamPartitions = partitions;
        QCOMPARE(t.partitionOf(channel), partition);
    }

    void partitionKeys()
    {
        Transport t;
        t.streamKey = "llmstreamer:stream";
        QCOMPARE(t.partitionKey(0), QByteArray("llmstreamer:stream"));
        t.streamPartitions = 3;
        QCOMPARE(t.partitionKey(0), QByteArray("llmstreamer:stream:{0}"));
        QCOMPARE(t.partitionKey(2), QByteArray("llmstreamer:stream:{2}"));
    }

    void partitionShareOfMaxEntries()
    {
        Transport t;
        t.streamMaxEntries = 1'000'000;
        t.streamPartitions = 3;
        QCOMPARE(t.partitionMaxEntries(), 333'333);
        t.streamMaxEntries = 0;
        QCOMPARE(t.partitionMaxEntries(), 0);
        t.streamMaxEntries = 2;
        QCOMPARE(t.partitionMaxEntries(), 1);
    }
};

QTEST_GUILESS_MAIN(TestTransport)
#include "tst_transport.moc"
