#include "linebuffer.h"

#include <QTest>

class tst_ProducerLineBuffer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void splitsOnNewlineOnly_data();
    void splitsOnNewlineOnly();
};

void tst_ProducerLineBuffer::splitsOnNewlineOnly_data()
{
    QTest::addColumn<QByteArrayList>("chunks");
    QTest::addColumn<QByteArrayList>("lines");      // complete lines, before the end of input
    QTest::addColumn<QByteArrayList>("atEndLines"); // what the end of input adds

    QTest::newRow("empty") << QByteArrayList{} << QByteArrayList{} << QByteArrayList{};
    QTest::newRow("one line") << QByteArrayList{"a\n"} << QByteArrayList{"a"} << QByteArrayList{};
    QTest::newRow("no newline at end")
        << QByteArrayList{"a\nb"} << QByteArrayList{"a"} << QByteArrayList{"b"};
    QTest::newRow("empty lines") << QByteArrayList{"\n\n\n"} << QByteArrayList{"", "", ""}
                                 << QByteArrayList{};
    QTest::newRow("crlf kept") << QByteArrayList{"a\r\nb\r\n"} << QByteArrayList{"a\r", "b\r"}
                               << QByteArrayList{};
    QTest::newRow("lone cr is not a break")
        << QByteArrayList{"a\rb\n"} << QByteArrayList{"a\rb"} << QByteArrayList{};
    QTest::newRow("nul and invalid utf-8")
        << QByteArrayList{QByteArray("x\0y\n", 4), "\xff\xfe\xc3\n"}
        << QByteArrayList{QByteArray("x\0y", 3), "\xff\xfe\xc3"} << QByteArrayList{};
    QTest::newRow("line split across chunks")
        << QByteArrayList{"he", "ll", "o\nwor", "ld\n"} << QByteArrayList{"hello", "world"}
        << QByteArrayList{};
    QTest::newRow("newline alone in a chunk")
        << QByteArrayList{"abc", "\n", "\n"} << QByteArrayList{"abc", ""} << QByteArrayList{};
    QTest::newRow("only a partial line")
        << QByteArrayList{"abc", "def"} << QByteArrayList{} << QByteArrayList{"abcdef"};
}

void tst_ProducerLineBuffer::splitsOnNewlineOnly()
{
    QFETCH(QByteArrayList, chunks);
    QFETCH(QByteArrayList, lines);
    QFETCH(QByteArrayList, atEndLines);

    LineBuffer buffer;
    QByteArrayList got;
    for (const QByteArray &chunk : std::as_const(chunks)) {
        buffer.append(chunk);
        while (const auto line = buffer.takeLine())
            got.append(*line);
    }
    QCOMPARE(got, lines);
    QCOMPARE(buffer.hasCompleteLine(), false);
    QByteArrayList last;
    while (const auto line = buffer.takeLine(true))
        last.append(*line);
    QCOMPARE(last, atEndLines);
    QCOMPARE(buffer.size(), 0);
}

QTEST_GUILESS_MAIN(tst_ProducerLineBuffer)
#include "tst_producerlinebuffer.moc"
