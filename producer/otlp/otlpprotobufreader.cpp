#include "otlpmapper.h"

#include "otlp/otlp.pb.h"

#include <QJsonArray>
#include <QJsonObject>

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

void readLogs(const pb::ExportLogsServiceRequest &request, Mapper &mapper)
{
    for (const pb::ResourceLogs &resourceLogs : request.resource_logs()) {
        for (const pb::ScopeLogs &scopeLogs : resourceLogs.scope_logs()) {
            mapper.setScope(scopeOf(resourceLogs.resource(), scopeLogs.scope()));
            for (const pb::LogRecord &r : scopeLogs.log_records()) {
                if (mapper.isFailed())
                    return;
                LogRecord log;
                log.traceId = bytes(r.trace_id());
                log.spanId = bytes(r.span_id());
                if (!isValidId(log.traceId, 16) || !isValidId(log.spanId, 8)) {
                    mapper.reject(u"a log record's traceId is not 16 bytes or its spanId not 8 "
                                  "(or one is all zeros)"_s);
                    continue;
                }
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
        }
    }
}

void readTraces(const pb::ExportTraceServiceRequest &request, Mapper &mapper)
{
    for (const pb::ResourceSpans &resourceSpans : request.resource_spans()) {
        for (const pb::ScopeSpans &scopeSpans : resourceSpans.scope_spans()) {
            mapper.setScope(scopeOf(resourceSpans.resource(), scopeSpans.scope()));
            for (const pb::Span &s : scopeSpans.spans()) {
                if (mapper.isFailed())
                    return;
                Span span;
                span.traceId = bytes(s.trace_id());
                span.spanId = bytes(s.span_id());
                span.parentSpanId = bytes(s.parent_span_id());
                if (span.traceId.isEmpty() || span.spanId.isEmpty() ||
                    !isValidId(span.traceId, 16) || !isValidId(span.spanId, 8) ||
                    !isValidId(span.parentSpanId, 8)) {
                    mapper.reject(u"a span's traceId is not 16 bytes or its spanId or "
                                  "parentSpanId not 8 (or one is all zeros)"_s);
                    continue;
                }
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
        }
    }
}

} // namespace

void readProtobuf(Signal signal, QByteArrayView body, Mapper &mapper)
{
    const QString what =
        signal == Signal::Logs ? u"ExportLogsServiceRequest"_s : u"ExportTraceServiceRequest"_s;
    const QString failure = u"the body is not a protobuf %1 (truncated, not protobuf, invalid "
                            "UTF-8 in a string, or nested deeper than 100)"_s.arg(what);
    if (signal == Signal::Logs) {
        pb::ExportLogsServiceRequest request;
        if (!request.ParseFromArray(body.data(), int(body.size())))
            return mapper.fail(failure);
        readLogs(request, mapper);
    } else {
        pb::ExportTraceServiceRequest request;
        if (!request.ParseFromArray(body.data(), int(body.size())))
            return mapper.fail(failure);
        readTraces(request, mapper);
    }
}

} // namespace OtlpDecoder::Detail
