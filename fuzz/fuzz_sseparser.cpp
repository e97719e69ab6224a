// Fuzzes SseParser (common/sseparser.h), the hand-written parser every client runs on bytes from
// the network. Beyond not crashing: the same bytes give the same events, last event id, retry and
// comment count however the network splits them (one chunk, byte by byte, random chunks with
// empty ones, a split after every CR), with the default line cap and a tiny one; events are
// well-formed; reset() forgets partial input only.

#include "fuzzsupport.h"

#include "eventid.h"
#include "sseparser.h"

#include <vector>

namespace {

struct Outcome
{
    std::vector<SseEvent> events;
    QByteArray lastEventId;
    int retry = -1;
    qint64 comments = 0;
    bool ok = true;

    bool operator==(const Outcome &o) const
    {
        if (events.size() != o.events.size() || lastEventId != o.lastEventId || retry != o.retry ||
            comments != o.comments || ok != o.ok)
            return false;
        for (size_t i = 0; i < events.size(); ++i) {
            const SseEvent &a = events[i], &b = o.events[i];
            if (a.type != b.type || a.data != b.data || a.lastEventId != b.lastEventId)
                return false;
        }
        return true;
    }
};

// Feeds `chunks` (a partition of the input) and records what came out.
Outcome run(const std::vector<QByteArrayView> &chunks, qsizetype maxLine)
{
    Outcome out;
    SseParser parser([&out](const SseEvent &e) { out.events.push_back(e); });
    parser.setMaxLineSize(maxLine);
    for (QByteArrayView chunk : chunks)
        out.ok = parser.feed(chunk) && out.ok;
    out.lastEventId = parser.lastEventId();
    out.retry = parser.retryMilliseconds();
    out.comments = parser.commentsSeen();
    return out;
}

void checkWellFormed(const Outcome &o)
{
    FUZZ_CHECK(o.retry >= -1);
    FUZZ_CHECK(o.comments >= 0);
    for (const SseEvent &e : o.events) {
        FUZZ_CHECK(!e.type.isEmpty());
        FUZZ_CHECK(!e.type.contains('\r') && !e.type.contains('\n'));
        FUZZ_CHECK(!e.data.contains('\r')); // lines are split at CR too
        FUZZ_CHECK(!e.lastEventId.contains('\0') && !e.lastEventId.contains('\r') &&
                   !e.lastEventId.contains('\n'));
        // Event ids come back as Last-Event-ID: parsing one must be stable.
        if (const auto id = EventId::parse(e.lastEventId)) {
            FUZZ_CHECK(id->boot >= 0 && id->seq >= 0);
            FUZZ_CHECK(EventId::parse(id->toByteArray()) == id);
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input = FuzzSupport::view(data, size);
    FuzzSupport::Rng rng(input);

    const std::vector<QByteArrayView> whole{input};
    std::vector<QByteArrayView> bytes, random, afterCr;
    for (qsizetype i = 0; i < input.size(); ++i)
        bytes.push_back(input.sliced(i, 1));
    for (qsizetype i = 0; i < input.size();) {
        const qsizetype n = rng.below(4) == 0 ? 0 : 1 + rng.below(16);
        random.push_back(input.sliced(i, qMin(n, input.size() - i)));
        i += n;
    }
    for (qsizetype start = 0, i = 0; i <= input.size(); ++i) {
        if (i == input.size() || input[i] == '\r') {
            afterCr.push_back(input.sliced(start, qMin(i + 1, input.size()) - start));
            start = i + 1;
        }
    }

    const qsizetype smallCap = 1 + rng.below(48);
    for (const qsizetype cap : {SseParser(nullptr).maxLineSize(), smallCap}) {
        const Outcome reference = run(whole, cap);
        checkWellFormed(reference);
        FUZZ_CHECK(run(bytes, cap) == reference);
        FUZZ_CHECK(run(random, cap) == reference);
        FUZZ_CHECK(run(afterCr, cap) == reference);
    }

    // reset() drops partial input and keeps the last event id: the same stream fed again after
    // it yields the same events (ids aside, they may start from the kept one).
    std::vector<SseEvent> first, second;
    std::vector<SseEvent> *sink = &first;
    SseParser parser([&sink](const SseEvent &e) { sink->push_back(e); });
    if (parser.feed(input)) {
        const QByteArray kept = parser.lastEventId();
        parser.reset();
        FUZZ_CHECK(parser.lastEventId() == kept);
        sink = &second;
        FUZZ_CHECK(parser.feed(input));
        FUZZ_CHECK(first.size() == second.size());
        for (size_t i = 0; i < first.size(); ++i)
            FUZZ_CHECK(first[i].type == second[i].type && first[i].data == second[i].data);
    }
    return 0;
}
