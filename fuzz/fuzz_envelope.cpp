// Fuzzes the envelope every SSE data field carries (common/envelope.h). The input is
// "<channel>\n<payload>" (no newline: the whole input is the payload). Whatever the bytes,
// encode() must give one JSON object that QJsonDocument reads and decode() accepts, valid UTF-8
// with no raw control characters inside strings (the SSE encoder splits data lines at line
// breaks), carrying the channel and payload back: an object payload as the same object, anything
// else as the same string. decode() is also fed the raw input.

#include "fuzzsupport.h"

#include "envelope.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QStringDecoder>

namespace {

// No byte below 0x20 between the quotes of a JSON string (outside them only JSON whitespace).
bool controlsOnlyOutsideStrings(QByteArrayView json)
{
    bool inString = false;
    for (qsizetype i = 0; i < json.size(); ++i) {
        const auto c = static_cast<unsigned char>(json[i]);
        if (c < 0x20 && (inString || (c != '\n' && c != '\r' && c != '\t')))
            return false;
        if (inString && c == '\\')
            ++i;
        else if (c == '"')
            inString = !inString;
    }
    return !inString;
}

// UTF-8 to QString keeping a leading U+FEFF, which QString::fromUtf8() drops as a byte order mark.
QString fromUtf8(QByteArrayView bytes)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::ConvertInitialBom);
    return decoder(bytes);
}

QByteArrayView trimmedJsonWhitespace(QByteArrayView v)
{
    auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!v.isEmpty() && ws(v.front()))
        v = v.sliced(1);
    while (!v.isEmpty() && ws(v.back()))
        v.chop(1);
    return v;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input = FuzzSupport::view(data, size);
    (void)Envelope::decode(input);

    const qsizetype nl = input.indexOf('\n');
    const QByteArrayView channel = nl < 0 ? QByteArrayView("logs:fuzz") : input.first(nl);
    const QByteArrayView payload = nl < 0 ? input : input.sliced(nl + 1);
    FuzzSupport::Rng rng(input);
    const qint64 ts = qint64(rng.next() & ((1ULL << 53) - 1)); // exact as a JSON double
    const QByteArray id = QByteArray::number(ts) + "-" + QByteArray::number(size);

    const Envelope::Encoded e = Envelope::encode(id, channel, ts, payload);
    FUZZ_CHECK(QByteArrayView(e.json).isValidUtf8());
    FUZZ_CHECK(controlsOnlyOutsideStrings(e.json));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(e.json, &error);
    FUZZ_CHECK(error.error == QJsonParseError::NoError && doc.isObject());
    FUZZ_CHECK(doc.object().size() == 4);

    const auto decoded = Envelope::decode(e.json);
    FUZZ_CHECK(decoded);
    FUZZ_CHECK(decoded->id == QString::fromLatin1(id));
    FUZZ_CHECK(decoded->ts == ts);
    QByteArray scratch;
    const bool channelValid = Envelope::appendJsonString(scratch, channel);
    const bool payloadValid = Envelope::appendJsonString(scratch, payload);
    FUZZ_CHECK(e.invalidUtf8 == (!channelValid || (!e.payloadIsObject && !payloadValid)));
    if (channelValid)
        FUZZ_CHECK(decoded->channel == fromUtf8(channel));
    else
        FUZZ_CHECK(decoded->channel.contains(QChar::ReplacementCharacter));

    if (e.payloadIsObject) {
        // Qt reads the original payload as the same object (raw controls escaped or not; a raw
        // U+FEFF, only valid inside strings, escaped as the encoder does so that Qt keeps it).
        const QJsonDocument original = QJsonDocument::fromJson(
            trimmedJsonWhitespace(payload).toByteArray().replace("\xEF\xBB\xBF", "\\ufeff"));
        FUZZ_CHECK(original.isObject() && decoded->payload.isObject());
        FUZZ_CHECK(decoded->payload.toObject() == original.object());
        FUZZ_CHECK(
            e.outputTokens ==
            original.object().value(QLatin1String("gen_ai.usage.output_tokens")).toInteger());
    } else {
        FUZZ_CHECK(decoded->payload.isString());
        FUZZ_CHECK(e.outputTokens == 0);
        if (payloadValid)
            FUZZ_CHECK(decoded->payload.toString() == fromUtf8(payload));
        else
            FUZZ_CHECK(decoded->payload.toString().contains(QChar::ReplacementCharacter));
    }
    return 0;
}
