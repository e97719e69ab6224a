#pragma once

#include <QByteArray>
#include <QLatin1StringView>
#include <QStringView>

#include <optional>

// Turns one line read by `pipe` or `follow` into the message to publish (README, "Log formats"):
// a JSON object line or a logfmt line becomes a JSON record with the clients' field names
// (FieldMap) and the line itself under "raw"; a vLLM stats line (VllmStats) becomes a record for
// the metrics channel; anything else, and every line in Format::Text, is published as it came.
// A line that is not valid UTF-8 is always published as it came: a JSON record could not keep
// its bytes; so is one whose record would be over maxRecordFactor times its size.
class LineParser final
{
public:
    enum class Format { Auto, Json, Logfmt, Text };
    // What a line became.
    enum class Kind { Text, Json, Logfmt, Metrics };

    struct Record
    {
        QByteArray channel;
        QByteArray payload;
        Kind kind = Kind::Text;
    };

    static constexpr QLatin1StringView defaultMetricsChannel{"logs:metrics"};
    // A record longer than this many times its line (plus 1 KiB) is not made: the line is
    // published as it came.
    static constexpr qsizetype maxRecordFactor = 3;

    LineParser(Format format, const QByteArray &channel,
               const QByteArray &metricsChannel = QByteArray(defaultMetricsChannel.data(),
                                                             defaultMetricsChannel.size()));

    Format format() const { return m_format; }
    Record parse(QByteArray line) const;

    static std::optional<Format> formatFromName(QStringView name);
    static QLatin1StringView formatName(Format format);

private:
    Format m_format;
    QByteArray m_channel;
    QByteArray m_metricsChannel;
};
