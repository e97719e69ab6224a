#include "eventencoding.h"

#include "envelope.h"
#include "sseencoder.h"
#include "truncation.h"

#include <algorithm>

namespace {

// "id: \ndata: " and "\n\n", the envelope's {"id":"","channel":"","ts":,"payload":""} with a
// 20-digit time, ,"truncated":<20 digits>, and the marker a cut payload ends with.
constexpr qsizetype frameOverhead = 256;

} // namespace

namespace EventEncoding {

Result appendEnvelope(QByteArray &out, QByteArrayView id, QByteArrayView channel, qint64 tsMs,
                      QByteArrayView payload, qint64 maxPayloadBytes)
{
    // A payload over the cap is cut on a UTF-8 boundary and says so, in its text and in the
    // envelope: one event must not grow past what a client may have unsent.
    Result r;
    QByteArray cut;
    qint64 truncatedFrom = -1;
    if (payload.size() > maxPayloadBytes) {
        cut = Truncation::cut(payload, qsizetype(maxPayloadBytes));
        truncatedFrom = payload.size();
        payload = cut;
        r.truncated = true;
    }
    const Envelope::Encoded enc =
        Envelope::encodeInto(out, id, channel, tsMs, payload, truncatedFrom);
    r.payloadBytes = payload.size();
    r.outputTokens = enc.outputTokens;
    r.invalidUtf8 = enc.invalidUtf8;
    r.payloadIsObject = enc.payloadIsObject;
    return r;
}

Result appendFrame(QByteArray &out, QByteArrayView id, QByteArrayView channel, qint64 tsMs,
                   QByteArrayView payload, qint64 maxPayloadBytes)
{
    // Exactly what a plain payload needs: the frame's lines, the envelope's keys and numbers
    // (and a truncation marker). Short by even a byte, the buffer would grow by half: the
    // history holds these, its byte cap counts their size, not their capacity.
    const qsizetype start = out.size();
    out.reserve(start + std::min<qint64>(payload.size(), maxPayloadBytes) + channel.size() +
                2 * id.size() + frameOverhead);
    out.append("id: ", 4).append(id).append("\ndata: ", 7);
    const qsizetype jsonStart = out.size();
    const Result r = appendEnvelope(out, id, channel, tsMs, payload, maxPayloadBytes);
    // Only an object payload can have line breaks between its tokens; a string is escaped.
    const QByteArrayView json = QByteArrayView(out).sliced(jsonStart);
    if (r.payloadIsObject && (json.contains('\n') || json.contains('\r'))) {
        const QByteArray split = SseEncoder::event(id, {}, json);
        out.truncate(start);
        out.append(split);
    } else {
        out.append("\n\n", 2);
    }
    // Escaped payloads (control characters, invalid UTF-8) grow past the estimate: give back
    // what growing left unused.
    if (out.capacity() - out.size() > out.size() / 8 + 256)
        out.squeeze();
    return r;
}

QByteArray withId(const QByteArray &frame, QByteArrayView newId)
{
    constexpr QByteArrayView idField("id: ");
    constexpr QByteArrayView envelopeStart("data: {\"id\":\"");
    if (!frame.startsWith(idField))
        return frame;
    const qsizetype idEnd = frame.indexOf('\n');
    if (idEnd < 0)
        return frame;
    const QByteArrayView oldId = QByteArrayView(frame).sliced(4, idEnd - 4);
    QByteArray out;
    out.reserve(frame.size() + 2 * (newId.size() - oldId.size()));
    out.append(idField).append(newId).append('\n');
    QByteArrayView rest = QByteArrayView(frame).sliced(idEnd + 1);
    // Ids are ASCII without quotes or backslashes: the envelope holds them as they are.
    if (rest.startsWith(envelopeStart) && rest.sliced(envelopeStart.size()).startsWith(oldId) &&
        rest.sliced(envelopeStart.size() + oldId.size()).startsWith('"')) {
        out.append(envelopeStart).append(newId);
        rest = rest.sliced(envelopeStart.size() + oldId.size());
    }
    out.append(rest);
    return out;
}

} // namespace EventEncoding
