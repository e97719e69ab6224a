// Fuzzes what llmstreamer-producer otlp makes of a request body (OtlpDecoder,
// producer/otlp/otlpdecoder.h, over the JSON and protobuf readers and the mapping), after the
// bounded gzip inflate (GzipInflater) when asked: the first byte picks logs or traces (bit 0),
// JSON or protobuf (bit 1) and gzip (bit 2), the rest is the body. It must never crash; every
// record is a JSON object on one of the configured channels; a refused body has a reason and no
// records; the inflated body never passes its bound.

#include "fuzzsupport.h"

#include "gzipinflater.h"
#include "otlpdecoder.h"

#include <QJsonDocument>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const auto signal = data[0] & 1 ? OtlpDecoder::Signal::Traces : OtlpDecoder::Signal::Logs;
    const auto encoding =
        data[0] & 2 ? OtlpDecoder::Encoding::Protobuf : OtlpDecoder::Encoding::Json;
    QByteArray body = FuzzSupport::view(data + 1, size - 1).toByteArray();
    if (data[0] & 4) {
        constexpr qint64 bound = 256 * 1024;
        GzipInflater::Result inflated = GzipInflater::inflate(body, bound);
        FUZZ_CHECK(inflated.data.size() <= bound);
        if (inflated.status != GzipInflater::Result::Status::Ok)
            return 0;
        body = std::move(inflated.data);
    }
    OtlpDecoder::Channels channels;
    channels.allSpans = data[0] & 8;
    OtlpDecoder::Limits limits;
    limits.maxOutputBytes = 4 * 1024 * 1024;
    const OtlpDecoder::Result result =
        OtlpDecoder::decode(signal, encoding, body, channels, limits);
    if (result.status != OtlpDecoder::Result::Status::Ok) {
        FUZZ_CHECK(!result.error.isEmpty() && result.records.empty());
        return 0;
    }
    FUZZ_CHECK(result.rejected == 0 || !result.rejectedReason.isEmpty());
    for (const OtlpDecoder::Record &record : result.records) {
        if (signal == OtlpDecoder::Signal::Logs)
            FUZZ_CHECK(record.channel == channels.logs);
        else
            FUZZ_CHECK(record.channel == channels.generation || record.channel == channels.errors ||
                       (channels.allSpans && record.channel == channels.spans));
        QJsonParseError error;
        const QJsonDocument document = QJsonDocument::fromJson(record.payload, &error);
        FUZZ_CHECK(error.error == QJsonParseError::NoError && document.isObject());
    }
    return 0;
}
