// ReplyArena (common/replyarena.h): hiredis's own reader, fed real RESP, builds the same reply
// trees into the arena as with its malloc-based functions, in one piece or a byte at a time; the
// memory is reused from reply to reply and stays bounded after a large one; a reply left half
// read, or cut by a protocol error, is let go of (the ASan build of the suite reports any leak or
// use after reset).

#include "replyarena.h"

#include <QTest>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <cstring>
#include <memory>

namespace {

struct ReaderDeleter
{
    void operator()(redisReader *r) const { redisReaderFree(r); }
};
using Reader = std::unique_ptr<redisReader, ReaderDeleter>;

// A reply as text, to compare trees and show them when they differ.
QByteArray dump(const redisReply *r)
{
    switch (r->type) {
    case REDIS_REPLY_INTEGER:
        return ":" + QByteArray::number(r->integer);
    case REDIS_REPLY_NIL:
        return "nil";
    case REDIS_REPLY_ARRAY: {
        QByteArray out = "[";
        for (size_t i = 0; i < r->elements; ++i)
            out += (i ? "," : "") + dump(r->element[i]);
        return out + "]";
    }
    default:
        // The terminating NUL hiredis promises is part of what is compared.
        return QByteArray::number(r->type) + "'" + QByteArray(r->str, qsizetype(r->len + 1)) + "'" +
               QByteArray::number(qulonglong(r->len));
    }
}

// What hiredis's own functions make of `resp` (its first reply).
QByteArray hiredisDump(const QByteArray &resp)
{
    Reader reader(redisReaderCreate());
    redisReaderFeed(reader.get(), resp.constData(), size_t(resp.size()));
    void *reply = nullptr;
    if (redisReaderGetReply(reader.get(), &reply) != REDIS_OK || !reply)
        return "(none)";
    const QByteArray out = dump(static_cast<redisReply *>(reply));
    freeReplyObject(reply);
    return out;
}

QByteArray xreadReply(int entries, int payloadBytes)
{
    QByteArray out =
        "*1\r\n*2\r\n$18\r\nllmstreamer:stream\r\n*" + QByteArray::number(entries) + "\r\n";
    for (int i = 0; i < entries; ++i) {
        const QByteArray id = "1700000000000-" + QByteArray::number(i);
        const QByteArray data(payloadBytes, char('a' + i % 26));
        out += "*2\r\n$" + QByteArray::number(id.size()) + "\r\n" + id +
               "\r\n*4\r\n$7\r\nchannel\r\n" + "$11\r\nlogs:errors\r\n$4\r\ndata\r\n$" +
               QByteArray::number(data.size()) + "\r\n" + data + "\r\n";
    }
    return out;
}

} // namespace

class tst_ReplyArena : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sameTreesAsHiredis_data();
    void sameTreesAsHiredis();
    void memoryReusedAcrossReplies();
    void largeReplyLeavesBoundedMemory();
    void halfReadReplyReleased();
    void protocolErrorFreesTheReplyBeingRead();
};

