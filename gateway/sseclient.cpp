#include "sseclient.h"

#include "channelglob.h"

#include <QHttpServerResponder>
#include <QTimer>

SseClient::SseClient(QHttpServerResponder &&responder, QByteArrayList selection, Headers headers)
    : m_responder(std::make_unique<QHttpServerResponder>(std::move(responder))),
      m_socket(m_responder->socket()), m_selection(std::move(selection)),
      m_headers(std::move(headers))
{
    if (m_socket)
        m_peer = m_socket->peerAddress();
}

SseClient::~SseClient()
{
    for (const QMetaObject::Connection &c : connections)
        QObject::disconnect(c);
}

void SseClient::begin(int retryMilliseconds, const QByteArray &firstBytes)
{
    m_responder->writeStatusLine(QHttpServerResponder::StatusCode::Ok);
    m_responder->writeHeader("Content-Type", "text/event-stream; charset=utf-8");
    m_responder->writeHeader("Cache-Control", "no-cache");
    m_responder->writeHeader("X-Accel-Buffering", "no");
    m_responder->writeHeader("X-Content-Type-Options", "nosniff");
    for (const auto &[key, value] : std::as_const(m_headers))
        m_responder->writeHeader(key, value);
    // No Content-Length: the body is the rest of the connection.
    m_responder->writeBody(QByteArray("retry: ")
                               .append(QByteArray::number(retryMilliseconds))
                               .append("\n\n")
                               .append(firstBytes));
    if (m_socket) {
        m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        m_socket->flush();
    }
}

void SseClient::write(const QByteArray &bytes)
{
    if (m_socket)
        m_socket->write(bytes);
}

void SseClient::close(const QByteArray &finalBytes)
{
    if (!m_socket)
        return;
    if (!finalBytes.isEmpty())
        m_socket->write(finalBytes);
    m_socket->disconnectFromHost();
    // A peer that stops reading would keep the unsent bytes alive forever.
    QTimer::singleShot(5000, m_socket, [s = m_socket] {
        if (s)
            s->abort();
    });
}

bool SseClient::isConnected() const
{
    return m_socket && m_socket->state() == QAbstractSocket::ConnectedState;
}

bool SseClient::accepts(int channelIndex, const QByteArray &name)
{
    if (m_selection.isEmpty())
        return true;
    auto match = [&] {
        for (const QByteArray &s : std::as_const(m_selection))
            if (ChannelGlob::matches(s, name))
                return true;
        return false;
    };
    if (channelIndex < 0)
        return match();
    if (size_t(channelIndex) >= m_acceptCache.size())
        m_acceptCache.resize(size_t(channelIndex) + 1, -1);
    qint8 &cached = m_acceptCache[size_t(channelIndex)];
    if (cached < 0)
        cached = match() ? 1 : 0;
    return cached == 1;
}
