// Fuzzes channel globs (common/channelglob.h). The input is lines: a glob A, a glob B, then
// channel names. Checks:
//  - matches() agrees with an independent byte-by-byte reading of Redis's glob rules (below),
//    on A and B against every name, against names built from B, and against each other;
//  - covers() is sound: covers(A, B) and matches(B, x) imply matches(A, x) for every such x;
//  - covers() is exact for a literal inner name: covers(A, n) == matches(A, n);
//  - isPattern() is false only for globs that match exactly themselves.

#include "fuzzsupport.h"

#include "channelglob.h"

#include <optional>
#include <utility>
#include <vector>

namespace {

// Redis's PSUBSCRIBE matching (stringmatchlen with nocase=0), read byte by byte straight from
// its documented rules rather than through ChannelGlob's tokens: '*' any run (also none), '?' one
// byte, '[...]' a class ('^' negates, "a-z" ranges in either order compared as signed chars, '\'
// escapes, an unterminated class runs to the end), '\' escapes, a trailing '\' is literal. An
// empty name matches only the empty glob. Memoised on (pattern position, name position), so
// hostile globs stay polynomial.
class ReferenceMatcher
{
public:
    ReferenceMatcher(QByteArrayView pattern, QByteArrayView name)
        : m_p(pattern), m_s(name), m_memo(size_t(pattern.size() + 1) * size_t(name.size()), -1)
    {}

    bool matches()
    {
        if (m_s.isEmpty())
            return m_p.isEmpty();
        return match(0, 0);
    }

private:
    // The bytes from `si` on (at least one) against the pattern from `pi` on.
    bool match(qsizetype pi, qsizetype si)
    {
        const size_t key = size_t(pi) * size_t(m_s.size()) + size_t(si);
        if (m_memo[key] >= 0)
            return m_memo[key];
        bool result = false;
        while (true) {
            if (pi == m_p.size())
                break; // name left over
            if (m_p[pi] == '*') {
                while (pi < m_p.size() && m_p[pi] == '*')
                    ++pi;
                if (pi == m_p.size()) {
                    result = true;
                    break;
                }
                for (qsizetype k = si; k < m_s.size() && !result; ++k)
                    result = match(pi, k);
                break;
            }
            const auto [ok, next] = one(pi, m_s[si]);
            if (!ok)
                break;
            pi = next;
            if (++si == m_s.size()) {
                while (pi < m_p.size() && m_p[pi] == '*')
                    ++pi;
                result = pi == m_p.size();
                break;
            }
        }
        m_memo[key] = result;
        return result;
    }

    // Whether the non-star unit at `pi` takes byte `c`, and where the next unit starts.
    std::pair<bool, qsizetype> one(qsizetype pi, char c) const
    {
        const qsizetype n = m_p.size();
        switch (m_p[pi]) {
        case '?':
            return {true, pi + 1};
        case '\\':
            if (n - pi >= 2)
                return {m_p[pi + 1] == c, pi + 2};
            return {c == '\\', pi + 1};
        case '[': {
            qsizetype q = pi + 1;
            const bool negate = q < n && m_p[q] == '^';
            if (negate)
                ++q;
            bool found = false;
            while (true) {
                if (q == n)
                    break;
                if (m_p[q] == '\\' && n - q >= 2) {
                    found = found || m_p[q + 1] == c;
                    q += 2;
                } else if (m_p[q] == ']') {
                    ++q;
                    break;
                } else if (n - q >= 3 && m_p[q + 1] == '-') {
                    signed char lo = m_p[q], hi = m_p[q + 2];
                    if (lo > hi)
                        std::swap(lo, hi);
                    found = found || (static_cast<signed char>(c) >= lo &&
                                      static_cast<signed char>(c) <= hi);
                    q += 3;
                } else {
                    found = found || m_p[q] == c;
                    ++q;
                }
            }
            return {found != negate, q};
        }
        default:
            return {m_p[pi] == c, pi + 1};
        }
    }

    QByteArrayView m_p, m_s;
    std::vector<signed char> m_memo;
};

// nullopt when the pair is too large for the reference (memo size), or when Redis's own limit of
// nested stars would change its answer.
std::optional<bool> referenceMatches(QByteArrayView pattern, QByteArrayView name)
{
    if ((pattern.size() + 1) * name.size() > (1 << 18) || pattern.count('*') > 500)
        return std::nullopt;
    return ReferenceMatcher(pattern, name).matches();
}

bool checkedMatches(QByteArrayView pattern, QByteArrayView name)
{
    const bool result = ChannelGlob::matches(pattern, name);
    if (const auto expected = referenceMatches(pattern, name))
        FUZZ_CHECK(result == *expected);
    if (!ChannelGlob::isPattern(pattern))
        FUZZ_CHECK(result == (pattern == name));
    return result;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input = FuzzSupport::view(data, size);
    const QByteArrayList lines = input.toByteArray().split('\n');
    const QByteArray a = lines.value(0), b = lines.value(1);

    FuzzSupport::Rng rng(input);
    QByteArrayList names = lines.mid(2);
    names += FuzzSupport::globSamples(b, rng, 8);
    names += FuzzSupport::globSamples(a, rng, 4);
    names += {a, b};

    const bool aCoversB = ChannelGlob::covers(a, b);
    if (!ChannelGlob::isPattern(b))
        FUZZ_CHECK(aCoversB == checkedMatches(a, b));
    for (const QByteArray &name : std::as_const(names)) {
        const bool inA = checkedMatches(a, name);
        const bool inB = checkedMatches(b, name);
        if (aCoversB && inB)
            FUZZ_CHECK(inA);
        if (!ChannelGlob::isPattern(name))
            FUZZ_CHECK(ChannelGlob::covers(a, name) == inA);
    }
    return 0;
}
