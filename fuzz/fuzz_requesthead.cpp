// Fuzzes the strict request head reader (gateway/requesthead.h) that decides what Qt's parser
// ever sees. A complete head is a prefix of the input that reads the same on its own (so what
// follows it can never change where it ends), never longer than the limit; an incomplete one
// stays incomplete while bytes are only added within the limit; refusals carry a status and a
// reason.

#include "fuzzsupport.h"

#include "requesthead.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input = FuzzSupport::view(data, size);
    constexpr qsizetype limit = 4096;
    const RequestHead head = RequestHead::parse(input, limit);
    switch (head.state) {
    case RequestHead::State::Complete: {
        FUZZ_CHECK(head.length > 0 && head.length <= input.size() && head.length <= limit);
        FUZZ_CHECK(head.status == 0);
        const RequestHead alone = RequestHead::parse(input.first(head.length), limit);
        FUZZ_CHECK(alone.state == RequestHead::State::Complete && alone.length == head.length);
        FUZZ_CHECK(alone.close == head.close && alone.http10 == head.http10);
        // The head ends with an empty line; no CR stands alone in it.
        const QByteArrayView h = input.first(head.length);
        FUZZ_CHECK(h.endsWith("\n\n") || h.endsWith("\n\r\n"));
        for (qsizetype i = 0; i < h.size(); ++i)
            FUZZ_CHECK(h[i] != '\r' || (i + 1 < h.size() && h[i + 1] == '\n'));
        // Every accepted head names a Host, or is HTTP/1.0.
        FUZZ_CHECK(head.http10 || QByteArray(h.data(), h.size()).toLower().contains("\nhost:"));
        break;
    }
    case RequestHead::State::Refused:
        FUZZ_CHECK(head.status == 400 || head.status == 413 || head.status == 431 ||
                   head.status == 505);
        FUZZ_CHECK(!head.reason.isEmpty());
        break;
    case RequestHead::State::Incomplete:
        FUZZ_CHECK(input.size() <= limit);
        // Any prefix of an incomplete input is incomplete too.
        FUZZ_CHECK(RequestHead::parse(input.first(input.size() / 2), limit).state ==
                   RequestHead::State::Incomplete);
        break;
    }
    return 0;
}
