#pragma once

#include "gatewayconfig.h"

#include <QObject>
#include <QString>

class GatewayServer;
class Hub;
class RedisSubscriber;

// The whole gateway as one object: the Redis subscription feeding the hub, and the HTTP server
// in front of it. main() and the integration tests both run exactly this.
class Gateway final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Gateway)

public:
    explicit Gateway(const GatewayConfig &config, QObject *parent = nullptr);
    ~Gateway() override;

    // Listens and starts subscribing (Redis may come later; /readyz tells).
    bool start(QString *error);
    // Reads the token file again (SIGHUP): sessions and streams of removed or changed tokens
    // end. On an unreadable or malformed file the old tokens stay. `message` says what happened.
    bool reloadTokens(QString *message);
    // Stops accepting, tells every stream it is closing, and drops the subscription.
    void shutdown();

    quint16 port() const;
    QString baseUrl() const;
    Hub *hub() const { return m_hub; }
    RedisSubscriber *subscriber() const { return m_subscriber; }
    const GatewayConfig &config() const { return m_config; }

private:
    GatewayConfig m_config;
    Hub *m_hub;
    RedisSubscriber *m_subscriber;
    GatewayServer *m_server;
};
