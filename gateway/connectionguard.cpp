#include "connectionguard.h"

#include "requesthead.h"

#include <QDateTime>
#include <QLoggingCategory>
#include <QSslSocket>
#include <QTcpSocket>

#include <sys/socket.h>

Q_DECLARE_LOGGING_CATEGORY(lcHttp)

namespace {

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

const char *reasonPhrase(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}

// Written by the gate itself: Qt never saw the request, so no responder exists for it.
QByteArray errorResponse(int status, const QByteArray &reason)
{
    const QByteArray body = reason + '\n';
    return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) +
           "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
           QByteArray::number(body.size()) +
           "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: "
           "close\r\n\r\n" +
           body;
}

// Puts `bytes` back in front of what `socket` has buffered, in order (QIODevice has no bulk
// unget; at most twice the head limit per call).
void pushBack(QTcpSocket *socket, QByteArrayView bytes)
{
    for (qsizetype i = bytes.size() - 1; i >= 0; --i)
        socket->ungetChar(bytes[i]);
}

void abortLater(QTcpSocket *socket)
{
    // A peer that stops reading would keep the unsent bytes alive forever.
    QTimer::singleShot(5000, socket, [socket] { socket->abort(); });
}

} // namespace

ConnectionGuard::ConnectionGuard(const Limits &limits, QObject *parent)
    : QTcpServer(parent), m_limits(limits)
{
    setListenBacklogSize(1024);
    const qint64 shortest =
        qint64(std::min(m_limits.idleTimeoutSeconds, m_limits.headTimeoutSeconds)) * 1000;
    m_sweepTimer.setInterval(int(std::min<qint64>(1000, shortest / 2 + 1)));
    connect(&m_sweepTimer, &QTimer::timeout, this, &ConnectionGuard::sweep);
    m_sweepTimer.start();
}

void ConnectionGuard::serverBound()
{
    // QAbstractHttpServer connects its readyRead handler to each socket when this signal comes;
    // connected after it, this handler runs after Qt's, for every socket accepted meanwhile.
    connect(this, &QTcpServer::pendingConnectionAvailable, this, [this] {
        for (QTcpSocket *socket : std::as_const(m_newSockets))
            connect(socket, &QIODevice::readyRead, this, [this, socket] { afterQt(socket); });
        m_newSockets.clear();
    });
}

quint64 ConnectionGuard::limitHits(const char *limit) const
{
    const auto it = m_hits.find(limit);
    return it == m_hits.end() ? 0 : it->second;
}

qint64 ConnectionGuard::unsentResponseBytes() const
{
    qint64 total = 0;
    for (auto it = m_connections.cbegin(); it != m_connections.cend(); ++it)
        if (!it->streaming)
            total += unsentBytes(it.key());
    return total;
}

void ConnectionGuard::setTlsConfiguration(const QSslConfiguration &configuration)
{
    m_tls = configuration;
}

qint64 ConnectionGuard::unsentBytes(const QTcpSocket *socket)
{
    // A QSslSocket's own buffer holds what is not encrypted yet; once encrypted, the bytes wait
    // in the buffer of the TCP socket inside it.
    qint64 unsent = socket->bytesToWrite();
    if (const auto *tls = qobject_cast<const QSslSocket *>(socket))
        unsent += tls->encryptedBytesToWrite();
    return unsent;
}

QTcpSocket *ConnectionGuard::acceptSocket(qintptr handle)
{
    QTcpSocket *socket = nullptr;
    if (isTls()) {
        auto *tls = new QSslSocket(this);
        tls->setSslConfiguration(m_tls);
        socket = tls;
    } else {
        socket = new QTcpSocket(this);
    }
    if (!socket->setSocketDescriptor(handle)) {
        delete socket;
        return nullptr;
    }
    return socket;
}

