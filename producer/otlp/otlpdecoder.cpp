#include "otlpdecoder.h"

#include "fieldmap.h"
#include "otlpmapper.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>

#include <cmath>
#include <string>

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

// ISO 8601 UTC with milliseconds, as the other modes write `ts` (QDateTime::toString took a
// tenth of the receiver's time). Days to a civil date: H. Hinnant's days_from_civil inverse.
QString timeText(quint64 unixNano)
{
    const qint64 ms = qint64(unixNano / 1'000'000);
    const qint64 days = ms / 86'400'000;
    const qint64 inDay = ms % 86'400'000;
    const qint64 z = days + 719468;
    const qint64 era = z / 146097;
    const qint64 doe = z - era * 146097;
    const qint64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const qint64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const qint64 mp = (5 * doy + 2) / 153;
    const qint64 day = doy - (153 * mp + 2) / 5 + 1;
    const qint64 month = mp < 10 ? mp + 3 : mp - 9;
    const qint64 year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    char text[24]; // yyyy-MM-ddTHH:mm:ss.zzzZ: years up to 2554 from 64 bits of nanoseconds
    auto put = [&text](int at, qint64 value, int digits) {
        for (int i = digits - 1; i >= 0; --i, value /= 10)
            text[at + i] = char('0' + value % 10);
    };
    put(0, year, 4);
    text[4] = '-';
    put(5, month, 2);
    text[7] = '-';
    put(8, day, 2);
    text[10] = 'T';
    put(11, inDay / 3'600'000, 2);
    text[13] = ':';
    put(14, inDay / 60'000 % 60, 2);
    text[16] = ':';
    put(17, inDay / 1000 % 60, 2);
    text[19] = '.';
    put(20, inDay % 1000, 3);
    text[23] = 'Z';
    return QString::fromLatin1(text, 24);
}

bool isLevelName(const QString &s)
{
    for (const char *name : {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"})
        if (s == QLatin1StringView(name))
            return true;
    return false;
}

bool isLevelName(const QJsonValue &v)
{
    return v.isString() && isLevelName(v.toString());
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

void Mapper::setScope(const Scope &scope)
{
    m_service = QJsonValue(QJsonValue::Undefined);
    m_scopeFields.clear();
    m_scopeDropped = 0;
    auto add = [&](const QString &key, const QJsonValue &value) {
        if (m_scopeFields.size() < m_limits.maxAttributes)
            m_scopeFields.append({key, value});
        else
            ++m_scopeDropped;
    };
    for (const auto &[key, value] : scope.resource) {
        if (key == "service.name"_L1 && value.isString())
            m_service = value;
        else if (!key.isEmpty())
            add("resource."_L1 + key, value);
    }
    if (!scope.name.isEmpty())
        m_scopeFields.append({u"scope.name"_s, scope.name});
    if (!scope.version.isEmpty())
        m_scopeFields.append({u"scope.version"_s, scope.version});
    for (const auto &[key, value] : scope.attributes)
        if (!key.isEmpty() && key != "name"_L1 && key != "version"_L1)
            add("scope."_L1 + key, value);
}

namespace {

// A record's members in the order they are set, a name set again replacing its value; written
// as compact JSON by hand: QJsonObject's sorted storage and QJsonDocument::toJson took three
// quarters of the receiver's time (bench/otlp.sh).
class RecordBuilder final
{
public:
    void set(const QString &key, const QJsonValue &value)
    {
        for (auto &[k, v] : m_fields) {
            if (k == key) {
                v = value;
                return;
            }
        }
        m_fields.append({key, value});
    }
    const QJsonValue *find(QLatin1StringView key) const
    {
        for (const auto &[k, v] : m_fields)
            if (k == key)
                return &v;
        return nullptr;
    }
    // Own fields first, then the scope's, then the record's attributes (one named like an own
    // field goes under "attributes.<name>"), at most `budget` of the latter two.
    void addAttributes(const Attributes &scope, int scopeDropped, const Attributes &own,
                       int maxAttributes)
    {
        for (const auto &[key, value] : scope)
            set(key, value);
        int budget = maxAttributes - int(scope.size());
        qint64 dropped = scopeDropped;
        for (const auto &[key, value] : own) {
            if (key.isEmpty())
                continue;
            if (budget <= 0) {
                ++dropped;
                continue;
            }
            --budget;
            set(isOwnField(key) ? "attributes."_L1 + key : key, value);
        }
        if (dropped > 0)
            set(u"otel.dropped_attributes"_s, dropped);
    }
    // The older GenAI names of the token counts become the current ones (as FieldMap does for
    // log lines), so the clients' token columns read them.
    void renameOlderTokenNames()
    {
        rename("gen_ai.usage.prompt_tokens"_L1, "gen_ai.usage.input_tokens"_L1);
        rename("gen_ai.usage.completion_tokens"_L1, "gen_ai.usage.output_tokens"_L1);
    }
    QByteArray json() const
    {
        // std::string: its push_back is inline; QByteArray's append(char) is a call to insert().
        std::string out;
        out.reserve(512);
        out += '{';
        for (const auto &[key, value] : m_fields) {
            if (out.size() > 1)
                out += ',';
            appendString(out, key);
            out += ':';
            appendValue(out, value);
        }
        out += '}';
        return QByteArray(out.data(), qsizetype(out.size()));
    }

private:
    void rename(QLatin1StringView older, QLatin1StringView current)
    {
        if (find(current))
            return;
        for (auto &[k, v] : m_fields) {
            if (k == older && v.isDouble() && v.toDouble() >= 0 &&
                v.toDouble() == std::floor(v.toDouble())) {
                k = current;
                return;
            }
        }
    }
    // UTF-16 to UTF-8 and JSON escaping in one pass (a lone surrogate becomes U+FFFD, as
    // QString::toUtf8() makes it).
    static void appendString(std::string &out, QStringView s)
    {
        static const char hexDigits[] = "0123456789abcdef";
        out += '"';
        for (qsizetype i = 0; i < s.size(); ++i) {
            const char16_t c = s[i].unicode();
            if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
                out += char(c);
            } else if (c < 0x80) {
                out += '\\';
                switch (c) {
                case '"':
                case '\\':
                    out += char(c);
                    break;
                case '\n':
                    out += 'n';
                    break;
                case '\r':
                    out += 'r';
                    break;
                case '\t':
                    out += 't';
                    break;
                default:
                    out += "u00";
                    out += hexDigits[c >> 4];
                    out += hexDigits[c & 15];
                }
            } else if (c < 0x800) {
                out += char(0xc0 | (c >> 6));
                out += char(0x80 | (c & 0x3f));
            } else if (QChar::isHighSurrogate(c) && i + 1 < s.size() &&
                       QChar::isLowSurrogate(s[i + 1].unicode())) {
                const char32_t u = QChar::surrogateToUcs4(c, s[++i].unicode());
                out += char(0xf0 | (u >> 18));
                out += char(0x80 | ((u >> 12) & 0x3f));
                out += char(0x80 | ((u >> 6) & 0x3f));
                out += char(0x80 | (u & 0x3f));
            } else if (QChar::isSurrogate(c)) {
                out += "\xef\xbf\xbd";
            } else {
                out += char(0xe0 | (c >> 12));
                out += char(0x80 | ((c >> 6) & 0x3f));
                out += char(0x80 | (c & 0x3f));
            }
        }
        out += '"';
    }
    static void appendValue(std::string &out, const QJsonValue &v)
    {
        switch (v.type()) {
        case QJsonValue::String:
            appendString(out, v.toString());
            break;
        case QJsonValue::Bool:
            out += v.toBool() ? "true" : "false";
            break;
        case QJsonValue::Double: {
            const double d = v.toDouble();
            if (!std::isfinite(d))
                out += "null"; // as QJsonDocument writes them
            else if (d == std::floor(d) && std::fabs(d) < maxExactInteger)
                out += std::to_string(qint64(d));
            else
                out += QByteArray::number(d, 'g', QLocale::FloatingPointShortest).toStdString();
            break;
        }
        case QJsonValue::Array:
            out += QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact).toStdString();
            break;
        case QJsonValue::Object:
            out += QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact).toStdString();
            break;
        case QJsonValue::Null:
        case QJsonValue::Undefined:
            out += "null";
            break;
        }
    }

    QList<QPair<QString, QJsonValue>> m_fields;
};

} // namespace

void Mapper::addLog(const LogRecord &log)
{
    if (isFailed())
        return;
    RecordBuilder record;
    if (const quint64 t = log.time ? log.time : log.observedTime)
        record.set(u"ts"_s, timeText(t));
    QJsonValue level = QJsonValue::Undefined;
    if (isLevelName(log.severityText)) // the common case, without FieldMap's parsing
        level = log.severityText;
    else if (!log.severityText.isEmpty())
        level = FieldMap::levelValue(QJsonValue(log.severityText));
    if (!isLevelName(level) && log.severityNumber > 0 && log.severityNumber <= 24)
        level = FieldMap::levelValue(QJsonValue(log.severityNumber), true);
    else if (level.isUndefined() && !log.severityText.isEmpty())
        level = log.severityText;
    if (!level.isUndefined())
        record.set(u"level"_s, level);
    if (!m_service.isUndefined())
        record.set(u"service"_s, m_service);
    if (log.body.isString())
        record.set(u"msg"_s, log.body);
    else if (log.body.isObject())
        record.set(
            u"msg"_s,
            QString::fromUtf8(QJsonDocument(log.body.toObject()).toJson(QJsonDocument::Compact)));
    else if (log.body.isArray())
        record.set(u"msg"_s, QString::fromUtf8(
                                 QJsonDocument(log.body.toArray()).toJson(QJsonDocument::Compact)));
    else if (log.body.isDouble())
        record.set(u"msg"_s, QString::number(log.body.toDouble(), 'g', 17));
    else if (log.body.isBool())
        record.set(u"msg"_s, log.body.toBool() ? u"true"_s : u"false"_s);
    else if (!log.eventName.isEmpty())
        record.set(u"msg"_s, log.eventName);
    if (!log.eventName.isEmpty())
        record.set(u"event.name"_s, log.eventName);
    if (!log.traceId.isEmpty())
        record.set(u"trace_id"_s, hex(log.traceId));
    if (!log.spanId.isEmpty())
        record.set(u"span_id"_s, hex(log.spanId));
    record.addAttributes(m_scopeFields, m_scopeDropped, log.attributes, m_limits.maxAttributes);
    record.renameOlderTokenNames();
    publish(m_channels.logs, record.json());
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

    RecordBuilder record;
    if (span.start)
        record.set(u"ts"_s, timeText(span.start));
    record.set(u"level"_s, error ? u"ERROR"_s : u"INFO"_s);
    if (!m_service.isUndefined())
        record.set(u"service"_s, m_service);
    QString msg = span.name;
    if (error && !span.statusMessage.isEmpty())
        msg = msg.isEmpty() ? span.statusMessage : msg + ": "_L1 + span.statusMessage;
    if (!msg.isEmpty())
        record.set(u"msg"_s, msg);
    if (!span.statusMessage.isEmpty())
        record.set(u"status.message"_s, span.statusMessage);
    if (const QString kind = spanKindName(span.kind); !kind.isEmpty())
        record.set(u"span.kind"_s, kind);
    if (!span.traceId.isEmpty())
        record.set(u"trace_id"_s, hex(span.traceId));
    if (!span.spanId.isEmpty())
        record.set(u"span_id"_s, hex(span.spanId));
    if (!span.parentSpanId.isEmpty())
        record.set(u"parent_span_id"_s, hex(span.parentSpanId));
    if (span.start && span.end >= span.start)
        record.set(u"duration_ms"_s, std::round(double(span.end - span.start) / 1e3) / 1e3);
    if (const QJsonValue *ttft = attribute(span.attributes, ttftAttribute);
        ttft && ttft->isDouble() && ttft->toDouble() >= 0)
        record.set(u"ttft_ms"_s, std::round(ttft->toDouble() * 1e6) / 1e3);
    record.addAttributes(m_scopeFields, m_scopeDropped, span.attributes, m_limits.maxAttributes);
    if (error && !record.find("error.type"_L1))
        record.set(u"error.type"_s,
                   span.exceptionType.isEmpty() ? u"_OTHER"_s : span.exceptionType);
    record.renameOlderTokenNames();
    publish(*channel, record.json());
}

void Mapper::publish(const QByteArray &channel, const QByteArray &payload)
{
    m_outputBytes += payload.size() + channel.size() + recordOverhead;
    if (m_outputBytes > m_limits.maxOutputBytes) {
        m_result.status = Result::Status::OutputTooLarge;
        m_result.error =
            u"the records of this request would take more than %1 bytes; send smaller batches"_s
                .arg(m_limits.maxOutputBytes);
        m_result.records.clear();
        return;
    }
    m_result.records.push_back({channel, payload});
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
