#include "ssetestclient.h"

#include "envelope.h"

#include <QTest>

#include <algorithm>

SseTestClient::SseTestClient(QObject *parent)
    : QObject(parent), m_parser([this](const SseEvent &e) { m_events.append(e); })
{
    connect(&m_socket, &QTcpSocket::readyRead, this, &SseTestClient::handleReadyRead);
}

void SseTestClient::open(quint16 port, const QByteArray &target,
                         const QList<QPair<QByteArray, QByteArray>> &headers,
                         const QHostAddress &from)
{
    if (from != QHostAddress::LocalHost)
        m_socket.bind(from);
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

QByteArrayList SseTestClient::ids(const QByteArray &type) const
{
    QByteArrayList out;
    for (const SseEvent &e : m_events)
        if (e.type == type)
            out.append(e.lastEventId);
    return out;
}

QByteArrayList SseTestClient::payloads() const
{
    QByteArrayList out;
    for (const SseEvent &e : m_events) {
        if (e.type != "message")
            continue;
        const auto envelope = Envelope::decode(e.data);
        out.append(envelope ? envelope->payload.toString().toUtf8() : QByteArray("<bad>"));
    }
    return out;
}

void SseTestClient::handleReadyRead()
{
    const QByteArray data = m_socket.readAll();
    if (m_headDone) {
        consumeBody(data);
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
    m_chunked = m_headers.value("transfer-encoding").toLower() == "chunked";
    const QByteArray rest = m_buffer.mid(end + 4);
    m_buffer.clear();
    consumeBody(rest);
}

void SseTestClient::consumeBody(const QByteArray &bytes)
{
    if (!m_chunked) {
        deliver(bytes);
        return;
    }
    m_chunkBuffer += bytes;
    while (!m_bodyDone) {
        if (m_chunkLeft > 0) {
            const qsizetype n = qsizetype(std::min<qint64>(m_chunkLeft, m_chunkBuffer.size()));
            if (n == 0)
                return;
            deliver(m_chunkBuffer.left(n));
            m_chunkBuffer.remove(0, n);
            m_chunkLeft -= n;
            if (m_chunkLeft > 0)
                return;
            m_chunkEnd = true;
        }
        if (m_chunkEnd) {
            if (m_chunkBuffer.size() < 2)
                return;
            m_chunkBuffer.remove(0, 2);
            m_chunkEnd = false;
        }
        const qsizetype eol = m_chunkBuffer.indexOf("\r\n");
        if (eol < 0)
            return;
        bool ok = false;
        const qint64 size =
            m_chunkBuffer.left(eol).split(';').first().trimmed().toLongLong(&ok, 16);
        m_chunkBuffer.remove(0, eol + 2);
        m_bodyDone = !ok || size <= 0; // the last chunk (trailers are of no interest here)
        m_chunkLeft = m_bodyDone ? 0 : size;
    }
}

void SseTestClient::deliver(const QByteArray &bytes)
{
    if (m_headers.value("content-type").startsWith("text/event-stream"))
        m_parser.feed(bytes);
    else
        m_body += bytes;
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
