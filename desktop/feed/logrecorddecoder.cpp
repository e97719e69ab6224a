#include "logrecorddecoder.h"

#include "envelope.h"
#include "sseparser.h"
#include "vocabulary.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <span>

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

// ---- Shared by both ways of reading. ----

bool isJsonWhitespace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// A JSON number alone between JSON whitespace, read as JSON.parse reads it (finite; too small for
// a double is 0). Producers write numbers as strings often enough ("duration_ms": "12.5");
// anything looser ("+5", "0x10", ".5", "Infinity") is no number, in both clients.
std::optional<double> jsonNumber(QByteArrayView text)
{
    qsizetype b = 0;
    qsizetype e = text.size();
    while (b < e && isJsonWhitespace(text[b]))
        ++b;
    while (e > b && isJsonWhitespace(text[e - 1]))
        --e;
    const QByteArrayView t = text.sliced(b, e - b);
    qsizetype i = 0;
    const auto digits = [&] {
        const qsizetype from = i;
        while (i < t.size() && t[i] >= '0' && t[i] <= '9')
            ++i;
        return i > from;
    };
    if (i < t.size() && t[i] == '-')
        ++i;
    if (i < t.size() && t[i] == '0')
        ++i;
    else if (!digits())
        return std::nullopt;
    if (i < t.size() && t[i] == '.' && (++i, !digits()))
        return std::nullopt;
    if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
        ++i;
        if (i < t.size() && (t[i] == '+' || t[i] == '-'))
            ++i;
        if (!digits())
            return std::nullopt;
    }
    if (i != t.size())
        return std::nullopt;
    double d = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
    if (ec == std::errc::result_out_of_range) {
        // Too large (Infinity to JavaScript: no number) or too small (0)? A long double says;
        // beyond its range too, the sign of the exponent does.
        long double wide = 0;
        const bool small =
            std::from_chars(t.data(), t.data() + t.size(), wide).ec == std::errc()
                ? std::abs(wide) < 1
                : t.contains(QByteArrayView("e-")) || t.contains(QByteArrayView("E-"));
        return small ? std::optional<double>(0) : std::nullopt;
    }
    if (ec != std::errc() || end != t.data() + t.size() || !std::isfinite(d))
        return std::nullopt;
    return d;
}

// The columns of a line, each read from its aliases (common/vocabulary.h).
enum Column {
    Message,
    Level,
    Service,
    Model,
    ErrorType,
    InputTokens,
    OutputTokens,
    DurationMs,
    TtftMs,
    ColumnCount
};
constexpr std::span<const QLatin1StringView> columnAliases[ColumnCount] = {
    Vocabulary::messageFields,      Vocabulary::levelFields,      Vocabulary::serviceFields,
    Vocabulary::modelFields,        Vocabulary::errorTypeFields,  Vocabulary::inputTokensFields,
    Vocabulary::outputTokensFields, Vocabulary::durationMsFields, Vocabulary::ttftMsFields,
};
constexpr std::size_t maxAliases = 4;
static_assert(std::ranges::all_of(columnAliases, [](auto a) { return a.size() <= maxAliases; }));

// Token counts are whole numbers, as the gateway counts them (12.0 is twelve, 12.5 is no count).
qint32 toTokens(const std::optional<double> &d)
{
    return d && *d >= 0 && *d <= std::numeric_limits<qint32>::max() && *d == std::trunc(*d)
               ? qint32(*d)
               : -1;
}

float toFloat(const std::optional<double> &d)
{
    return d ? float(*d) : NAN;
}

// ---- The scanner's way. ----

// Whether `key` starts a dotted alias ("gen_ai" of gen_ai.usage.input_tokens): an object under it
// may hold that field nested.
bool isNamespace(QByteArrayView key)
{
    for (const auto aliases : columnAliases) {
        for (const QLatin1StringView name : aliases) {
            if (name.size() > key.size() && name[key.size()] == QLatin1Char('.') &&
                QByteArrayView(name.data(), key.size()) == key)
                return true;
        }
    }
    return false;
}

// A number or a string holding one; nullopt for an escaped string, which only the parser reads.
std::optional<double> spanNumber(const Scanner &s, const Span &span)
{
    if (span.type == Span::Number || (span.type == Span::String && !span.escaped))
        return jsonNumber(s.view(span));
    return std::nullopt;
}

// ---- The QJsonDocument way. ----

// Only what a line can show is kept (message() adds the ellipsis); the payload stays in `raw`.
QString cut(QString text)
{
    if (text.size() > LogRecord::maxMessageChars + 1)
        text.truncate(LogRecord::maxMessageChars + 1);
    return text;
}

