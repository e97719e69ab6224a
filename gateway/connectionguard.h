#pragma once

#include <QHash>
#include <QTcpServer>
#include <QTimer>

class QTcpSocket;

// The gateway's listening socket, with the limits Qt HttpServer 6.4 lacks: a bounded read buffer
// per connection (so a huge request head or body is never buffered whole) and an idle timeout
// for connections that are not event streams (keep-alive leftovers, slowloris). A 1024-deep
// listen backlog instead of Qt's 50.
class ConnectionGuard final : public QTcpServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionGuard)

public:
    ConnectionGuard(qint64 maxRequestBytes, int idleTimeoutSeconds, QObject *parent = nullptr);

    // The connection now carries an event stream: no idle timeout applies.
    void markStreaming(QTcpSocket *socket);
    // A request arrived whole on `socket`: its idle clock restarts.
    void requestCompleted(QTcpSocket *socket);

    quint64 idleClosed() const { return m_idleClosed; }
    qsizetype connections() const { return m_connections.size(); }

protected:
    void incomingConnection(qintptr handle) override;

private:
    struct Connection
    {
        qint64 lastRequestMs = 0;
        bool streaming = false;
    };
    void sweep();

    qint64 m_readBufferBytes;
    qint64 m_idleTimeoutMs;
    QHash<QTcpSocket *, Connection> m_connections;
    QTimer m_sweepTimer;
    quint64 m_idleClosed = 0;
};
