#pragma once

#include "accesspolicy.h"
#include "redisurl.h"
#include "transport.h"
#include "trustedproxies.h"

#include <QByteArrayList>
#include <QHostAddress>
#include <QString>
#include <QStringList>

#include <optional>

// Everything the gateway can be told at start. Flags win over environment variables, which win
// over the defaults below.
struct GatewayConfig
{
    QHostAddress bind = QHostAddress::LocalHost;
    quint16 port = 8000;
    RedisUrl redis;
    QByteArrayList channels{"logs:*"};         // allowlist: names and globs, subscribed to at Redis
    int history = 10000;                       // replay ring, events
    qint64 historyBytes = 256LL * 1024 * 1024; // replay ring, bytes of encoded events
    int maxClients = 1000;
    qint64 maxClientBuffer = 8LL * 1024 * 1024; // unsent bytes before a client is cut loose
    int heartbeatSeconds = 15;
    int retryMilliseconds = 2000; // sent to clients as "retry:"
    AccessPolicy access;          // tokens; empty: unauthenticated
    QString tokenFile;            // where `access` came from (reloaded on SIGHUP)
    // HTTPS with this PEM certificate (chain) and key, both reloaded on SIGHUP; empty: plain HTTP.
    QString tlsCertFile;
    QString tlsKeyFile;
    QByteArrayList corsOrigins; // origins allowed cross-site; empty: CORS off
    int maxClientsPerAddress = 256;
    // Peers whose Forwarded / X-Forwarded-For name the client for limits and logs; empty: none.
    TrustedProxies trustedProxies;
    qint64 maxRequestBytes = 8 * 1024;          // request head; bodies are refused
    int idleTimeoutSeconds = 30;                // for connections that are not event streams
    int headTimeoutSeconds = 10;                // to complete a request head once it began
    int maxConnectionsPerAddress = 256;         // open connections that are not event streams
    qint64 maxPayloadBytes = 4LL * 1024 * 1024; // longer payloads are truncated visibly
    int sessionLifetimeSeconds = 86400;         // browser sessions from ?token= sign-in
    int sessionsPerToken = 100;                 // a new one evicts that token's oldest
    int maxSelection = 64;                      // entries in ?channels=
    int maxGlobLength = 256;                    // bytes per entry
    Transport transport;                        // pub/sub channels or one Redis Stream
    // Streams: the gateway trims the stream to about transport.streamMaxEntries entries and this
    // age (0: no limit), so producers that never trim cannot fill Redis.
    qint64 streamMaxAgeSeconds = 86400;

    // Parses the command line (arguments()[0] is the program) and `env`. On --help/--version
    // it prints and sets `exitCode` to 0; on a bad value it sets `error` naming the option and
    // `exitCode` to 2. Returns nullopt in both cases.
    static std::optional<GatewayConfig> fromArguments(const QStringList &arguments,
                                                      const QStringList &environment,
                                                      QString *output, int *exitCode);
};

// Splits "a, b,,c" into trimmed non-empty channel names/globs and removes entries covered by
// another one, so Redis never delivers one message twice (SUBSCRIBE + a matching PSUBSCRIBE).
QByteArrayList normalizeChannelList(const QString &text);