// JSON text without the whitespace between its tokens: a payload without a message, as its line
// shows it. The dashboard does the same to the same bytes (compactJson in records.js).
QByteArray compactJson(QByteArrayView json)
{
    QByteArray out;
    out.reserve(json.size());
    bool inString = false;
    for (qsizetype i = 0; i < json.size(); ++i) {
        const char c = json[i];
        if (!inString && isJsonWhitespace(c))
            continue;
        out.append(c);
        if (c == '"')
            inString = !inString;
        else if (inString && c == '\\' && i + 1 < json.size())
            out.append(json[++i]);
    }
    return out;
}

// A number as JavaScript's String(n) writes it (ECMA-262 Number::toString), so that both clients
// show the same text: 1e21 and 1e-7 in exponent form, 1e20 and 0.000001 in full.
QString numberText(double d)
{
    if (d == 0)
        return QStringLiteral("0"); // -0 too
    // The shortest digits that read back as d, which JavaScript picks too: "d.ddde±x".
    char sci[32];
    const char *end =
        std::to_chars(sci, sci + sizeof sci, std::abs(d), std::chars_format::scientific).ptr;
    const QByteArrayView text(sci, end - sci);
    const qsizetype e = text.indexOf('e');
    QByteArray digits = text.first(e).toByteArray();
    digits.replace(".", "");
    int exponent = 0;
    std::from_chars(text.data() + e + 2, end, exponent);
    if (text[e + 1] == '-')
        exponent = -exponent;
    const qsizetype k = digits.size();
    const qsizetype n = exponent + 1; // the decimal point after n digits
    QByteArray out = d < 0 ? QByteArray("-") : QByteArray();
    if (k <= n && n <= 21) {
        out += digits + QByteArray(n - k, '0');
    } else if (0 < n && n <= 21) {
        out += digits.first(n) + '.' + digits.sliced(n);
    } else if (-6 < n && n <= 0) {
        out += "0." + QByteArray(-n, '0') + digits;
    } else {
        out += digits.first(1);
        if (k > 1)
            out += '.' + digits.sliced(1);
        out += (n - 1 < 0 ? "e-" : "e+") + QByteArray::number(std::abs(n - 1));
    }
    return QString::fromLatin1(out);
}

bool isScalar(const QJsonValue &v)
{
    return v.isString() || v.isDouble() || v.isBool();
}

// A field by its dotted OpenTelemetry name: flat ("gen_ai.usage.input_tokens": 1), else nested.
QJsonValue lookup(const QJsonObject &o, QLatin1StringView name)
{
    if (const QJsonValue flat = o.value(name); !flat.isUndefined() && !flat.isNull())
        return flat;
    if (!name.contains(QLatin1Char('.')))
        return {};
    QJsonValue v = o;
    for (const QLatin1StringView part : name.tokenize(QLatin1Char('.'))) {
        if (!v.isObject())
            return {};
        v = v.toObject().value(part);
    }
    return v;
}

// The value of the first alias that holds a string, a number or a boolean.
QJsonValue firstOf(const QJsonObject &o, Column column)
{
    for (const QLatin1StringView name : columnAliases[column])
        if (const QJsonValue v = lookup(o, name); isScalar(v))
            return v;
    return {};
}

// How a field's value reads as text: strings as they are, numbers as JavaScript writes them.
QString scalarText(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::String:
        return v.toString();
    case QJsonValue::Double:
        return numberText(v.toDouble());
    case QJsonValue::Bool:
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    default:
        return {};
    }
}

std::optional<double> numberOf(const QJsonValue &v)
{
    if (v.isDouble() && std::isfinite(v.toDouble()))
        return v.toDouble();
    if (v.isString())
        return jsonNumber(QByteArrayView(v.toString().toUtf8()));
    return std::nullopt;
}

} // namespace