void ConnectionGuard::incomingConnection(qintptr handle)
{
    QTcpSocket *socket = acceptSocket(handle);
    if (!socket)
        return;
    auto *tls = qobject_cast<QSslSocket *>(socket);
    // Twice the largest accepted head: more is not read from the kernel until Qt took a request.
    socket->setReadBufferSize(2 * m_limits.maxRequestBytes);
    Connection c;
    c.peer = socket->peerAddress();
    c.client = c.peer;
    c.lastRequestMs = nowMs();
    // A trusted proxy's connection counts for a client once a head says which one.
    c.proxied = m_limits.trustedProxies.contains(c.peer);
    if (!c.proxied && m_perAddress.value(c.peer) >= m_limits.maxConnectionsPerAddress) {
        // Never handed to Qt: answered and closed here.
        ++m_hits["max_connections_per_address"];
        if (tls) {
            // Nothing can be said before a handshake; a handshake is what the cap saves.
            socket->abort();
            socket->deleteLater();
            return;
        }
        connect(socket, &QAbstractSocket::disconnected, socket, &QObject::deleteLater);
        socket->write(errorResponse(429, "too many connections from " + c.peer.toString().toUtf8() +
                                             " that are not "
                                             "event streams"));
        socket->disconnectFromHost();
        abortLater(socket);
        return;
    }
    if (!c.proxied) {
        ++m_perAddress[c.peer];
        c.counted = true;
    }
    m_connections.insert(socket, c);
    connect(socket, &QObject::destroyed, this, [this, socket] {
        if (auto it = m_connections.find(socket); it != m_connections.end()) {
            uncount(*it);
            m_connections.erase(it);
        }
    });
    // Before Qt's own handler, which QAbstractHttpServer connects once it takes the socket.
    connect(socket, &QIODevice::readyRead, this, [this, socket] { beforeQt(socket); });
    connect(socket, &QIODevice::bytesWritten, this, [this, socket] { resume(socket); });
    if (tls)
        watchHandshake(tls);
    m_newSockets.append(socket);
    addPendingConnection(socket);
    // Qt's handler is connected now; it gets the request's bytes once they are decrypted.
    if (tls)
        tls->startServerEncryption();
}

void ConnectionGuard::watchHandshake(QSslSocket *socket)
{
    Connection &c = m_connections[socket];
    c.handshaking = true;
    c.headStartedMs = c.lastRequestMs; // the handshake is bounded like a request head
    connect(socket, &QSslSocket::encrypted, this, [this, socket] {
        if (auto it = m_connections.find(socket); it != m_connections.end()) {
            it->handshaking = false;
            it->lastRequestMs = nowMs();
            it->headStartedMs = it->held.isEmpty() ? 0 : it->lastRequestMs;
        }
    });
    connect(socket, &QAbstractSocket::errorOccurred, this,
            [this, socket](QAbstractSocket::SocketError error) {
                if (socket->isEncrypted())
                    return; // later errors end the connection as over plain TCP
                // A peer that closed without a word (a port check) is no failed handshake.
                if (error == QAbstractSocket::SslHandshakeFailedError)
                    ++m_hits["tls_handshake"];
                qCDebug(lcHttp, "TLS handshake with %s failed (%d): %s",
                        qUtf8Printable(socket->peerAddress().toString()), int(error),
                        qUtf8Printable(socket->errorString()));
                // Qt's server deletes it on disconnected(), which may not come from here.
                socket->deleteLater();
            });
    // Over TLS the unsent bytes drain from the TCP socket inside: resume as it writes them.
    connect(socket, &QSslSocket::encryptedBytesWritten, this, [this, socket] { resume(socket); });
}

void ConnectionGuard::beforeQt(QTcpSocket *socket)
{
    const auto it = m_connections.find(socket);
    if (it == m_connections.end())
        return;
    Connection &c = *it;
    c.kickQueued = false;
    c.admitted = false;
    // Qt's handler opened a transaction in a turn where it got no bytes: nothing to keep.
    if (socket->isTransactionStarted())
        socket->commitTransaction();
    if (c.streaming || c.closing) {
        socket->skip(socket->bytesAvailable()); // nothing more is parsed on this connection
        return;
    }
    c.held += socket->readAll();
    if (c.held.isEmpty() || c.awaiting || unsentBytes(socket) > m_limits.pauseOutputBytes)
        return; // paused: resume() or releaseRequests() picks up

    const RequestHead head = RequestHead::parse(c.held, m_limits.maxRequestBytes);
    switch (head.state) {
    case RequestHead::State::Incomplete:
        if (c.headStartedMs == 0)
            c.headStartedMs = nowMs();
        return;
    case RequestHead::State::Refused: {
        const char *limit = head.status == 431   ? "max_request_bytes"
                            : head.status == 413 ? "request_body"
                                                 : "bad_request";
        refuse(socket, c, head.status, head.reason, limit);
        return;
    }
    case RequestHead::State::Complete:
        break;
    }
    if (c.proxied && !attribute(socket, c,
                                m_limits.trustedProxies.clientAddress(c.peer, head.forwarded,
                                                                      head.forwardedFor)))
        return;
    // Qt reads this one head, and nothing after it, in its handler that runs next.
    pushBack(socket, QByteArrayView(c.held).first(head.length));
    c.held.remove(0, head.length);
    c.admitted = true;
    c.closeAfter = head.close;
    c.lastRequestMs = nowMs();
    c.headStartedMs = c.held.isEmpty() ? 0 : c.lastRequestMs;
}

