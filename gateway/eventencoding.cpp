#include "eventencoding.h"

#include "envelope.h"
#include "sseencoder.h"
#include "truncation.h"

#include <algorithm>

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
    const qsizetype start = out.size();
    out.reserve(start + std::min<qint64>(payload.size(), maxPayloadBytes) + channel.size() +
                2 * id.size() + 64);
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
    return r;
}

} // namespace EventEncoding
