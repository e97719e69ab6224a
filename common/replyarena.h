#pragma once

#include <QtGlobal>

#include <cstddef>
#include <vector>

struct redisReader;

// Where a hiredis reader builds its replies: the same redisReply trees hiredis makes (so every
// reader of them is unchanged), but bump-allocated from a few blocks that are reused for the next
// reply once hiredis frees the root, instead of a calloc() for each object and a malloc() for each
// string. An XREAD reply of 200 entries is 1,400 objects; their allocation and freeing were a
// third of the gateway's time per streamed entry.
//
// Hand-written: hiredis 0.14 takes reply functions (redisReplyObjectFunctions) but ships only the
// malloc-based ones, and nothing in Debian provides others.
//
// hiredis frees only whole replies (a root: handed to a callback, or the one it was reading when
// it is freed or fails), so a reset per freed root is safe. One arena serves one reader; call
// release() before the reader is freed: hiredis would otherwise hand a reply it was still reading
// back to this arena after it is gone.
class ReplyArena
{
    Q_DISABLE_COPY_MOVE(ReplyArena)

public:
    ReplyArena();
    ~ReplyArena();

    // Makes `reader` build its replies here.
    void attach(redisReader *reader);
    // Takes back, without freeing it through hiredis, a reply `reader` was still reading.
    void release(redisReader *reader);

    // Memory held between replies (the first block); for tests and benchmarks.
    std::size_t retainedBytes() const;
    // Blocks in use now; 1 between replies.
    std::size_t blockCount() const { return m_blocks.size(); }

    // Aligned to 16 bytes; null when out of memory (hiredis then reports it).
    void *allocate(std::size_t bytes) noexcept;
    // Everything allocated is free again.
    void reset() noexcept;

private:
    struct Block
    {
        char *data = nullptr;
        std::size_t size = 0;
        std::size_t used = 0;
    };
    bool addBlock(std::size_t atLeast) noexcept;

    std::vector<Block> m_blocks;
};
