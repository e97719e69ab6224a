// Unit tests of the gateway's configuration: defaults, flags, environment variables, every
// refusal naming the option, and allowlist normalization.
#include "gatewayconfig.h"

#include <QTest>

namespace {

QStringList args(std::initializer_list<const char *> list)
{
    QStringList out{QStringLiteral("llmstreamer-gateway")};
    for (const char *a : list)
        out.append(QString::fromUtf8(a));
    return out;
}

QStringList env(std::initializer_list<const char *> list)
{
    QStringList out;
    for (const char *e : list)
        out.append(QString::fromUtf8(e));
    return out;
}

// One setting of a config as text, so one data column can check any of them.
QString setting(const GatewayConfig &c, const QString &name)
{
    if (name == QLatin1String("bind"))
        return c.bind.toString();
    if (name == QLatin1String("port"))
        return QString::number(c.port);
    if (name == QLatin1String("redis"))
        return c.redis.toDisplayString();
    if (name == QLatin1String("channels"))
        return QString::fromUtf8(c.channels.join(','));
    if (name == QLatin1String("history"))
        return QString::number(c.history);
    if (name == QLatin1String("historyBytes"))
        return QString::number(c.historyBytes);
    if (name == QLatin1String("maxClients"))
        return QString::number(c.maxClients);
    if (name == QLatin1String("maxClientBuffer"))
        return QString::number(c.maxClientBuffer);
    if (name == QLatin1String("heartbeat"))
        return QString::number(c.heartbeatSeconds);
    if (name == QLatin1String("tokens"))
        return QString::number(c.access.size());
    if (name == QLatin1String("cors"))
        return QString::fromUtf8(c.corsOrigins.join(','));
    if (name == QLatin1String("maxPerAddress"))
        return QString::number(c.maxClientsPerAddress);
    if (name == QLatin1String("trustedProxies"))
        return c.trustedProxies.toString();
    if (name == QLatin1String("maxRequestBytes"))
        return QString::number(c.maxRequestBytes);
    if (name == QLatin1String("idleTimeout"))
        return QString::number(c.idleTimeoutSeconds);
    if (name == QLatin1String("maxSelection"))
        return QString::number(c.maxSelection);
    if (name == QLatin1String("maxGlobLength"))
        return QString::number(c.maxGlobLength);
    if (name == QLatin1String("transport"))
        return QString::fromUtf8(c.transport.name());
    if (name == QLatin1String("streamKey"))
        return QString::fromUtf8(c.transport.streamKey);
    if (name == QLatin1String("streamMaxEntries"))
        return QString::number(c.transport.streamMaxEntries);
    if (name == QLatin1String("streamMaxAge"))
        return QString::number(c.streamMaxAgeSeconds);
    return QStringLiteral("<unknown setting %1>").arg(name);
}

} // namespace

class tst_GatewayConfig : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void defaults();
    void settings_data();
    void settings();
    void refuses_data();
    void refuses();
    void helpAndVersion_data();
    void helpAndVersion();
    void normalizeChannelList_data();
    void normalizeChannelList();
};

