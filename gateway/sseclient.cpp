#include "sseclient.h"

#include "connectionguard.h"

#include <QHttpServerResponder>
#include <QSslSocket>
#include <QTimer>

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>

SseClient::SseClient(QHttpServerResponder &&responder, QHostAddress client,
                     QByteArrayList selection, Headers headers, QByteArray grantToken,
                     QByteArrayList grantChannels)
    : m_responder(std::make_unique<QHttpServerResponder>(std::move(responder))),
      m_socket(m_responder->socket()), m_peer(std::move(client)), m_selection(std::move(selection)),
      m_headers(std::move(headers)), m_grantToken(std::move(grantToken)),
      m_grantChannels(std::move(grantChannels)),
      m_tls(qobject_cast<QSslSocket *>(m_socket.data()) != nullptr)
{}

SseClient::~SseClient()
{
    // The socket may outlive this client (the server deletes it later).
    for (const QMetaObject::Connection &c : m_connections)
        QObject::disconnect(c);
}

void SseClient::setHandlers(std::function<void()> gone, std::function<void()> drained)
{
    m_gone = std::move(gone);
    m_drained = std::move(drained);
    if (!m_socket)
        return;
    m_connections.push_back(
        QObject::connect(m_socket, &QAbstractSocket::disconnected, m_socket, [this] { m_gone(); }));
    m_connections.push_back(
        QObject::connect(m_socket, &QObject::destroyed, m_socket, [this] { m_gone(); }));
    m_connections.push_back(
        QObject::connect(m_socket, &QIODevice::bytesWritten, m_socket, [this] { m_drained(); }));
    if (m_tls)
        m_connections.push_back(QObject::connect(static_cast<QSslSocket *>(m_socket.data()),
                                                 &QSslSocket::encryptedBytesWritten, m_socket,
                                                 [this] { m_drained(); }));
}

qint64 SseClient::pendingBytes() const
{
    if (!m_socket)
        return 0;
    return (m_tls ? ConnectionGuard::unsentBytes(m_socket) : m_socket->bytesToWrite()) +
           m_queuedBytes;
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
    if (!m_socket)
        return;
    flush();
    m_socket->write(bytes);
}

bool SseClient::queue(const QByteArray &bytes)
{
    if (!m_socket)
        return false;
    m_queue.push_back(bytes);
    m_queuedBytes += bytes.size();
    return m_queue.size() == 1;
}

void SseClient::flush()
{
    if (m_queue.empty())
        return;
    // Cleared on every way out; keeps its capacity (no allocation per event-loop pass).
    struct Clear
    {
        SseClient *c;
        ~Clear()
        {
            c->m_queue.clear();
            c->m_queuedBytes = 0;
        }
    } clear{this};
    const std::vector<QByteArray> &frames = m_queue;
    if (!m_socket || m_socket->state() != QAbstractSocket::ConnectedState)
        return;
    // QTcpSocket::write() on an idle socket enables its write notifier and the flush disables
    // it again: with the glib dispatcher that is a linear search of every polled fd, twice per
    // client and event (46 % of the gateway's instructions with 100 clients, by callgrind).
    // While Qt has nothing buffered we write to the descriptor ourselves; order is kept because
    // whatever the kernel refuses, and everything after it, goes to Qt's buffer. Over TLS the
    // bytes must be encrypted first: all of them go through Qt.
    size_t done = 0;
    qint64 offset = 0; // bytes of frames[done] already written
    const qintptr fd = m_socket->socketDescriptor();
    if (!m_tls && m_socket->bytesToWrite() == 0 && fd >= 0) {
        while (done < frames.size()) {
            iovec iov[64];
            int n = 0;
            qint64 total = 0;
            for (size_t i = done; i < frames.size() && n < 64; ++i, ++n) {
                const qint64 skip = i == done ? offset : 0;
                iov[n].iov_base = const_cast<char *>(frames[i].constData() + skip);
                iov[n].iov_len = size_t(frames[i].size() - skip);
                total += frames[i].size() - skip;
            }
            msghdr msg{};
            msg.msg_iov = iov;
            msg.msg_iovlen = size_t(n);
            const ssize_t sent = ::sendmsg(int(fd), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (sent < 0) {
                if (errno == EINTR)
                    continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK)
                    return; // the socket's read notifier reports the broken connection
                break;
            }
            qint64 left = sent;
            while (done < frames.size() && left >= frames[done].size() - offset) {
                left -= frames[done].size() - offset;
                offset = 0;
                ++done;
            }
            offset += left;
            if (sent < total)
                break; // the kernel took only part: the rest waits in Qt's buffer
        }
    }
    for (size_t i = done; i < frames.size(); ++i) {
        if (offset > 0) {
            m_socket->write(frames[i].constData() + offset, frames[i].size() - offset);
            offset = 0;
        } else {
            m_socket->write(frames[i]);
        }
    }
}

void SseClient::close(const QByteArray &finalBytes)
{
    if (!m_socket)
        return;
    flush();
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
