#include "replyarena.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

// Under AddressSanitizer what is not handed out is poisoned: a read of a reply after hiredis
// freed it is reported as it would be with malloc'd replies.
#if defined(__SANITIZE_ADDRESS__)
#define LLMSTREAMER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LLMSTREAMER_ASAN 1
#endif
#endif
#if defined(LLMSTREAMER_ASAN)
#include <sanitizer/asan_interface.h>
#define LLMSTREAMER_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define LLMSTREAMER_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define LLMSTREAMER_POISON(p, n) ((void)(p), (void)(n))
#define LLMSTREAMER_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace {

constexpr std::size_t alignment = 16;
constexpr std::size_t firstBlockSize = 64 * 1024;
// Growth stops doubling here; a larger string gets a block of its own size.
constexpr std::size_t maxBlockSize = 4 * 1024 * 1024;
// Kept between replies at most, like the reader's own buffer (RedisConnection sets maxbuf).
constexpr std::size_t maxRetained = 1024 * 1024;

// In front of a root reply: how freeObject(), which gets only the reply, finds its arena. 16
// bytes keep the reply after it aligned.
struct alignas(alignment) RootHeader
{
    ReplyArena *arena;
};

constexpr std::size_t roundUp(std::size_t n)
{
    return (n + alignment - 1) & ~(alignment - 1);
}

// The create functions mirror hiredis's own (hiredis.c): a zeroed redisReply of the task's type,
// linked into its parent's element array.
redisReply *newReply(const redisReadTask *task, int type)
{
    auto *arena = static_cast<ReplyArena *>(task->privdata);
    redisReply *r = nullptr;
    if (task->parent) {
        r = static_cast<redisReply *>(arena->allocate(sizeof(redisReply)));
    } else {
        auto *mem = static_cast<char *>(arena->allocate(sizeof(RootHeader) + sizeof(redisReply)));
        if (mem) {
            new (mem) RootHeader{arena};
            r = reinterpret_cast<redisReply *>(mem + sizeof(RootHeader));
        }
    }
    if (!r)
        return nullptr;
    std::memset(static_cast<void *>(r), 0, sizeof(*r));
    r->type = type;
    if (task->parent)
        static_cast<redisReply *>(task->parent->obj)->element[task->idx] = r;
    return r;
}

void *createString(const redisReadTask *task, char *str, size_t len)
{
    auto *arena = static_cast<ReplyArena *>(task->privdata);
    auto *buf = static_cast<char *>(arena->allocate(len + 1));
    if (!buf)
        return nullptr;
    std::memcpy(buf, str, len);
    buf[len] = '\0';
    redisReply *r = newReply(task, task->type);
    if (!r)
        return nullptr;
    r->str = buf;
    r->len = len;
    return r;
}

void *createArray(const redisReadTask *task, int elements)
{
    auto *arena = static_cast<ReplyArena *>(task->privdata);
    redisReply **element = nullptr;
    if (elements > 0) {
        const std::size_t bytes = std::size_t(elements) * sizeof(redisReply *);
        element = static_cast<redisReply **>(arena->allocate(bytes));
        if (!element)
            return nullptr;
        std::memset(static_cast<void *>(element), 0, bytes);
    }
    redisReply *r = newReply(task, REDIS_REPLY_ARRAY);
    if (!r)
        return nullptr;
    r->element = element;
    r->elements = size_t(std::max(elements, 0));
    return r;
}

void *createInteger(const redisReadTask *task, long long value)
{
    redisReply *r = newReply(task, REDIS_REPLY_INTEGER);
    if (r)
        r->integer = value;
    return r;
}

void *createNil(const redisReadTask *task)
{
    return newReply(task, REDIS_REPLY_NIL);
}

// hiredis calls this for whole replies only (read.c, async.c), never for one inside another.
void freeObject(void *reply)
{
    auto *header = reinterpret_cast<RootHeader *>(static_cast<char *>(reply) - sizeof(RootHeader));
    header->arena->reset();
}

redisReplyObjectFunctions arenaFunctions = {createString, createArray, createInteger, createNil,
                                            freeObject};

} // namespace

ReplyArena::ReplyArena() = default;

ReplyArena::~ReplyArena()
{
    for (const Block &b : m_blocks) {
        LLMSTREAMER_UNPOISON(b.data, b.size);
        std::free(b.data);
    }
}

void ReplyArena::attach(redisReader *reader)
{
    reader->fn = &arenaFunctions;
    reader->privdata = this;
}

void ReplyArena::release(redisReader *reader)
{
    if (!reader || reader->privdata != this)
        return;
    // Without functions hiredis neither builds nor frees objects: a reader used after this
    // (it is not) would only report replies, never touch the arena.
    reader->reply = nullptr;
    reader->fn = nullptr;
    reader->privdata = nullptr;
    reset();
}

std::size_t ReplyArena::retainedBytes() const
{
    std::size_t bytes = 0;
    for (const Block &b : m_blocks)
        bytes += b.size;
    return bytes;
}

bool ReplyArena::addBlock(std::size_t atLeast) noexcept
{
    const std::size_t grown =
        m_blocks.empty() ? firstBlockSize : std::min(m_blocks.back().size * 2, maxBlockSize);
    const std::size_t size = std::max(roundUp(atLeast), grown);
    auto *data = static_cast<char *>(std::malloc(size));
    if (!data)
        return false;
    try {
        m_blocks.push_back({data, size, 0});
    } catch (const std::bad_alloc &) {
        std::free(data);
        return false;
    }
    LLMSTREAMER_POISON(data, size);
    return true;
}

void *ReplyArena::allocate(std::size_t bytes) noexcept
{
    const std::size_t n = roundUp(std::max<std::size_t>(bytes, 1));
    if (n < bytes) // wrapped around
        return nullptr;
    if (m_blocks.empty() || m_blocks.back().size - m_blocks.back().used < n) {
        if (!addBlock(n))
            return nullptr;
    }
    Block &b = m_blocks.back();
    char *p = b.data + b.used;
    b.used += n;
    LLMSTREAMER_UNPOISON(p, bytes);
    return p;
}

void ReplyArena::reset() noexcept
{
    if (m_blocks.empty())
        return;
    std::size_t used = 0;
    for (const Block &b : m_blocks)
        used += b.used;
    // One block for the next reply, sized for one like this (within bounds): a reply that
    // needed several blocks fits one next time.
    const std::size_t keep = std::clamp(roundUp(used), firstBlockSize, maxRetained);
    if (m_blocks.size() == 1 && m_blocks.front().size >= keep &&
        m_blocks.front().size <= maxRetained) {
        Block &b = m_blocks.front();
        LLMSTREAMER_POISON(b.data, b.size);
        b.used = 0;
        return;
    }
    for (const Block &b : m_blocks) {
        LLMSTREAMER_UNPOISON(b.data, b.size);
        std::free(b.data);
    }
    m_blocks.clear();
    addBlock(keep); // when this fails, the next allocate() tries again
}
