#pragma once

#include <QByteArray>

#include <map>

class ConnectionGuard;
class Hub;
class RedisFeed;

// The body of /metrics: the Prometheus text exposition of the hub's per-channel and client
// counters, the Redis subscription, and the HTTP side's limits, auth failures and sessions.
class GatewayMetrics final
{
public:
    struct Sources
    {
        const Hub &hub;
        const RedisFeed &redis;
        const ConnectionGuard *tcp; // null before the gateway listens
        const std::map<QByteArray, quint64> &limitHits;
        const std::map<QByteArray, quint64> &authFailures;
        qsizetype sessions;
    };

    static QByteArray text(const Sources &in);
};
