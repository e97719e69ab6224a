#include "channelglob.h"

#include <vector>

namespace ChannelGlob {

namespace {

// One unit of a glob: a literal byte, '?', '*', or a bracket class [..].
struct Token
{
    enum Kind { Literal, Any, Star, Class } kind;
    char ch = 0;
    QByteArrayView set; // the class body without brackets, for Class
};

std::vector<Token> tokenize(QByteArrayView p)
{
    std::vector<Token> out;
    for (qsizetype i = 0; i < p.size(); ++i) {
        const char c = p[i];
        if (c == '\\' && i + 1 < p.size()) {
            out.push_back({Token::Literal, p[++i], {}});
        } else if (c == '*') {
            if (out.empty() || out.back().kind != Token::Star)
                out.push_back({Token::Star, 0, {}});
        } else if (c == '?') {
            out.push_back({Token::Any, 0, {}});
        } else if (c == '[') {
            qsizetype j = i + 1;
            if (j < p.size() && p[j] == '^')
                ++j;
            // Like Redis, a class runs to the next ']' that is neither escaped nor the end of a
            // range ("[a-]]" is the range a..']'), or to the end of the pattern.
            while (j < p.size() && p[j] != ']') {
                if (p[j] == '\\' && j + 1 < p.size())
                    j += 2;
                else if (j + 2 < p.size() && p[j + 1] == '-')
                    j += 3;
                else
                    ++j;
            }
            out.push_back({Token::Class, 0, p.sliced(i + 1, j - i - 1)});
            i = j;
        } else {
            out.push_back({Token::Literal, c, {}});
        }
    }
    return out;
}

bool classMatches(QByteArrayView set, char c)
{
    bool negate = false;
    if (!set.isEmpty() && set.front() == '^') {
        negate = true;
        set = set.sliced(1);
    }
    bool found = false;
    for (qsizetype i = 0; i < set.size() && !found; ++i) {
        if (set[i] == '\\' && i + 1 < set.size()) {
            found = set[++i] == c;
        } else if (i + 2 < set.size() && set[i + 1] == '-') {
            char lo = set[i], hi = set[i + 2];
            if (lo > hi)
                std::swap(lo, hi);
            found = c >= lo && c <= hi;
            i += 2;
        } else {
            found = set[i] == c;
        }
    }
    return found != negate;
}

// Wildcard matching of a token pattern over a sequence, where `one(p, x)` says whether the
// non-star token p accepts the element x. Iterative with backtracking to the last star only,
// so it is O(pattern x subject) even for hostile patterns like "*a*a*a*a*b".
template <typename Seq, typename One>
bool wildcardMatch(const std::vector<Token> &pat, const Seq &seq, qsizetype n, One one)
{
    qsizetype p = 0, s = 0, starP = -1, starS = 0;
    const qsizetype m = qsizetype(pat.size());
    while (s < n) {
        if (p < m && pat[p].kind == Token::Star) {
            starP = p++;
            starS = s;
        } else if (p < m && one(pat[p], seq[s])) {
            ++p;
            ++s;
        } else if (starP >= 0) {
            p = starP + 1;
            s = ++starS;
        } else {
            return false;
        }
    }
    while (p < m && pat[p].kind == Token::Star)
        ++p;
    return p == m;
}

bool tokenAcceptsByte(const Token &t, char c)
{
    switch (t.kind) {
    case Token::Literal:
        return t.ch == c;
    case Token::Any:
        return true;
    case Token::Class:
        return classMatches(t.set, c);
    case Token::Star:
        break;
    }
    return false;
}

// Does the outer (non-star) token accept every byte the inner token can stand for? An inner star
// can stand for any number of bytes, so only an outer star (handled by the caller) covers it.
bool tokenCoversToken(const Token &o, const Token &i)
{
    if (i.kind == Token::Star || o.kind == Token::Star)
        return false;
    if (o.kind == Token::Any)
        return true;
    if (i.kind == Token::Literal)
        return tokenAcceptsByte(o, i.ch);
    for (int b = 0; b < 256; ++b) // classes: compare the sets of bytes
        if (tokenAcceptsByte(i, char(b)) && !tokenAcceptsByte(o, char(b)))
            return false;
    return true;
}

} // namespace

bool isPattern(QByteArrayView text)
{
    for (char c : text)
        if (c == '*' || c == '?' || c == '[' || c == '\\')
            return true;
    return false;
}

bool matches(QByteArrayView pattern, QByteArrayView channel)
{
    // Redis matches nothing but the empty pattern against the empty string, not even "*".
    if (channel.isEmpty())
        return pattern.isEmpty();
    return wildcardMatch(tokenize(pattern), channel, channel.size(), tokenAcceptsByte);
}

bool covers(QByteArrayView outer, QByteArrayView inner)
{
    // Only the empty glob matches the empty string (see matches()); every other glob matches
    // non-empty strings only, where the token-wise comparison below is exact enough.
    if (inner.isEmpty())
        return outer.isEmpty();
    const std::vector<Token> i = tokenize(inner);
    return wildcardMatch(tokenize(outer), i, qsizetype(i.size()), tokenCoversToken);
}

} // namespace ChannelGlob
