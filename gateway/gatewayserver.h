#pragma once

#include "gatewayconfig.h"

#include <QAbstractHttpServer>

class Hub;
class QHttpServerResponder;
class RedisSubscriber;
class QTcpServer;

// The HTTP face of the gateway: routes requests to the dashboard, the SSE stream and the JSON
// and Prometheus endpoints. Listens through its own QTcpServer for a 1024-connection backlog
// (QAbstractHttpServer::listen() uses Qt's default of 50).
class GatewayServer final : public QAbstractHttpServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GatewayServer)

public:
    GatewayServer(const GatewayConfig &config, Hub *hub, RedisSubscriber *subscriber,
                  QObject *parent = nullptr);
    ~GatewayServer() override;

    bool start(QString *error);
    // Stops accepting connections; open streams are the hub's to close.
    void stopListening();
    quint16 port() const;

    // Validates a ?channels= selection against the allowlist; returns the reason it is refused.
    static QString checkSelection(const QByteArrayList &selection, const QByteArrayList &allowlist);

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    void serveEvents(const QHttpServerRequest &request, QHttpServerResponder &&responder);
    void serveStatic(const QString &path, QHttpServerResponder &responder);
    QByteArray metricsText() const;
    QByteArray channelsJson() const;

    GatewayConfig m_config;
    Hub *m_hub;
    RedisSubscriber *m_subscriber;
    QTcpServer *m_tcp = nullptr;
};