void tst_GatewayConfig::defaults()
{
    QString output;
    int exitCode = -1;
    const auto c = GatewayConfig::fromArguments(args({}), env({"HOME=/root", "PATH=/bin"}), &output,
                                                &exitCode);
    QVERIFY2(c, qPrintable(output));
    QCOMPARE(exitCode, 0);
    QCOMPARE(c->bind, QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(c->port, quint16(8000));
    QCOMPARE(c->redis.toDisplayString(), QStringLiteral("redis://127.0.0.1:6379"));
    QCOMPARE(c->channels, QByteArrayList{"logs:*"});
    QCOMPARE(c->history, 10000);
    QCOMPARE(c->historyBytes, 256LL * 1024 * 1024);
    QCOMPARE(c->maxClients, 1000);
    QCOMPARE(c->maxClientBuffer, 8LL * 1024 * 1024);
    QCOMPARE(c->heartbeatSeconds, 15);
    QCOMPARE(c->retryMilliseconds, 2000);
}

void tst_GatewayConfig::settings_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QStringList>("environment");
    QTest::addColumn<QString>("setting");
    QTest::addColumn<QString>("expected");

    const auto row = [](const char *name, const QStringList &a, const QStringList &e,
                        const char *setting, const char *expected) {
        QTest::newRow(name) << a << e << QString::fromUtf8(setting) << QString::fromUtf8(expected);
    };
    // Flags.
    row("--bind", args({"--bind", "0.0.0.0"}), {}, "bind", "0.0.0.0");
    row("--bind IPv6", args({"--bind=::1"}), {}, "bind", "::1");
    row("--bind trimmed", args({"--bind", " 10.0.0.1 "}), {}, "bind", "10.0.0.1");
    row("--port", args({"--port", "9000"}), {}, "port", "9000");
    row("--port=0", args({"--port=0"}), {}, "port", "0");
    row("--port 65535", args({"--port", "65535"}), {}, "port", "65535");
    row("--redis-url", args({"--redis-url", "redis://:pw@cache:7000/2"}), {}, "redis",
        "redis://:***@cache:7000/2");
    row("--redis-url unix", args({"--redis-url", "unix:///run/redis.sock"}), {}, "redis",
        "unix:///run/redis.sock");
    row("--channels", args({"--channels", "logs:a, logs:b"}), {}, "channels", "logs:a,logs:b");
    row("--channels normalized", args({"--channels", "logs:errors,logs:*,logs:*"}), {}, "channels",
        "logs:*");
    row("--history", args({"--history", "50"}), {}, "history", "50");
    row("--history 0", args({"--history", "0"}), {}, "history", "0");
    row("--history-bytes plain", args({"--history-bytes", "1000"}), {}, "historyBytes", "1000");
    row("--history-bytes K", args({"--history-bytes", "64K"}), {}, "historyBytes", "65536");
    row("--history-bytes M", args({"--history-bytes", "1M"}), {}, "historyBytes", "1048576");
    row("--history-bytes G", args({"--history-bytes", "2G"}), {}, "historyBytes", "2147483648");
    row("--history-bytes MiB", args({"--history-bytes", "3MiB"}), {}, "historyBytes", "3145728");
    row("--history-bytes mb", args({"--history-bytes", "3mb"}), {}, "historyBytes", "3145728");
    row("--history-bytes B", args({"--history-bytes", "512B"}), {}, "historyBytes", "512");
    row("--history-bytes spaced", args({"--history-bytes", " 5 k "}), {}, "historyBytes", "5120");
    row("--max-clients", args({"--max-clients", "5"}), {}, "maxClients", "5");
    row("--max-client-buffer", args({"--max-client-buffer", "64K"}), {}, "maxClientBuffer",
        "65536");
    row("--max-client-buffer M", args({"--max-client-buffer", "16M"}), {}, "maxClientBuffer",
        "16777216");
    row("--heartbeat", args({"--heartbeat", "30"}), {}, "heartbeat", "30");
    row("no tokens by default", args({}), {}, "tokens", "0");
    row("--cors-origin", args({"--cors-origin", "https://a.example, http://b.example:8080"}), {},
        "cors", "https://a.example,http://b.example:8080");
    row("LLMSTREAMER_CORS_ORIGIN", args({}), env({"LLMSTREAMER_CORS_ORIGIN=https://c.example"}),
        "cors", "https://c.example");
    row("--max-clients-per-address", args({"--max-clients-per-address", "4"}), {}, "maxPerAddress",
        "4");
    row("LLMSTREAMER_MAX_CLIENTS_PER_ADDRESS", args({}),
        env({"LLMSTREAMER_MAX_CLIENTS_PER_ADDRESS=9"}), "maxPerAddress", "9");
    row("no trusted proxies by default", args({}), {}, "trustedProxies", "");
    row("--trusted-proxies", args({"--trusted-proxies", "10.0.0.1, 10.1.0.0/16,::1,fd00::/8"}), {},
        "trustedProxies", "10.0.0.1, 10.1.0.0/16, ::1, fd00::/8");
    row("--trusted-proxies full prefix", args({"--trusted-proxies", "10.0.0.1/32,0.0.0.0/0,::/0"}),
        {}, "trustedProxies", "10.0.0.1, 0.0.0.0/0, ::/0");
    row("--trusted-proxies empty", args({"--trusted-proxies="}), {}, "trustedProxies", "");
    row("LLMSTREAMER_TRUSTED_PROXIES", args({}), env({"LLMSTREAMER_TRUSTED_PROXIES=127.0.0.1"}),
        "trustedProxies", "127.0.0.1");
    row("--max-request-bytes", args({"--max-request-bytes", "16K"}), {}, "maxRequestBytes",
        "16384");
    row("--idle-timeout", args({"--idle-timeout", "5"}), {}, "idleTimeout", "5");
    row("LLMSTREAMER_IDLE_TIMEOUT", args({}), env({"LLMSTREAMER_IDLE_TIMEOUT=7"}), "idleTimeout",
        "7");
    row("--max-selection", args({"--max-selection", "3"}), {}, "maxSelection", "3");
    row("--max-glob-length", args({"--max-glob-length", "32"}), {}, "maxGlobLength", "32");
    // Environment variables.
    row("LLMSTREAMER_BIND", args({}), env({"LLMSTREAMER_BIND=0.0.0.0"}), "bind", "0.0.0.0");
    row("LLMSTREAMER_PORT", args({}), env({"LLMSTREAMER_PORT=9001"}), "port", "9001");
    row("REDIS_URL", args({}), env({"REDIS_URL=redis://envhost:6390"}), "redis",
        "redis://envhost:6390");
    row("LLMSTREAMER_CHANNELS", args({}), env({"LLMSTREAMER_CHANNELS=a,b"}), "channels", "a,b");
    row("LLMSTREAMER_HISTORY", args({}), env({"LLMSTREAMER_HISTORY=7"}), "history", "7");
    row("LLMSTREAMER_HISTORY_BYTES", args({}), env({"LLMSTREAMER_HISTORY_BYTES=2M"}),
        "historyBytes", "2097152");
    row("LLMSTREAMER_MAX_CLIENTS", args({}), env({"LLMSTREAMER_MAX_CLIENTS=3"}), "maxClients", "3");
    row("LLMSTREAMER_MAX_CLIENT_BUFFER", args({}), env({"LLMSTREAMER_MAX_CLIENT_BUFFER=1M"}),
        "maxClientBuffer", "1048576");
    row("LLMSTREAMER_HEARTBEAT", args({}), env({"LLMSTREAMER_HEARTBEAT=5"}), "heartbeat", "5");
    row("empty variable means unset", args({}), env({"LLMSTREAMER_PORT="}), "port", "8000");
    row("similar names ignored", args({}),
        env({"LLMSTREAMER_PORTX=1", "XLLMSTREAMER_PORT=2", "llmstreamer_port=3"}), "port", "8000");
    row("value may contain =", args({}), env({"REDIS_URL=redis://:a=b@h"}), "redis",
        "redis://:***@h:6379");
    // Flags beat the environment.
    row("flag beats env port", args({"--port", "9100"}), env({"LLMSTREAMER_PORT=9200"}), "port",
        "9100");
    row("flag beats env redis", args({"--redis-url", "redis://flag"}),
        env({"REDIS_URL=redis://env"}), "redis", "redis://flag:6379");
    row("flag beats bad env", args({"--port", "9100"}), env({"LLMSTREAMER_PORT=abc"}), "port",
        "9100");
    row("flag beats env channels", args({"--channels", "x"}), env({"LLMSTREAMER_CHANNELS=y"}),
        "channels", "x");
    row("env for one, flag for another", args({"--port", "1"}), env({"LLMSTREAMER_HISTORY=2"}),
        "history", "2");
    // The transport.
    row("transport default", args({}), {}, "transport", "pubsub");
    row("--transport streams", args({"--transport", "streams"}), {}, "transport", "streams");
    row("LLMSTREAMER_TRANSPORT", args({}), env({"LLMSTREAMER_TRANSPORT=streams"}), "transport",
        "streams");
    row("stream key default", args({}), {}, "streamKey", "llmstreamer:stream");
    row("--stream-key", args({"--stream-key", "team:logs"}), {}, "streamKey", "team:logs");
    row("LLMSTREAMER_STREAM_KEY", args({}), env({"LLMSTREAMER_STREAM_KEY=k"}), "streamKey", "k");
    row("stream max entries default", args({}), {}, "streamMaxEntries", "1000000");
    row("--stream-max-entries 0", args({"--stream-max-entries", "0"}), {}, "streamMaxEntries", "0");
    row("stream max age default", args({}), {}, "streamMaxAge", "86400");
    row("LLMSTREAMER_STREAM_MAX_AGE", args({}), env({"LLMSTREAMER_STREAM_MAX_AGE=600"}),
        "streamMaxAge", "600");
}

