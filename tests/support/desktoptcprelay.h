#pragma once

#include <QList>
#include <QObject>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>

// A TCP relay in front of a server, for tests that need the network between a client and the
// gateway to fail: dropAll() cuts every relayed connection at once (both ends see it closed),
// while the relay keeps accepting, as after a flaky Wi-Fi or a proxy restart.
class DesktopTcpRelay final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DesktopTcpRelay)

public:
    explicit DesktopTcpRelay(quint16 targetPort, QObject *parent = nullptr);
    ~DesktopTcpRelay() override;

    bool listen();
    quint16 port() const { return m_server.serverPort(); }
    void dropAll();
    int connectionsAccepted() const { return m_accepted; }

private:
    void handleConnection();

    struct Pair
    {
        QPointer<QTcpSocket> client;
        QPointer<QTcpSocket> upstream;
    };

    QTcpServer m_server;
    quint16 m_targetPort;
    QList<Pair> m_pairs;
    int m_accepted = 0;
};
