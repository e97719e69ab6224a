#include "fieldmap.h"

#include "vocabulary.h"

#include <QDateTime>
#include <QJsonArray>

#include <cmath>
#include <span>

namespace {

using Names = std::span<const QLatin1StringView>;

enum class Kind {
    Text,   // a string, number or boolean, as it came
    Id,     // a string or number, written as a string
    Level,  // a level name (FieldMap::levelValue)
    Time,   // a string as it came; an epoch number (s, ms, µs or ns) as ISO 8601 UTC
    Count,  // a whole number from 0, or a string holding one
    Millis, // a number from 0, or a string holding one
};

// Names other programs use for a field, after the clients' own aliases (Vocabulary).
constexpr QLatin1StringView messageExtra[] = {QLatin1StringView("body")};
constexpr QLatin1StringView levelExtra[] = {
    QLatin1StringView("log.level"), QLatin1StringView("severity_text"),
    QLatin1StringView("severityText"), QLatin1StringView("loglevel")};
// OpenTelemetry's SeverityNumber, when no level name came.
constexpr QLatin1StringView severityNumberNames[] = {QLatin1StringView("severity_number"),
                                                     QLatin1StringView("severityNumber")};
constexpr QLatin1StringView timeExtra[] = {
    QLatin1StringView("time"), QLatin1StringView("timestamp"), QLatin1StringView("@timestamp"),
    QLatin1StringView("asctime")};
constexpr QLatin1StringView serviceExtra[] = {QLatin1StringView("service_name")};
constexpr QLatin1StringView modelExtra[] = {QLatin1StringView("model"),
                                            QLatin1StringView("model_name")};
constexpr QLatin1StringView inputTokensExtra[] = {
    QLatin1StringView("gen_ai.usage.prompt_tokens"), QLatin1StringView("prompt_tokens"),
    QLatin1StringView("input_tokens"), QLatin1StringView("usage.prompt_tokens"),
    QLatin1StringView("n_prompt_tokens")};
constexpr QLatin1StringView outputTokensExtra[] = {
    QLatin1StringView("gen_ai.usage.completion_tokens"), QLatin1StringView("completion_tokens"),
    QLatin1StringView("output_tokens"), QLatin1StringView("usage.completion_tokens"),
    QLatin1StringView("n_decoded")};
constexpr QLatin1StringView durationExtra[] = {QLatin1StringView("latency_ms"),
                                               QLatin1StringView("elapsed_ms"),
                                               QLatin1StringView("response_time_ms")};
constexpr QLatin1StringView ttftExtra[] = {QLatin1StringView("time_to_first_token_ms")};
constexpr QLatin1StringView errorTypeExtra[] = {QLatin1StringView("error_type")};
constexpr QLatin1StringView requestIdExtra[] = {
    QLatin1StringView("requestId"), QLatin1StringView("request.id"), QLatin1StringView("req_id"),
    QLatin1StringView("reqId"), QLatin1StringView("x_request_id")};
constexpr QLatin1StringView traceIdExtra[] = {
    QLatin1StringView("traceId"), QLatin1StringView("trace.id"), QLatin1StringView("otelTraceID"),
    QLatin1StringView("traceid")};
constexpr QLatin1StringView spanIdExtra[] = {
    QLatin1StringView("spanId"), QLatin1StringView("span.id"), QLatin1StringView("otelSpanID"),
    QLatin1StringView("spanid")};

struct Row
{
    Names clientNames; // [0] is the field's name
    Names extraNames;
    Kind kind;
};

const Row rows[] = {
    {Vocabulary::messageFields, messageExtra, Kind::Text},
    {Vocabulary::levelFields, levelExtra, Kind::Level},
    {Vocabulary::timeFields, timeExtra, Kind::Time},
    {Vocabulary::serviceFields, serviceExtra, Kind::Text},
    {Vocabulary::modelFields, modelExtra, Kind::Text},
    {Vocabulary::inputTokensFields, inputTokensExtra, Kind::Count},
    {Vocabulary::outputTokensFields, outputTokensExtra, Kind::Count},
    {Vocabulary::durationMsFields, durationExtra, Kind::Millis},
    {Vocabulary::ttftMsFields, ttftExtra, Kind::Millis},
    {Vocabulary::errorTypeFields, errorTypeExtra, Kind::Text},
    {Vocabulary::requestIdFields, requestIdExtra, Kind::Id},
    {Vocabulary::traceIdFields, traceIdExtra, Kind::Id},
    {Vocabulary::spanIdFields, spanIdExtra, Kind::Id},
};

// JSON's largest exact integer: counts beyond it are not whole numbers any more.
constexpr double maxExactInteger = 9007199254740992.0;

std::optional<double> numberOf(const QJsonValue &v)
{
    if (v.isDouble())
        return std::isfinite(v.toDouble()) ? std::optional(v.toDouble()) : std::nullopt;
    if (!v.isString())
        return std::nullopt;
    bool ok = false;
    const double d = v.toString().trimmed().toDouble(&ok);
    return ok && std::isfinite(d) ? std::optional(d) : std::nullopt;
}

// A number written as an integer when it is one.
QJsonValue numberValue(double d)
{
    if (d == std::floor(d) && std::fabs(d) < maxExactInteger)
        return QJsonValue(qint64(d));
    return QJsonValue(d);
}

QJsonValue timeValue(const QJsonValue &v)
{
    if (v.isString())
        return v.toString().isEmpty() ? QJsonValue() : v;
    if (!v.isDouble())
        return {};
    const double n = v.toDouble();
    // Epoch seconds (pino's `timestamp: stdTimeFunctions.unixTime`, llama.cpp), milliseconds
    // (pino, bunyan), micro- or nanoseconds (zap, OTel), told apart by magnitude: seconds reach
    // 1e11 only in the year 5138.
    double ms = n < 1e11 ? n * 1000 : n < 1e14 ? n : n < 1e17 ? n / 1e3 : n / 1e6;
    if (!std::isfinite(ms) || ms < 0 || ms > 253402300799999.0) // up to 9999-12-31
        return v;
    return QDateTime::fromMSecsSinceEpoch(qint64(std::floor(ms)), Qt::UTC)
        .toString(Qt::ISODateWithMs);
}

QJsonValue converted(const QJsonValue &v, Kind kind)
{
    switch (kind) {
    case Kind::Text:
        if (v.isString())
            return v.toString().isEmpty() ? QJsonValue() : v;
        return v.isDouble() || v.isBool() ? v : QJsonValue();
    case Kind::Id:
        if (v.isString())
            return v.toString().isEmpty() ? QJsonValue() : v;
        return v.isDouble() ? QJsonValue(numberValue(v.toDouble()).toVariant().toString())
                            : QJsonValue();
    case Kind::Level:
        return FieldMap::levelValue(v);
    case Kind::Time:
        return timeValue(v);
    case Kind::Count: {
        const auto d = numberOf(v);
        if (!d || *d < 0 || *d != std::floor(*d) || *d >= maxExactInteger)
            return {};
        return QJsonValue(qint64(*d));
    }
    case Kind::Millis: {
        const auto d = numberOf(v);
        return d && *d >= 0 ? numberValue(*d) : QJsonValue();
    }
    }
    return {};
}

// The member a dotted name leads to through nested objects ("a.b" → {"a": {"b": …}}).
QJsonValue nested(const QJsonObject &record, QLatin1StringView name)
{
    QJsonObject at = record;
    qsizetype from = 0;
    while (true) {
        const qsizetype dot = name.indexOf(QLatin1Char('.'), from);
        const QLatin1StringView part = dot < 0 ? name.sliced(from) : name.sliced(from, dot - from);
        const QJsonValue v = at.value(part);
        if (dot < 0)
            return v;
        if (!v.isObject())
            return {};
        at = v.toObject();
        from = dot + 1;
    }
}

// Takes the first usable alias of `names`; true if one was found.
bool take(QJsonObject &record, QLatin1StringView field, Names names, Kind kind,
          bool otelNumber = false)
{
    for (const QLatin1StringView name : names) {
        bool flat = true;
        QJsonValue v = record.value(name);
        if (v.isUndefined() && name.contains(QLatin1Char('.'))) {
            v = nested(record, name);
            flat = false;
        }
        const QJsonValue value =
            kind == Kind::Level ? FieldMap::levelValue(v, otelNumber) : converted(v, kind);
        if (value.isUndefined() || value.isNull())
            continue;
        if (flat && name != field)
            record.remove(name);
        record.insert(field, value);
        return true;
    }
    return false;
}

QLatin1StringView levelNameAt(qsizetype i)
{
    return Vocabulary::levelNames[i];
}

} // namespace