void tst_GatewayConfig::settings()
{
    QFETCH(QStringList, arguments);
    QFETCH(QStringList, environment);
    QFETCH(QString, setting);
    QFETCH(QString, expected);

    QString output;
    int exitCode = -1;
    const auto c = GatewayConfig::fromArguments(arguments, environment, &output, &exitCode);
    QVERIFY2(c, qPrintable(output));
    QCOMPARE(exitCode, 0);
    QCOMPARE(::setting(*c, setting), expected);
}

void tst_GatewayConfig::refuses_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QStringList>("environment");
    QTest::addColumn<QString>("message"); // a part of the output

    const auto row = [](const char *name, const QStringList &a, const QStringList &e,
                        const char *message) {
        QTest::newRow(name) << a << e << QString::fromUtf8(message);
    };
    row("port 70000", args({"--port", "70000"}), {}, "--port: \"70000\"");
    row("port abc", args({"--port", "abc"}), {}, "--port: \"abc\"");
    row("port negative", args({"--port=-1"}), {}, "--port: \"-1\"");
    row("port empty", args({"--port="}), {}, "--port: \"\"");
    row("port from env", args({}), env({"LLMSTREAMER_PORT=abc"}), "LLMSTREAMER_PORT: \"abc\"");
    row("bind nonsense", args({"--bind", "nonsense"}), {}, "--bind: \"nonsense\"");
    row("bind host name", args({"--bind", "localhost"}), {}, "--bind: \"localhost\"");
    row("bind empty", args({"--bind", ""}), {}, "--bind: \"\"");
    row("bind from env", args({}), env({"LLMSTREAMER_BIND=999.1.1.1"}), "LLMSTREAMER_BIND");
    row("bad redis url", args({"--redis-url", "http://h"}), {}, "--redis-url: unsupported scheme");
    row("rediss with a missing CA file",
        args({"--redis-url", "rediss://h", "--redis-ca", "/nonexistent/ca.pem"}), {},
        "cannot read the CA file /nonexistent/ca.pem");
    row("empty redis url", args({"--redis-url", ""}), {}, "--redis-url: empty Redis URL");
    row("bad REDIS_URL", args({}), env({"REDIS_URL=redis://h:0"}), "REDIS_URL: port");
    row("history -1", args({"--history", "-1"}), {}, "--history: \"-1\"");
    row("history too large", args({"--history", "10000001"}), {}, "--history: \"10000001\"");
    row("history abc", args({"--history", "abc"}), {}, "--history: \"abc\"");
    row("history-bytes junk suffix", args({"--history-bytes", "12x"}), {},
        "--history-bytes: \"12x\"");
    row("history-bytes unknown unit", args({"--history-bytes", "1T"}), {},
        "--history-bytes: \"1T\"");
    row("history-bytes doubled unit", args({"--history-bytes", "1MM"}), {},
        "--history-bytes: \"1MM\"");
    row("history-bytes negative", args({"--history-bytes", "-1M"}), {}, "--history-bytes: \"-1M\"");
    row("history-bytes fraction", args({"--history-bytes", "1.5M"}), {},
        "--history-bytes: \"1.5M\"");
    row("history-bytes unit only", args({"--history-bytes", "M"}), {}, "--history-bytes: \"M\"");
    row("history-bytes overflow", args({"--history-bytes", "9999999999999G"}), {},
        "--history-bytes: \"9999999999999G\"");
    row("max-clients 0", args({"--max-clients", "0"}), {}, "--max-clients: \"0\"");
    row("max-clients too many", args({"--max-clients", "1000001"}), {}, "--max-clients");
    row("max-client-buffer 1K", args({"--max-client-buffer", "1K"}), {},
        "--max-client-buffer: \"1K\" is not a size of at least 64K");
    row("max-client-buffer just under", args({"--max-client-buffer", "65535"}), {},
        "--max-client-buffer: \"65535\"");
    row("max-client-buffer junk", args({"--max-client-buffer", "8MB!"}), {},
        "--max-client-buffer: \"8MB!\"");
    row("empty channels", args({"--channels", ""}), {}, "--channels: the allowlist is empty");
    row("only commas", args({"--channels", " , ,"}), {}, "--channels: the allowlist is empty");
    row("control char in channel",
        args({"--channels", "a\x01"
                            "b"}),
        {}, "--channels: control character");
    row("heartbeat 0", args({"--heartbeat", "0"}), {}, "--heartbeat: \"0\"");
    row("heartbeat too long", args({"--heartbeat", "3601"}), {}, "--heartbeat: \"3601\"");
    row("token file missing", args({"--token-file", "/nonexistent/tokens"}), {},
        "--token-file: cannot read /nonexistent/tokens");
    row("token file from env", args({}), env({"LLMSTREAMER_TOKENS_FILE=/nonexistent/t"}),
        "LLMSTREAMER_TOKENS_FILE: cannot read");
    row("cors wildcard", args({"--cors-origin", "*"}), {}, "--cors-origin: \"*\"");
    row("cors with path", args({"--cors-origin", "https://a.example/x"}), {},
        "--cors-origin: \"https://a.example/x\"");
    row("cors bad scheme", args({"--cors-origin", "ftp://a.example"}), {}, "--cors-origin");
    row("max-clients-per-address 0", args({"--max-clients-per-address", "0"}), {},
        "--max-clients-per-address: \"0\"");
    row("trusted proxy host name", args({"--trusted-proxies", "proxy.internal"}), {},
        "--trusted-proxies: \"proxy.internal\" is not an IP address or a network like "
        "10.0.0.0/8 or fd00::/8 (host names are not looked up)");
    row("trusted proxy short IPv4", args({"--trusted-proxies", "127.1"}), {},
        "--trusted-proxies: \"127.1\" is not an IP address");
    row("trusted proxy leading zero", args({"--trusted-proxies", "10.0.0.01"}), {},
        "--trusted-proxies: \"10.0.0.01\" is not an IP address");
    row("trusted proxy bracketed", args({"--trusted-proxies", "[::1]"}), {},
        "--trusted-proxies: \"[::1]\" is not an IP address");
    row("trusted proxy with port", args({"--trusted-proxies", "10.0.0.1:80"}), {},
        "--trusted-proxies: \"10.0.0.1:80\" is not an IP address");
    row("trusted proxy prefix 33", args({"--trusted-proxies", "10.0.0.0/33"}), {},
        "--trusted-proxies: \"10.0.0.0/33\": the prefix length of an IPv4 network is 0 to 32");
    row("trusted proxy prefix 129", args({"--trusted-proxies", "fd00::/129"}), {},
        "--trusted-proxies: \"fd00::/129\": the prefix length of an IPv6 network is 0 to 128");
    row("trusted proxy netmask", args({"--trusted-proxies", "10.0.0.0/255.0.0.0"}), {},
        "the prefix length of an IPv4 network is 0 to 32");
    row("trusted proxy empty prefix", args({"--trusted-proxies", "10.0.0.0/"}), {},
        "the prefix length of an IPv4 network is 0 to 32");
    row("trusted proxy host bits", args({"--trusted-proxies", "10.0.0.1/8"}), {},
        "--trusted-proxies: \"10.0.0.1/8\" has address bits set beyond its /8 prefix; did you "
        "mean 10.0.0.0/8?");
    row("trusted proxy mapped", args({}), env({"LLMSTREAMER_TRUSTED_PROXIES=::ffff:10.0.0.1"}),
        "LLMSTREAMER_TRUSTED_PROXIES: \"::ffff:10.0.0.1\" is an IPv4-mapped IPv6 address: "
        "write 10.0.0.1 instead");
    row("max-request-bytes tiny", args({"--max-request-bytes", "100"}), {},
        "--max-request-bytes: \"100\" is not a size from 1K to 64K");
    row("max-request-bytes huge", args({"--max-request-bytes", "2M"}), {}, "--max-request-bytes");
    row("idle-timeout 0", args({"--idle-timeout", "0"}), {}, "--idle-timeout: \"0\"");
    row("max-selection 0", args({"--max-selection", "0"}), {}, "--max-selection: \"0\"");
    row("max-glob-length 0", args({"--max-glob-length", "0"}), {}, "--max-glob-length: \"0\"");
    row("unknown transport", args({"--transport", "kafka"}), {},
        "--transport: \"kafka\" is not a transport; use pubsub or streams");
    row("bad transport env", args({}), env({"LLMSTREAMER_TRANSPORT=Streams"}),
        "LLMSTREAMER_TRANSPORT: \"Streams\" is not a transport");
    row("empty stream key", args({"--stream-key="}), {}, "--stream-key: the key is empty");
    row("stream max age negative", args({"--stream-max-age", "-1"}), {}, "--stream-max-age");
    row("unknown option", args({"--nope"}), {}, "Unknown option 'nope'");
    row("missing value", args({"--port"}), {}, "Missing value after '--port'");
    row("positional argument", args({"extra"}), {}, "unexpected argument: extra");
}