void tst_ReplyArena::sameTreesAsHiredis_data()
{
    QTest::addColumn<QByteArray>("resp");
    QTest::newRow("xread") << xreadReply(200, 100);
    QTest::newRow("xread-large-entries") << xreadReply(3, 70'000);
    QTest::newRow("status") << QByteArray("+OK\r\n");
    QTest::newRow("error") << QByteArray("-ERR no such key\r\n");
    QTest::newRow("integer") << QByteArray(":-42\r\n");
    QTest::newRow("nil-bulk") << QByteArray("$-1\r\n");
    QTest::newRow("nil-array") << QByteArray("*-1\r\n");
    QTest::newRow("empty-array") << QByteArray("*0\r\n");
    QTest::newRow("empty-string") << QByteArray("$0\r\n\r\n");
    QTest::newRow("binary") << QByteArray("$6\r\na\0b\r\nc\r\n", 12);
    QTest::newRow("nested") << QByteArray("*3\r\n*2\r\n:1\r\n*1\r\n$1\r\nx\r\n$-1\r\n*0\r\n");
    QTest::newRow("xinfo-shaped") << QByteArray(
        "*6\r\n$6\r\nlength\r\n:2\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n"
        "$1\r\nb\r\n$10\r\nlast-entry\r\n$-1\r\n");
}

void tst_ReplyArena::sameTreesAsHiredis()
{
    QFETCH(QByteArray, resp);
    const QByteArray expected = hiredisDump(resp);
    QVERIFY(expected != "(none)");
    for (const int slice : {int(resp.size()), 1, 7}) {
        ReplyArena arena;
        Reader reader(redisReaderCreate());
        arena.attach(reader.get());
        void *reply = nullptr;
        for (qsizetype at = 0; at < resp.size() && !reply; at += slice) {
            QCOMPARE(redisReaderFeed(reader.get(), resp.constData() + at,
                                     size_t(std::min<qsizetype>(slice, resp.size() - at))),
                     REDIS_OK);
            QCOMPARE(redisReaderGetReply(reader.get(), &reply), REDIS_OK);
        }
        QVERIFY2(reply, "no reply from the arena's reader");
        QCOMPARE(dump(static_cast<redisReply *>(reply)), expected);
        reader->fn->freeObject(reply);
        QCOMPARE(arena.blockCount(), size_t(1));
        arena.release(reader.get());
    }
}

void tst_ReplyArena::memoryReusedAcrossReplies()
{
    ReplyArena arena;
    Reader reader(redisReaderCreate());
    arena.attach(reader.get());
    const QByteArray resp = xreadReply(200, 100);
    size_t retained = 0;
    for (int i = 0; i < 500; ++i) {
        QCOMPARE(redisReaderFeed(reader.get(), resp.constData(), size_t(resp.size())), REDIS_OK);
        void *reply = nullptr;
        QCOMPARE(redisReaderGetReply(reader.get(), &reply), REDIS_OK);
        QVERIFY(reply);
        QCOMPARE(static_cast<redisReply *>(reply)->element[0]->element[1]->elements, size_t(200));
        reader->fn->freeObject(reply);
        QCOMPARE(arena.blockCount(), size_t(1));
        if (i == 0)
            retained = arena.retainedBytes();
        QCOMPARE(arena.retainedBytes(), retained); // the same block, reused
    }
    QVERIFY(retained >= size_t(resp.size())); // the tree is bigger than its bytes
    QVERIFY(retained <= 1024 * 1024);
    arena.release(reader.get());
}

void tst_ReplyArena::largeReplyLeavesBoundedMemory()
{
    ReplyArena arena;
    Reader reader(redisReaderCreate());
    arena.attach(reader.get());
    for (const QByteArray &resp : {xreadReply(50, 64 * 1024), xreadReply(2, 100)}) {
        QCOMPARE(redisReaderFeed(reader.get(), resp.constData(), size_t(resp.size())), REDIS_OK);
        void *reply = nullptr;
        QCOMPARE(redisReaderGetReply(reader.get(), &reply), REDIS_OK);
        QVERIFY(reply);
        QCOMPARE(dump(static_cast<redisReply *>(reply)), hiredisDump(resp));
        if (resp.size() > 1024 * 1024)
            QVERIFY(arena.retainedBytes() >= size_t(50 * 64 * 1024)); // all of it, while held
        reader->fn->freeObject(reply);
        QCOMPARE(arena.blockCount(), size_t(1));
        QVERIFY2(arena.retainedBytes() <= 1024 * 1024,
                 QByteArray::number(qulonglong(arena.retainedBytes())).constData());
    }
    arena.release(reader.get());
}

void tst_ReplyArena::halfReadReplyReleased()
{
    ReplyArena arena;
    Reader reader(redisReaderCreate());
    arena.attach(reader.get());
    const QByteArray resp = xreadReply(100, 1000);
    QCOMPARE(redisReaderFeed(reader.get(), resp.constData(), size_t(resp.size() / 2)), REDIS_OK);
    void *reply = nullptr;
    QCOMPARE(redisReaderGetReply(reader.get(), &reply), REDIS_OK);
    QVERIFY(!reply);
    QVERIFY(redisReaderGetObject(reader.get())); // the half-read tree, in the arena
    arena.release(reader.get());
    // hiredis no longer holds it and frees nothing of the arena's when the reader goes.
    QVERIFY(!redisReaderGetObject(reader.get()));
    QVERIFY(!reader->fn);
    QCOMPARE(arena.blockCount(), size_t(1));
}

void tst_ReplyArena::protocolErrorFreesTheReplyBeingRead()
{
    ReplyArena arena;
    Reader reader(redisReaderCreate());
    arena.attach(reader.get());
    const QByteArray resp = "*3\r\n$5\r\nhello\r\n:1\r\n!what\r\n";
    QCOMPARE(redisReaderFeed(reader.get(), resp.constData(), size_t(resp.size())), REDIS_OK);
    void *reply = nullptr;
    QCOMPARE(redisReaderGetReply(reader.get(), &reply), REDIS_ERR);
    QVERIFY(!reply);
    QVERIFY(QByteArray(reader->errstr).contains("Protocol error"));
    // hiredis freed the half-built reply through the arena, which is empty again.
    QVERIFY(!redisReaderGetObject(reader.get()));
    QCOMPARE(arena.blockCount(), size_t(1));
    arena.release(reader.get());
}

QTEST_GUILESS_MAIN(tst_ReplyArena)
#include "tst_replyarena.moc"
