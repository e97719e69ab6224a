// Fuzzes the cluster slot router's reading of what Redis sends (ClusterSlots,
// common/clusterslots.h): the input is RESP, read by hiredis's own reader into the replies
// RedisConnection gets; each goes through ClusterSlots::fromReply() (a CLUSTER SLOTS reply), and
// error and string replies, and the whole input, through parseRedirect() (MOVED, ASK...).
// Invariants: every range maps to a master with a port, every slot's lookup stays in bounds, and
// a parsed redirect has a slot below 16384 and a port.

#include "fuzzsupport.h"

#include "clusterslots.h"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

namespace {

void checkRedirect(QByteArrayView error)
{
    const QString replyingHost = QStringLiteral("seed");
    const auto redirect = ClusterSlots::parseRedirect(error, replyingHost);
    if (!redirect)
        return;
    using Kind = ClusterSlots::Redirect::Kind;
    if (redirect->kind == Kind::Moved || redirect->kind == Kind::Ask) {
        FUZZ_CHECK(redirect->slot < ClusterSlots::slotCount);
        FUZZ_CHECK(redirect->node.port > 0);
        FUZZ_CHECK(!redirect->node.host.isEmpty());
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input = FuzzSupport::view(data, size);
    checkRedirect(input);
    FUZZ_CHECK(ClusterSlots::keySlot(input) < ClusterSlots::slotCount);
    if (FuzzSupport::declaresHugeLength(input))
        return 0;
    redisReader *reader = redisReaderCreate();
    if (redisReaderFeed(reader, reinterpret_cast<const char *>(data), size) == REDIS_OK) {
        for (int replies = 0; replies < 16; ++replies) {
            void *r = nullptr;
            if (redisReaderGetReply(reader, &r) != REDIS_OK || !r)
                break;
            const auto *reply = static_cast<const redisReply *>(r);
            if (reply->type == REDIS_REPLY_ERROR || reply->type == REDIS_REPLY_STRING)
                checkRedirect(QByteArrayView(reply->str, qsizetype(reply->len)));
            if (const auto slots = ClusterSlots::fromReply(reply, QStringLiteral("seed"))) {
                for (int slot = 0; slot < ClusterSlots::slotCount; slot += 97) {
                    if (const auto master = slots->master(quint16(slot)))
                        FUZZ_CHECK(master->port > 0 && !master->host.isEmpty());
                }
            }
            freeReplyObject(r);
        }
    }
    redisReaderFree(reader);
    return 0;
}
