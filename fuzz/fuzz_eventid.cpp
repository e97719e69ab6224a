// Fuzzes EventId::parse (common/eventid.h): every client sends one back as Last-Event-ID. A parsed
// id is non-negative and prints back to itself, or to the same id without leading zeros.

#include "fuzzsupport.h"

#include "eventid.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input = FuzzSupport::view(data, size);
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
