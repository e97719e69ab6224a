#include "logrecorddecoder.h"

#include "envelope.h"
#include "sseparser.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <charconv>

namespace {

// Beyond this many distinct label sets the pool starts over (records keep theirs), so a
// producer inventing a new service name per line cannot grow it without bound.
constexpr qsizetype maxLabelSets = 4096;

// ---- The scanner: finds top-level members of a JSON object without building anything. ----

struct Span
{
    enum Type : quint8 { Missing, String, Number, Literal, Object, Array };
    Type type = Missing;
    qsizetype begin = 0; // String: the content between the quotes; otherwise the whole value
    qsizetype end = 0;
    bool escaped = false; // String: has backslash escapes

    qsizetype size() const { return end - begin; }
};

class Scanner
{
public:
    explicit Scanner(QByteArrayView s) : m_s(s) {}

    // Calls onMember(key, value) for each member of the object at `at`; false on malformed input
    // (or an escaped key, which no field we look for has).
    template <typename F> bool object(qsizetype at, F onMember)
    {
        m_i = at;
        ws();
        if (!eat('{'))
            return false;
        ws();
        if (eat('}'))
            return true;
        while (true) {
            ws();
            Span key;
            if (!string(&key) || key.escaped)
                return false;
            ws();
            if (!eat(':'))
                return false;
            ws();
            Span value;
            if (!this->value(&value))
                return false;
            onMember(m_s.sliced(key.begin, key.size()), value);
            ws();
            if (eat(','))
                continue;
            return eat('}');
        }
    }
    QByteArrayView view(const Span &s) const { return m_s.sliced(s.begin, s.size()); }

private:
    bool eat(char c)
    {
        if (m_i < m_s.size() && m_s[m_i] == c) {
            ++m_i;
            return true;
        }
        return false;
    }
    void ws()
    {
        while (m_i < m_s.size() &&
               (m_s[m_i] == ' ' || m_s[m_i] == '\n' || m_s[m_i] == '\r' || m_s[m_i] == '\t'))
            ++m_i;
    }
    bool string(Span *out)
    {
        if (!eat('"'))
            return false;
        out->type = Span::String;
        out->begin = m_i;
        while (m_i < m_s.size()) {
            const auto c = static_cast<unsigned char>(m_s[m_i]);
            if (c == '"') {
                out->end = m_i++;
                return true;
            }
            if (c < 0x20)
                return false;
            if (c == '\\') {
                out->escaped = true;
                ++m_i;
            }
            ++m_i;
        }
        return false;
    }
    bool value(Span *out)
    {
        if (m_i >= m_s.size())
            return false;
        const char c = m_s[m_i];
        if (c == '"')
            return string(out);
        if (c == '{' || c == '[') {
            // Skipped, strings inside included; the gateway sent strict JSON.
            out->type = c == '{' ? Span::Object : Span::Array;
            out->begin = m_i;
            int depth = 0;
            while (m_i < m_s.size()) {
                const char d = m_s[m_i];
                if (d == '"') {
                    Span ignored;
                    if (!string(&ignored))
                        return false;
                    continue;
                }
                ++m_i;
                if (d == '{' || d == '[') {
                    ++depth;
                } else if (d == '}' || d == ']') {
                    if (--depth == 0) {
                        out->end = m_i;
                        return true;
                    }
                }
            }
            return false;
        }
        out->begin = m_i;
        while (m_i < m_s.size() && !QByteArrayView(",}] \n\r\t").contains(m_s[m_i]))
            ++m_i;
        out->end = m_i;
        if (out->begin == out->end)
            return false;
        const QByteArrayView token = m_s.sliced(out->begin, out->size());
        if (token == "null") {
            out->type = Span::Missing;
        } else if (token == "true" || token == "false") {
            out->type = Span::Literal;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            out->type = Span::Number;
        } else {
            return false;
        }
        return true;
    }

