#include "otlpmapper.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>

#include <cctype>
#include <cmath>
#include <optional>

namespace OtlpDecoder::Detail {

namespace {

using namespace Qt::StringLiterals;

// OTLP's JSON mapping (lowerCamelCase names, ids in hex, enums as integers, 64-bit integers as
// strings or numbers). A record whose fields have the wrong type is rejected alone.
struct Invalid
{
    QString reason;
};

// A 64-bit integer given as a decimal string or a whole JSON number.
std::optional<qint64> int64Of(const QJsonValue &v)
{
    if (v.isDouble()) {
        const double d = v.toDouble();
        if (d != std::floor(d) || std::fabs(d) >= 9223372036854775808.0)
            return std::nullopt;
        return qint64(d);
    }
    if (v.isString()) {
        bool ok = false;
        const qint64 n = v.toString().toLongLong(&ok);
        return ok ? std::optional(n) : std::nullopt;
    }
    return std::nullopt;
}

// A time in nanoseconds since the epoch (fixed64): absent is 0.
quint64 timeOf(const QJsonObject &o, QLatin1StringView key)
{
    const QJsonValue v = o.value(key);
    if (v.isUndefined() || v.isNull())
        return 0;
    if (v.isDouble()) {
        const double d = v.toDouble();
        if (d >= 0 && d == std::floor(d) && d < 18446744073709551616.0)
            return quint64(d);
    } else if (v.isString()) {
        bool ok = false;
        const quint64 n = v.toString().toULongLong(&ok);
        if (ok)
            return n;
    }
    throw Invalid{u"%1 is not a number of nanoseconds"_s.arg(key)};
}

int enumOf(const QJsonObject &o, QLatin1StringView key)
{
    const QJsonValue v = o.value(key);
    if (v.isUndefined() || v.isNull())
        return 0;
    const double d = v.toDouble(-1);
    if (!v.isDouble() || d != std::floor(d) || d < 0 || d > 1000)
        throw Invalid{u"%1 is not an enum number"_s.arg(key)};
    return int(d);
}

QString stringOf(const QJsonObject &o, QLatin1StringView key)
{
    const QJsonValue v = o.value(key);
    if (v.isUndefined() || v.isNull())
        return {};
    if (!v.isString())
        throw Invalid{u"%1 is not a string"_s.arg(key)};
    return v.toString();
}

QJsonArray arrayOf(const QJsonObject &o, QLatin1StringView key)
{
    const QJsonValue v = o.value(key);
    if (v.isUndefined() || v.isNull())
        return {};
    if (!v.isArray())
        throw Invalid{u"%1 is not an array"_s.arg(key)};
    return v.toArray();
}

QJsonObject objectOf(const QJsonValue &v, QLatin1StringView what)
{
    if (v.isUndefined() || v.isNull())
        return {};
    if (!v.isObject())
        throw Invalid{u"%1 is not an object"_s.arg(what)};
    return v.toObject();
}

QByteArray idOf(const QJsonObject &o, QLatin1StringView key, qsizetype size)
{
    const QString s = stringOf(o, key);
    if (s.isEmpty())
        return {};
    QByteArray id;
    if (s.size() == size * 2) {
        bool hex = true;
        for (QChar c : s)
            hex = hex && c.unicode() < 0x80 && std::isxdigit(c.unicode());
        if (hex)
            id = QByteArray::fromHex(s.toLatin1());
    }
    if (!isValidId(id, size) || id.isEmpty())
        throw Invalid{u"%1 is not %2 hex digits (not all zero)"_s.arg(key).arg(size * 2)};
    return id;
}

QJsonValue anyValue(const QJsonValue &v);

Attributes attributesOf(const QJsonObject &o, QLatin1StringView key)
{
    Attributes result;
    for (const QJsonValue &item : arrayOf(o, key)) {
        const QJsonObject kv = objectOf(item, "an attribute"_L1);
        result.append({stringOf(kv, "key"_L1), anyValue(kv.value("value"_L1))});
    }
    return result;
}

// Nesting is bounded by QJsonDocument's (1024 levels).
QJsonValue anyValue(const QJsonValue &v)
{
    const QJsonObject o = objectOf(v, "an AnyValue"_L1);
    if (o.isEmpty())
        return QJsonValue::Null;
    if (const QJsonValue s = o.value("stringValue"_L1); !s.isUndefined()) {
        if (!s.isString())
            throw Invalid{u"stringValue is not a string"_s};
        return s;
    }
    if (const QJsonValue b = o.value("boolValue"_L1); !b.isUndefined()) {
        if (!b.isBool())
            throw Invalid{u"boolValue is not true or false"_s};
        return b;
    }
    if (const QJsonValue i = o.value("intValue"_L1); !i.isUndefined()) {
        const auto n = int64Of(i);
        if (!n)
            throw Invalid{u"intValue is not a 64-bit integer"_s};
        return integerValue(*n);
    }
    if (const QJsonValue d = o.value("doubleValue"_L1); !d.isUndefined()) {
        if (d.isDouble())
            return d;
        bool ok = false;
        const double x = d.toString().toDouble(&ok);
        if (!d.isString() || !ok)
            throw Invalid{u"doubleValue is not a number"_s};
        return std::isfinite(x) ? QJsonValue(x) : QJsonValue(d.toString());
    }
    if (const QJsonValue a = o.value("arrayValue"_L1); !a.isUndefined()) {
        QJsonArray array;
        for (const QJsonValue &item : arrayOf(objectOf(a, "arrayValue"_L1), "values"_L1))
            array.append(anyValue(item));
        return array;
    }
    if (const QJsonValue l = o.value("kvlistValue"_L1); !l.isUndefined()) {
        QJsonObject object;
        for (const auto &[key, value] : attributesOf(objectOf(l, "kvlistValue"_L1), "values"_L1))
            object.insert(key, value);
        return object;
    }
    if (const QJsonValue b = o.value("bytesValue"_L1); !b.isUndefined()) {
        const auto decoded = QByteArray::fromBase64Encoding(
            b.toString().toLatin1(), QByteArray::AbortOnBase64DecodingErrors);
        if (!b.isString() || !decoded)
            throw Invalid{u"bytesValue is not base64"_s};
        return b;
    }
    return QJsonValue::Null; // a kind of value from a newer OTLP
}

Scope scopeOf(const QJsonObject &container)
{
    Scope scope;
    const QJsonObject scopeObject = objectOf(container.value("scope"_L1), "scope"_L1);
    scope.name = stringOf(scopeObject, "name"_L1);
    scope.version = stringOf(scopeObject, "version"_L1);
    scope.attributes = attributesOf(scopeObject, "attributes"_L1);
    return scope;
}

LogRecord logOf(const QJsonValue &v)
{
    const QJsonObject o = objectOf(v, "a log record"_L1);
    LogRecord log;
    log.time = timeOf(o, "timeUnixNano"_L1);
    log.observedTime = timeOf(o, "observedTimeUnixNano"_L1);
    log.severityNumber = enumOf(o, "severityNumber"_L1);
    log.severityText = stringOf(o, "severityText"_L1);
    if (o.contains("body"_L1))
        log.body = anyValue(o.value("body"_L1));
    log.attributes = attributesOf(o, "attributes"_L1);
    log.traceId = idOf(o, "traceId"_L1, 16);
    log.spanId = idOf(o, "spanId"_L1, 8);
    log.eventName = stringOf(o, "eventName"_L1);
    return log;
}

Span spanOf(const QJsonValue &v)
{
    const QJsonObject o = objectOf(v, "a span"_L1);
    Span span;
    span.traceId = idOf(o, "traceId"_L1, 16);
    span.spanId = idOf(o, "spanId"_L1, 8);
    if (span.traceId.isEmpty() || span.spanId.isEmpty())
        throw Invalid{u"a span needs a traceId and a spanId"_s};
    span.parentSpanId = idOf(o, "parentSpanId"_L1, 8);
    span.name = stringOf(o, "name"_L1);
    span.kind = enumOf(o, "kind"_L1);
    span.start = timeOf(o, "startTimeUnixNano"_L1);
    span.end = timeOf(o, "endTimeUnixNano"_L1);
    span.attributes = attributesOf(o, "attributes"_L1);
    for (const QJsonValue &e : arrayOf(o, "events"_L1)) {
        const QJsonObject event = objectOf(e, "an event"_L1);
        if (stringOf(event, "name"_L1) != "exception"_L1)
            continue;
        for (const auto &[key, value] : attributesOf(event, "attributes"_L1))
            if (key == "exception.type"_L1 && value.isString())
                span.exceptionType = value.toString();
    }
    const QJsonObject status = objectOf(o.value("status"_L1), "status"_L1);
    span.statusCode = enumOf(status, "code"_L1);
    span.statusMessage = stringOf(status, "message"_L1);
    return span;
}

void readItems(Signal signal, const QJsonObject &request, Mapper &mapper)
{
    const bool logs = signal == Signal::Logs;
    const auto resourceKey = logs ? "resourceLogs"_L1 : "resourceSpans"_L1;
    const auto scopeKey = logs ? "scopeLogs"_L1 : "scopeSpans"_L1;
    const auto itemKey = logs ? "logRecords"_L1 : "spans"_L1;
    for (const QJsonValue &r : arrayOf(request, resourceKey)) {
        const QJsonObject resourceItem = objectOf(r, resourceKey);
        const QJsonObject resource = objectOf(resourceItem.value("resource"_L1), "resource"_L1);
        const Attributes resourceAttributes = attributesOf(resource, "attributes"_L1);
        for (const QJsonValue &s : arrayOf(resourceItem, scopeKey)) {
            const QJsonObject scopeItem = objectOf(s, scopeKey);
            Scope scope = scopeOf(scopeItem);
            scope.resource = resourceAttributes;
            mapper.setScope(scope);
            for (const QJsonValue &item : arrayOf(scopeItem, itemKey)) {
                if (mapper.isFailed())
                    return;
                try {
                    if (logs)
                        mapper.addLog(logOf(item));
                    else
                        mapper.addSpan(spanOf(item));
                } catch (const Invalid &invalid) {
                    mapper.reject((logs ? u"a log record: "_s : u"a span: "_s) + invalid.reason);
                }
            }
        }
    }
}

} // namespace

void readJson(Signal signal, QByteArrayView body, Mapper &mapper)
{
    QJsonParseError error;
    const QJsonDocument document =
        QJsonDocument::fromJson(QByteArray::fromRawData(body.data(), body.size()), &error);
    if (error.error != QJsonParseError::NoError)
        return mapper.fail(
            u"the body is not JSON: %1 at byte %2"_s.arg(error.errorString()).arg(error.offset));
    if (!document.isObject())
        return mapper.fail(u"the body is not a JSON object"_s);
    try {
        readItems(signal, document.object(), mapper);
    } catch (const Invalid &invalid) {
        mapper.fail(u"the body is not an OTLP %1 export request: %2"_s.arg(
            signal == Signal::Logs ? u"logs"_s : u"trace"_s, invalid.reason));
    }
}

} // namespace OtlpDecoder::Detail
