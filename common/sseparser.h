#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <functional>

// One dispatched server-sent event.
struct SseEvent
{
    QByteArray type; // "message" unless the stream named it
    QByteArray data;
    QByteArray lastEventId;
};

// Incremental parser for a text/event-stream, following the WHATWG "server-sent events"
// interpretation rules: CR, LF and CRLF line ends (also split across chunks), a leading BOM,
// comments, multi-line data, id (ignored when it contains NUL), retry (digits only).
// Feed it bytes as they arrive; it calls back for each complete event.
class SseParser final
{
public:
    using EventHandler = std::function<void(const SseEvent &)>;

    explicit SseParser(EventHandler onEvent);

    // Parses `chunk`; returns false once a line grew beyond maxLineSize() (the stream is then
    // unusable and should be dropped).
    bool feed(QByteArrayView chunk);
    // Forgets partial input (use on reconnect); keeps the last event id.
    void reset();

    // The id to send as Last-Event-ID on reconnect: set when an event is dispatched (a blank
    // line), never by the "id:" of an event that has not been completed yet.
    QByteArray lastEventId() const { return m_lastEventId; }
    // Set by a "retry:" field; -1 until the stream sent one.
    int retryMilliseconds() const { return m_retry; }
    qint64 commentsSeen() const { return m_comments; }

    qsizetype maxLineSize() const { return m_maxLine; }
    void setMaxLineSize(qsizetype bytes) { m_maxLine = bytes; }

private:
    void processLine(QByteArrayView line);
    void openDataLine();
    // A field's value: what follows its colon, less one leading space.
    static QByteArrayView fieldValue(QByteArrayView afterColon);
    // One data line's value into the event's data buffer (lines joined by LF).
    void appendData(QByteArrayView value);
    void clearPartial();
    qsizetype lineLength() const;

    EventHandler m_onEvent;
    QByteArray m_partial;   // an incomplete line carried over between chunks
    QByteArray m_data;      // data buffer of the event being built
    QByteArray m_eventType; // event type buffer
    QByteArray m_idBuffer;  // last event ID buffer: "id:" of the event being built
    QByteArray m_lastEventId;
    bool m_hasData = false;
    // > 0 while a data line cut by a chunk's end is open (its value goes straight to m_data):
    // the bytes of that line so far, for the line-length cap.
    qsizetype m_openLineLength = 0;
    bool m_skipLf = false; // the previous chunk ended in CR: a leading LF belongs to it
    bool m_bomChecked = false;
    bool m_failed = false;
    int m_retry = -1;
    qint64 m_comments = 0;
    qsizetype m_maxLine = 64 * 1024 * 1024;
};
