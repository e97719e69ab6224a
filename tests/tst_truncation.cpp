// The one way text is cut, shared by the gateway's --max-payload-bytes and the producer's
// --max-line-bytes (common/truncation.h).
#include "truncation.h"

#include <QTest>

class tst_Truncation : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void cut_data();
    void cut();
};

void tst_Truncation::cut_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<int>("max");
    QTest::addColumn<QByteArray>("kept");
    QTest::newRow("ascii") << QByteArray("abcdef") << 3 << QByteArray("abc");
    QTest::newRow("2-byte char whole")
        << QByteArray("ab\xc3\xa9z") << 4 << QByteArray("ab\xc3\xa9");
    QTest::newRow("2-byte char cut") << QByteArray("ab\xc3\xa9z") << 3 << QByteArray("ab");
    QTest::newRow("3-byte char cut") << QByteArray("a\xe2\x80\xa6z") << 3 << QByteArray("a");
    QTest::newRow("4-byte char cut") << QByteArray("a\xf0\x9f\x98\x80z") << 4 << QByteArray("a");
    QTest::newRow("4-byte char whole")
        << QByteArray("a\xf0\x9f\x98\x80z") << 5 << QByteArray("a\xf0\x9f\x98\x80");
    QTest::newRow("invalid bytes kept")
        << QByteArray("a\xff\xfe\xfdz") << 3 << QByteArray("a\xff\xfe");
    QTest::newRow("lone continuation kept")
        << QByteArray("\x80\x80\x80\x80\x80z") << 5 << QByteArray("\x80\x80\x80\x80\x80");
    QTest::newRow("nothing kept") << QByteArray("\xe2\x80\xa6") << 2 << QByteArray();
}

void tst_Truncation::cut()
{
    QFETCH(QByteArray, text);
    QFETCH(int, max);
    QFETCH(QByteArray, kept);
    const QByteArray marker =
        " \xe2\x80\xa6 [truncated: " + QByteArray::number(text.size()) + " bytes]";
    QCOMPARE(Truncation::marker(text.size()), marker);
    QCOMPARE(Truncation::cut(text, max), kept + marker);
    QCOMPARE(Truncation::utf8Boundary(text.first(max)), kept.size());
}

QTEST_APPLESS_MAIN(tst_Truncation)
#include "tst_truncation.moc"
