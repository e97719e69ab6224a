#include "otlpdecoder.h"

#include "fieldmap.h"
#include "otlpmapper.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>

#include <cmath>

namespace OtlpDecoder {

namespace Detail {
// otlpjsonreader.cpp, otlpprotobufreader.cpp
void readJson(Signal signal, QByteArrayView body, Mapper &mapper);
void readProtobuf(Signal signal, QByteArrayView body, Mapper &mapper);
} // namespace Detail

Result decode(Signal signal, Encoding encoding, QByteArrayView body, const Channels &channels,
              const Limits &limits)
{
    Detail::Mapper mapper(channels, limits);
    if (encoding == Encoding::Json)
        Detail::readJson(signal, body, mapper);
    else
        Detail::readProtobuf(signal, body, mapper);
    return mapper.take();
}

} // namespace OtlpDecoder

namespace OtlpDecoder::Detail {

namespace {

using namespace Qt::StringLiterals;

// The fields the mapping writes; an attribute of the same name goes under "attributes.<name>".
constexpr QLatin1StringView ownFields[] = {"ts"_L1,
                                           "level"_L1,
                                           "service"_L1,
                                           "msg"_L1,
                                           "trace_id"_L1,
                                           "span_id"_L1,
                                           "parent_span_id"_L1,
                                           "duration_ms"_L1,
                                           "ttft_ms"_L1,
                                           "span.kind"_L1,
                                           "status.message"_L1,
                                           "event.name"_L1,
                                           "otel.dropped_attributes"_L1};

// OpenTelemetry GenAI's time to first token, in seconds (the name of its server metric).
constexpr auto ttftAttribute = "gen_ai.server.time_to_first_token"_L1;

constexpr double maxExactInteger = 9007199254740992.0; // 2^53

// What a record costs besides its bytes until published (its QByteArrays, its queue slot), so
// that many tiny records count for the memory they take.
constexpr qint64 recordOverhead = 64;

bool isOwnField(const QString &key)
{
    for (QLatin1StringView name : ownFields)
        if (key == name)
            return true;
    return false;
}

QString timeText(quint64 unixNano)
{
    return QDateTime::fromMSecsSinceEpoch(qint64(unixNano / 1'000'000), Qt::UTC)
        .toString(Qt::ISODateWithMs);
}

bool isLevelName(const QJsonValue &v)
{
    if (!v.isString())
        return false;
    for (const char *name : {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"})
        if (v.toString() == QLatin1StringView(name))
            return true;
    return false;
}

QString hex(const QByteArray &id)
{
    return QString::fromLatin1(id.toHex());
}

const QJsonValue *attribute(const Attributes &attributes, QLatin1StringView key)
{
    for (const auto &[k, v] : attributes)
        if (k == key)
            return &v;
    return nullptr;
}

QString spanKindName(int kind)
{
    switch (kind) {
    case 1:
        return u"internal"_s;
    case 2:
        return u"server"_s;
    case 3:
        return u"client"_s;
    case 4:
        return u"producer"_s;
    case 5:
        return u"consumer"_s;
    default:
        return {};
    }
}

} // namespace

QJsonValue integerValue(qint64 n)
{
    if (std::fabs(double(n)) < maxExactInteger)
        return QJsonValue(n);
    return QJsonValue(QString::number(n));
}

bool isValidId(const QByteArray &id, qsizetype size)
{
    if (id.isEmpty())
        return true;
    return id.size() == size && id.count('\0') != size;
}

Mapper::Mapper(const Channels &channels, const Limits &limits)
    : m_channels(channels), m_limits(limits)
{}

void Mapper::addAttributes(QJsonObject &record, const Attributes &attributes, int *budget) const
{
    for (const auto &[key, value] : attributes) {
        if (key.isEmpty())
            continue;
        if (*budget <= 0) {
            record.insert("otel.dropped_attributes"_L1,
                          record.value("otel.dropped_attributes"_L1).toInteger() + 1);
            continue;
        }
        --*budget;
        record.insert(isOwnField(key) ? "attributes."_L1 + key : key, value);
    }
}

void Mapper::setScope(const Scope &scope)
{
    m_scopeFields = {};
    int budget = m_limits.maxAttributes;
    for (const auto &[key, value] : scope.resource) {
        if (key == "service.name"_L1 && value.isString()) {
            m_scopeFields.insert("service"_L1, value);
            continue;
        }
        if (key.isEmpty())
            continue;
        if (budget <= 0) {
            m_scopeFields.insert("otel.dropped_attributes"_L1,
                                 m_scopeFields.value("otel.dropped_attributes"_L1).toInteger() + 1);
            continue;
        }
        --budget;
        m_scopeFields.insert("resource."_L1 + key, value);
    }
    if (!scope.name.isEmpty())
        m_scopeFields.insert("scope.name"_L1, scope.name);
    if (!scope.version.isEmpty())
        m_scopeFields.insert("scope.version"_L1, scope.version);
    for (const auto &[key, value] : scope.attributes) {
        if (key.isEmpty() || key == "name"_L1 || key == "version"_L1)
            continue;
        if (budget <= 0) {
            m_scopeFields.insert("otel.dropped_attributes"_L1,
                                 m_scopeFields.value("otel.dropped_attributes"_L1).toInteger() + 1);
            continue;
        }
        --budget;
        m_scopeFields.insert("scope."_L1 + key, value);
    }
    m_scopeDropped = budget; // what is left for each record's own attributes
}

void Mapper::addLog(const LogRecord &log)
{
    if (isFailed())
        return;
    QJsonObject record = m_scopeFields;
    int budget = m_scopeDropped;
    addAttributes(record, log.attributes, &budget);

    if (const quint64 t = log.time ? log.time : log.observedTime)
        record.insert("ts"_L1, timeText(t));
    QJsonValue level = FieldMap::levelValue(QJsonValue(log.severityText));
    if (!isLevelName(level) && log.severityNumber > 0 && log.severityNumber <= 24)
        level = FieldMap::levelValue(QJsonValue(log.severityNumber), true);
    else if (level.isUndefined() && !log.severityText.isEmpty())
        level = log.severityText;
    if (!level.isUndefined())
        record.insert("level"_L1, level);
    if (log.body.isString())
        record.insert("msg"_L1, log.body);
    else if (log.body.isObject())
        record.insert(
            "msg"_L1,
            QString::fromUtf8(QJsonDocument(log.body.toObject()).toJson(QJsonDocument::Compact)));
    else if (log.body.isArray())
        record.insert(
            "msg"_L1,
            QString::fromUtf8(QJsonDocument(log.body.toArray()).toJson(QJsonDocument::Compact)));
    else if (log.body.isDouble())
        record.insert("msg"_L1, QString::number(log.body.toDouble(), 'g', 17));
    else if (log.body.isBool())
        record.insert("msg"_L1, log.body.toBool() ? u"true"_s : u"false"_s);
    else if (!log.eventName.isEmpty())
        record.insert("msg"_L1, log.eventName);
    if (!log.eventName.isEmpty())
        record.insert("event.name"_L1, log.eventName);
    if (!log.traceId.isEmpty())
        record.insert("trace_id"_L1, hex(log.traceId));
    if (!log.spanId.isEmpty())
        record.insert("span_id"_L1, hex(log.spanId));
    FieldMap::normalize(record);
    publish(m_channels.logs, record);
}

void Mapper::addSpan(const Span &span)
{
    if (isFailed())
        return;
    const bool error = span.statusCode == 2;
    bool genAi = false;
    for (const auto &attribute : span.attributes)
        genAi = genAi || attribute.first.startsWith("gen_ai."_L1);
    const QByteArray *channel = error                 ? &m_channels.errors
                                : genAi               ? &m_channels.generation
                                : m_channels.allSpans ? &m_channels.spans
                                                      : nullptr;
    if (!channel) {
        ++m_result.skippedSpans;
        return;
    }

    QJsonObject record = m_scopeFields;
    int budget = m_scopeDropped;
    addAttributes(record, span.attributes, &budget);

    if (span.start)
        record.insert("ts"_L1, timeText(span.start));
    record.insert("level"_L1, error ? u"ERROR"_s : u"INFO"_s);
    QString msg = span.name;
    if (error && !span.statusMessage.isEmpty())
        msg = msg.isEmpty() ? span.statusMessage : msg + ": "_L1 + span.statusMessage;
    if (!msg.isEmpty())
        record.insert("msg"_L1, msg);
    if (!span.statusMessage.isEmpty())
        record.insert("status.message"_L1, span.statusMessage);
    if (const QString kind = spanKindName(span.kind); !kind.isEmpty())
        record.insert("span.kind"_L1, kind);
    if (!span.traceId.isEmpty())
        record.insert("trace_id"_L1, hex(span.traceId));
    if (!span.spanId.isEmpty())
        record.insert("span_id"_L1, hex(span.spanId));
    if (!span.parentSpanId.isEmpty())
        record.insert("parent_span_id"_L1, hex(span.parentSpanId));
    if (span.start && span.end >= span.start)
        record.insert("duration_ms"_L1, std::round(double(span.end - span.start) / 1e3) / 1e3);
    if (const QJsonValue *ttft = attribute(span.attributes, ttftAttribute);
        ttft && ttft->isDouble() && ttft->toDouble() >= 0)
        record.insert("ttft_ms"_L1, std::round(ttft->toDouble() * 1e6) / 1e3);
    if (error && !record.contains("error.type"_L1))
        record.insert("error.type"_L1,
                      span.exceptionType.isEmpty() ? u"_OTHER"_s : span.exceptionType);
    FieldMap::normalize(record);
    publish(*channel, record);
}

void Mapper::publish(const QByteArray &channel, const QJsonObject &record)
{
    QByteArray payload = QJsonDocument(record).toJson(QJsonDocument::Compact);
    m_outputBytes += payload.size() + channel.size() + recordOverhead;
    if (m_outputBytes > m_limits.maxOutputBytes) {
        m_result.status = Result::Status::OutputTooLarge;
        m_result.error =
            u"the records of this request would take more than %1 bytes; send smaller batches"_s
                .arg(m_limits.maxOutputBytes);
        m_result.records.clear();
        return;
    }
    m_result.records.push_back({channel, std::move(payload)});
}

void Mapper::reject(const QString &reason)
{
    if (m_result.rejected++ == 0)
        m_result.rejectedReason = reason;
}

void Mapper::fail(const QString &error)
{
    m_result.status = Result::Status::Invalid;
    m_result.error = error;
}

Result Mapper::take()
{
    if (m_result.status != Result::Status::Ok)
        m_result.records.clear();
    if (m_result.status == Result::Status::Invalid)
        m_result.rejected = 0;
    return std::move(m_result);
}

} // namespace OtlpDecoder::Detail
