// EventEncoding: the frames the hub keeps in its history are what they say (an SSE event whose
// data is the envelope) and hold no more memory than their size plus a little: the history's
// byte cap counts sizes, so slack in every frame would grow the gateway past it (it did: 64 KiB
// payloads with stream ids took half as much again).
#include "envelope.h"
#include "eventencoding.h"
#include "sseencoder.h"
#include "sseparser.h"

#include <QTest>

class tst_EventEncoding : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void frameIsTheEnvelope_data();
    void frameIsTheEnvelope();
    void withId_data();
    void withId();
};

void tst_EventEncoding::frameIsTheEnvelope_data()
{
    QTest::addColumn<QByteArray>("id");
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<qint64>("maxPayload");
    const QByteArray pubsubId = "1796550558735-12";
    const QByteArray streamId = "s1796550580454-0";
    const QByteArray longId = "s1796550580454-999999999999999999";
    for (const int size : {0, 100, 4096, 65536, 1 << 20}) {
        for (const QByteArray &id : {pubsubId, streamId, longId})
            QTest::addRow("%d bytes, id %s", size, id.constData())
                << id << QByteArray(size, 'x') << qint64(4 << 20);
    }
    QTest::newRow("object") << streamId << QByteArray("{\"level\":\"INFO\",\"msg\":\"hi\"}")
                            << qint64(4 << 20);
    QTest::newRow("object with line breaks")
        << streamId << QByteArray("{\"a\":\n1,\r\n\"b\":2}") << qint64(4 << 20);
    QTest::newRow("control characters") << streamId << QByteArray(65536, '\x01') << qint64(4 << 20);
    QTest::newRow("invalid UTF-8") << streamId << QByteArray(65536, '\xff') << qint64(4 << 20);
    QTest::newRow("cut") << streamId << QByteArray(100000, 'y') << qint64(65536);
}

void tst_EventEncoding::frameIsTheEnvelope()
{
    QFETCH(QByteArray, id);
    QFETCH(QByteArray, payload);
    QFETCH(qint64, maxPayload);
    QByteArray frame;
    const EventEncoding::Result r = EventEncoding::appendFrame(frame, id, "logs:generation",
                                                               1796550580454, payload, maxPayload);
    QByteArray envelope;
    EventEncoding::appendEnvelope(envelope, id, "logs:generation", 1796550580454, payload,
                                  maxPayload);

    QList<SseEvent> events;
    SseParser parser([&](const SseEvent &e) { events.append(e); });
    parser.setMaxLineSize(64 << 20);
    QVERIFY(parser.feed(frame));
    QCOMPARE(events.size(), 1);
    QCOMPARE(events[0].lastEventId, id);
    const auto decoded = Envelope::decode(events[0].data);
    QVERIFY(decoded);
    QCOMPARE(decoded->id, QString::fromLatin1(id));
    QCOMPARE(decoded->ts, 1796550580454);
    QCOMPARE(r.truncated, payload.size() > maxPayload);
    // A cut payload is the first maxPayload bytes and a marker saying so.
    if (r.truncated)
        QVERIFY(r.payloadBytes > maxPayload && r.payloadBytes < maxPayload + 64);
    else
        QCOMPARE(r.payloadBytes, qint64(payload.size()));
    if (!r.payloadIsObject)
        QCOMPARE(events[0].data, envelope);

    // The memory a frame holds: its size, and at most an eighth more.
    QVERIFY2(
        frame.capacity() <= frame.size() + frame.size() / 8 + 256,
        qPrintable(QStringLiteral("%1 bytes held for %2").arg(frame.capacity()).arg(frame.size())));
}

void tst_EventEncoding::withId_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::newRow("text") << QByteArray("hello");
    QTest::newRow("object") << QByteArray(R"({"level":"INFO","id":"c1,1-0,2-0"})");
    QTest::newRow("object with line breaks") << QByteArray("{\"a\":\n1,\r\n\"b\":2}");
    QTest::newRow("payload holds the id") << QByteArray("c1,5-0,,7-1 \"c1,5-0,,7-1\"");
}

void tst_EventEncoding::withId()
{
    // A frame made with one id, given another: the same as one made with the other id.
    QFETCH(QByteArray, payload);
    const QByteArray oldId = "c1,5-0,,7-1";
    const QByteArray newId = "c1,5-0,3-9,7-1";
    QByteArray made;
    EventEncoding::appendFrame(made, oldId, "logs:a", 5, payload, 4 << 20);
    QByteArray expected;
    EventEncoding::appendFrame(expected, newId, "logs:a", 5, payload, 4 << 20);
    QCOMPARE(EventEncoding::withId(made, newId), expected);
    // A gateway's own event (a gap) has no envelope id: only its id line changes.
    const QByteArray gap = SseEncoder::event(oldId, "gap", R"({"reason":"x"})");
    QCOMPARE(EventEncoding::withId(gap, newId),
             SseEncoder::event(newId, "gap", R"({"reason":"x"})"));
    QCOMPARE(EventEncoding::withId("data: x\n\n", newId), QByteArray("data: x\n\n"));
}

QTEST_GUILESS_MAIN(tst_EventEncoding)
#include "tst_eventencoding.moc"
