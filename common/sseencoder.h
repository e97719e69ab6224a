#pragma once

#include <QByteArray>
#include <QByteArrayView>

// Server-Sent Events framing (WHATWG HTML "server-sent events"). Every line break in data, whether
// CR, LF or CRLF, starts a new "data:" line, so no payload can inject fields or events.
namespace SseEncoder {

// An event with an id, an optional type and data; `id` and `event` must not contain line breaks.
QByteArray event(QByteArrayView id, QByteArrayView type, QByteArrayView data);
// An event without an id line: the client's Last-Event-ID stays that of the last event it got.
// For what the gateway says when it ends a stream that may not have had everything up to the
// newest event (a client cut loose while behind, or still replaying).
QByteArray eventWithoutId(QByteArrayView type, QByteArrayView data);
// A comment line (ignored by clients; keeps proxies and idle timers awake).
QByteArray comment(QByteArrayView text);
// The reconnection delay a client should use.
QByteArray retry(int milliseconds);

} // namespace SseEncoder
