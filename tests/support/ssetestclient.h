#pragma once

#include "sseparser.h"

#include <QByteArray>
#include <QByteArrayList>
#include <QHostAddress>
#include <QList>
#include <QMap>
#include <QObject>
#include <QTcpSocket>

// A minimal HTTP/1.1 client for tests: sends one GET over a real socket, parses the response
// head, and (for text/event-stream) feeds the body to SseParser, recording every event; a
// chunked body (from a proxy such as nginx) is decoded first. Also usable for plain requests via
// get().
class SseTestClient final : public QObject
{
    Q_OBJECT

public:
    explicit SseTestClient(QObject *parent = nullptr);

    // Connects to 127.0.0.1:`port`, from `from` (another loopback address, e.g. 127.0.0.2, for
    // a client with an address of its own).
    void open(quint16 port, const QByteArray &target,
              const QList<QPair<QByteArray, QByteArray>> &headers = {},
              const QHostAddress &from = QHostAddress::LocalHost);
    void close() { m_socket.abort(); }

    // One-shot request; returns false on timeout.
    struct Response
    {
        int status = 0;
        QMap<QByteArray, QByteArray> headers; // lower-case names
        QByteArray body;
    };
    static Response get(quint16 port, const QByteArray &target, const QByteArray &method = "GET",
                        int timeoutMs = 5000);

    int status() const { return m_status; }
    QByteArray header(const QByteArray &lowerName) const { return m_headers.value(lowerName); }
    QByteArray body() const { return m_body; } // raw body bytes (non-SSE responses)
    const QList<SseEvent> &events() const { return m_events; }
    // Events of one type (e.g. "message", "gap", "stats").
    QList<SseEvent> events(const QByteArray &type) const;
    qsizetype count(const QByteArray &type = "message") const { return events(type).size(); }
    // The ids of the events of one type, in order.
    QByteArrayList ids(const QByteArray &type = "message") const;
    // The payloads of the message events' envelopes as text ("<bad>" for one that is not an
    // envelope), in order.
    QByteArrayList payloads() const;
    qint64 commentsSeen() const { return m_parser.commentsSeen(); }
    bool isConnected() const { return m_socket.state() == QAbstractSocket::ConnectedState; }
    QTcpSocket *socket() { return &m_socket; }
    bool headComplete() const { return m_headDone; }
    // The response ended: its last chunk arrived, or the connection closed.
    bool ended() const { return m_bodyDone || !isConnected(); }

private:
    void handleReadyRead();
    void consumeBody(const QByteArray &bytes);
    void deliver(const QByteArray &bytes);

    QTcpSocket m_socket;
    QByteArray m_buffer;
    QByteArray m_body;
    bool m_headDone = false;
    int m_status = 0;
    QMap<QByteArray, QByteArray> m_headers;
    bool m_chunked = false;
    QByteArray m_chunkBuffer; // chunked body bytes not decoded yet
    qint64 m_chunkLeft = 0;   // data bytes of the current chunk still to come
    bool m_chunkEnd = false;  // the CRLF after a chunk's data is due
    bool m_bodyDone = false;  // the last chunk arrived
    QList<SseEvent> m_events;
    SseParser m_parser;
};
