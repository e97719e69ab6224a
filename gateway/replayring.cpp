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
    m_evictedUpTo = m_cache.first().position;
    m_cache.removeFirst();
    ++m_evicted;
}

const ReplayRing::Entry *ReplayRing::find(qint64 seq) const
{
    if (m_cache.isEmpty() || seq < firstSeq() || seq > lastSeq())
        return nullptr;
    return &m_cache.at(m_cache.firstIndex() + (seq - firstSeq()));
}

qint64 ReplayRing::firstAfter(const StreamId &position) const
{
    qsizetype lo = 0;
    qsizetype hi = m_cache.size();
    while (lo < hi) {
        const qsizetype mid = lo + (hi - lo) / 2;
        if (m_cache.at(m_cache.firstIndex() + mid).position <= position)
            lo = mid + 1;
        else
            hi = mid;
    }
    return m_cache.isEmpty() ? 1 : firstSeq() + lo;
}
