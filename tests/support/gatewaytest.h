#pragma once

// Shared by the gateway's integration tests (they link llmstreamer_gateway; the support library
// does not, hence inline): a gateway on a free port in front of a TestRedis, optionally with a
// token file's text, and starting it until it is subscribed.
#include "accesspolicy.h"
#include "gateway.h"
#include "redissubscriber.h"
#include "testredis.h"

#include <QTest>

#include <memory>

namespace GatewayTest {

inline GatewayConfig config(const TestRedis &redis, const QByteArray &tokenFile = {})
{
    GatewayConfig c;
    c.port = 0;
    c.redis = *RedisUrl::parse(redis.url());
    c.channels = {"logs:*"};
    if (!tokenFile.isEmpty()) {
        QString error;
        auto policy = AccessPolicy::parse(tokenFile, &error);
        Q_ASSERT(policy);
        c.access = *policy;
    }
    return c;
}

// Null when it did not listen or did not subscribe within 10 s.
inline std::unique_ptr<Gateway> start(const GatewayConfig &c)
{
    auto g = std::make_unique<Gateway>(c);
    QString error;
    if (!g->start(&error) ||
        !QTest::qWaitFor([&] { return g->subscriber()->isSubscribed(); }, 10000))
        return nullptr;
    return g;
}

} // namespace GatewayTest
