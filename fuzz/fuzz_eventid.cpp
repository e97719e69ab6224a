// Fuzzes EventId::parse and StreamCursor::parseEventId (common/eventid.h): every client sends one
// back as Last-Event-ID (and /api/history?before=). A parsed id is non-negative and prints back to
// itself, or to the same id without leading zeros; a cursor of 1 to 64 partitions (the first
// byte's choice) parses back from its printed form to the same positions and marked partition,
// and stays within its length bound.

#include "fuzzsupport.h"

#include "eventid.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input = FuzzSupport::view(data, size);
    if (size > 0) {
        const int partitions = 1 + data[0] % 64;
        const QByteArrayView text = input.sliced(1);
        int own = -2;
        if (const auto cursor = StreamCursor::parseEventId(text, partitions, &own)) {
            FUZZ_CHECK(cursor->partitions() == partitions);
            FUZZ_CHECK(own >= -1 && own < partitions);
            const QByteArray printed = cursor->toEventId(partitions > 1 ? own : -1);
            FUZZ_CHECK(printed.size() <= StreamCursor::maxEventIdLength(partitions));
            int ownAgain = -2;
            const auto again = StreamCursor::parseEventId(printed, partitions, &ownAgain);
            FUZZ_CHECK(again && *again == *cursor && ownAgain == own);
            for (int p = 0; p < partitions; ++p)
                FUZZ_CHECK(cursor->at(p).ms >= 0 && cursor->at(p).seq >= 0);
        }
    }
    const auto id = EventId::parse(input);
    if (!id)
        return 0;
    FUZZ_CHECK(id->boot >= 0 && id->seq >= 0);
    const QByteArray printed = id->toByteArray();
    FUZZ_CHECK(EventId::parse(printed) == id);
    const qsizetype dash = input.indexOf('-');
    auto canonical = [](QByteArrayView digits) { return digits == "0" || !digits.startsWith('0'); };
    if (canonical(input.first(dash)) && canonical(input.sliced(dash + 1)))
        FUZZ_CHECK(printed == input);
    return 0;
}
