#include "envelope.h"

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
        const unsigned char c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            ++i;
            continue;
        }
        if (c >= 0x80) {
            if (const qsizetype len = utf8SequenceLength(s, i, n)) {
                i += len;
                continue;
            }
            flush(i);
            out.append("\xEF\xBF\xBD", 3); // U+FFFD for each invalid byte
            valid = false;
            run = ++i;
            continue;
        }
        flush(i);
        switch (c) {
        case '"': out.append("\\\"", 2); break;
        case '\\': out.append("\\\\", 2); break;
        case '\n': out.append("\\n", 2); break;
        case '\r': out.append("\\r", 2); break;
        case '\t': out.append("\\t", 2); break;
        default: {
            const char esc[6] = {'\\', 'u', '0', '0', hexDigits[c >> 4], hexDigits[c & 0xF]};
            out.append(esc, 6);
        }
        }
        run = ++i;
    }
    flush(n);
    out.append('"');
    return valid;
}

Encoded encode(QByteArrayView id, QByteArrayView channel, qint64 tsMs, QByteArrayView payload)
{
    Encoded result;
    QByteArray &out = result.json;
    out.reserve(payload.size() + channel.size() + 64);
    out.append("{\"id\":", 6);
    appendJsonString(out, id);
    out.append(",\"channel\":", 11);
    const bool channelValid = appendJsonString(out, channel);
    out.append(",\"ts\":", 6).append(QByteArray::number(tsMs)).append(",\"payload\":", 11);

    const qsizetype first = skipWhitespace(payload, 0);
    if (first < payload.size() && payload[first] == '{') {
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(payload.toByteArray(), &error);
        if (error.error == QJsonParseError::NoError && doc.isObject()) {
            result.payloadIsObject = true;
            result.outputTokens =
                doc.object().value(QLatin1String("gen_ai.usage.output_tokens")).toInteger();
            // Embedded as received: the SSE encoder turns any line breaks inside into
            // separate data lines, which JSON treats as whitespace.
            qsizetype last = payload.size();
            while (last > first && (payload[last - 1] == ' ' || payload[last - 1] == '\t' ||
                                    payload[last - 1] == '\n' || payload[last - 1] == '\r'))
                --last;
            out.append(payload.sliced(first, last - first));
        }
    }
    bool payloadValid = true;
    if (!result.payloadIsObject)
        payloadValid = appendJsonString(out, payload);
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
