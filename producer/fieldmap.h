#pragma once

#include <QByteArrayView>
#include <QJsonObject>
#include <QJsonValue>

// The one map from the field names LLM servers and logging libraries write to the names the
// gateway's clients show (common/vocabulary.h): `severity`, `levelname`, `log.level`, pino's
// numeric levels and OpenTelemetry severity numbers become `level` (TRACE … FATAL); `message`,
// `event` … become `msg`; `time`, `timestamp`, `@timestamp` become `ts`; model, token, latency,
// request and trace id names become theirs. The README's "Log formats" table lists every row.
namespace FieldMap {

// For each field, the first alias holding a usable value (a dotted alias is looked up flat, then
// nested, like the clients do) is written under the field's name, normalized (level names, epoch
// numbers as ISO 8601 UTC time, counts and milliseconds as numbers); a flat alias of another name
// is removed, so a value is never shown twice. Other members stay as they are.
void normalize(QJsonObject &record);

// A level name (TRACE, DEBUG, INFO, WARN, ERROR, FATAL) for a level value: a name or one of its
// aliases in any case, or a number. With `otelNumber` a number is an OpenTelemetry severity
// number (1-4 TRACE … 21-24 FATAL); otherwise pino's 10 … 60 come first, then severity numbers.
// Another string is kept as it came; undefined when there is no level in it.
QJsonValue levelValue(const QJsonValue &value, bool otelNumber = false);

// The key names a level or a message (any alias): what makes a logfmt line a record in `auto`.
bool isLevelOrMessageKey(QByteArrayView key);

} // namespace FieldMap
