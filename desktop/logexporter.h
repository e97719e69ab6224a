#pragma once

#include <QByteArray>
#include <QString>

#include <functional>

struct LogRecord;

// Writes log lines to a file, atomically (QSaveFile: an existing file is only replaced once the
// new one is complete). NDJSON keeps each envelope exactly as the gateway sent it, one per line;
// text is what the view shows, one line per record.
namespace LogExporter {

enum class Format { Ndjson, Text };

// .ndjson, .jsonl and .json mean NDJSON; anything else text.
Format formatForPath(const QString &path);
QByteArray ndjsonLine(const LogRecord &record);
QString textLine(const LogRecord &record);

// Writes `count` records, recordAt(0) first. Returns false with `error` in plain words.
bool write(const QString &path, Format format, qsizetype count,
           const std::function<const LogRecord &(qsizetype)> &recordAt, QString *error);

} // namespace LogExporter
