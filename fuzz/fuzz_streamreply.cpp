// Fuzzes the walk over Redis's stream replies (StreamReader::inspectReply, gateway/streamreader.h:
// XREAD, XRANGE and XINFO STREAM replies as the reader takes them): the bytes are RESP, parsed by
// hiredis's own reader into the reply trees the gateway gets. Every entry handed out lies inside
// the reply, and no more complete entries than entries are counted.

#include "fuzzsupport.h"

#include "streamreader.h"

#include <hiredis/hiredis.h>

namespace {

// hiredis 0.14 allocates at once what a header declares ("*888888828" is 7 GB of pointers):
// a property of the Redis server we trust and of hiredis, not of the walk fuzzed here, so such
// inputs are left out.
bool declaresHugeLength(QByteArrayView input)
{
    for (qsizetype i = 0; i < input.size(); ++i) {
        if (input[i] != '*' && input[i] != '$')
            continue;
        qsizetype digits = 0;
        while (i + 1 + digits < input.size() && input[i + 1 + digits] >= '0' &&
               input[i + 1 + digits] <= '9')
            ++digits;
        if (digits > 6)
            return true;
    }
    return false;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (declaresHugeLength(FuzzSupport::view(data, size)))
        return 0;
    redisReader *reader = redisReaderCreate();
    if (redisReaderFeed(reader, reinterpret_cast<const char *>(data), size) != REDIS_OK) {
        redisReaderFree(reader);
        return 0;
    }
    for (int replies = 0; replies < 16; ++replies) {
        void *reply = nullptr;
        if (redisReaderGetReply(reader, &reply) != REDIS_OK || !reply)
            break;
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
    redisReaderFree(reader);
    return 0;
}
