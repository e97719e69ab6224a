#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <vector>

// Turns the body of an OTLP/HTTP export request (ExportLogsServiceRequest or
// ExportTraceServiceRequest, in OTLP's JSON mapping or as protobuf) into the JSON records
// llmstreamer-producer publishes, each with its channel. The README's "Connect your LLM service"
// table is the mapping: a log record becomes one record; a span with gen_ai.* attributes becomes
// one generation record, a span with an error status an error record, any other span a record
// only with Channels::allSpans.
//
// Pure: no I/O, no event loop (fuzz/fuzz_otlpbody.cpp runs it on arbitrary bytes). A body that is
// not such a request at all is refused as a whole; a record inside it that cannot be read (a
// trace id that is not 16 bytes, a time that is not a number, ...) is rejected alone and counted,
// for the response's partial success.
namespace OtlpDecoder {

enum class Signal { Logs, Traces };
enum class Encoding { Json, Protobuf };

struct Channels
{
    QByteArray logs = "logs:otel";
    QByteArray generation = "logs:generation";
    QByteArray errors = "logs:errors";
    QByteArray spans = "logs:spans";
    bool allSpans = false;
};

struct Limits
{
    // Attributes one record takes from its resource, scope and itself together; the rest are
    // counted in "otel.dropped_attributes".
    int maxAttributes = 128;
    // The payloads of one request together, each counted with 64 bytes for its bookkeeping: a
    // small body can name a large resource once for many records, and each record repeats it.
    qint64 maxOutputBytes = 64LL * 1024 * 1024;
};

struct Record
{
    QByteArray channel;
    QByteArray payload; // a JSON object, compact
};

struct Result
{
    enum class Status {
        Ok,            // records (maybe none) and maybe rejections
        Invalid,       // not an export request: `error` says why (HTTP 400)
        OutputTooLarge // the records would pass Limits::maxOutputBytes (HTTP 413)
    };
    Status status = Status::Ok;
    QString error;
    std::vector<Record> records;
    qint64 rejected = 0;     // log records or spans that could not be read
    QString rejectedReason;  // why the first of them was rejected
    qint64 skippedSpans = 0; // spans read but not published (neither gen_ai nor error)
};

Result decode(Signal signal, Encoding encoding, QByteArrayView body, const Channels &channels,
              const Limits &limits = {});

} // namespace OtlpDecoder