void ConnectionGuard::afterQt(QTcpSocket *socket)
{
    const auto it = m_connections.find(socket);
    if (it == m_connections.end())
        return;
    Connection &c = *it;
    if (socket->isTransactionStarted())
        socket->commitTransaction();
    if (c.streaming) {
        // One stream per connection: Qt never parses anything on it again.
        c.held.clear();
        QObject::disconnect(socket, &QIODevice::readyRead, parent(), nullptr);
        return;
    }
    if (c.closing || socket->state() != QAbstractSocket::ConnectedState)
        return;
    if (c.awaiting) {
        // Answered later: what follows waits in the socket's buffer until releaseRequests().
        pushBack(socket, c.held);
        c.held.clear();
        c.admitted = false;
        return;
    }
    if (c.admitted && c.closeAfter) {
        closeConnection(socket, c); // after the response Qt just wrote
        return;
    }
    if (unsentBytes(socket) > m_limits.maxOutputBytes) {
        ++m_hits["max_output_bytes"];
        c.closing = true;
        socket->abort();
        return;
    }
    // Back into the socket's buffer: while it is full, Qt reads nothing more from the kernel.
    pushBack(socket, c.held);
    const bool more = c.admitted && !c.held.isEmpty();
    c.held.clear();
    c.admitted = false;
    if (more && unsentBytes(socket) <= m_limits.pauseOutputBytes)
        kick(socket, c);
}

void ConnectionGuard::holdRequests(QTcpSocket *socket)
{
    if (auto it = m_connections.find(socket); it != m_connections.end())
        it->awaiting = true;
}

void ConnectionGuard::releaseRequests(QTcpSocket *socket)
{
    const auto it = m_connections.find(socket);
    if (it == m_connections.end() || !it->awaiting)
        return;
    Connection &c = *it;
    c.awaiting = false;
    c.lastRequestMs = nowMs();
    if (c.closing || socket->state() != QAbstractSocket::ConnectedState)
        return;
    if (c.closeAfter) {
        closeConnection(socket, c); // after the response just written
        return;
    }
    resume(socket);
}

void ConnectionGuard::resume(QTcpSocket *socket)
{
    const auto it = m_connections.find(socket);
    if (it == m_connections.end() || it->streaming || it->closing || it->awaiting)
        return;
    if (socket->bytesAvailable() > 0 && unsentBytes(socket) <= m_limits.pauseOutputBytes)
        kick(socket, *it);
}

void ConnectionGuard::kick(QTcpSocket *socket, Connection &c)
{
    if (c.kickQueued)
        return;
    c.kickQueued = true;
    QMetaObject::invokeMethod(socket, &QIODevice::readyRead, Qt::QueuedConnection);
}

void ConnectionGuard::markStreaming(QTcpSocket *socket)
{
    if (auto it = m_connections.find(socket); it != m_connections.end()) {
        it->streaming = true;
        uncount(*it);
        // A stream reads no further request: nothing to resume, and a stream's writes are the
        // gateway's hottest path (one bytesWritten per write).
        QObject::disconnect(socket, &QIODevice::bytesWritten, this, nullptr);
        if (auto *tls = qobject_cast<QSslSocket *>(socket))
            QObject::disconnect(tls, &QSslSocket::encryptedBytesWritten, this, nullptr);
    }
}

bool ConnectionGuard::closesAfterResponse(QTcpSocket *socket) const
{
    const auto it = m_connections.constFind(socket);
    return it != m_connections.constEnd() && it->closeAfter;
}

