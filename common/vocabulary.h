#pragma once

#include <QByteArrayView>
#include <QLatin1StringView>

// The words the gateway and its clients share beyond the envelope: the stream's control events
// and the payload fields the clients show as columns, each field with its aliases in priority
// order. C++ reads them from here. The dashboard has the same lists in
// resources/dashboard/records.js, and tests/js/records.test.mjs reads this file to check them, so
// keep every list a brace list of QLatin1StringView("…") and every event a QByteArrayView("…").
//
// How both clients read a payload object, pinned by tests/fixtures/records.json (every row runs
// through tst_logrecorddecoder and records.test.mjs):
//  - a field's value is that of its first alias holding a string, a number or a boolean; null, an
//    object or an array is skipped (OpenTelemetry may nest {"service": {"name": …}}: that object
//    is where service.name lives, not a service name);
//  - a dotted name is looked up flat ("gen_ai.usage.input_tokens": 5), then nested
//    ({"gen_ai": {"usage": {"input_tokens": 5}}});
//  - numbers may come as strings holding a JSON number ("12.5", " 3 "); token counts are whole
//    numbers from 0 to 2^31 - 1; numbers read as text the way JavaScript's String(n) writes them;
//  - without a message the line shows the payload itself, with the whitespace between its tokens
//    removed (the producer's bytes otherwise, keys in their order);
//  - the level is a name or alias below (any case), or a pino/bunyan number (10 trace, 20 debug,
//    30 info, 40 warn, 50 error, 60 fatal); otherwise it is guessed from the first 300 characters
//    of the message: `level=xxx` (or "level": "xxx"), else an upper-case FATAL, CRITICAL, PANIC,
//    ERROR, WARNING, WARN, INFO, DEBUG or TRACE standing as a word;
//  - a line shows at most 2,000 UTF-16 code units of the message (never half a surrogate pair),
//    then "…".
namespace Vocabulary {

// ---- Events: the SSE `event:` types. Envelopes come as the default type, "message". ----

inline constexpr QByteArrayView messageEvent("message");
// Events are missing here: {"reason", "message", ...}; part of the history for Redis outages.
inline constexpr QByteArrayView gapEvent("gap");
// Once a second: rates and counters of the channels the stream selected.
inline constexpr QByteArrayView statsEvent("stats");
// The gateway is about to close a client that stopped reading: {"reason", "message"}.
inline constexpr QByteArrayView droppedEvent("dropped");
// The gateway is stopping, or the token's access was revoked: {"reason"}.
inline constexpr QByteArrayView shutdownEvent("shutdown");

// Members of a control event's data that clients show.
inline constexpr QLatin1StringView reasonMember("reason");
inline constexpr QLatin1StringView messageMember("message");

// Why a gap happened (README, "Wire format").
inline constexpr QLatin1StringView historyExceededGap("history-exceeded");
inline constexpr QLatin1StringView gatewayRestartedGap("gateway-restarted");
inline constexpr QLatin1StringView unknownIdGap("unknown-id");
inline constexpr QLatin1StringView redisDisconnectedGap("redis-disconnected");
// Streams transport: entries really gone (Redis came back without them; trimmed unread).
inline constexpr QLatin1StringView streamLostGap("redis-restarted-empty");
inline constexpr QLatin1StringView streamTrimmedGap("trimmed");

// ---- Payload fields, aliases in priority order. ----

inline constexpr QLatin1StringView messageFields[] = {
    QLatin1StringView("msg"), QLatin1StringView("message"), QLatin1StringView("text"),
    QLatin1StringView("event")};
inline constexpr QLatin1StringView levelFields[] = {
    QLatin1StringView("level"), QLatin1StringView("severity"), QLatin1StringView("lvl"),
    QLatin1StringView("levelname")};
inline constexpr QLatin1StringView serviceFields[] = {QLatin1StringView("service"),
                                                      QLatin1StringView("service.name")};
inline constexpr QLatin1StringView modelFields[] = {QLatin1StringView("gen_ai.request.model"),
                                                    QLatin1StringView("gen_ai.response.model")};
inline constexpr QLatin1StringView errorTypeFields[] = {QLatin1StringView("error.type")};
inline constexpr QLatin1StringView inputTokensFields[] = {
    QLatin1StringView("gen_ai.usage.input_tokens")};
inline constexpr QLatin1StringView outputTokensFields[] = {
    QLatin1StringView("gen_ai.usage.output_tokens")};
inline constexpr QLatin1StringView durationMsFields[] = {QLatin1StringView("duration_ms")};
inline constexpr QLatin1StringView ttftMsFields[] = {QLatin1StringView("ttft_ms")};

// Fields a record read from a log line may carry besides those (llmstreamer-producer pipe/follow
// --format, README "Log formats"): when it was written, the ids that tie it to a request or a
// trace, and the line itself as it came.
inline constexpr QLatin1StringView timeFields[] = {QLatin1StringView("ts")};
inline constexpr QLatin1StringView requestIdFields[] = {QLatin1StringView("request_id")};
inline constexpr QLatin1StringView traceIdFields[] = {QLatin1StringView("trace_id")};
inline constexpr QLatin1StringView spanIdFields[] = {QLatin1StringView("span_id")};
inline constexpr QLatin1StringView rawField("raw");

// ---- Levels: the names the clients show, least severe first, and the other names for them. ----

inline constexpr QLatin1StringView levelNames[] = {
    QLatin1StringView("TRACE"), QLatin1StringView("DEBUG"), QLatin1StringView("INFO"),
    QLatin1StringView("WARN"),  QLatin1StringView("ERROR"), QLatin1StringView("FATAL")};

struct LevelAlias
{
    QLatin1StringView alias;
    QLatin1StringView level; // one of levelNames
};
inline constexpr LevelAlias levelAliases[] = {
    {QLatin1StringView("DBG"), QLatin1StringView("DEBUG")},
    {QLatin1StringView("VERBOSE"), QLatin1StringView("DEBUG")},
    {QLatin1StringView("INFORMATION"), QLatin1StringView("INFO")},
    {QLatin1StringView("NOTICE"), QLatin1StringView("INFO")},
    {QLatin1StringView("WARNING"), QLatin1StringView("WARN")},
    {QLatin1StringView("ERR"), QLatin1StringView("ERROR")},
    {QLatin1StringView("CRITICAL"), QLatin1StringView("FATAL")},
    {QLatin1StringView("CRIT"), QLatin1StringView("FATAL")},
    {QLatin1StringView("PANIC"), QLatin1StringView("FATAL")},
    {QLatin1StringView("EMERG"), QLatin1StringView("FATAL")},
    {QLatin1StringView("ALERT"), QLatin1StringView("FATAL")},
};

} // namespace Vocabulary
