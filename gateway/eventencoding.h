#pragma once

#include <QByteArray>
#include <QByteArrayView>

// How the gateway writes an event: the payload cut to the cap, visibly, then the JSON envelope
// (Envelope::encodeInto), alone or in an SSE frame. One place for the live fan-out, the replay
// of stream entries from Redis and /api/history, so an event reads the same in all three.
namespace EventEncoding {

struct Result
{
    qint64 payloadBytes = 0; // the payload's size as written (after a cut)
    qint64 outputTokens = 0; // gen_ai.usage.output_tokens of an object payload, else 0
    bool invalidUtf8 = false;
    bool truncated = false;
    bool payloadIsObject = false;
};

// Appends "id: <id>\ndata: <envelope>\n\n" to `out`. The envelope has no raw line break unless
// an object payload carries some between its tokens; only then is it split into data lines.
Result appendFrame(QByteArray &out, QByteArrayView id, QByteArrayView channel, qint64 tsMs,
                   QByteArrayView payload, qint64 maxPayloadBytes);
// Appends the envelope alone (what a frame's data lines carry).
Result appendEnvelope(QByteArray &out, QByteArrayView id, QByteArrayView channel, qint64 tsMs,
                      QByteArrayView payload, qint64 maxPayloadBytes);

// `frame` (one made by appendFrame, or an SseEncoder event with an id) with the id `newId`
// instead of its own, in its id line and in its envelope's "id" member if it has one. For the
// one client whose position differs from the one the frame was made with (partitioned streams).
QByteArray withId(const QByteArray &frame, QByteArrayView newId);

} // namespace EventEncoding
