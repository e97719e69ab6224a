#include "gateway.h"

#include "gatewayserver.h"
#include "hub.h"
#include "redissubscriber.h"

Gateway::Gateway(const GatewayConfig &config, QObject *parent)
    : QObject(parent), m_config(config),
      m_hub(new Hub({config.history, config.historyBytes, config.maxClientBuffer,
                     config.heartbeatSeconds, config.retryMilliseconds, config.maxPayloadBytes},
                    this)),
      m_subscriber(new RedisSubscriber(config.redis, config.channels, this)),
      m_server(new GatewayServer(config, m_hub, m_subscriber, this))
{
    m_subscriber->setMessageHandler([hub = m_hub](QByteArrayView channel, QByteArrayView payload) {
        hub->publish(channel, payload);
    });
    // The clients get what one read from Redis brought at once, without waiting for the queued
    // flush: that would cost another event-loop pass (a poll() over every client socket).
    connect(m_subscriber, &RedisSubscriber::batchEnded, m_hub, &Hub::flushClients);
    connect(m_subscriber, &RedisSubscriber::subscribed, m_hub,
            [this] { m_hub->setRedisSubscribed(true); });
    connect(m_subscriber, &RedisSubscriber::unsubscribed, m_hub,
            [this](const QString &reason) { m_hub->setRedisSubscribed(false, reason); });
}

Gateway::~Gateway()
{
    m_subscriber->stop();
}

bool Gateway::start(QString *error)
{
    if (!m_server->start(error))
        return false;
    m_subscriber->start();
    return true;
}

bool Gateway::reloadTokens(QString *message)
{
    if (m_config.tokenFile.isEmpty()) {
        *message = QStringLiteral("no --token-file: nothing to reload");
        return false;
    }
    QString error;
    auto policy = AccessPolicy::load(m_config.tokenFile, &error);
    if (!policy) {
        *message = QStringLiteral("token file not reloaded, the old tokens stay: %1").arg(error);
        return false;
    }
    const qsizetype tokens = policy->size();
    const int closed = m_server->replaceAccess(std::move(*policy));
    *message = QStringLiteral("token file reloaded: %1 token(s), %2 stream(s) closed")
                   .arg(tokens)
                   .arg(closed);
    return true;
}

void Gateway::shutdown()
{
    m_server->stopListening();
    m_hub->closeAllClients("gateway shutting down");
    m_subscriber->stop();
}

quint16 Gateway::port() const
{
    return m_server->port();
}

QString Gateway::baseUrl() const
{
    QString host = m_config.bind.toString();
    if (m_config.bind == QHostAddress::Any || m_config.bind == QHostAddress::AnyIPv4)
        host = QStringLiteral("127.0.0.1");
    else if (m_config.bind == QHostAddress::AnyIPv6)
        host = QStringLiteral("[::1]");
    else if (m_config.bind.protocol() == QAbstractSocket::IPv6Protocol)
        host = QLatin1Char('[') + host + QLatin1Char(']');
    return QStringLiteral("http://%1:%2").arg(host).arg(port());
}