std::optional<LogRecord> LogRecordDecoder::decode(const SseEvent &event)
{
    if (event.type == Vocabulary::messageEvent)
        return decodeEnvelope(event.data);
    if (event.type == Vocabulary::gapEvent)
        return marker(LogRecord::Kind::Gap, event.type, event.data);
    if (event.type == Vocabulary::shutdownEvent || event.type == Vocabulary::droppedEvent)
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

    Span found[ColumnCount][maxAliases];
    bool nested = false;
    if (!s.object(payload.begin, [&](QByteArrayView key, const Span &value) {
            // Nested OpenTelemetry objects ({"gen_ai": {"usage": ...}}) are for the parser.
            if (value.type == Span::Object && isNamespace(key))
                nested = true;
            for (int c = 0; c < ColumnCount; ++c) {
                for (std::size_t a = 0; a < columnAliases[c].size(); ++a) {
                    if (key ==
                        QByteArrayView(columnAliases[c][a].data(), columnAliases[c][a].size())) {
                        found[c][a] = value;
                        return;
                    }
                }
            }
        }))
        return std::nullopt;
    if (nested)
        return std::nullopt;

    // The first alias with a string, a number or a boolean (as firstOf() takes it).
    const auto first = [&](Column c) -> const Span * {
        for (std::size_t a = 0; a < columnAliases[c].size(); ++a) {
            const Span &v = found[c][a];
            if (v.type == Span::String || v.type == Span::Number || v.type == Span::Literal)
                return &v;
        }
        return nullptr;
    };
    // A string (unescaped) or a literal as bytes; nullopt when only the parser can say.
    const auto textOf = [&](const Span *span) -> std::optional<QByteArrayView> {
        if (!span)
            return QByteArrayView();
        if ((span->type == Span::String && !span->escaped) || span->type == Span::Literal)
            return s.view(*span);
        return std::nullopt; // escapes, or a number to write as JavaScript does
    };

    const Span *message = first(Message);
    if (!message || message->type != Span::String || message->escaped || message->size() == 0)
        return std::nullopt; // compact JSON of the payload, or escapes: the parser does it
    r.messageOffset = quint32(message->begin);
    r.messageLength = quint32(message->size());

    const auto service = textOf(first(Service));
    const auto model = textOf(first(Model));
    const auto errorType = textOf(first(ErrorType));
    if (!service || !model || !errorType)
        return std::nullopt;
    for (const Column c : {Level, InputTokens, OutputTokens, DurationMs, TtftMs}) {
        const Span *v = first(c);
        if (v && v->type == Span::String && v->escaped)
            return std::nullopt; // "1\u0032" is 12 to the parser
    }
    r.labels = labels(s.view(channel), *service, *model, *errorType);

    if (const Span *level = first(Level)) {
        if (level->type == Span::Number) {
            if (const auto n = jsonNumber(s.view(*level)))
                r.level = LogLevels::fromNumber(*n);
        } else if (level->type == Span::String) {
            r.level = LogLevels::fromName(QUtf8StringView(s.view(*level)));
        }
    }
    if (r.level == LogLevel::None)
        r.level = LogLevels::guess(r.message());
    const auto number = [&](Column c) {
        const Span *n = first(c);
        return n ? spanNumber(s, *n) : std::nullopt;
    };
    r.inputTokens = toTokens(number(InputTokens));
    r.outputTokens = toTokens(number(OutputTokens));
    r.durationMs = toFloat(number(DurationMs));
    r.ttftMs = toFloat(number(TtftMs));
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
    QString message = scalarText(firstOf(p, Message));
    if (message.isEmpty()) {
        // The payload itself, as the producer wrote it.
        message = r.payloadOffset > 0
                      ? QString::fromUtf8(compactJson(r.payloadJson()))
                      : QString::fromUtf8(QJsonDocument(p).toJson(QJsonDocument::Compact));
    }
    r.text = cut(std::move(message));

    const QJsonValue level = firstOf(p, Level);
    if (level.isDouble())
        r.level = LogLevels::fromNumber(level.toDouble());
    else if (level.isString())
        r.level = LogLevels::fromName(level.toString());
    if (r.level == LogLevel::None)
        r.level = LogLevels::guess(r.message());

    r.labels =
        labels(channel, scalarText(firstOf(p, Service)).toUtf8(),
               scalarText(firstOf(p, Model)).toUtf8(), scalarText(firstOf(p, ErrorType)).toUtf8());
    r.inputTokens = toTokens(numberOf(firstOf(p, InputTokens)));
    r.outputTokens = toTokens(numberOf(firstOf(p, OutputTokens)));
    r.durationMs = toFloat(numberOf(firstOf(p, DurationMs)));
    r.ttftMs = toFloat(numberOf(firstOf(p, TtftMs)));
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
    QString what = o.value(Vocabulary::messageMember).toString();
    if (what.isEmpty())
        what = o.value(Vocabulary::reasonMember).toString();
    if (kind == LogRecord::Kind::Gap) {
        r.text = what.isEmpty() ? QStringLiteral("gap: events are missing here")
                                : QStringLiteral("gap: ") + what;
    } else if (type == Vocabulary::shutdownEvent) {
        r.text = QStringLiteral("the gateway is shutting down") +
                 (what.isEmpty() ? QString() : QStringLiteral(" (") + what + u')');
    } else if (type == Vocabulary::droppedEvent) {
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

std::optional<LogRecordDecoder::LinkedId> LogRecordDecoder::linkedId(const LogRecord &record)
{
    if (record.isMarker() || !record.payloadIsObject)
        return std::nullopt;
    const QByteArrayView payload = record.payloadJson();
    // Most payloads have neither id: no tree for those.
    if (!payload.contains("_id\"") && !payload.contains('\\'))
        return std::nullopt;
    const QJsonObject o = QJsonDocument::fromJson(payload.toByteArray()).object();
    for (const auto fields : {std::span<const QLatin1StringView>(Vocabulary::traceIdFields),
                              std::span<const QLatin1StringView>(Vocabulary::requestIdFields)}) {
        for (const QLatin1StringView name : fields)
            if (const QJsonValue v = lookup(o, name); isScalar(v))
                return LinkedId{fields.front(), scalarText(v)};
    }
    return std::nullopt;
}
