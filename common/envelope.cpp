#include "envelope.h"

#include "vocabulary.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <QJsonDocument>
#include <QJsonObject>

namespace Envelope {

namespace {

constexpr char hexDigits[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid (overlong forms,
// surrogates and code points above U+10FFFF are invalid, as in RFC 3629).
qsizetype utf8SequenceLength(const unsigned char *s, qsizetype i, qsizetype n)
{
    const unsigned char c = s[i];
    auto cont = [&](qsizetype k) { return i + k < n && (s[i + k] & 0xC0) == 0x80; };
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (!cont(1) || !cont(2))
            return 0;
        if (c == 0xE0 && s[i + 1] < 0xA0)
            return 0; // overlong
        if (c == 0xED && s[i + 1] >= 0xA0)
            return 0; // UTF-16 surrogate
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (!cont(1) || !cont(2) || !cont(3))
            return 0;
        if (c == 0xF0 && s[i + 1] < 0x90)
            return 0; // overlong
        if (c == 0xF4 && s[i + 1] >= 0x90)
            return 0; // above U+10FFFF
        return 4;
    }
    return 0;
}

qsizetype skipWhitespace(QByteArrayView v, qsizetype i)
{
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r'))
        ++i;
    return i;
}

void appendControlEscape(QByteArray &out, unsigned char c)
{
    switch (c) {
    case '\n':
        out.append("\\n", 2);
        break;
    case '\r':
        out.append("\\r", 2);
        break;
    case '\t':
        out.append("\\t", 2);
        break;
    default: {
        const char esc[6] = {'\\', 'u', '0', '0', hexDigits[c >> 4], hexDigits[c & 0xF]};
        out.append(esc, 6);
    }
    }
}

enum class Strictness { Invalid, Valid, ValidExceptRawControls };

// QJsonDocument is more lenient than RFC 8259 and browsers' JSON.parse: it takes raw control
// characters inside strings, numbers like "1." or ".5" and unknown escapes like "\x". Bytes we
// embed unchanged must be strict JSON, so this checks the grammar (not UTF-8: QJsonDocument
// rejects invalid UTF-8). Raw control characters inside strings are reported separately, since
// escaping them keeps the object intact. Iterative, so deep nesting cannot overflow the stack.
Strictness checkStrictJsonObject(QByteArrayView v)
{
    const auto *s = reinterpret_cast<const unsigned char *>(v.data());
    const qsizetype n = v.size();
    qsizetype i = 0;
    bool rawControls = false;
    QByteArray stack; // the open containers, '{' or '['
    auto ws = [&] {
        while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
            ++i;
    };
    auto isDigit = [&](qsizetype k) { return k < n && s[k] >= '0' && s[k] <= '9'; };
    auto isHex = [&](qsizetype k) {
        return k < n && ((s[k] >= '0' && s[k] <= '9') || (s[k] >= 'a' && s[k] <= 'f') ||
                         (s[k] >= 'A' && s[k] <= 'F'));
    };
    auto string = [&]() -> bool { // at the opening quote
        for (++i; i < n; ++i) {
            if (s[i] == '"') {
                ++i;
                return true;
            }
            if (s[i] < 0x20) {
                rawControls = true;
            } else if (s[i] == '\\') {
                if (++i == n)
                    return false;
                if (s[i] == 'u') {
                    if (!isHex(i + 1) || !isHex(i + 2) || !isHex(i + 3) || !isHex(i + 4))
                        return false;
                    i += 4;
                } else if (!QByteArrayView("\"\\/bfnrt").contains(char(s[i]))) {
                    return false;
                }
            }
        }
        return false;
    };
    auto number = [&]() -> bool {
        if (i < n && s[i] == '-')
            ++i;
        if (i < n && s[i] == '0')
            ++i;
        else if (isDigit(i))
            while (isDigit(i))
                ++i;
        else
            return false;
        if (i < n && s[i] == '.') {
            if (!isDigit(++i))
                return false;
            while (isDigit(i))
                ++i;
        }
        if (i < n && (s[i] == 'e' || s[i] == 'E')) {
            ++i;
            if (i < n && (s[i] == '+' || s[i] == '-'))
                ++i;
            if (!isDigit(i))
                return false;
            while (isDigit(i))
                ++i;
        }
        return true;
    };
    auto literal = [&](QByteArrayView word) {
        if (v.sliced(i).startsWith(word)) {
            i += word.size();
            return true;
        }
        return false;
    };

    enum { Value, ValueOrClose, Key, KeyOrClose, Colon, CommaOrClose } expect = Value;
    ws();
    if (i == n || s[i] != '{')
        return Strictness::Invalid;
    while (true) {
        ws();
        if (i == n)
            return Strictness::Invalid;
        const unsigned char c = s[i];
        switch (expect) {
        case KeyOrClose:
        case ValueOrClose:
            if (c != (expect == KeyOrClose ? '}' : ']')) {
                expect = expect == KeyOrClose ? Key : Value;
                continue;
            }
            ++i;
            stack.chop(1);
            expect = CommaOrClose;
            break;
        case Key:
            if (c != '"' || !string())
                return Strictness::Invalid;
            expect = Colon;
            break;
        case Colon:
            if (c != ':')
                return Strictness::Invalid;
            ++i;
            expect = Value;
            break;
        case CommaOrClose:
            if (c == ',') {
                ++i;
                expect = stack.back() == '{' ? Key : Value;
            } else if (c == (stack.back() == '{' ? '}' : ']')) {
                ++i;
                stack.chop(1);
            } else {
                return Strictness::Invalid;
            }
            break;
        case Value:
            if (c == '{' || c == '[') {
                ++i;
                stack.append(char(c));
                expect = c == '{' ? KeyOrClose : ValueOrClose;
                break;
            }
            if (!(c == '"'   ? string()
                  : c == 't' ? literal("true")
                  : c == 'f' ? literal("false")
                  : c == 'n' ? literal("null")
                             : number()))
                return Strictness::Invalid;
            expect = CommaOrClose;
            break;
        }
        if (stack.isEmpty() && expect == CommaOrClose) {
            ws();
            if (i != n)
                return Strictness::Invalid;
            return rawControls ? Strictness::ValidExceptRawControls : Strictness::Valid;
        }
    }
}

// Qt's JSON parser (6.4) drops a raw U+FEFF at the start of a string or key, as a byte order
// mark; written as an escape it stays, for Qt clients too (JSON.parse reads both the same).
constexpr char rawBom[] = "\xEF\xBB\xBF";
constexpr char escapedBom[] = "\\ufeff";

bool isBomAt(QByteArrayView v, qsizetype i)
{
    return v.sliced(i).startsWith(QByteArrayView(rawBom, 3));
}

// Copies strict-apart-from-raw-controls JSON, escaping the control characters and U+FEFF inside
// strings (only there: outside them neither is valid JSON).
void appendEscapingInStrings(QByteArray &out, QByteArrayView json)
{
    bool inString = false;
    for (qsizetype i = 0; i < json.size(); ++i) {
        const auto c = static_cast<unsigned char>(json[i]);
        if (inString && c < 0x20) {
            appendControlEscape(out, c);
            continue;
        }
        if (inString && isBomAt(json, i)) {
            out.append(escapedBom, 6);
            i += 2;
            continue;
        }
        out.append(char(c));
        if (c == '"') {
            inString = !inString;
        } else if (inString && c == '\\') {
            out.append(json[++i]); // the escaped byte (validated: never a control character)
        }
    }
}

} // namespace

bool appendJsonString(QByteArray &out, QByteArrayView bytes)
{
    const auto *s = reinterpret_cast<const unsigned char *>(bytes.data());
    const qsizetype n = bytes.size();
    bool valid = true;
    out.reserve(out.size() + n + 2);
    out.append('"');
    qsizetype run = 0; // start of bytes that can be copied unchanged
    auto flush = [&](qsizetype i) {
        if (i > run)
            out.append(reinterpret_cast<const char *>(s + run), i - run);
    };
    for (qsizetype i = 0; i < n;) {
#if defined(__SSE2__)
        // Fast path, 16 bytes at a time: a signed compare with 0x20 flags both the control
        // characters and every byte from 0x80 (negative as signed), so one mask covers all
        // bytes that need a look.
        {
            const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'),
                          backslash = _mm_set1_epi8('\\');
            while (n - i >= 16) {
                const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(s + i));
                const __m128i flagged = _mm_or_si128(
                    _mm_cmplt_epi8(v, space),
                    _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
                const int mask = _mm_movemask_epi8(flagged);
                if (mask) {
                    i += __builtin_ctz(unsigned(mask));
                    break;
                }
                i += 16;
            }
        }
#endif
        // Fast path, 8 bytes at a time while none needs a look (below 0x20, 0x80 and above,
        // '"', '\\'): a 64 KiB log line is copied at memcpy speed, not inspected byte by byte.
        // The test may flag a clean word (borrows); the byte loop below then decides.
        while (n - i >= 8) {
            quint64 v;
            std::memcpy(&v, s + i, 8);
            constexpr quint64 ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
            const auto hasZero = [](quint64 x) { return (x - ones) & ~x & highs; };
            const quint64 flagged = (v & highs) | ((v - 0x20 * ones) & ~v & highs) |
                                    hasZero(v ^ (0x22 * ones)) | hasZero(v ^ (0x5C * ones));
            if (flagged)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        const unsigned char c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            ++i;
            continue;
        }
        if (c >= 0x80) {
            const qsizetype len = utf8SequenceLength(s, i, n);
            if (len && !isBomAt(bytes, i)) {
                i += len;
                continue;
            }
            flush(i);
            if (len) {
                out.append(escapedBom, 6);
                run = i += len;
                continue;
            }
            out.append("\xEF\xBF\xBD", 3); // U+FFFD for each invalid byte
            valid = false;
            run = ++i;
            continue;
        }
        flush(i);
        if (c == '"')
            out.append("\\\"", 2);
        else if (c == '\\')
            out.append("\\\\", 2);
        else
            appendControlEscape(out, c);
        run = ++i;
    }
    flush(n);
    out.append('"');
    return valid;
}

Encoded encode(QByteArrayView id, QByteArrayView channel, qint64 tsMs, QByteArrayView payload)
{
    QByteArray json;
    json.reserve(payload.size() + channel.size() + id.size() + 48);
    Encoded result = encodeInto(json, id, channel, tsMs, payload);
    result.json = std::move(json);
    return result;
}

Encoded encodeInto(QByteArray &out, QByteArrayView id, QByteArrayView channel, qint64 tsMs,
                   QByteArrayView payload, qint64 truncatedFrom)
{
    Encoded result;
    out.append("{\"id\":", 6);
    appendJsonString(out, id);
    out.append(",\"channel\":", 11);
    const bool channelValid = appendJsonString(out, channel);
    char ts[24]; // at most 20 characters for a 64-bit number
    out.append(",\"ts\":", 6)
        .append(ts, std::to_chars(ts, ts + sizeof ts, tsMs).ptr - ts)
        .append(",\"payload\":", 11);

    const qsizetype first = skipWhitespace(payload, 0);
    if (first < payload.size() && payload[first] == '{') {
        qsizetype last = payload.size();
        while (last > first && (payload[last - 1] == ' ' || payload[last - 1] == '\t' ||
                                payload[last - 1] == '\n' || payload[last - 1] == '\r'))
            --last;
        const QByteArrayView object = payload.sliced(first, last - first);
        const Strictness strictness = checkStrictJsonObject(object);
        QJsonDocument doc;
        if (strictness != Strictness::Invalid)
            doc = QJsonDocument::fromJson(object.toByteArray()); // null when Qt refuses it
        if (doc.isObject()) {
            result.payloadIsObject = true;
            // Only the flat, whole-number form: the clients read more (common/vocabulary.h).
            result.outputTokens = doc.object().value(Vocabulary::outputTokensFields[0]).toInteger();
            // Embedded as received: the SSE encoder turns any line breaks between tokens into
            // separate data lines, which JSON treats as whitespace. Line breaks inside strings
            // must not reach it raw, so control characters there are escaped.
            if (strictness == Strictness::Valid && !object.contains(QByteArrayView(rawBom, 3)))
                out.append(object);
            else
                appendEscapingInStrings(out, object);
        }
    }
    bool payloadValid = true;
    if (!result.payloadIsObject)
        payloadValid = appendJsonString(out, payload);
    if (truncatedFrom >= 0)
        out.append(",\"truncated\":", 13).append(QByteArray::number(truncatedFrom));
    out.append('}');
    result.invalidUtf8 = !channelValid || !payloadValid;
    return result;
}

std::optional<Decoded> decode(QByteArrayView json)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json.toByteArray(), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return std::nullopt;
    const QJsonObject o = doc.object();
    const QJsonValue payload = o.value(QLatin1String("payload"));
    if (!o.value(QLatin1String("id")).isString() || !o.value(QLatin1String("channel")).isString() ||
        !o.value(QLatin1String("ts")).isDouble() || !(payload.isObject() || payload.isString()))
        return std::nullopt;
    Decoded d;
    d.id = o.value(QLatin1String("id")).toString();
    d.channel = o.value(QLatin1String("channel")).toString();
    d.ts = o.value(QLatin1String("ts")).toInteger();
    d.payload = payload;
    return d;
}

} // namespace Envelope
