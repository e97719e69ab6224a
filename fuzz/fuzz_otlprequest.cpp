// Fuzzes the OTLP receiver's reader of HTTP/1.1 requests (HttpRequestReader,
// producer/otlp/httprequestreader.h): the input is what a connection sends, fed in pieces whose
// sizes come from the input itself. It must never crash or keep more body than its bound;
// a failure has an HTTP error status and a reason; requests read in pieces are read exactly as
// the same bytes in one piece.

#include "fuzzsupport.h"

#include "httprequestreader.h"

namespace {

constexpr qint64 maxBody = 64 * 1024;

struct Outcome
{
    QByteArrayList requests; // method, target and body of each complete request
    int status = 0;

    bool operator==(const Outcome &) const = default;
};

Outcome readAll(QByteArrayView bytes, FuzzSupport::Rng *pieces)
{
    Outcome outcome;
    HttpRequestReader reader(maxBody);
    QByteArray input;
    qsizetype offset = 0;
    for (;;) {
        if (offset < bytes.size()) {
            const qsizetype n =
                pieces ? qsizetype(1 + pieces->next() % 512) : bytes.size() - offset;
            input += bytes.sliced(offset, std::min(n, bytes.size() - offset));
            offset += std::min(n, bytes.size() - offset);
        }
        for (;;) {
            reader.read(input);
            FUZZ_CHECK(reader.body().size() <= maxBody);
            if (reader.state() == HttpRequestReader::State::Failed) {
                FUZZ_CHECK(reader.status() >= 400 && reader.status() < 600);
                FUZZ_CHECK(!reader.reason().isEmpty());
                outcome.status = reader.status();
                return outcome;
            }
            if (reader.state() != HttpRequestReader::State::Complete)
                break;
            outcome.requests += reader.method() + ' ' + reader.target() + ' ' + reader.body();
            reader.reset();
        }
        if (offset >= bytes.size())
            return outcome;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes = FuzzSupport::view(data, size);
    FuzzSupport::Rng rng(bytes);
    const Outcome whole = readAll(bytes, nullptr);
    const Outcome pieces = readAll(bytes, &rng);
    FUZZ_CHECK(whole == pieces);
    return 0;
}
