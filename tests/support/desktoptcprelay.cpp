#include "desktoptcprelay.h"

DesktopTcpRelay::DesktopTcpRelay(quint16 targetPort, QObject *parent)
    : QObject(parent), m_targetPort(targetPort)
{
    connect(&m_server, &QTcpServer::newConnection, this, &DesktopTcpRelay::handleConnection);
}

DesktopTcpRelay::~DesktopTcpRelay()
{
    dropAll();
}

bool DesktopTcpRelay::listen()
{
    return m_server.listen(QHostAddress::LocalHost, 0);
}

void DesktopTcpRelay::handleConnection()
{
    while (QTcpSocket *client = m_server.nextPendingConnection()) {
        ++m_accepted;
        auto *upstream = new QTcpSocket(this);
        client->setParent(this);
        // Bytes from the client wait in its socket until upstream is connected.
        connect(upstream, &QTcpSocket::connected, client, [client, upstream] {
            if (client->bytesAvailable())
                upstream->write(client->readAll());
        });
        connect(client, &QTcpSocket::readyRead, upstream, [client, upstream] {
            if (upstream->state() == QAbstractSocket::ConnectedState)
                upstream->write(client->readAll());
        });
        connect(upstream, &QTcpSocket::readyRead, client,
                [client, upstream] { client->write(upstream->readAll()); });
        connect(client, &QTcpSocket::disconnected, upstream, &QTcpSocket::disconnectFromHost);
        connect(upstream, &QTcpSocket::disconnected, client, &QTcpSocket::disconnectFromHost);
        connect(client, &QTcpSocket::disconnected, client, &QObject::deleteLater);
        connect(upstream, &QTcpSocket::disconnected, upstream, &QObject::deleteLater);
        upstream->connectToHost(QHostAddress::LocalHost, m_targetPort);
        m_pairs.append(Pair{client, upstream});
    }
}

void DesktopTcpRelay::dropAll()
{
    for (const Pair &pair : std::as_const(m_pairs)) {
        if (pair.client)
            pair.client->abort();
        if (pair.upstream)
            pair.upstream->abort();
    }
    m_pairs.clear();
}
