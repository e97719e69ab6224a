// Fuzzes what /api/history reads from a request (HistoryQuery::parse, gateway/history.h: limit,
// before, q as text or /regex/flags) and the text match it then runs on every entry examined,
// plus the envelope taken back out of a ring frame (History::envelopeOfFrame). A query that
// parses has a limit within bounds; matching never crashes, whatever the regex; a frame's
// envelope is never longer than the frame; a frame made by the gateway gives its envelope back (as
// JSON).

#include "fuzzsupport.h"

#include "eventencoding.h"
#include "history.h"

#include <QJsonDocument>
#include <QUrlQuery>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input = FuzzSupport::view(data, size);
    // The request line is at most 8 KiB (the gateway's head limit); the rest is entry text.
    const qsizetype cut = input.indexOf('\n');
    const QByteArrayView query = cut < 0 ? input : input.first(cut);
    const QByteArrayView rest = cut < 0 ? QByteArrayView() : input.sliced(cut + 1);
    if (query.size() > 8192)
        return 0;

    QString error;
    const auto parsed = HistoryQuery::parse(QUrlQuery(QString::fromUtf8(query)), &error);
    FUZZ_CHECK(parsed.has_value() == error.isEmpty());
    if (parsed) {
        FUZZ_CHECK(parsed->limit() >= 1 && parsed->limit() <= HistoryQuery::maxLimit);
        const qsizetype colon = rest.indexOf(' ');
        const QByteArrayView channel = colon < 0 ? rest : rest.first(colon);
        const QByteArrayView payload = colon < 0 ? QByteArrayView() : rest.sliced(colon + 1);
        const bool match = parsed->matchesText(channel, payload);
        FUZZ_CHECK(parsed->hasText() || match);
        (void)parsed->selects(channel);
    }

    FUZZ_CHECK(History::envelopeOfFrame(input).size() <= input.size());
    QByteArray frame;
    EventEncoding::appendFrame(frame, "1-1", "logs:fuzz", 1, rest, 4096);
    QByteArray envelope;
    EventEncoding::appendEnvelope(envelope, "1-1", "logs:fuzz", 1, rest, 4096);
    // Line breaks between an object's tokens come back as LF: the same JSON.
    const QByteArray back = History::envelopeOfFrame(frame);
    FUZZ_CHECK(back == envelope ||
               QJsonDocument::fromJson(back) == QJsonDocument::fromJson(envelope));
    return 0;
}
