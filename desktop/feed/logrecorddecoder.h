#pragma once

#include "logrecord.h"

#include <QByteArray>
#include <QHash>

#include <optional>

struct SseEvent;

// Turns feed events into log records: envelopes into columns (the payload fields and aliases of
// common/vocabulary.h, read as its header says; level guessed from the text when there is none),
// gap/shutdown/dropped events into marker lines. Repeating strings are shared between records to
// keep the buffer small.
//
// Envelopes are read by a scanner that only looks for the fields the columns need, without
// building a JSON tree: at tens of thousands of events a second QJsonDocument was two thirds of
// the client's CPU time. Anything the scanner does not handle simply (escaped strings, nested
// OpenTelemetry fields, numbers to show as text, a payload without a message field, invalid JSON)
// goes through Envelope::decode instead, and both ways give the same record
// (tst_logrecorddecoder, which also runs tests/fixtures/records.json, the dashboard's table too).
class LogRecordDecoder final
{
public:
    LogRecordDecoder() = default;
    Q_DISABLE_COPY_MOVE(LogRecordDecoder)

    // A record for "message", "gap", "shutdown" and "dropped" events; nullopt for the others
    // ("stats" and event types this client does not know).
    std::optional<LogRecord> decode(const SseEvent &event);
    LogRecord decodeEnvelope(const QByteArray &json);
    // A marker line (kind Gap or Notice) for an event about the stream itself.
    static LogRecord marker(LogRecord::Kind kind, const QByteArray &type, const QByteArray &data);

    // The id that ties a record to others, as both clients show it in their trace/request column:
    // the payload's trace_id, else its request_id (common/vocabulary.h), as text. Read from the
    // payload when asked (the view asks for the rows on screen), not kept in every record.
    struct LinkedId
    {
        QLatin1StringView field;
        QString value;
    };
    static std::optional<LinkedId> linkedId(const LogRecord &record);

    // Tests compare the two ways of reading an envelope.
    void setScannerEnabled(bool enabled) { m_scannerEnabled = enabled; }
    quint64 scanned() const { return m_scanned; }
    quint64 parsed() const { return m_parsed; }

private:
    std::optional<LogRecord> scanEnvelope(const QByteArray &json);
    LogRecord parseEnvelope(const QByteArray &json);
    QExplicitlySharedDataPointer<LogLabels> labels(QByteArrayView channel, QByteArrayView service,
                                                   QByteArrayView model, QByteArrayView errorType);

    QHash<QByteArray, QExplicitlySharedDataPointer<LogLabels>> m_labels;
    QByteArray m_key; // reused for lookups
    bool m_scannerEnabled = true;
    quint64 m_scanned = 0;
    quint64 m_parsed = 0;
};
