#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonValue>
#include <QString>

#include <optional>

// The JSON envelope every SSE data field carries: {"id","channel","ts","payload"}. A payload that
// is a JSON object (strict RFC 8259, as JSON.parse reads it) stays an object, embedded byte for
// byte except that raw control characters and U+FEFF inside its strings are escaped; anything
// else becomes a JSON string, with invalid UTF-8 replaced by U+FFFD.
namespace Envelope {

struct Encoded
{
    QByteArray json;
    bool payloadIsObject = false;
    bool invalidUtf8 = false; // the payload or channel had bytes replaced by U+FFFD
    qint64 outputTokens = 0;  // gen_ai.usage.output_tokens of an object payload, else 0
};

Encoded encode(QByteArrayView id, QByteArrayView channel, qint64 tsMs, QByteArrayView payload);
// The same, appended to `out` (the gateway writes it straight into an SSE frame); the result's
// `json` stays empty. A `truncatedFrom` of 0 or more adds "truncated": <that many bytes>, the
// size of the payload before the gateway cut it.
Encoded encodeInto(QByteArray &out, QByteArrayView id, QByteArrayView channel, qint64 tsMs,
                   QByteArrayView payload, qint64 truncatedFrom = -1);

// Appends `bytes` as a JSON string literal (with quotes) to `out`; returns false when invalid
// UTF-8 had to be replaced. U+FEFF is written as "\ufeff", which Qt's JSON parser keeps.
bool appendJsonString(QByteArray &out, QByteArrayView bytes);

// What a client reads back out of an envelope.
struct Decoded
{
    QString id;
    QString channel;
    qint64 ts = 0;
    QJsonValue payload; // an object or a string
};

std::optional<Decoded> decode(QByteArrayView json);

} // namespace Envelope
