// Fuzzes the walk over Redis's stream replies (StreamReader::inspectReply, gateway/streamreader.h:
// XREAD, XRANGE and XINFO STREAM replies as the reader takes them): the bytes are RESP, parsed by
// hiredis's own reader into the reply trees the gateway gets. Every entry handed out lies inside
// the reply, and no more complete entries than entries are counted. The same bytes are also read
// into a ReplyArena (common/replyarena.h, what the gateway's connections use), fed in two parts:
// its trees equal hiredis's own, and a reply left half read is let go of without a leak.

#include "fuzzsupport.h"

#include "replyarena.h"
#include "streamreader.h"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <cstring>

namespace {

bool sameTree(const redisReply *a, const redisReply *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case REDIS_REPLY_INTEGER:
        return a->integer == b->integer;
    case REDIS_REPLY_NIL:
        return true;
    case REDIS_REPLY_ARRAY:
        if (a->elements != b->elements)
            return false;
        for (size_t i = 0; i < a->elements; ++i)
            if (!sameTree(a->element[i], b->element[i]))
                return false;
        return true;
    default:
        return a->len == b->len && std::memcmp(a->str, b->str, a->len) == 0 &&
               b->str[b->len] == '\0';
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (FuzzSupport::declaresHugeLength(FuzzSupport::view(data, size)))
        return 0;
    redisReader *reader = redisReaderCreate();
    if (redisReaderFeed(reader, reinterpret_cast<const char *>(data), size) != REDIS_OK) {
        redisReaderFree(reader);
        return 0;
    }
    ReplyArena arena;
    redisReader *arenaReader = redisReaderCreate();
    arena.attach(arenaReader);
    const size_t firstPart = size > 0 ? data[0] % (size + 1) : 0;
    redisReaderFeed(arenaReader, reinterpret_cast<const char *>(data), firstPart);
    bool arenaFed = false;
    for (int replies = 0; replies < 16; ++replies) {
        void *reply = nullptr;
        if (redisReaderGetReply(reader, &reply) != REDIS_OK || !reply)
            break;
        void *arenaReply = nullptr;
        int arenaStatus = redisReaderGetReply(arenaReader, &arenaReply);
        if (arenaStatus == REDIS_OK && !arenaReply && !arenaFed) {
            arenaFed = true;
            redisReaderFeed(arenaReader, reinterpret_cast<const char *>(data) + firstPart,
                            size - firstPart);
            arenaStatus = redisReaderGetReply(arenaReader, &arenaReply);
        }
        FUZZ_CHECK(arenaStatus == REDIS_OK && arenaReply);
        FUZZ_CHECK(sameTree(static_cast<const redisReply *>(reply),
                            static_cast<const redisReply *>(arenaReply)));
        arenaReader->fn->freeObject(arenaReply);
        int handed = 0;
        const auto summary = StreamReader::inspectReply(
            static_cast<const redisReply *>(reply),
            [&](QByteArrayView id, QByteArrayView channel, QByteArrayView payload) {
                ++handed;
                // Views into the reply: reading them all must stay within what was allocated.
                volatile char sink = 0;
                for (QByteArrayView v : {id, channel, payload})
                    for (char c : v)
                        sink = char(sink ^ c);
                (void)sink;
            });
        FUZZ_CHECK(summary.complete <= summary.entries);
        FUZZ_CHECK(handed == summary.complete);
        freeReplyObject(reply);
    }
    // The rest, to the end or to a protocol error (hiredis then frees the reply it was reading,
    // through the arena); whatever is still half read goes with the arena.
    if (!arenaFed)
        redisReaderFeed(arenaReader, reinterpret_cast<const char *>(data) + firstPart,
                        size - firstPart);
    for (int replies = 0; replies < 16; ++replies) {
        void *reply = nullptr;
        if (redisReaderGetReply(arenaReader, &reply) != REDIS_OK || !reply)
            break;
        arenaReader->fn->freeObject(reply);
    }
    arena.release(arenaReader);
    redisReaderFree(arenaReader);
    redisReaderFree(reader);
    return 0;
}
