#pragma once

#include <QString>
#include <QtGlobal>

// What the HTTP side shows of the gateway's Redis reader, whichever the transport (a
// RedisSubscriber for pub/sub, a StreamReader for streams): /readyz and /metrics.
class RedisFeed
{
public:
    RedisFeed() = default;
    virtual ~RedisFeed() = default;
    Q_DISABLE_COPY_MOVE(RedisFeed)

    // Subscribed, or reading the stream.
    virtual bool isReady() const = 0;
    virtual QString lastError() const = 0;
    virtual quint64 reconnects() const = 0;
};
