#pragma once

#include <QAnyStringView>
#include <QByteArray>
#include <QExplicitlySharedDataPointer>
#include <QSharedData>
#include <QString>

#include <cmath>

// Severity of a log line, ordered so that a minimum-level filter is a comparison.
enum class LogLevel : quint8 { None, Trace, Debug, Info, Warn, Error, Fatal };

// The strings of a line that repeat from line to line; LogRecordDecoder shares one instance
// between all lines with the same four values.
struct LogLabels final : QSharedData
{
    QString channel;
    QString service;
    QString model;
    QString errorType;
};

// One line of the log view: an event from the gateway's feed, picked apart into the columns it
// shows. Kept small, since the view holds 200,000 of them by default: the envelope is kept once
// as received, the message is usually a slice of it, and the labels are shared.
struct LogRecord
{
    enum class Kind : quint8 {
        Message, // an envelope from Redis
        Gap,     // the gateway said events are missing
        Notice,  // something about the stream itself (shutdown, dropped, unreadable event)
    };

    QByteArray raw; // Message: the envelope JSON as received; otherwise the event's data
    QString text;   // the message when it is not a plain slice of `raw` (escapes, markers)
    QExplicitlySharedDataPointer<LogLabels> labels;
    qint64 ts = 0; // ms since the epoch (gateway receive time)
    qint32 inputTokens = -1;
    qint32 outputTokens = -1;
    float durationMs = NAN;
    float ttftMs = NAN;
    quint32 payloadOffset = 0; // where the payload starts in `raw` (Message only)
    quint32 messageOffset = 0; // the message as UTF-8 bytes of `raw`, when `text` is empty
    quint32 messageLength = 0;
    LogLevel level = LogLevel::None;
    Kind kind = Kind::Message;
    bool payloadIsObject = false;

    // Longer messages are cut in the line; the detail view shows the whole payload.
    static constexpr qsizetype maxMessageChars = 2000;

    bool isMarker() const { return kind != Kind::Message; }
    // The text shown in the line, at most maxMessageChars UTF-16 code units (+ an ellipsis).
    QString message() const;
    QString channel() const { return labels ? labels->channel : QString(); }
    QString service() const { return labels ? labels->service : QString(); }
    QString model() const { return labels ? labels->model : QString(); }
    QString errorType() const { return labels ? labels->errorType : QString(); }
    void setLabels(const QString &channel, const QString &service = {}, const QString &model = {},
                   const QString &errorType = {});

    // The payload part of `raw`, as JSON text (the gateway writes it as the envelope's last
    // member, so it runs to the closing brace).
    QByteArrayView payloadJson() const;
    // The full payload for people: pretty-printed JSON, or the text.
    QString prettyPayload() const;
    // The envelope's id, or empty for markers.
    QString id() const;
};

namespace LogLevels {

// "ERROR", "WARN", ... ; empty for None.
QString name(LogLevel level);
// A level name or alias ("warning", "err", "critical", "notice"...), any case.
LogLevel fromName(QAnyStringView name);
// pino/bunyan numbers: 10 trace ... 60 fatal.
LogLevel fromNumber(double value);
// The level a plain-text line announces: "level=warn" or an upper-case word like ERROR.
LogLevel guess(QStringView text);

} // namespace LogLevels
