// Fuzzes what pipe and follow make of a line (LineParser, producer/lineparser.h, over Logfmt,
// FieldMap and VllmStats): the first byte picks the format, the rest is the line. It must never
// crash; a line left as text comes out byte for byte on the channel; a record is a JSON object
// whose "raw" is the line, on the channel or (stats) the metrics channel, with a level, if it
// has a string one, that FieldMap keeps stable.

#include "fuzzsupport.h"

#include "fieldmap.h"
#include "lineparser.h"

#include <QJsonDocument>
#include <QJsonObject>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const auto format = LineParser::Format(data[0] % 4);
    const QByteArray line = FuzzSupport::view(data + 1, size - 1).toByteArray();
    const LineParser parser(format, "logs:app", "logs:metrics");
    const LineParser::Record record = parser.parse(line);
    if (record.kind == LineParser::Kind::Text) {
        FUZZ_CHECK(record.payload == line);
        FUZZ_CHECK(record.channel == "logs:app");
        return 0;
    }
    FUZZ_CHECK(format != LineParser::Format::Text);
    FUZZ_CHECK(record.channel ==
               (record.kind == LineParser::Kind::Metrics ? "logs:metrics" : "logs:app"));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(record.payload, &error);
    FUZZ_CHECK(error.error == QJsonParseError::NoError && doc.isObject());
    const QJsonObject o = doc.object();
    FUZZ_CHECK(o.value(QLatin1StringView("raw")).toString().toUtf8() == line);
    // A level read again stays what it is (an empty one, no level at all, is left as it came).
    const QJsonValue level = o.value(QLatin1StringView("level"));
    if (level.isString()) {
        const QJsonValue again = FieldMap::levelValue(level);
        FUZZ_CHECK(again == level || (again.isUndefined() && level.toString().trimmed().isEmpty()));
    }
    return 0;
}