QJsonValue FieldMap::levelValue(const QJsonValue &value, bool otelNumber)
{
    double number = 0;
    if (value.isDouble()) {
        number = value.toDouble();
    } else if (value.isString()) {
        const QString text = value.toString().trimmed();
        if (text.isEmpty())
            return QJsonValue(QJsonValue::Undefined);
        bool ok = false;
        number = text.toDouble(&ok);
        if (!ok) {
            const QString upper = text.toUpper();
            for (const QLatin1StringView name : Vocabulary::levelNames)
                if (upper == name)
                    return QJsonValue(name);
            for (const auto &alias : Vocabulary::levelAliases)
                if (upper == alias.alias)
                    return QJsonValue(alias.level);
            return value;
        }
    } else {
        return QJsonValue(QJsonValue::Undefined);
    }
    if (number != std::floor(number))
        return value;
    if (!otelNumber && number >= 10 && number <= 60 && std::fmod(number, 10) == 0)
        return QJsonValue(levelNameAt(qsizetype(number) / 10 - 1)); // pino, bunyan
    if (number >= 1 && number <= 24)
        return QJsonValue(levelNameAt((qsizetype(number) - 1) / 4)); // OpenTelemetry
    return value;
}

void FieldMap::normalize(QJsonObject &record)
{
    for (const Row &row : rows) {
        const QLatin1StringView field = row.clientNames.front();
        if (take(record, field, row.clientNames, row.kind))
            continue;
        if (take(record, field, row.extraNames, row.kind))
            continue;
        if (row.kind == Kind::Level)
            take(record, field, severityNumberNames, row.kind, true);
    }
}

bool FieldMap::isLevelOrMessageKey(QByteArrayView key)
{
    const QLatin1StringView k(key.data(), key.size());
    for (const Names names : {Names(Vocabulary::levelFields), Names(levelExtra),
                              Names(Vocabulary::messageFields), Names(messageExtra)})
        for (const QLatin1StringView name : names)
            if (k == name)
                return true;
    return false;
}
