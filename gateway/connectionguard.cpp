#include "connectionguard.h"

#include <QDateTime>
#include <QTcpSocket>

ConnectionGuard::ConnectionGuard(qint64 maxRequestBytes, int idleTimeoutSeconds, QObject *parent)
    // Twice the largest accepted head: a head between the two is read and refused with 431, a
    // larger one stalls at the buffer's end until the idle timeout closes it.
    : QTcpServer(parent), m_readBufferBytes(2 * maxRequestBytes),
      m_idleTimeoutMs(qint64(idleTimeoutSeconds) * 1000)
{
    setListenBacklogSize(1024);
    m_sweepTimer.setInterval(std::min<qint64>(1000, m_idleTimeoutMs / 2 + 1));
    connect(&m_sweepTimer, &QTimer::timeout, this, &ConnectionGuard::sweep);
    m_sweepTimer.start();
}

void ConnectionGuard::incomingConnection(qintptr handle)
{
    auto *socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(handle)) {
        delete socket;
        return;
    }
    socket->setReadBufferSize(m_readBufferBytes);
    m_connections.insert(socket, Connection{QDateTime::currentMSecsSinceEpoch(), false});
    connect(socket, &QObject::destroyed, this, [this, socket] { m_connections.remove(socket); });
    addPendingConnection(socket);
}

void ConnectionGuard::markStreaming(QTcpSocket *socket)
{
    if (auto it = m_connections.find(socket); it != m_connections.end())
        it->streaming = true;
}

void ConnectionGuard::requestCompleted(QTcpSocket *socket)
{
    if (auto it = m_connections.find(socket); it != m_connections.end())
        it->lastRequestMs = QDateTime::currentMSecsSinceEpoch();
}

void ConnectionGuard::sweep()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (auto it = m_connections.begin(); it != m_connections.end(); ++it) {
        if (it->streaming || now - it->lastRequestMs < m_idleTimeoutMs)
            continue;
        QTcpSocket *socket = it.key();
        if (socket->state() == QAbstractSocket::ConnectedState) {
            ++m_idleClosed;
            socket->abort(); // nothing useful is pending on an idle connection
        }
        // A socket that stays around (aborted, not yet deleted) is not counted again.
        it->streaming = true;
    }
}
