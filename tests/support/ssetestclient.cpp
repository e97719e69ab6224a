#include "ssetestclient.h"

#include <QTest>

SseTestClient::SseTestClient(QObject *parent)
    : QObject(parent), m_parser([this](const SseEvent &e) { m_events.append(e); })
{
    connect(&m_socket, &QTcpSocket::readyRead, this, &SseTestClient::handleReadyRead);
}

void SseTestClient::open(quint16 port, const QByteArray &target,
                         const QList<QPair<QByteArray, QByteArray>> &headers)
{
    m_socket.connectToHost(QHostAddress::LocalHost, port);
    QByteArray request =
        "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
    for (const auto &[k, v] : headers)
        request += k + ": " + v + "\r\n";
    request += "\r\n";
    m_socket.write(request);
}

QList<SseEvent> SseTestClient::events(const QByteArray &type) const
{
    QList<SseEvent> out;
    for (const SseEvent &e : m_events)
        if (e.type == type)
            out.append(e);
    return out;
}

void SseTestClient::handleReadyRead()
{
    const QByteArray data = m_socket.readAll();
    if (m_headDone) {
        if (m_headers.value("content-type").startsWith("text/event-stream"))
            m_parser.feed(data);
        else
            m_body += data;
        return;
    }
    m_buffer += data;
    const qsizetype end = m_buffer.indexOf("\r\n\r\n");
    if (end < 0)
        return;
    const QList<QByteArray> lines = m_buffer.left(end).split('\n');
    const QList<QByteArray> statusLine = lines.value(0).trimmed().split(' ');
    m_status = statusLine.value(1).toInt();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines[i].indexOf(':');
        if (colon > 0)
            m_headers.insert(lines[i].left(colon).trimmed().toLower(),
                             lines[i].mid(colon + 1).trimmed());
    }
    m_headDone = true;
    const QByteArray rest = m_buffer.mid(end + 4);
    m_buffer.clear();
    if (m_headers.value("content-type").startsWith("text/event-stream"))
        m_parser.feed(rest);
    else
        m_body += rest;
}

SseTestClient::Response SseTestClient::get(quint16 port, const QByteArray &target,
                                           const QByteArray &method, int timeoutMs)
{
    SseTestClient client;
    client.m_socket.connectToHost(QHostAddress::LocalHost, port);
    client.m_socket.write(method + ' ' + target +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    Response r;
    const bool done = QTest::qWaitFor(
        [&] {
            if (!client.m_headDone)
                return false;
            const QByteArray len = client.m_headers.value("content-length");
            return !len.isEmpty() && client.m_body.size() >= len.toLongLong();
        },
        timeoutMs);
    if (!done)
        return r;
    r.status = client.m_status;
    r.headers = client.m_headers;
    r.body = client.m_body;
    return r;
}
