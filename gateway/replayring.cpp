#include "replayring.h"

ReplayRing::ReplayRing(int capacity, qint64 maxBytes) : m_cache(capacity), m_maxBytes(maxBytes) {}

void ReplayRing::append(Entry entry)
{
    if (m_cache.capacity() == 0)
        return;
    if (m_cache.isFull())
        evictFirst();
    m_bytes += entry.frame.size();
    m_cache.append(std::move(entry));
    // The newest event always stays, even if it alone is larger than the byte cap.
    while (m_bytes > m_maxBytes && m_cache.size() > 1)
        evictFirst();
}

void ReplayRing::evictFirst()
{
    m_bytes -= m_cache.first().frame.size();
    m_evictedUpTo = m_cache.first().cursor;
    m_cache.removeFirst();
    ++m_evicted;
}

const ReplayRing::Entry *ReplayRing::find(qint64 seq) const
{
    if (m_cache.isEmpty() || seq < firstSeq() || seq > lastSeq())
        return nullptr;
    return &m_cache.at(m_cache.firstIndex() + (seq - firstSeq()));
}

qint64 ReplayRing::firstAfter(const StreamCursor &position) const
{
    if (m_cache.isEmpty())
        return 1;
    if (position.partitions() > 1) {
        for (qsizetype i = 0; i < m_cache.size(); ++i)
            if (!covers(position, m_cache.at(m_cache.firstIndex() + i)))
                return firstSeq() + i;
        return lastSeq() + 1;
    }
    // One partition: what a position covers is a prefix of the ring.
    qsizetype lo = 0;
    qsizetype hi = m_cache.size();
    while (lo < hi) {
        const qsizetype mid = lo + (hi - lo) / 2;
        if (covers(position, m_cache.at(m_cache.firstIndex() + mid)))
            lo = mid + 1;
        else
            hi = mid;
    }
    return firstSeq() + lo;
}