    QByteArrayView m_s;
    qsizetype m_i = 0;
};

std::optional<double> toDouble(QByteArrayView text)
{
    double d = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return d;
}

// A number, or a string holding one ("duration_ms": "12.5").
std::optional<double> spanNumber(const Scanner &s, const Span &span)
{
    if (span.type == Span::Number || (span.type == Span::String && !span.escaped))
        return toDouble(s.view(span).trimmed());
    return std::nullopt;
}

// ---- Shared by both ways of reading. ----

qint32 toTokens(const std::optional<double> &d)
{
    return d && *d >= 0 && *d < 2e9 ? qint32(*d) : -1;
}

float toFloat(const std::optional<double> &d)
{
    return d ? float(*d) : NAN;
}

// ---- The QJsonDocument way. ----

// Only what a line can show is kept (message() adds the ellipsis); the payload stays in `raw`.
QString cut(QString text)
{
    if (text.size() > LogRecord::maxMessageChars + 1)
        text.truncate(LogRecord::maxMessageChars + 1);
    return text;
}

// A field by its dotted OpenTelemetry name, flat ("gen_ai.usage.input_tokens": 1) or nested.
QJsonValue field(const QJsonObject &o, QLatin1StringView name)
{
    const auto it = o.constFind(name);
    if (it != o.constEnd())
        return *it;
    QJsonValue v = o;
    for (const QLatin1StringView part : QLatin1StringView(name).tokenize(QLatin1Char('.'))) {
        if (!v.isObject())
            return {};
        v = v.toObject().value(part);
    }
    return v;
}

QJsonValue firstOf(const QJsonObject &o, std::initializer_list<QLatin1StringView> names)
{
    for (const QLatin1StringView name : names) {
        const QJsonValue v = field(o, name);
        if (!v.isUndefined() && !v.isNull())
            return v;
    }
    return {};
}

std::optional<double> jsonNumber(const QJsonValue &v)
{
    if (v.isDouble())
        return v.toDouble();
    if (v.isString())
        return toDouble(v.toString().trimmed().toLatin1());
    return std::nullopt;
}

// How a JSON value reads as text: strings as they are, numbers and literals as written.
QString jsonText(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::String:
        return v.toString();
    case QJsonValue::Double:
        return QString::fromUtf8(QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact))
            .mid(1)
            .chopped(1);
    case QJsonValue::Bool:
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Object:
        return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    case QJsonValue::Array:
        return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
    default:
        return {};
    }
}

} // namespace

std::optional<LogRecord> LogRecordDecoder::decode(const SseEvent &event)
{
    if (event.type == "message")
        return decodeEnvelope(event.data);
    if (event.type == "gap")
        return marker(LogRecord::Kind::Gap, event.type, event.data);
    if (event.type == "shutdown" || event.type == "dropped")
        return marker(LogRecord::Kind::Notice, event.type, event.data);
    return std::nullopt;
}

LogRecord LogRecordDecoder::decodeEnvelope(const QByteArray &json)
{
    std::optional<LogRecord> record;
    if (m_scannerEnabled)
        record = scanEnvelope(json);
    if (!record)
        record = parseEnvelope(json);
    // The stream's buffer may be larger than the envelope; keep only what is needed.
    if (record->raw.capacity() - record->raw.size() > 32)
        record->raw.squeeze();
    return std::move(*record);
}

