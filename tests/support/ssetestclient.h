#pragma once

#include "sseparser.h"

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QObject>
#include <QTcpSocket>

// A minimal HTTP/1.1 client for tests: sends one GET over a real socket, parses the response
// head, and (for text/event-stream) feeds the body to SseParser, recording every event. Also
// usable for plain requests via get().
class SseTestClient final : public QObject
{
    Q_OBJECT

public:
    explicit SseTestClient(QObject *parent = nullptr);

    void open(quint16 port, const QByteArray &target,
              const QList<QPair<QByteArray, QByteArray>> &headers = {});
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
    qint64 commentsSeen() const { return m_parser.commentsSeen(); }
    bool isConnected() const { return m_socket.state() == QAbstractSocket::ConnectedState; }
    QTcpSocket *socket() { return &m_socket; }
    bool headComplete() const { return m_headDone; }

private:
    void handleReadyRead();

    QTcpSocket m_socket;
    QByteArray m_buffer;
    QByteArray m_body;
    bool m_headDone = false;
    int m_status = 0;
    QMap<QByteArray, QByteArray> m_headers;
    QList<SseEvent> m_events;
    SseParser m_parser;
};