void tst_GatewayConfig::refuses()
{
    QFETCH(QStringList, arguments);
    QFETCH(QStringList, environment);
    QFETCH(QString, message);

    QString output;
    int exitCode = -1;
    QVERIFY(!GatewayConfig::fromArguments(arguments, environment, &output, &exitCode));
    QCOMPARE(exitCode, 2);
    QVERIFY2(output.contains(message), qPrintable(output));
    QVERIFY(output.contains(QLatin1String("Try --help.")));
}

void tst_GatewayConfig::helpAndVersion_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("expected");

    QTest::newRow("--help") << args({"--help"}) << QStringLiteral("--max-client-buffer <size>");
    QTest::newRow("-h") << args({"-h"}) << QStringLiteral("--redis-url <url>");
    QTest::newRow("help beats bad values")
        << args({"--port", "abc", "--help"}) << QStringLiteral("--port <port>");
    QTest::newRow("--version") << args({"--version"})
                               << QStringLiteral("llmstreamer-gateway " LLMSTREAMER_VERSION "\n");
    QTest::newRow("-v") << args({"-v"})
                        << QStringLiteral("llmstreamer-gateway " LLMSTREAMER_VERSION);
}

void tst_GatewayConfig::helpAndVersion()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, expected);

    QString output;
    int exitCode = -1;
    QVERIFY(!GatewayConfig::fromArguments(arguments, env({"LLMSTREAMER_PORT=abc"}), &output,
                                          &exitCode));
    QCOMPARE(exitCode, 0);
    QVERIFY2(output.contains(expected), qPrintable(output));
}