void ConnectionGuard::refuse(QTcpSocket *socket, Connection &c, int status,
                             const QByteArray &reason, const char *limit)
{
    ++m_hits[limit];
    socket->write(errorResponse(status, reason));
    closeConnection(socket, c);
}

void ConnectionGuard::closeConnection(QTcpSocket *socket, Connection &c)
{
    c.closing = true;
    c.held.clear();
    uncount(c);
    QObject::disconnect(socket, &QIODevice::readyRead, parent(), nullptr);
    if (qobject_cast<QSslSocket *>(socket)) {
        // Over TLS the close is TLS's own: the response, then close_notify, then the close
        // (Qt offers no TLS close that keeps reading).
        socket->disconnectFromHost();
        abortLater(socket);
        return;
    }
    // A lingering close, as web servers do: the response, then our FIN, while whatever the client
    // still sends is read and dropped (beforeQt) until it closes too. Closing with unread input
    // makes the kernel reset the connection, and the client may lose the response.
    auto halfClose = [socket] {
        if (socket->bytesToWrite() == 0 && socket->state() == QAbstractSocket::ConnectedState)
            ::shutdown(int(socket->socketDescriptor()), SHUT_WR);
    };
    socket->flush();
    halfClose();
    connect(socket, &QIODevice::bytesWritten, socket, halfClose);
    abortLater(socket);
}

QHostAddress ConnectionGuard::clientAddress(QTcpSocket *socket) const
{
    const auto it = m_connections.constFind(socket);
    return it != m_connections.constEnd() ? it->client : socket->peerAddress();
}

// Counts a trusted proxy's connection for the client of the request it just sent (a proxy may
// send the requests of several clients over one connection), within that client's cap.
bool ConnectionGuard::attribute(QTcpSocket *socket, Connection &c, const QHostAddress &client)
{
    if (c.counted && c.client == client)
        return true;
    uncount(c);
    c.client = client;
    int &fromClient = m_perAddress[client];
    if (fromClient >= m_limits.maxConnectionsPerAddress) {
        refuse(socket, c, 429,
               "too many connections from " + client.toString().toUtf8() +
                   " that are not event streams",
               "max_connections_per_address");
        return false;
    }
    ++fromClient;
    c.counted = true;
    return true;
}

void ConnectionGuard::uncount(Connection &c)
{
    if (!c.counted)
        return;
    c.counted = false;
    if (auto it = m_perAddress.find(c.client); it != m_perAddress.end() && --*it <= 0)
        m_perAddress.erase(it);
}

void ConnectionGuard::sweep()
{
    const qint64 now = nowMs();
    const qint64 idleMs = qint64(m_limits.idleTimeoutSeconds) * 1000;
    const qint64 headMs = qint64(m_limits.headTimeoutSeconds) * 1000;
    // Collected first: closing a socket may change m_connections.
    QList<QTcpSocket *> idle, slow, handshakes;
    for (auto it = m_connections.begin(); it != m_connections.end(); ++it) {
        if (it->streaming || it->closing || it->awaiting)
            continue; // an answer on its way is not idleness
        if (it->headStartedMs != 0 && now - it->headStartedMs >= headMs)
            (it->handshaking ? handshakes : slow).append(it.key());
        else if (now - it->lastRequestMs >= idleMs)
            idle.append(it.key());
    }
    for (QTcpSocket *socket : std::as_const(slow)) {
        if (auto it = m_connections.find(socket); it != m_connections.end())
            refuse(socket, *it, 408,
                   "request head not completed within " +
                       QByteArray::number(m_limits.headTimeoutSeconds) + " s",
                   "head_timeout");
    }
    for (QTcpSocket *socket : std::as_const(handshakes)) {
        auto it = m_connections.find(socket);
        if (it == m_connections.end())
            continue;
        ++m_hits["head_timeout"];
        it->closing = true;
        uncount(*it);
        socket->abort(); // no response can be written before the handshake completed
    }
    for (QTcpSocket *socket : std::as_const(idle)) {
        auto it = m_connections.find(socket);
        if (it == m_connections.end())
            continue;
        ++m_hits["idle_timeout"];
        it->closing = true;
        uncount(*it);
        socket->abort(); // nothing useful is pending on an idle connection
    }
}
