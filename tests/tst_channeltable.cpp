// Unit tests of ChannelTable: counters per channel, the limits that send channels to the
// aggregate rows, the last-hit cache, and rates over a given interval.
#include "channeltable.h"

#include <QTest>

class tst_ChannelTable : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void counts();
    void nameLength_data();
    void nameLength();
    void channelLimit();
    void nameBytesLimit();
    void lastHitCache();
    void rates_data();
    void rates();
};

void tst_ChannelTable::counts()
{
    ChannelTable table;
    QCOMPARE(table.count("logs:a", 10, 3, 1000), 0);
    QCOMPARE(table.count("logs:b", 5, 0, 1001), 1);
    QCOMPARE(table.count("logs:a", 7, -1, 1002), 0); // no usage field: no tokens
    QCOMPARE(table.rows().size(), size_t(2));
    const ChannelTable::Row &a = table[0];
    QCOMPARE(a.name, QByteArray("logs:a"));
    QCOMPARE(a.received, quint64(2));
    QCOMPARE(a.bytes, quint64(17));
    QCOMPARE(a.outputTokens, quint64(3));
    QCOMPARE(a.lastTs, qint64(1002));
    QVERIFY(!a.aggregate);
    QCOMPARE(table[1].received, quint64(1));
    QCOMPARE(table.received(), quint64(3));
    // Counted by the hub as it writes.
    QCOMPARE(a.delivered + a.dropped + a.replayed, quint64(0));
}

void tst_ChannelTable::nameLength_data()
{
    QTest::addColumn<int>("length");
    QTest::addColumn<bool>("ownRow");

    QTest::newRow("short") << 1 << true;
    QTest::newRow("at the limit") << int(ChannelTable::maxTrackedNameBytes) << true;
    QTest::newRow("one over") << int(ChannelTable::maxTrackedNameBytes) + 1 << false;
    QTest::newRow("huge") << 1024 * 1024 << false;
}

void tst_ChannelTable::nameLength()
{
    QFETCH(int, length);
    QFETCH(bool, ownRow);

    ChannelTable table;
    const QByteArray name(length, 'n');
    const int index = table.indexOf(name);
    QCOMPARE(table.indexOf(name), index);
    QCOMPARE(table[index].aggregate, !ownRow);
    QCOMPARE(table[index].name, ownRow ? name : QByteArray("(long names)"));
    QCOMPARE(table.rows().size(), size_t(1));
}

void tst_ChannelTable::channelLimit()
{
    ChannelTable table;
    for (int i = 0; i < ChannelTable::maxTrackedChannels; ++i)
        QCOMPARE(table.indexOf(QByteArray("c" + QByteArray::number(i))), i);
    const int other = table.indexOf("one too many");
    QCOMPARE(other, ChannelTable::maxTrackedChannels);
    QCOMPARE(table[other].name, QByteArray("(other)"));
    QVERIFY(table[other].aggregate);
    // Made once; known channels keep their rows.
    QCOMPARE(table.indexOf("another"), other);
    QCOMPARE(table.indexOf("c7"), 7);
    QCOMPARE(table.rows().size(), size_t(ChannelTable::maxTrackedChannels + 1));
}

void tst_ChannelTable::nameBytesLimit()
{
    ChannelTable table;
    const qsizetype length = ChannelTable::maxTrackedNameBytes;
    const int fit = int(ChannelTable::maxTrackedNameTotal / length);
    for (int i = 0; i < fit; ++i) {
        QByteArray name = QByteArray::number(i);
        name.append(QByteArray(length - name.size(), '.'));
        QVERIFY(!table[table.indexOf(name)].aggregate);
    }
    const int over = table.indexOf("x");
    QCOMPARE(table[over].name, QByteArray("(other)"));
    QCOMPARE(table.rows().size(), size_t(fit + 1));
}

void tst_ChannelTable::lastHitCache()
{
    ChannelTable table;
    const QByteArray longName(300, 'l');
    const QList<QByteArray> names{"a", "a", "b", "a", longName, longName, "b", "ab", "a"};
    const QList<int> expected{0, 0, 1, 0, 2, 2, 1, 3, 0};
    for (qsizetype i = 0; i < names.size(); ++i)
        QCOMPARE(table.indexOf(names[i]), expected[i]);
}

void tst_ChannelTable::rates_data()
{
    QTest::addColumn<int>("messages");
    QTest::addColumn<qint64>("tokensEach");
    QTest::addColumn<double>("seconds");
    QTest::addColumn<double>("rate");
    QTest::addColumn<double>("tokenRate");

    QTest::newRow("idle") << 0 << qint64(0) << 1.0 << 0.0 << 0.0;
    QTest::newRow("one second") << 10 << qint64(3) << 1.0 << 10.0 << 30.0;
    QTest::newRow("two seconds") << 10 << qint64(3) << 2.0 << 5.0 << 15.0;
    QTest::newRow("late tick") << 6 << qint64(0) << 1.5 << 4.0 << 0.0;
}

void tst_ChannelTable::rates()
{
    QFETCH(int, messages);
    QFETCH(qint64, tokensEach);
    QFETCH(double, seconds);
    QFETCH(double, rate);
    QFETCH(double, tokenRate);

    ChannelTable table;
    table.count("logs:a", 1, 0, 0); // before the first tick: not in this interval
    table.count("logs:b", 1, 100, 0);
    table.tick(1.0);
    for (int i = 0; i < messages; ++i)
        table.count(i % 2 ? "logs:b" : "logs:a", 1, tokensEach, 0);
    table.tick(seconds);
    QCOMPARE(table.rate(), rate);
    QCOMPARE(table.tokenRate(), tokenRate);
    QCOMPARE(table[0].rate + table[1].rate, rate);
    QCOMPARE(table[0].tokenRate + table[1].tokenRate, tokenRate);

    // Nothing since: zero, and the totals stay.
    table.tick(1.0);
    QCOMPARE(table.rate(), 0.0);
    QCOMPARE(table.tokenRate(), 0.0);
    QCOMPARE(table.received(), quint64(messages + 2));
}

QTEST_APPLESS_MAIN(tst_ChannelTable)
#include "tst_channeltable.moc"
