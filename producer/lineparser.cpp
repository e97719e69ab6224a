#include "lineparser.h"

#include "fieldmap.h"
#include "logfmt.h"
#include "vllmstats.h"
#include "vocabulary.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QStringDecoder>

namespace {

constexpr QLatin1StringView formatNames[] = {QLatin1StringView("auto"), QLatin1StringView("json"),
                                             QLatin1StringView("logfmt"),
                                             QLatin1StringView("text")};

// In `auto`, a logfmt line must look like a log record, not like prose that happens to hold an
// '=': every token a key=value pair, at least two of them, one naming a level or a message.
bool looksLikeLogfmtRecord(const QList<Logfmt::Pair> &pairs)
{
    if (pairs.size() < 2)
        return false;
    bool named = false;
    for (const Logfmt::Pair &pair : pairs) {
        if (!pair.hasValue)
            return false;
        named = named || FieldMap::isLevelOrMessageKey(pair.key);
    }
    return named;
}

QJsonObject objectOf(const QList<Logfmt::Pair> &pairs)
{
    QJsonObject o;
    for (const Logfmt::Pair &pair : pairs) // a repeated key: the last one counts, as in JSON
        o.insert(QString::fromUtf8(pair.key),
                 pair.hasValue ? QJsonValue(QString::fromUtf8(pair.value)) : QJsonValue(true));
    return o;
}

} // namespace

LineParser::LineParser(Format format, const QByteArray &channel, const QByteArray &metricsChannel)
    : m_format(format), m_channel(channel), m_metricsChannel(metricsChannel)
{}

std::optional<LineParser::Format> LineParser::formatFromName(QStringView name)
{
    for (qsizetype i = 0; i < qsizetype(std::size(formatNames)); ++i)
        if (name == formatNames[i])
            return Format(i);
    return std::nullopt;
}

QLatin1StringView LineParser::formatName(Format format)
{
    return formatNames[qsizetype(format)];
}

LineParser::Record LineParser::parse(QByteArray line) const
{
    if (m_format == Format::Text)
        return {m_channel, std::move(line), Kind::Text};
    // The line as text, for "raw"; a byte-order mark stays, as every other byte does.
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless |
                                                     QStringDecoder::Flag::ConvertInitialBom);
    const QString text = decoder.decode(line);
    if (decoder.hasError())
        return {m_channel, std::move(line), Kind::Text};

    QJsonObject record;
    Kind kind = Kind::Text;
    if (m_format == Format::Auto || m_format == Format::Json) {
        const qsizetype start = text.indexOf(QLatin1Char('{'));
        if (start >= 0 && text.first(start).trimmed().isEmpty()) {
            QJsonParseError error;
            const QJsonDocument doc = QJsonDocument::fromJson(line, &error);
            if (error.error == QJsonParseError::NoError && doc.isObject()) {
                record = doc.object();
                kind = Kind::Json;
            }
        }
    }
    if (kind == Kind::Text && (m_format == Format::Auto || m_format == Format::Logfmt)) {
        if (const auto pairs = Logfmt::parse(line);
            pairs && (m_format == Format::Logfmt || looksLikeLogfmtRecord(*pairs))) {
            record = objectOf(*pairs);
            kind = Kind::Logfmt;
        }
    }
    if (kind == Kind::Text) {
        auto stats = VllmStats::parseLine(text);
        if (!stats)
            return {m_channel, std::move(line), Kind::Text};
        record = std::move(*stats);
        kind = Kind::Metrics;
    } else {
        FieldMap::normalize(record);
        // vLLM's stats logged through a JSON or logfmt formatter.
        const QJsonValue msg = record.value(Vocabulary::messageFields[0]);
        if (msg.isString()) {
            if (const auto stats = VllmStats::parse(msg.toString())) {
                for (auto it = stats->begin(); it != stats->end(); ++it)
                    record.insert(it.key(), it.value());
                kind = Kind::Metrics;
            }
        }
    }
    record.insert(Vocabulary::rawField, text);
    QByteArray payload = QJsonDocument(record).toJson(QJsonDocument::Compact);
    // A record holds the line twice (its fields and "raw"); JSON writes a control character as
    // six bytes. Past three times the line's size the line goes as it came, so a message stays
    // within a small multiple of --max-line-bytes, far below Redis's output buffer limits.
    if (payload.size() > maxRecordFactor * line.size() + 1024)
        return {m_channel, std::move(line), Kind::Text};
    return {kind == Kind::Metrics ? m_metricsChannel : m_channel, std::move(payload), kind};
}