std::optional<LogRecord> LogRecordDecoder::scanEnvelope(const QByteArray &json)
{
    Scanner s(json);
    Span id, channel, ts, payload;
    const bool ok = s.object(0, [&](QByteArrayView key, const Span &value) {
        if (key == "id")
            id = value;
        else if (key == "channel")
            channel = value;
        else if (key == "ts")
            ts = value;
        else if (key == "payload")
            payload = value;
    });
    if (!ok || id.type != Span::String || channel.type != Span::String || channel.escaped ||
        ts.type != Span::Number)
        return std::nullopt;
    qint64 tsMs = 0;
    const QByteArrayView tsText = s.view(ts);
    if (std::from_chars(tsText.data(), tsText.data() + tsText.size(), tsMs).ptr !=
        tsText.data() + tsText.size())
        return std::nullopt;

    // The payload is the last member (LogRecord::payloadJson() relies on it).
    const qsizetype payloadEnd = payload.type == Span::String ? payload.end + 1 : payload.end;
    if (payload.type == Span::Missing || QByteArrayView(json).sliced(payloadEnd).trimmed() != "}")
        return std::nullopt;

    LogRecord r;
    r.raw = json;
    r.ts = tsMs;
    if (payload.type == Span::String) {
        if (payload.escaped)
            return std::nullopt;
        r.payloadOffset = quint32(payload.begin - 1); // with the quotes: it is JSON text
        r.messageOffset = quint32(payload.begin);
        r.messageLength = quint32(payload.size());
        r.level = LogLevels::guess(r.message());
        r.labels = labels(s.view(channel), {}, {}, {});
        ++m_scanned;
        return r;
    }
    if (payload.type != Span::Object)
        return std::nullopt;
    r.payloadOffset = quint32(payload.begin);
    r.payloadIsObject = true;

    enum Field {
        Msg,
        Message,
        Text,
        Event,
        Level,
        Severity,
        Lvl,
        LevelName,
        Service,
        ServiceName,
        RequestModel,
        ResponseModel,
        ErrorType,
        InputTokens,
        OutputTokens,
        Duration,
        Ttft,
        FieldCount
    };
    static constexpr QLatin1StringView names[FieldCount] = {
        QLatin1StringView("msg"),
        QLatin1StringView("message"),
        QLatin1StringView("text"),
        QLatin1StringView("event"),
        QLatin1StringView("level"),
        QLatin1StringView("severity"),
        QLatin1StringView("lvl"),
        QLatin1StringView("levelname"),
        QLatin1StringView("service"),
        QLatin1StringView("service.name"),
        QLatin1StringView("gen_ai.request.model"),
        QLatin1StringView("gen_ai.response.model"),
        QLatin1StringView("error.type"),
        QLatin1StringView("gen_ai.usage.input_tokens"),
        QLatin1StringView("gen_ai.usage.output_tokens"),
        QLatin1StringView("duration_ms"),
        QLatin1StringView("ttft_ms"),
    };
    Span fields[FieldCount];
    bool nested = false;
    if (!s.object(payload.begin, [&](QByteArrayView key, const Span &value) {
            // Nested OpenTelemetry objects ({"gen_ai": {"usage": ...}}) are for the parser.
            if (value.type == Span::Object &&
                (key == "gen_ai" || key == "error" || key == "service"))
                nested = true;
            for (int f = 0; f < FieldCount; ++f) {
                if (key == QByteArrayView(names[f].data(), names[f].size())) {
                    fields[f] = value;
                    break;
                }
            }
        }))
        return std::nullopt;
    if (nested)
        return std::nullopt;

    const auto first = [&](std::initializer_list<Field> candidates) -> const Span * {
        for (const Field f : candidates)
            if (fields[f].type != Span::Missing)
                return &fields[f];
        return nullptr;
    };
    // A string (unescaped) or a number as bytes; nullopt when only the parser can say.
    const auto textOf = [&](const Span *span) -> std::optional<QByteArrayView> {
        if (!span)
            return QByteArrayView();
        if (span->type == Span::String && !span->escaped)
            return s.view(*span);
        if (span->type == Span::Literal)
            return s.view(*span);
        return std::nullopt;
    };

    const Span *message = first({Msg, Message, Text, Event});
    if (!message || message->type != Span::String || message->escaped || message->size() == 0)
        return std::nullopt; // compact JSON of the payload, or escapes: the parser does it
    r.messageOffset = quint32(message->begin);
    r.messageLength = quint32(message->size());

    const auto service = textOf(first({Service, ServiceName}));
    const auto model = textOf(first({RequestModel, ResponseModel}));
    const auto errorType = textOf(first({ErrorType}));
    if (!service || !model || !errorType)
        return std::nullopt;
    r.labels = labels(s.view(channel), *service, *model, *errorType);

    if (const Span *level = first({Level, Severity, Lvl, LevelName})) {
        if (level->type == Span::Number) {
            if (const auto n = toDouble(s.view(*level)))
                r.level = LogLevels::fromNumber(*n);
        } else if (level->type == Span::String) {
            if (level->escaped)
                return std::nullopt;
            r.level = LogLevels::fromName(QUtf8StringView(s.view(*level)));
        }
    }
    if (r.level == LogLevel::None)
        r.level = LogLevels::guess(r.message());
    r.inputTokens = toTokens(spanNumber(s, fields[InputTokens]));
    r.outputTokens = toTokens(spanNumber(s, fields[OutputTokens]));
    r.durationMs = toFloat(spanNumber(s, fields[Duration]));
    r.ttftMs = toFloat(spanNumber(s, fields[Ttft]));
    ++m_scanned;
    return r;
}

