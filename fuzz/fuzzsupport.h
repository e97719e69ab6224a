#pragma once

// Shared by the libFuzzer targets: a check that survives NDEBUG, and helpers to cut one input
// into the several strings a unit takes.

#include <QByteArrayList>
#include <QByteArrayView>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

// assert() is compiled out of RelWithDebInfo; a broken invariant must abort so that libFuzzer
// saves the input as a crash artifact.
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);      \
            std::abort();                                                                          \
        }                                                                                          \
    } while (false)

namespace FuzzSupport {

inline QByteArrayView view(const uint8_t *data, size_t size)
{
    return QByteArrayView(reinterpret_cast<const char *>(data), qsizetype(size));
}

// hiredis 0.14 allocates at once what a RESP header declares ("*888888828" is 7 GB of pointers):
// a property of the Redis server we trust and of hiredis, not of what the targets walk, so such
// inputs are left out.
inline bool declaresHugeLength(QByteArrayView input)
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

// A small deterministic generator, so a crash input replays the same choices.
class Rng
{
public:
    explicit Rng(QByteArrayView seed)
    {
        for (char c : seed) // FNV-1a
            m_state = (m_state ^ quint8(c)) * 0x100000001b3ULL;
    }
    quint64 next()
    {
        m_state = m_state * 6364136223846793005ULL + 1442695040888963407ULL;
        return m_state >> 33;
    }
    qsizetype below(qsizetype n) { return n > 0 ? qsizetype(next() % quint64(n)) : 0; }

private:
    quint64 m_state = 0xcbf29ce484222325ULL;
};

// Channel names a Redis glob matches, built by filling its wildcards from `rng`; the caller
// filters them with ChannelGlob::matches(), so a rough fill (classes, escapes) is enough.
inline QByteArrayList globSamples(QByteArrayView glob, Rng &rng, int count)
{
    QByteArrayList out;
    for (int n = 0; n < count; ++n) {
        QByteArray s;
        for (qsizetype i = 0; i < glob.size(); ++i) {
            const char c = glob[i];
            if (c == '\\' && i + 1 < glob.size()) {
                s.append(glob[++i]);
            } else if (c == '*') {
                for (qsizetype k = rng.below(3); k > 0; --k)
                    s.append(rng.below(4) ? glob[rng.below(glob.size())] : char(rng.next()));
            } else if (c == '?') {
                s.append(char(rng.next()));
            } else if (c == '[') {
                // Some byte of the class body, or any byte (for [^...]).
                const qsizetype close = glob.indexOf(']', i + 1);
                const qsizetype end = close < 0 ? glob.size() : close;
                const qsizetype bodyStart = i + 1 < end && glob[i + 1] == '^' ? i + 2 : i + 1;
                s.append(bodyStart < end && rng.below(3)
                             ? glob[bodyStart + rng.below(end - bodyStart)]
                             : char(rng.next()));
                i = end;
            } else {
                s.append(c);
            }
        }
        out.append(s);
    }
    return out;
}

} // namespace FuzzSupport