void tst_GatewayConfig::normalizeChannelList_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QByteArrayList>("expected");

    const auto row = [](const char *name, const char *text, const QByteArrayList &expected) {
        QTest::newRow(name) << QString::fromUtf8(text) << expected;
    };
    row("one", "logs:a", {"logs:a"});
    row("several, order kept", "b,a,c", {"b", "a", "c"});
    row("trimmed", "  a ,\tb\n", {"a", "b"});
    row("empty entries dropped", ",a,,b,", {"a", "b"});
    row("empty", "", {});
    row("only separators", " , ,", {});
    row("duplicates", "a,b,a,b", {"a", "b"});
    row("duplicates after trimming", "a, a ,a", {"a"});
    row("name covered by glob", "logs:errors,logs:*", {"logs:*"});
    row("glob before covered name", "logs:*,logs:errors", {"logs:*"});
    row("narrower glob covered", "logs:e*,logs:*", {"logs:*"});
    row("question covered", "logs:?,logs:*", {"logs:*"});
    row("star covers all", "a,logs:*,*,b?", {"*"});
    row("unrelated kept", "logs:*,other,metrics:*", {"logs:*", "other", "metrics:*"});
    row("overlapping globs both kept", "logs:a*,logs:*b", {"logs:a*", "logs:*b"});
    row("wider glob listed later wins", "logs:*,log*", {"log*"});
    row("identical globs keep one", "logs:*, logs:*", {"logs:*"});
    row("equivalent globs keep the first", "logs:**,logs:*", {"logs:**"});
    row("equivalent classes keep the first", "x:[ab],x:[ba]", {"x:[ab]"});
    row("class member covered", "x:[ab],x:a,x:c", {"x:[ab]", "x:c"});
    row("chain", "a:b:c,a:b:*,a:*", {"a:*"});
    row("escaped name covered by glob", "a\\*,a*", {"a*"});
    row("UTF-8 names", "caf\xC3\xA9,caf?", {"caf\xC3\xA9", "caf?"});
}

void tst_GatewayConfig::normalizeChannelList()
{
    QFETCH(QString, text);
    QFETCH(QByteArrayList, expected);

    QCOMPARE(::normalizeChannelList(text), expected);
}

QTEST_GUILESS_MAIN(tst_GatewayConfig)
#include "tst_gatewayconfig.moc"
