#include "gatewayconfig.h"

#include "channelglob.h"
#include "configoptions.h"

#include <QUrl>

#include <limits>

QByteArrayList normalizeChannelList(const QString &text)
{
    QByteArrayList entries;
    for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const QByteArray entry = part.trimmed().toUtf8();
        if (!entry.isEmpty() && !entries.contains(entry))
            entries.append(entry);
    }
    QByteArrayList kept;
    for (qsizetype i = 0; i < entries.size(); ++i) {
        bool covered = false;
        for (qsizetype j = 0; j < entries.size() && !covered; ++j)
            covered = j != i && ChannelGlob::covers(entries[j], entries[i]) &&
                      // of two globs covering each other, keep the first
                      !(j > i && ChannelGlob::covers(entries[i], entries[j]));
        if (!covered)
            kept.append(entries[i]);
    }
    return kept;
}

std::optional<GatewayConfig> GatewayConfig::fromArguments(const QStringList &arguments,
                                                          const QStringList &environment,
                                                          QString *output, int *exitCode)
{
    GatewayConfig c;
    ConfigOptions options(QStringLiteral(
        "Streams Redis pub/sub channels to browsers and desktop clients as Server-Sent Events.\n"
        "Routes: / (dashboard), /events (SSE), /api/channels, /metrics, /healthz, /readyz."));
    using Row = ConfigOptions::Row;
    const QString clients = QStringLiteral("a number of clients");
    const QString seconds = QStringLiteral("a number of seconds");

    options.add(Row{QStringLiteral("bind"), QStringLiteral("address"),
                    QStringLiteral("Address to listen on. Anything but loopback needs TLS "
                                   "(--tls-cert, or a TLS-terminating proxy) or a trusted "
                                   "network"),
                    "LLMSTREAMER_BIND", QStringLiteral("127.0.0.1"), [&](const QString &v) {
                        return c.bind.setAddress(v.trimmed())
                                   ? QString()
                                   : QStringLiteral("\"%1\" is not an IP address").arg(v);
                    }});
    options.add(Row{QStringLiteral("port"), QStringLiteral("port"),
                    QStringLiteral("TCP port; 0 picks a free one"), "LLMSTREAMER_PORT",
                    QStringLiteral("8000"),
                    ConfigOptions::integer(&c.port, 0, 65535, QStringLiteral("a port number"))});
    options.add(RedisUrl::optionRow(&c.redis, QStringLiteral("subscribe to")));
    for (const Row &row : RedisUrl::tlsOptionRows(&c.redis))
        options.add(row);
    options.add(Row{QStringLiteral("channels"), QStringLiteral("list"),
                    QStringLiteral("Comma-separated allowlist of channel names and globs; "
                                   "clients may only select within it"),
                    "LLMSTREAMER_CHANNELS", QStringLiteral("logs:*"), [&](const QString &v) {
                        c.channels = normalizeChannelList(v);
                        if (c.channels.isEmpty())
                            return QStringLiteral("the allowlist is empty");
                        for (const QByteArray &entry : std::as_const(c.channels))
                            for (char ch : entry)
                                if (static_cast<unsigned char>(ch) < 0x20)
                                    return QStringLiteral("control character in \"%1\"")
                                        .arg(QString::fromUtf8(entry));
                        return QString();
                    }});
    options.add(Row{
        QStringLiteral("history"), QStringLiteral("events"),
        QStringLiteral("Events kept for replay after Last-Event-ID"), "LLMSTREAMER_HISTORY",
        QStringLiteral("10000"),
        ConfigOptions::integer(&c.history, 0, 10'000'000, QStringLiteral("a number of events"))});
    options.add(Row{QStringLiteral("history-bytes"), QStringLiteral("size"),
                    QStringLiteral("Memory cap of the replay history, e.g. 256M"),
                    "LLMSTREAMER_HISTORY_BYTES", QStringLiteral("256M"),
                    ConfigOptions::size(&c.historyBytes, 0, std::numeric_limits<qint64>::max(),
                                        QStringLiteral("a size like 256M"))});
    options.add(Row{QStringLiteral("max-clients"), QStringLiteral("n"),
                    QStringLiteral("Concurrent SSE streams; more get 503"),
                    "LLMSTREAMER_MAX_CLIENTS", QStringLiteral("1000"),
                    ConfigOptions::integer(&c.maxClients, 1, 1'000'000, clients)});
    options.add(
        Row{QStringLiteral("max-client-buffer"), QStringLiteral("size"),
            QStringLiteral("Unsent bytes after which a client that does not read is "
                           "disconnected, e.g. 8M"),
            "LLMSTREAMER_MAX_CLIENT_BUFFER", QStringLiteral("8M"),
            ConfigOptions::size(&c.maxClientBuffer, 64 * 1024, std::numeric_limits<qint64>::max(),
                                QStringLiteral("a size of at least 64K"))});
    options.add(Row{QStringLiteral("heartbeat"), QStringLiteral("seconds"),
                    QStringLiteral("Seconds between keep-alive comments"), "LLMSTREAMER_HEARTBEAT",
                    QStringLiteral("15"),
                    ConfigOptions::integer(&c.heartbeatSeconds, 1, 3600, seconds)});
    options.add(Row{QStringLiteral("token-file"), QStringLiteral("path"),
                    QStringLiteral("File of access tokens, one per line: \"<token> <channel "
                                   "globs> [+metrics]\". With it, every route but /healthz needs "
                                   "a token; SIGHUP reads it again"),
                    "LLMSTREAMER_TOKENS_FILE", QStringLiteral("none, unauthenticated"),
                    [&](const QString &v) {
                        QString why;
                        auto policy = AccessPolicy::load(v, &why);
                        if (!policy)
                            return why;
                        c.access = std::move(*policy);
                        c.tokenFile = v;
                        return QString();
                    }});
    options.add(Row{QStringLiteral("tls-cert"), QStringLiteral("file"),
                    QStringLiteral("Serve HTTPS (TLS 1.2 or newer) with this PEM certificate, "
                                   "followed by its intermediates; needs --tls-key. SIGHUP reads "
                                   "both again (new connections get the new certificate)"),
                    "LLMSTREAMER_TLS_CERT", QStringLiteral("none, plain HTTP"),
                    [&](const QString &v) {
                        c.tlsCertFile = v;
                        return QString();
                    }});
    options.add(Row{QStringLiteral("tls-key"), QStringLiteral("file"),
                    QStringLiteral("The PEM private key of --tls-cert, without a passphrase"),
                    "LLMSTREAMER_TLS_KEY", QStringLiteral("none"), [&](const QString &v) {
                        c.tlsKeyFile = v;
                        return QString();
                    }});
    options.add(Row{QStringLiteral("cors-origin"), QStringLiteral("origins"),
                    QStringLiteral("Comma-separated origins allowed to read the API and streams "
                                   "from other sites, e.g. https://grafana.example"),
                    "LLMSTREAMER_CORS_ORIGIN", QStringLiteral("none"), [&](const QString &v) {
                        for (const QString &part : v.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
                            const QString origin = part.trimmed();
                            const QUrl url(origin, QUrl::StrictMode);
                            if (origin == QLatin1String("*") || !url.isValid() ||
                                url.host().isEmpty() || !url.path().isEmpty() ||
                                (url.scheme() != QLatin1String("http") &&
                                 url.scheme() != QLatin1String("https")))
                                return QStringLiteral("\"%1\" is not an origin like "
                                                      "https://dashboard.example:8443 (no path, "
                                                      "no *)")
                                    .arg(origin);
                            c.corsOrigins.append(origin.toUtf8());
                        }
                        return QString();
                    }});
    options.add(Row{QStringLiteral("max-clients-per-address"), QStringLiteral("n"),
                    QStringLiteral("Concurrent SSE streams from one remote address; more get 429"),
                    "LLMSTREAMER_MAX_CLIENTS_PER_ADDRESS", QStringLiteral("256"),
                    ConfigOptions::integer(&c.maxClientsPerAddress, 1, 1'000'000, clients)});
    options.add(Row{QStringLiteral("trusted-proxies"), QStringLiteral("list"),
                    QStringLiteral("Comma-separated addresses and networks (10.0.0.1, "
                                   "10.0.0.0/8, fd00::/8) of reverse proxies in front of the "
                                   "gateway: for their requests, the client address for "
                                   "per-address limits and logs is the one they forward in "
                                   "Forwarded or X-Forwarded-For (from other peers those "
                                   "headers are ignored)"),
                    "LLMSTREAMER_TRUSTED_PROXIES", QStringLiteral("none"),
                    ConfigOptions::parsed(&c.trustedProxies, &TrustedProxies::parse)});
    options.add(Row{QStringLiteral("max-request-bytes"), QStringLiteral("size"),
                    QStringLiteral("Largest request head accepted, 1K to 64K (Qt's header parser "
                                   "has limits of its own above); the gateway takes no request "
                                   "bodies"),
                    "LLMSTREAMER_MAX_REQUEST_BYTES", QStringLiteral("8K"),
                    ConfigOptions::size(&c.maxRequestBytes, 1024, 64 * 1024,
                                        QStringLiteral("a size from 1K to 64K"))});
    options.add(Row{QStringLiteral("idle-timeout"), QStringLiteral("seconds"),
                    QStringLiteral("Seconds a connection that is not an event stream may stay "
                                   "without completing a request"),
                    "LLMSTREAMER_IDLE_TIMEOUT", QStringLiteral("30"),
                    ConfigOptions::integer(&c.idleTimeoutSeconds, 1, 86400, seconds)});
    options.add(Row{QStringLiteral("max-selection"), QStringLiteral("n"),
                    QStringLiteral("Channels and globs one stream may select with ?channels="),
                    "LLMSTREAMER_MAX_SELECTION", QStringLiteral("64"),
                    ConfigOptions::integer(&c.maxSelection, 1, 10000, QStringLiteral("a number"))});
    options.add(Row{
        QStringLiteral("max-glob-length"), QStringLiteral("bytes"),
        QStringLiteral("Longest channel name or glob in a selection, in bytes"),
        "LLMSTREAMER_MAX_GLOB_LENGTH", QStringLiteral("256"),
        ConfigOptions::integer(&c.maxGlobLength, 1, 65536, QStringLiteral("a number of bytes"))});
    options.add(Row{QStringLiteral("header-timeout"), QStringLiteral("seconds"),
                    QStringLiteral("Seconds a client may take to send a whole request head once "
                                   "it began (then 408 and the connection is closed), and over "
                                   "TLS to complete the handshake"),
                    "LLMSTREAMER_HEADER_TIMEOUT", QStringLiteral("10"),
                    ConfigOptions::integer(&c.headTimeoutSeconds, 1, 3600, seconds)});
    options.add(Row{QStringLiteral("max-connections-per-address"), QStringLiteral("n"),
                    QStringLiteral("Open connections from one remote address that are not event "
                                   "streams; more are answered 429 and closed"),
                    "LLMSTREAMER_MAX_CONNECTIONS_PER_ADDRESS", QStringLiteral("256"),
                    ConfigOptions::integer(&c.maxConnectionsPerAddress, 1, 1'000'000,
                                           QStringLiteral("a number of connections"))});
    options.add(Row{QStringLiteral("max-payload-bytes"), QStringLiteral("size"),
                    QStringLiteral("Longer payloads are cut to this size, with a marker in the "
                                   "text and \"truncated\" in the event"),
                    "LLMSTREAMER_MAX_PAYLOAD_BYTES", QStringLiteral("4M"),
                    ConfigOptions::size(&c.maxPayloadBytes, 1024, 512LL * 1024 * 1024,
                                        QStringLiteral("a size from 1K to 512M"))});
    options.add(Row{QStringLiteral("session-lifetime"), QStringLiteral("seconds"),
                    QStringLiteral("Seconds a browser session from /?token= sign-in lasts"),
                    "LLMSTREAMER_SESSION_LIFETIME", QStringLiteral("86400"),
                    ConfigOptions::integer(&c.sessionLifetimeSeconds, 60, 365LL * 86400, seconds)});
    options.add(
        Row{QStringLiteral("sessions-per-token"), QStringLiteral("n"),
            QStringLiteral("Browser sessions one token may hold; a new sign-in ends its "
                           "oldest"),
            "LLMSTREAMER_SESSIONS_PER_TOKEN", QStringLiteral("100"),
            ConfigOptions::integer(&c.sessionsPerToken, 1, 10000, QStringLiteral("a number"))});

    options.add(Transport::kindRow(
        &c.transport,
        QStringLiteral("pubsub: SUBSCRIBE to the channels of --channels (nothing is kept for a "
                       "gateway that was away); streams: read one Redis stream (--stream-key), "
                       "with ids that are the same on every gateway and resume after restarts")));
    options.add(Transport::streamKeyRow(
        &c.transport, QStringLiteral("With --transport streams, the stream to read; entries have "
                                     "the fields channel and data")));
    options.add(Transport::maxEntriesRow(
        &c.transport, QStringLiteral("With --transport streams, the gateway trims the stream "
                                     "every 10 s to about this many entries")));
    options.add(Transport::partitionsRow(&c.transport));
    options.add(
        Row{QStringLiteral("stream-max-age"), QStringLiteral("seconds"),
            QStringLiteral("With --transport streams, trim entries older than this; 0 = "
                           "no limit"),
            "LLMSTREAMER_STREAM_MAX_AGE", QStringLiteral("86400"),
            ConfigOptions::integer(&c.streamMaxAgeSeconds, 0, 10LL * 365 * 86400, seconds)});

    switch (options.parse(arguments, environment, output)) {
    case ConfigOptions::Outcome::Parsed:
        if (c.tlsCertFile.isEmpty() != c.tlsKeyFile.isEmpty()) {
            options.refuse(
                c.tlsCertFile.isEmpty()
                    ? QStringLiteral("--tls-key needs --tls-cert (LLMSTREAMER_TLS_CERT): "
                                     "the certificate the key belongs to")
                    : QStringLiteral("--tls-cert needs --tls-key (LLMSTREAMER_TLS_KEY): "
                                     "the certificate's private key"),
                output);
            break;
        }
        // Read now, so that a wrong path or file is refused at start, not retried forever.
        if (const QString problem = c.redis.tlsProblem(); !problem.isEmpty()) {
            options.refuse(problem, output);
            break;
        }
        *exitCode = 0;
        return c;
    case ConfigOptions::Outcome::Help:
        *exitCode = 0;
        return std::nullopt;
    case ConfigOptions::Outcome::Version:
        *output = QStringLiteral("llmstreamer-gateway " LLMSTREAMER_VERSION "\n");
        *exitCode = 0;
        return std::nullopt;
    case ConfigOptions::Outcome::Refused:
        break;
    }
    *exitCode = 2;
    return std::nullopt;
}
