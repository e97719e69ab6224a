#include "linebuffer.h"

#include <QTest>

class tst_ProducerLineBuffer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void splitsOnNewlineOnly_data();
    void splitsOnNewlineOnly();
    void truncatesLongLines_data();
    void truncatesLongLines();
    void longLineIsNeverHeldWhole();
};

namespace {

QByteArray cut(const QByteArray &kept, qint64 lineBytes)
{
    return kept + LineBuffer::truncationMarker(lineBytes);
}

// Appends each chunk and takes the lines that are complete after it.
QByteArrayList feed(LineBuffer &buffer, const QByteArrayList &chunks)
{
    QByteArrayList lines;
    for (const QByteArray &chunk : chunks) {
        buffer.append(chunk);
        while (const auto line = buffer.takeLine())
            lines.append(*line);
    }
    return lines;
}

// What the end of input adds.
QByteArrayList takeRest(LineBuffer &buffer)
{
    QByteArrayList lines;
    while (const auto line = buffer.takeLine(true))
        lines.append(*line);
    return lines;
}

} // namespace

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
    QCOMPARE(feed(buffer, chunks), lines);
    QCOMPARE(buffer.hasCompleteLine(), false);
    QCOMPARE(takeRest(buffer), atEndLines);
    QCOMPARE(buffer.size(), 0);
}

void tst_ProducerLineBuffer::truncatesLongLines_data()
{
    QTest::addColumn<int>("maxLineBytes");
    QTest::addColumn<QByteArrayList>("chunks");
    QTest::addColumn<QByteArrayList>("lines");      // complete lines, before the end of input
    QTest::addColumn<QByteArrayList>("atEndLines"); // what the end of input adds
    QTest::addColumn<int>("truncated");

    QTest::newRow("shorter than the cap")
        << 4 << QByteArrayList{"abc\n"} << QByteArrayList{"abc"} << QByteArrayList{} << 0;
    QTest::newRow("exactly the cap")
        << 4 << QByteArrayList{"abcd\n"} << QByteArrayList{"abcd"} << QByteArrayList{} << 0;
    QTest::newRow("newline in the chunk after the cap")
        << 4 << QByteArrayList{"abcd", "\nx\n"} << QByteArrayList{"abcd", "x"} << QByteArrayList{}
        << 0;
    QTest::newRow("one byte over: the marker")
        << 4 << QByteArrayList{"abcde\n"}
        << QByteArrayList{"abcd \xe2\x80\xa6 [truncated: 5 bytes]"} << QByteArrayList{} << 1;
    QTest::newRow("over the cap across chunks")
        << 4 << QByteArrayList{"ab", "cdef", "gh\nxy\n"} << QByteArrayList{cut("abcd", 8), "xy"}
        << QByteArrayList{} << 1;
    QTest::newRow("the rest of the line in later chunks")
        << 4 << QByteArrayList{"abcdef", "ghij", "kl", "\n", "next\n"}
        << QByteArrayList{cut("abcd", 12), "next"} << QByteArrayList{} << 1;
    QTest::newRow("several long lines in one chunk")
        << 2 << QByteArrayList{"aaaa\nbb\nccc\n"}
        << QByteArrayList{cut("aa", 4), "bb", cut("cc", 3)} << QByteArrayList{} << 2;
    QTest::newRow("cut inside a two-byte character")
        << 4 << QByteArrayList{"abc\xc3\xa9z\n"} << QByteArrayList{cut("abc", 6)}
        << QByteArrayList{} << 1;
    QTest::newRow("cut after a whole three-byte character")
        << 4 << QByteArrayList{"a\xe2\x82\xac\xe2\x82\xac\n"}
        << QByteArrayList{cut("a\xe2\x82\xac", 7)} << QByteArrayList{} << 1;
    QTest::newRow("cut inside a three-byte character")
        << 6 << QByteArrayList{"a\xe2\x82\xac\xe2\x82\xac\n"}
        << QByteArrayList{cut("a\xe2\x82\xac", 7)} << QByteArrayList{} << 1;
    QTest::newRow("cut inside a four-byte character")
        << 3 << QByteArrayList{"\xf0\x9f\x98\x80!\n"} << QByteArrayList{cut("", 5)}
        << QByteArrayList{} << 1;
    QTest::newRow("invalid utf-8 is kept")
        << 4 << QByteArrayList{"\xff\xfe\x80\x80zz\n"} << QByteArrayList{cut("\xff\xfe\x80\x80", 6)}
        << QByteArrayList{} << 1;
    QTest::newRow("long last line without newline")
        << 4 << QByteArrayList{"abc", "defg"} << QByteArrayList{} << QByteArrayList{cut("abcd", 7)}
        << 1;
}

void tst_ProducerLineBuffer::truncatesLongLines()
{
    QFETCH(int, maxLineBytes);
    QFETCH(QByteArrayList, chunks);
    QFETCH(QByteArrayList, lines);
    QFETCH(QByteArrayList, atEndLines);
    QFETCH(int, truncated);

    LineBuffer buffer;
    buffer.setMaxLineBytes(maxLineBytes);
    QCOMPARE(feed(buffer, chunks), lines);
    QCOMPARE(takeRest(buffer), atEndLines);
    QCOMPARE(buffer.size(), 0);
    QCOMPARE(buffer.truncatedLines(), quint64(truncated));
}

void tst_ProducerLineBuffer::longLineIsNeverHeldWhole()
{
    // 100 MiB of 'é' (two bytes each) after one 'a', read 64 KiB at a time: what is held never
    // exceeds the cap, and the line comes out cut back to a whole character.
    const qsizetype chunkSize = 64 * 1024;
    const int chunks = 1600;
    QByteArray chunk;
    for (qsizetype i = 0; i < chunkSize / 2; ++i)
        chunk += "\xc3\xa9";
    LineBuffer buffer;
    QCOMPARE(buffer.maxLineBytes(), LineBuffer::defaultMaxLineBytes);
    const qsizetype cap = buffer.maxLineBytes();
    const auto next = [&buffer] { return buffer.takeLine().value_or("(no line)"); };
    buffer.append("before\na");
    QCOMPARE(next(), QByteArray("before"));
    qsizetype peak = 0;
    for (int i = 0; i < chunks; ++i) {
        buffer.append(chunk);
        QVERIFY(!buffer.hasCompleteLine());
        peak = std::max(peak, buffer.size());
    }
    QVERIFY2(peak <= cap, QByteArray::number(peak).constData());
    buffer.append("\nafter\n");
    const qint64 lineBytes = 1 + qint64(chunks) * chunkSize;
    QByteArray kept = "a";
    for (qsizetype i = 0; i < (cap - 1) / 2; ++i)
        kept += "\xc3\xa9";
    QCOMPARE(next(), cut(kept, lineBytes));
    QCOMPARE(next(), QByteArray("after"));
    QVERIFY(!buffer.takeLine(true));
    QCOMPARE(buffer.truncatedLines(), 1u);
    QCOMPARE(buffer.lastTruncatedLineBytes(), lineBytes);
}

QTEST_GUILESS_MAIN(tst_ProducerLineBuffer)
#include "tst_producerlinebuffer.moc"