LogRecord LogRecordDecoder::parseEnvelope(const QByteArray &json)
{
    ++m_parsed;
    const auto envelope = Envelope::decode(json);
    if (!envelope) {
        LogRecord r = marker(LogRecord::Kind::Notice, "unreadable", json);
        QString shown = QString::fromUtf8(json);
        if (shown.size() > 300)
            shown = shown.first(300) + QChar(0x2026);
        r.text = QStringLiteral("unreadable event from the gateway (not an envelope): ") + shown;
        return r;
    }
    LogRecord r;
    r.raw = json;
    r.ts = envelope->ts;
    // The gateway writes "payload" last; everything before it is id, channel and ts, whose
    // strings are escaped, so the first `,"payload":` is the real one.
    if (const qsizetype at = json.indexOf(",\"payload\":"); at >= 0) {
        r.payloadOffset = quint32(at + 11);
        while (r.payloadOffset < quint32(json.size()) &&
               QByteArrayView(" \n\r\t").contains(json[r.payloadOffset]))
            ++r.payloadOffset;
    }
    const QByteArray channel = envelope->channel.toUtf8();

    if (!envelope->payload.isObject()) {
        r.text = cut(envelope->payload.toString());
        r.level = LogLevels::guess(r.message());
        r.labels = labels(channel, {}, {}, {});
        return r;
    }
    r.payloadIsObject = true;
    const QJsonObject p = envelope->payload.toObject();
    QString message = jsonText(firstOf(p, {QLatin1StringView("msg"), QLatin1StringView("message"),
                                           QLatin1StringView("text"), QLatin1StringView("event")}));
    if (message.isEmpty())
        message = QString::fromUtf8(QJsonDocument(p).toJson(QJsonDocument::Compact));
    r.text = cut(std::move(message));

    const QJsonValue level = firstOf(p, {QLatin1StringView("level"), QLatin1StringView("severity"),
                                         QLatin1StringView("lvl"), QLatin1StringView("levelname")});
    if (level.isDouble())
        r.level = LogLevels::fromNumber(level.toDouble());
    else if (level.isString())
        r.level = LogLevels::fromName(level.toString());
    if (r.level == LogLevel::None)
        r.level = LogLevels::guess(r.message());

    const QByteArray service =
        jsonText(firstOf(p, {QLatin1StringView("service"), QLatin1StringView("service.name")}))
            .toUtf8();
    const QByteArray model = jsonText(firstOf(p, {QLatin1StringView("gen_ai.request.model"),
                                                  QLatin1StringView("gen_ai.response.model")}))
                                 .toUtf8();
    const QByteArray errorType = jsonText(field(p, QLatin1StringView("error.type"))).toUtf8();
    r.labels = labels(channel, service, model, errorType);
    r.inputTokens = toTokens(jsonNumber(field(p, QLatin1StringView("gen_ai.usage.input_tokens"))));
    r.outputTokens =
        toTokens(jsonNumber(field(p, QLatin1StringView("gen_ai.usage.output_tokens"))));
    r.durationMs = toFloat(jsonNumber(p.value(QLatin1StringView("duration_ms"))));
    r.ttftMs = toFloat(jsonNumber(p.value(QLatin1StringView("ttft_ms"))));
    return r;
}

LogRecord LogRecordDecoder::marker(LogRecord::Kind kind, const QByteArray &type,
                                   const QByteArray &data)
{
    LogRecord r;
    r.kind = kind;
    r.raw = data;
    r.ts = QDateTime::currentMSecsSinceEpoch();
    const QJsonObject o = QJsonDocument::fromJson(data).object();
    QString what = o.value(QLatin1StringView("message")).toString();
    if (what.isEmpty())
        what = o.value(QLatin1StringView("reason")).toString();
    if (kind == LogRecord::Kind::Gap) {
        r.text = what.isEmpty() ? QStringLiteral("gap: events are missing here")
                                : QStringLiteral("gap: ") + what;
    } else if (type == "shutdown") {
        r.text = QStringLiteral("the gateway is shutting down") +
                 (what.isEmpty() ? QString() : QStringLiteral(" (") + what + u')');
    } else if (type == "dropped") {
        r.text = QStringLiteral("the gateway dropped this connection") +
                 (what.isEmpty() ? QString() : QStringLiteral(": ") + what);
    } else {
        r.text = QString::fromUtf8(type) + QStringLiteral(": ") + what;
    }
    return r;
}

QExplicitlySharedDataPointer<LogLabels> LogRecordDecoder::labels(QByteArrayView channel,
                                                                 QByteArrayView service,
                                                                 QByteArrayView model,
                                                                 QByteArrayView errorType)
{
    m_key.clear();
    m_key.append(channel).append('\0').append(service).append('\0').append(model).append('\0');
    m_key.append(errorType);
    if (const auto it = m_labels.constFind(m_key); it != m_labels.constEnd())
        return *it;
    if (m_labels.size() >= maxLabelSets)
        m_labels.clear();
    QExplicitlySharedDataPointer<LogLabels> l(new LogLabels);
    l->channel = QString::fromUtf8(channel);
    l->service = QString::fromUtf8(service);
    l->model = QString::fromUtf8(model);
    l->errorType = QString::fromUtf8(errorType);
    m_labels.insert(m_key, l);
    return l;
}
