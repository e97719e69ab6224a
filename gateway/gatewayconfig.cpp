#include "gatewayconfig.h"

#include "channelglob.h"
#include "configvalue.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QUrl>

namespace {

struct Source
{
    const QCommandLineParser &parser;
    const QStringList &environment;

    // The flag's value if given (even an empty one), else the environment variable's unless it
    // is empty, else nothing.
    std::optional<QString> value(const QCommandLineOption &option, const char *envName) const
    {
        if (parser.isSet(option))
            return parser.value(option);
        return ConfigValue::fromEnvironment(environment, QLatin1StringView(envName));
    }
    // Where a value came from, for messages: "--port" or "LLMSTREAMER_PORT".
    QString origin(const QCommandLineOption &option, const char *envName) const
    {
        if (parser.isSet(option))
            return QStringLiteral("--") + option.names().constLast();
        return QLatin1String(envName);
    }
};

} // namespace

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
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Streams Redis pub/sub channels to browsers and desktop clients as Server-Sent Events.\n"
        "Routes: / (dashboard), /events (SSE), /api/channels, /metrics, /healthz, /readyz."));
    const QCommandLineOption help(QStringList{QStringLiteral("h"), QStringLiteral("help")},
                                  QStringLiteral("Show this help."));
    const QCommandLineOption version(QStringList{QStringLiteral("v"), QStringLiteral("version")},
                                     QStringLiteral("Show the version."));
    const QCommandLineOption bind(
        QStringLiteral("bind"),
        QStringLiteral("Address to listen on [LLMSTREAMER_BIND, default 127.0.0.1]. Use 0.0.0.0 "
                       "only behind a TLS proxy or on a trusted network."),
        QStringLiteral("address"));
    const QCommandLineOption port(
        QStringLiteral("port"),
        QStringLiteral("TCP port; 0 picks a free one [LLMSTREAMER_PORT, default 8000]."),
        QStringLiteral("port"));
    const QCommandLineOption redisUrl(
        QStringLiteral("redis-url"),
        QStringLiteral("Redis to subscribe to: redis://[[user]:password@]host[:port][/db] or "
                       "unix:///path [REDIS_URL, default redis://127.0.0.1:6379]."),
        QStringLiteral("url"));
    const QCommandLineOption channels(
        QStringLiteral("channels"),
        QStringLiteral("Comma-separated allowlist of channel names and globs; clients may only "
                       "select within it [LLMSTREAMER_CHANNELS, default logs:*]."),
        QStringLiteral("list"));
    const QCommandLineOption history(
        QStringLiteral("history"),
        QStringLiteral("Events kept for replay after Last-Event-ID [LLMSTREAMER_HISTORY, default "
                       "10000]."),
        QStringLiteral("events"));
    const QCommandLineOption historyBytes(
        QStringLiteral("history-bytes"),
        QStringLiteral("Memory cap of the replay history, e.g. 256M [LLMSTREAMER_HISTORY_BYTES, "
                       "default 256M]."),
        QStringLiteral("size"));
    const QCommandLineOption maxClients(
        QStringLiteral("max-clients"),
        QStringLiteral("Concurrent SSE streams; more get 503 [LLMSTREAMER_MAX_CLIENTS, default "
                       "1000]."),
        QStringLiteral("n"));
    const QCommandLineOption maxClientBuffer(
        QStringLiteral("max-client-buffer"),
        QStringLiteral("Unsent bytes after which a client that does not read is disconnected, "
                       "e.g. 8M [LLMSTREAMER_MAX_CLIENT_BUFFER, default 8M]."),
        QStringLiteral("size"));
    const QCommandLineOption heartbeat(
        QStringLiteral("heartbeat"),
        QStringLiteral("Seconds between keep-alive comments [LLMSTREAMER_HEARTBEAT, default 15]."),
        QStringLiteral("seconds"));
    const QCommandLineOption tokenFile(
        QStringLiteral("token-file"),
        QStringLiteral("File of access tokens, one per line: \"<token> <channel globs>\". With "
                       "it, every route but /healthz needs a token [LLMSTREAMER_TOKENS_FILE, "
                       "default: none, unauthenticated]."),
        QStringLiteral("path"));
    const QCommandLineOption corsOrigin(
        QStringLiteral("cors-origin"),
        QStringLiteral("Comma-separated origins allowed to read the API and streams from other "
                       "sites, e.g. https://grafana.example [LLMSTREAMER_CORS_ORIGIN, default "
                       "none]."),
        QStringLiteral("origins"));
    const QCommandLineOption maxPerAddress(
        QStringLiteral("max-clients-per-address"),
        QStringLiteral("Concurrent SSE streams from one remote address; more get 429 "
                       "[LLMSTREAMER_MAX_CLIENTS_PER_ADDRESS, default 256]."),
        QStringLiteral("n"));
    const QCommandLineOption maxRequestBytes(
        QStringLiteral("max-request-bytes"),
        QStringLiteral("Largest request head accepted, 1K to 64K; the gateway takes no request "
                       "bodies [LLMSTREAMER_MAX_REQUEST_BYTES, default 8K]."),
        QStringLiteral("size"));
    const QCommandLineOption headTimeout(
        QStringLiteral("header-timeout"),
        QStringLiteral("Seconds a client may take to send a whole request head once it began; "
                       "then 408 and the connection is closed [LLMSTREAMER_HEADER_TIMEOUT, "
                       "default 10]."),
        QStringLiteral("seconds"));
    const QCommandLineOption maxConnectionsPerAddress(
        QStringLiteral("max-connections-per-address"),
        QStringLiteral("Open connections from one remote address that are not event streams; "
                       "more are answered 429 and closed "
                       "[LLMSTREAMER_MAX_CONNECTIONS_PER_ADDRESS, default 256]."),
        QStringLiteral("n"));
    const QCommandLineOption maxPayloadBytes(
        QStringLiteral("max-payload-bytes"),
        QStringLiteral("Longer payloads are cut to this size, with a marker in the text and "
                       "\"truncated\" in the event [LLMSTREAMER_MAX_PAYLOAD_BYTES, default 4M]."),
        QStringLiteral("size"));
    const QCommandLineOption sessionLifetime(
        QStringLiteral("session-lifetime"),
        QStringLiteral("Seconds a browser session from /?token= sign-in lasts "
                       "[LLMSTREAMER_SESSION_LIFETIME, default 86400]."),
        QStringLiteral("seconds"));
    const QCommandLineOption sessionsPerToken(
        QStringLiteral("sessions-per-token"),
        QStringLiteral("Browser sessions one token may hold; a new sign-in ends its oldest "
                       "[LLMSTREAMER_SESSIONS_PER_TOKEN, default 100]."),
        QStringLiteral("n"));
    const QCommandLineOption idleTimeout(
        QStringLiteral("idle-timeout"),
        QStringLiteral("Seconds a connection that is not an event stream may stay without "
                       "completing a request [LLMSTREAMER_IDLE_TIMEOUT, default 30]."),
        QStringLiteral("seconds"));
    const QCommandLineOption maxSelection(
        QStringLiteral("max-selection"),
        QStringLiteral("Channels and globs one stream may select with ?channels= "
                       "[LLMSTREAMER_MAX_SELECTION, default 64]."),
        QStringLiteral("n"));
    const QCommandLineOption maxGlobLength(
        QStringLiteral("max-glob-length"),
        QStringLiteral("Longest channel name or glob in a selection, in bytes "
                       "[LLMSTREAMER_MAX_GLOB_LENGTH, default 256]."),
        QStringLiteral("bytes"));
    parser.addOptions({help,
                       version,
                       bind,
                       port,
                       redisUrl,
                       channels,
                       history,
                       historyBytes,
                       maxClients,
                       maxClientBuffer,
                       heartbeat,
                       tokenFile,
                       corsOrigin,
                       maxPerAddress,
                       maxRequestBytes,
                       idleTimeout,
                       maxSelection,
                       maxGlobLength,
                       headTimeout,
                       maxConnectionsPerAddress,
                       maxPayloadBytes,
                       sessionLifetime,
                       sessionsPerToken});

    auto fail = [&](const QString &message) -> std::optional<GatewayConfig> {
        *output = message + QStringLiteral("\nTry --help.\n");
        *exitCode = 2;
        return std::nullopt;
    };
    if (!parser.parse(arguments))
        return fail(parser.errorText());
    if (!parser.positionalArguments().isEmpty())
        return fail(
            QStringLiteral("unexpected argument: %1").arg(parser.positionalArguments().first()));
    if (parser.isSet(help)) {
        *output = parser.helpText();
        *exitCode = 0;
        return std::nullopt;
    }
    if (parser.isSet(version)) {
        *output = QStringLiteral("llmstreamer-gateway " LLMSTREAMER_VERSION "\n");
        *exitCode = 0;
        return std::nullopt;
    }

    const Source src{parser, environment};
    GatewayConfig config;
    QString text; // the value being checked and
    QString name; // where it came from, for messages

    auto given = [&](const QCommandLineOption &option, const char *env) {
        const std::optional<QString> value = src.value(option, env);
        text = value.value_or(QString());
        name = src.origin(option, env);
        return value.has_value();
    };
    auto integer = [&](const QCommandLineOption &option, const char *env, qint64 min, qint64 max,
                       auto &target) -> bool {
        if (!given(option, env))
            return true;
        bool ok = false;
        const qint64 n = text.trimmed().toLongLong(&ok);
        if (!ok || n < min || n > max)
            return false;
        target = static_cast<std::remove_reference_t<decltype(target)>>(n);
        return true;
    };

    if (given(bind, "LLMSTREAMER_BIND") && !config.bind.setAddress(text.trimmed()))
        return fail(QStringLiteral("%1: \"%2\" is not an IP address").arg(name, text));
    if (!integer(port, "LLMSTREAMER_PORT", 0, 65535, config.port))
        return fail(QStringLiteral("%1: \"%2\" is not a port number (0-65535)").arg(name, text));
    if (given(redisUrl, "REDIS_URL")) {
        QString why;
        const auto url = RedisUrl::parse(text, &why);
        if (!url)
            return fail(QStringLiteral("%1: %2").arg(name, why));
        config.redis = *url;
    }
    if (given(channels, "LLMSTREAMER_CHANNELS")) {
        config.channels = normalizeChannelList(text);
        if (config.channels.isEmpty())
            return fail(QStringLiteral("%1: the allowlist is empty").arg(name));
        for (const QByteArray &c : std::as_const(config.channels)) {
            for (char ch : c)
                if (static_cast<unsigned char>(ch) < 0x20)
                    return fail(QStringLiteral("%1: control character in \"%2\"")
                                    .arg(name, QString::fromUtf8(c)));
        }
    }
    if (!integer(history, "LLMSTREAMER_HISTORY", 0, 10'000'000, config.history))
        return fail(
            QStringLiteral("%1: \"%2\" is not a number of events (0-10000000)").arg(name, text));
    if (given(historyBytes, "LLMSTREAMER_HISTORY_BYTES")) {
        const auto n = ConfigValue::parseSize(text);
        if (!n)
            return fail(QStringLiteral("%1: \"%2\" is not a size like 256M").arg(name, text));
        config.historyBytes = *n;
    }
    if (!integer(maxClients, "LLMSTREAMER_MAX_CLIENTS", 1, 1'000'000, config.maxClients))
        return fail(
            QStringLiteral("%1: \"%2\" is not a number of clients (1-1000000)").arg(name, text));
    if (given(maxClientBuffer, "LLMSTREAMER_MAX_CLIENT_BUFFER")) {
        const auto n = ConfigValue::parseSize(text);
        if (!n || *n < 64 * 1024)
            return fail(QStringLiteral("%1: \"%2\" is not a size of at least 64K").arg(name, text));
        config.maxClientBuffer = *n;
    }
    if (!integer(heartbeat, "LLMSTREAMER_HEARTBEAT", 1, 3600, config.heartbeatSeconds))
        return fail(
            QStringLiteral("%1: \"%2\" is not a number of seconds (1-3600)").arg(name, text));
    if (given(tokenFile, "LLMSTREAMER_TOKENS_FILE")) {
        QString why;
        auto policy = AccessPolicy::load(text, &why);
        if (!policy)
            return fail(QStringLiteral("%1: %2").arg(name, why));
        config.access = std::move(*policy);
        config.tokenFile = text;
    }
    if (given(corsOrigin, "LLMSTREAMER_CORS_ORIGIN")) {
        for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            const QString origin = part.trimmed();
            const QUrl url(origin, QUrl::StrictMode);
            if (origin == QLatin1String("*") || !url.isValid() || url.host().isEmpty() ||
                !url.path().isEmpty() ||
                (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")))
                return fail(QStringLiteral("%1: \"%2\" is not an origin like "
                                           "https://dashboard.example:8443 (no path, no *)")
                                .arg(name, origin));
            config.corsOrigins.append(origin.toUtf8());
        }
    }
    if (!integer(maxPerAddress, "LLMSTREAMER_MAX_CLIENTS_PER_ADDRESS", 1, 1'000'000,
                 config.maxClientsPerAddress))
        return fail(
            QStringLiteral("%1: \"%2\" is not a number of clients (1-1000000)").arg(name, text));
    if (given(maxRequestBytes, "LLMSTREAMER_MAX_REQUEST_BYTES")) {
        const auto n = ConfigValue::parseSize(text);
        // Qt's header parser has limits of its own above 64K; the gate stays within them.
        if (!n || *n < 1024 || *n > 64 * 1024)
            return fail(QStringLiteral("%1: \"%2\" is not a size from 1K to 64K").arg(name, text));
        config.maxRequestBytes = *n;
    }
    if (!integer(idleTimeout, "LLMSTREAMER_IDLE_TIMEOUT", 1, 86400, config.idleTimeoutSeconds))
        return fail(
            QStringLiteral("%1: \"%2\" is not a number of seconds (1-86400)").arg(name, text));
    if (!integer(maxSelection, "LLMSTREAMER_MAX_SELECTION", 1, 10000, config.maxSelection))
        return fail(QStringLiteral("%1: \"%2\" is not a number (1-10000)").arg(name, text));
    if (!integer(maxGlobLength, "LLMSTREAMER_MAX_GLOB_LENGTH", 1, 65536, config.maxGlobLength))
        return fail(
            QStringLiteral("%1: \"%2\" is not a number of bytes (1-65536)").arg(name, text));
    if (!integer(headTimeout, "LLMSTREAMER_HEADER_TIMEOUT", 1, 3600, config.headTimeoutSeconds))
        return fail(
            QStringLiteral("%1: \"%2\" is not a number of seconds (1-3600)").arg(name, text));
    if (!integer(maxConnectionsPerAddress, "LLMSTREAMER_MAX_CONNECTIONS_PER_ADDRESS", 1, 1'000'000,
                 config.maxConnectionsPerAddress))
        return fail(QStringLiteral("%1: \"%2\" is not a number of connections (1-1000000)")
                        .arg(name, text));
    if (given(maxPayloadBytes, "LLMSTREAMER_MAX_PAYLOAD_BYTES")) {
        const auto n = ConfigValue::parseSize(text);
        if (!n || *n < 1024 || *n > 512LL * 1024 * 1024)
            return fail(QStringLiteral("%1: \"%2\" is not a size from 1K to 512M").arg(name, text));
        config.maxPayloadBytes = *n;
    }
    if (!integer(sessionLifetime, "LLMSTREAMER_SESSION_LIFETIME", 60, 365LL * 86400,
                 config.sessionLifetimeSeconds))
        return fail(
            QStringLiteral("%1: \"%2\" is not a number of seconds (60-31536000)").arg(name, text));
    if (!integer(sessionsPerToken, "LLMSTREAMER_SESSIONS_PER_TOKEN", 1, 10000,
                 config.sessionsPerToken))
        return fail(QStringLiteral("%1: \"%2\" is not a number (1-10000)").arg(name, text));
    *exitCode = 0;
    return config;
}
