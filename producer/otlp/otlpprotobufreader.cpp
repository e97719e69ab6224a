#include "otlpmapper.h"

#include "otlp/otlp.pb.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <QJsonArray>
#include <QJsonObject>

#include <limits>

namespace OtlpDecoder::Detail {

namespace {

using namespace Qt::StringLiterals;
namespace pb = llmstreamer::otlp;

QString text(const std::string &s)
{
    return QString::fromUtf8(s.data(), qsizetype(s.size()));
}

QByteArray bytes(const std::string &s)
{
    return QByteArray(s.data(), qsizetype(s.size()));
}

// Nesting is bounded by the parser's recursion limit (100 messages).
QJsonValue value(const pb::AnyValue &v)
{
    switch (v.value_case()) {
    case pb::AnyValue::kStringValue:
        return text(v.string_value());
    case pb::AnyValue::kBoolValue:
        return v.bool_value();
    case pb::AnyValue::kIntValue:
        return integerValue(v.int_value());
    case pb::AnyValue::kDoubleValue:
        return v.double_value();
    case pb::AnyValue::kArrayValue: {
        QJsonArray array;
        for (const pb::AnyValue &item : v.array_value().values())
            array.append(value(item));
        return array;
    }
    case pb::AnyValue::kKvlistValue: {
        QJsonObject object;
        for (const pb::KeyValue &kv : v.kvlist_value().values())
            object.insert(text(kv.key()), value(kv.value()));
        return object;
    }
    case pb::AnyValue::kBytesValue:
        return QString::fromLatin1(bytes(v.bytes_value()).toBase64());
    case pb::AnyValue::VALUE_NOT_SET:
        break;
    }
    return QJsonValue::Null;
}

Attributes attributes(const google::protobuf::RepeatedPtrField<pb::KeyValue> &list)
{
    Attributes result;
    result.reserve(list.size());
    for (const pb::KeyValue &kv : list)
        result.append({text(kv.key()), value(kv.value())});
    return result;
}

Scope scopeOf(const pb::Resource &resource, const pb::InstrumentationScope &scope)
{
    return Scope{attributes(resource.attributes()), text(scope.name()), text(scope.version()),
                 attributes(scope.attributes())};
}

// Calls visit(field, bytes) for each length-delimited field of the message in `bytes`, in wire
// order, and skips the others; false if the bytes are not a message or visit() said to stop.
// The request's outer levels are walked with this instead of being parsed whole: a parsed
// message costs ~100 bytes per element, so a 16 MiB body of 2-byte empty log records would take
// over 1 GB. Walked, each log record or span is parsed alone into one reused object, and a record
// that does not parse is rejected alone.
template <typename Visit> bool forEachField(QByteArrayView bytes, Visit &&visit)
{
    namespace wire = google::protobuf::internal;
    using Lite = wire::WireFormatLite;
    if (bytes.size() > std::numeric_limits<int>::max())
        return false;
    google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t *>(bytes.data()),
                                              int(bytes.size()));
    for (;;) {
        const uint32_t tag = in.ReadTag();
        if (tag == 0)
            return in.ConsumedEntireMessage(); // the end, not a zero tag
        if (Lite::GetTagWireType(tag) != Lite::WIRETYPE_LENGTH_DELIMITED) {
            if (!Lite::SkipField(&in, tag))
                return false;
            continue;
        }
        uint32_t length = 0;
        if (!in.ReadVarint32(&length))
            return false;
        const int at = in.CurrentPosition();
        if (length > uint32_t(bytes.size() - at))
            return false;
        if (!visit(Lite::GetTagFieldNumber(tag), bytes.sliced(at, length)))
            return false;
        in.Skip(int(length));
    }
}

template <typename Message> bool parse(Message &message, QByteArrayView bytes)
{
    return message.ParseFromArray(bytes.data(), int(bytes.size()));
}

void addLog(const pb::LogRecord &r, Mapper &mapper)
{
    LogRecord log;
    log.traceId = bytes(r.trace_id());
    log.spanId = bytes(r.span_id());
    if (!isValidId(log.traceId, 16) || !isValidId(log.spanId, 8))
        return mapper.reject(u"a log record's traceId is not 16 bytes or its spanId not 8 (or "
                             "one is all zeros)"_s);
    log.time = r.time_unix_nano();
    log.observedTime = r.observed_time_unix_nano();
    log.severityNumber = r.severity_number();
    log.severityText = text(r.severity_text());
    if (r.has_body())
        log.body = value(r.body());
    log.attributes = attributes(r.attributes());
    log.eventName = text(r.event_name());
    mapper.addLog(log);
}

void addSpan(const pb::Span &s, Mapper &mapper)
{
    Span span;
    span.traceId = bytes(s.trace_id());
    span.spanId = bytes(s.span_id());
    span.parentSpanId = bytes(s.parent_span_id());
    if (span.traceId.isEmpty() || span.spanId.isEmpty() || !isValidId(span.traceId, 16) ||
        !isValidId(span.spanId, 8) || !isValidId(span.parentSpanId, 8))
        return mapper.reject(u"a span's traceId is not 16 bytes or its spanId or parentSpanId "
                             "not 8 (or one is missing or all zeros)"_s);
    span.name = text(s.name());
    span.kind = s.kind();
    span.start = s.start_time_unix_nano();
    span.end = s.end_time_unix_nano();
    span.attributes = attributes(s.attributes());
    for (const pb::Span::Event &event : s.events()) {
        if (event.name() != "exception")
            continue;
        for (const pb::KeyValue &kv : event.attributes())
            if (kv.key() == "exception.type" && kv.value().has_string_value())
                span.exceptionType = text(kv.value().string_value());
    }
    span.statusCode = s.status().code();
    span.statusMessage = text(s.status().message());
    mapper.addSpan(span);
}

// ExportLogsServiceRequest and ExportTraceServiceRequest have the same shape: 1 resource items
// { 1 resource, 2 scope items { 1 scope, 2 items } }.
template <typename Item, typename Add>
bool readRequest(QByteArrayView body, Mapper &mapper, const QString &itemName, Add add)
{
    return forEachField(body, [&](int field, QByteArrayView resourceItem) {
        if (field != 1)
            return true;
        pb::Resource resource;
        if (!forEachField(resourceItem,
                          [&](int f, QByteArrayView v) { return f != 1 || parse(resource, v); }))
            return false;
        return forEachField(resourceItem, [&](int f, QByteArrayView scopeItem) {
            if (f != 2)
                return true;
            pb::InstrumentationScope scope;
            if (!forEachField(scopeItem,
                              [&](int g, QByteArrayView v) { return g != 1 || parse(scope, v); }))
                return false;
            mapper.setScope(scopeOf(resource, scope));
            Item item;
            return forEachField(scopeItem, [&](int g, QByteArrayView v) {
                if (g != 2)
                    return true;
                if (mapper.isFailed())
                    return false;
                if (parse(item, v))
                    add(item, mapper);
                else
                    mapper.reject(u"a %1 is not valid protobuf (truncated, invalid UTF-8 in a "
                                  "string, or nested deeper than 100)"_s.arg(itemName));
                return true;
            });
        });
    });
}

} // namespace

void readProtobuf(Signal signal, QByteArrayView body, Mapper &mapper)
{
    const bool ok = signal == Signal::Logs
                        ? readRequest<pb::LogRecord>(body, mapper, u"log record"_s, addLog)
                        : readRequest<pb::Span>(body, mapper, u"span"_s, addSpan);
    if (!ok && !mapper.isFailed())
        mapper.fail(u"the body is not a protobuf %1 (not protobuf, or cut short)"_s.arg(
            signal == Signal::Logs ? u"ExportLogsServiceRequest"_s
                                   : u"ExportTraceServiceRequest"_s));
}

} // namespace OtlpDecoder::Detail
