#include "logfmt.h"

namespace {

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

// A byte that may stand in a key or a bare value.
bool isIdent(char c)
{
    return quint8(c) > ' ' && c != '=' && c != '"' && quint8(c) != 0x7f;
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void appendUtf8(QByteArray &out, char32_t cp)
{
    if (cp < 0x80) {
        out.append(char(cp));
    } else if (cp < 0x800) {
        out.append(char(0xc0 | (cp >> 6)));
        out.append(char(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        out.append(char(0xe0 | (cp >> 12)));
        out.append(char(0x80 | ((cp >> 6) & 0x3f)));
        out.append(char(0x80 | (cp & 0x3f)));
    } else {
        out.append(char(0xf0 | (cp >> 18)));
        out.append(char(0x80 | ((cp >> 12) & 0x3f)));
        out.append(char(0x80 | ((cp >> 6) & 0x3f)));
        out.append(char(0x80 | (cp & 0x3f)));
    }
}

// Four hex digits at `at`, or -1.
int hex4(QByteArrayView s, qsizetype at)
{
    if (at + 4 > s.size())
        return -1;
    int v = 0;
    for (qsizetype i = at; i < at + 4; ++i) {
        const int d = hexValue(s[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

// The quoted value starting at s[*pos] == '"'; moves *pos past the closing quote.
std::optional<QByteArray> readQuoted(QByteArrayView s, qsizetype *pos)
{
    QByteArray out;
    qsizetype i = *pos + 1;
    while (i < s.size()) {
        const char c = s[i];
        if (c == '"') {
            *pos = i + 1;
            return out;
        }
        if (quint8(c) < 0x20)
            return std::nullopt;
        if (c != '\\') {
            out.append(c);
            ++i;
            continue;
        }
        if (i + 1 >= s.size())
            return std::nullopt;
        const char e = s[i + 1];
        i += 2;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            out.append(e);
            break;
        case 'b':
            out.append('\b');
            break;
        case 'f':
            out.append('\f');
            break;
        case 'n':
            out.append('\n');
            break;
        case 'r':
            out.append('\r');
            break;
        case 't':
            out.append('\t');
            break;
        case 'u': {
            const int high = hex4(s, i);
            if (high < 0)
                return std::nullopt;
            i += 4;
            char32_t cp = char32_t(high);
            if (high >= 0xd800 && high < 0xdc00) {
                // A surrogate pair as JSON writes one; a lone half becomes U+FFFD.
                const int low =
                    i + 1 < s.size() && s[i] == '\\' && s[i + 1] == 'u' ? hex4(s, i + 2) : -1;
                if (low >= 0xdc00 && low < 0xe000) {
                    cp = 0x10000 + ((char32_t(high) - 0xd800) << 10) + (char32_t(low) - 0xdc00);
                    i += 6;
                } else {
                    cp = 0xfffd;
                }
            } else if (high >= 0xdc00 && high < 0xe000) {
                cp = 0xfffd;
            }
            appendUtf8(out, cp);
            break;
        }
        default:
            return std::nullopt;
        }
    }
    return std::nullopt; // no closing quote
}

} // namespace

std::optional<QList<Logfmt::Pair>> Logfmt::parse(QByteArrayView line)
{
    QList<Pair> pairs;
    qsizetype i = 0;
    const qsizetype n = line.size();
    while (true) {
        while (i < n && isSpace(line[i]))
            ++i;
        if (i == n)
            break;
        const qsizetype keyStart = i;
        while (i < n && isIdent(line[i]))
            ++i;
        if (i == keyStart)
            return std::nullopt; // '=', '"' or a control byte where a key starts
        Pair pair;
        pair.key = line.sliced(keyStart, i - keyStart).toByteArray();
        if (i == n || isSpace(line[i])) {
            pair.hasValue = false;
            pairs.append(std::move(pair));
            continue;
        }
        if (line[i] != '=')
            return std::nullopt; // '"' glued to a key
        ++i;
        if (i < n && line[i] == '"') {
            auto value = readQuoted(line, &i);
            if (!value)
                return std::nullopt;
            pair.value = std::move(*value);
        } else {
            const qsizetype valueStart = i;
            while (i < n && isIdent(line[i]))
                ++i;
            pair.value = line.sliced(valueStart, i - valueStart).toByteArray();
        }
        if (i < n && !isSpace(line[i]))
            return std::nullopt; // k=v=w, k="v"x, or a control byte
        pairs.append(std::move(pair));
    }
    if (pairs.isEmpty())
        return std::nullopt;
    return pairs;
}
