#include "produceroptions.h"

#include "configoptions.h"

#include <QCoreApplication>
#include <QSysInfo>

#include <algorithm>
#include <limits>

std::optional<ProducerOptions> ProducerOptions::fromArguments(const QStringList &arguments,
                                                              const QStringList &environment,
                                                              QString *output, int *exitCode)
{
    ProducerOptions o;
    using Row = ConfigOptions::Row;
    using Kind = ConfigOptions::Kind;
    const QString programName = QStringLiteral("llmstreamer-producer");
    ConfigOptions options(QStringLiteral("Publishes LLM backend logs to Redis: to pub/sub "
                                         "channels, or to one Redis stream (--transport "
                                         "streams)."));
    options.setProgram(programName);
    options.setNotes(QStringLiteral(
        "Delivery is at least once: a message stays buffered until Redis acknowledges it, and "
        "those in flight when the connection drops are sent again after the reconnect, so a few "
        "may be published twice. Redis pub/sub itself keeps nothing for subscribers that are not "
        "connected; a stream keeps its last --stream-max-entries entries."));

    options.add(RedisUrl::optionRow(&o.redis, QStringLiteral("publish to")));
    for (const Row &row : RedisUrl::tlsOptionRows(&o.redis))
        options.add(row);
    options.add(Row{QStringLiteral("buffer"), QStringLiteral("messages"),
                    QStringLiteral("Messages kept until Redis acknowledges them, e.g. while it is "
                                   "down"),
                    nullptr, QStringLiteral("100000"),
                    ConfigOptions::integer(&o.bufferMessages, 1, 100'000'000,
                                           QStringLiteral("a number of messages"))});
    options.add(Row{QStringLiteral("buffer-bytes"), QStringLiteral("size"),
                    QStringLiteral("Memory cap of that buffer, e.g. 64M"), nullptr,
                    QStringLiteral("64M"),
                    ConfigOptions::size(&o.bufferBytes, 1, std::numeric_limits<qint64>::max(),
                                        QStringLiteral("a size like 64M"))});
    options.add(Transport::kindRow(
        &o.transport, QStringLiteral("pubsub: PUBLISH each message to its channel; streams: XADD "
                                     "it to one Redis stream (--stream-key), which keeps it for "
                                     "readers that come later")));
    // The stream rows are accepted (and ignored) with pubsub: one environment file may serve
    // producers and gateways of either transport.
    options.add(Transport::streamKeyRow(
        &o.transport, QStringLiteral("With --transport streams, the stream to XADD to; each entry "
                                     "has the fields channel and data (the payload)")));
    options.add(Transport::maxEntriesRow(
        &o.transport, QStringLiteral("With --transport streams, the entries the stream keeps: "
                                     "each XADD trims it with MAXLEN ~ n (Redis removes only "
                                     "whole nodes, of 100 entries by default, so up to that many "
                                     "more may stay)")));
    options.add(Transport::partitionsRow(&o.transport));

    ConfigOptions &simulate = options.add(ConfigOptions::Command{
        QStringLiteral("simulate"), QString(),
        QStringLiteral("Generate realistic LLM serving logs (JSON records)"),
        QStringLiteral("Publishes simulated LLM serving logs: JSON records with level, service, "
                       "msg, request_id, gen_ai.request.model, gen_ai.usage.input_tokens/"
                       "output_tokens, duration_ms, ttft_ms and error.type, to "
                       "<prefix>:generation (INFO, DEBUG), <prefix>:errors (WARN, ERROR) and "
                       "<prefix>:metrics (periodic summaries). When the buffer is full (Redis "
                       "down or too slow) the oldest buffered records are dropped and counted, so "
                       "what arrives stays current; with --rate 0 generation pauses instead."),
        [&] {
            o.mode = Mode::Simulate;
            o.service = QSysInfo::machineHostName() + QLatin1Char('-') +
                        QString::number(QCoreApplication::applicationPid());
        }});
    simulate.add(Row{QStringLiteral("rate"), QStringLiteral("n"),
                     QStringLiteral("Records per second in total; 0 = as fast as Redis takes them"),
                     nullptr, QStringLiteral("20"),
                     ConfigOptions::real(&o.rate, 0, 10'000'000,
                                         QStringLiteral("a rate in records per second"))});
    simulate.add(Row{
        QStringLiteral("count"), QStringLiteral("n"), QStringLiteral("Stop after n records"),
        nullptr, QStringLiteral("never"), [&](const QString &v) {
            const auto n = ConfigOptions::parseInteger(v, 1, std::numeric_limits<qint64>::max());
            if (!n)
                return QStringLiteral("\"%1\" is not a number >= 1").arg(v);
            o.count = *n;
            return QString();
        }});
    simulate.add(Row{QStringLiteral("duration"), QStringLiteral("seconds"),
                     QStringLiteral("Stop after this many seconds"), nullptr,
                     QStringLiteral("never"), [&](const QString &v) {
                         const auto n = ConfigOptions::parseReal(v, 0, 1e9);
                         if (!n || *n <= 0)
                             return QStringLiteral("\"%1\" is not a number of seconds > 0").arg(v);
                         o.durationMs = std::max<qint64>(1, qint64(*n * 1000.0));
                         return QString();
                     }});
    simulate.add(Row{QStringLiteral("seed"), QStringLiteral("n"),
                     QStringLiteral("Seed for reproducible records"), nullptr,
                     QStringLiteral("random"), [&](const QString &v) {
                         o.seedSet = true;
                         return ConfigOptions::integer(&o.seed, 0,
                                                       std::numeric_limits<quint32>::max(),
                                                       QStringLiteral("a number"))(v);
                     }});
    simulate.add(Row{QStringLiteral("service"), QStringLiteral("name"),
                     QStringLiteral("The records' service field"), nullptr,
                     QStringLiteral("<hostname>-<pid>"), [&](const QString &v) {
                         o.service = v;
                         return v.isEmpty() ? QStringLiteral("the name is empty") : QString();
                     }});
    simulate.add(Row{QStringLiteral("channel-prefix"), QStringLiteral("prefix"),
                     QStringLiteral("Channels are <prefix>:generation, <prefix>:metrics and "
                                    "<prefix>:errors"),
                     nullptr, QStringLiteral("logs"), [&](const QString &v) {
                         o.channelPrefix = v.toUtf8();
                         return v.isEmpty() ? QStringLiteral("the prefix is empty") : QString();
                     }});

    // Rows pipe and follow share.
    const Row channel{.name = QStringLiteral("channel"),
                      .valueName = QStringLiteral("name"),
                      .help = QStringLiteral("Channel to publish each line to"),
                      .apply =
                          [&](const QString &v) {
                              o.channel = v.toUtf8();
                              return QString();
                          },
                      .required = true,
                      .example = QStringLiteral("--channel logs:app")};
    // 64M is a hard stop: Redis's default pub/sub output buffer limit (32mb, or 8mb for 60 s)
    // disconnects subscribers long before it, so above ~8M it must be raised too.
    const Row maxLineBytes{
        QStringLiteral("max-line-bytes"),
        QStringLiteral("size"),
        QStringLiteral("A longer line is published as its first <size> bytes (cut back to a whole "
                       "UTF-8 character) and \" \u2026 [truncated: N bytes]\"; the rest is skipped "
                       "as it is read, never held. 1K to 64M"),
        "LLMSTREAMER_MAX_LINE_BYTES",
        QStringLiteral("1M"),
        ConfigOptions::size(&o.maxLineBytes, 1024, 64 * 1024 * 1024,
                            QStringLiteral("a size from 1K to 64M"))};
    const Row format{
        QStringLiteral("format"),
        QStringLiteral("format"),
        QStringLiteral("How lines are read: json and logfmt lines become JSON records with the "
                       "clients' field names and the line under \"raw\"; text publishes every "
                       "line as it came; auto decides per line (see README, \"Log formats\"): a "
                       "JSON object, logfmt with a level or message key, else text. vLLM's stats "
                       "lines go to --metrics-channel in every format but text"),
        "LLMSTREAMER_FORMAT",
        QStringLiteral("auto"),
        [&](const QString &v) {
            const auto f = LineParser::formatFromName(v);
            if (!f)
                return QStringLiteral("\"%1\" is not one of auto, json, logfmt, text").arg(v);
            o.format = *f;
            return QString();
        }};
    const Row metricsChannel{QStringLiteral("metrics-channel"),
                             QStringLiteral("name"),
                             QStringLiteral("Channel for the records made of vLLM's periodic "
                                            "throughput and KV cache stats lines"),
                             nullptr,
                             QStringLiteral("logs:metrics"),
                             [&](const QString &v) {
                                 o.metricsChannel = v.toUtf8();
                                 return v.isEmpty() ? QStringLiteral("the name is empty")
                                                    : QString();
                             }};
    const QString lineCap =
        QStringLiteral("Lines longer than --max-line-bytes are cut, with a marker.");

    ConfigOptions &pipe = options.add(ConfigOptions::Command{
        QStringLiteral("pipe"), QStringLiteral("--channel C"),
        QStringLiteral("Publish every line of stdin to channel C"),
        QStringLiteral("Publishes every line of stdin to one channel (split on \\n only; a last "
                       "line without \\n is sent too), as it came or as a JSON record (--format), "
                       "then exits once Redis "
                       "acknowledged all of them. Reading pauses while the buffer is full, so "
                       "nothing is dropped. ") +
            lineCap,
        [&] { o.mode = Mode::Pipe; }});
    pipe.add(channel);
    pipe.add(format);
    pipe.add(metricsChannel);
    pipe.add(maxLineBytes);

    ConfigOptions &follow = options.add(ConfigOptions::Command{
        QStringLiteral("follow"), QStringLiteral("FILE --channel C"),
        QStringLiteral("Publish lines appended to FILE, like tail -F"),
        QStringLiteral("Publishes each line appended to FILE, like tail -F: waits for the file to "
                       "exist, follows it across rotation and truncation. Reading pauses while "
                       "the buffer is full. ") +
            lineCap +
            QStringLiteral(
                "\n\nFILE must keep leading to the same place and owner: if it becomes a "
                "symlink, its symlink is pointed at another file, or the file there belongs to "
                "another user, that file is not read. The producer says so on stderr, keeps "
                "running without publishing, and goes on once FILE leads to a file like the "
                "first one again (restart it to accept the new file, or pass --trust-path, e.g. "
                "for a symlink that a deploy or rotation points at a new file)."),
        [&] { o.mode = Mode::Follow; }});
    follow.add(Row{.name = QStringLiteral("FILE"),
                   .help = QStringLiteral("The file to follow"),
                   .apply =
                       [&](const QString &v) {
                           o.file = v;
                           return QString();
                       },
                   .kind = Kind::Positional,
                   .required = true,
                   .example = QStringLiteral("follow /var/log/app.log --channel logs:app")});
    follow.add(channel);
    follow.add(format);
    follow.add(metricsChannel);
    follow.add(Row{.name = QStringLiteral("from-start"),
                   .help = QStringLiteral("Read the file from its beginning instead of only new "
                                          "lines"),
                   .apply = ConfigOptions::enable(&o.fromStart),
                   .kind = Kind::Switch});
    follow.add(maxLineBytes);
    follow.add(Row{.name = QStringLiteral("trust-path"),
                   .help = QStringLiteral("Also follow FILE when it now leads to another file: it "
                                          "became a symlink, its symlink (or a directory symlink "
                                          "on the way) was pointed elsewhere, or the file there "
                                          "has another owner. Without it such a file is not read "
                                          "(see above)"),
                   .apply = ConfigOptions::enable(&o.trustPath),
                   .kind = Kind::Switch});

    ConfigOptions &otlp = options.add(ConfigOptions::Command{
        QStringLiteral("otlp"), QString(),
        QStringLiteral("Receive OpenTelemetry logs and traces (OTLP/HTTP)"),
        QStringLiteral(
            "An OTLP/HTTP receiver: point an OpenTelemetry exporter at it "
            "(OTEL_EXPORTER_OTLP_ENDPOINT=http://host:4318, OTEL_EXPORTER_OTLP_PROTOCOL="
            "http/protobuf or http/json; gzip is fine). POST /v1/logs: each log record becomes a "
            "JSON record (ts, level, service, msg, trace_id, span_id, attributes) on "
            "--logs-channel. POST /v1/traces: a span with gen_ai.* attributes becomes a "
            "generation record (model, tokens, duration_ms, ttft_ms) on --generation-channel, a "
            "span with an error status a record on --errors-channel, other spans are published "
            "only with --all-spans. The README, \"Connect your LLM service\", has the whole "
            "mapping. While the buffer is full (Redis down for long) requests are answered 503 "
            "with Retry-After, which exporters retry, so nothing is dropped."),
        [&] { o.mode = Mode::Otlp; }});
    otlp.add(Row{QStringLiteral("listen"), QStringLiteral("host:port"),
                 QStringLiteral("Address and port to receive on (4318 is OTLP/HTTP's port); "
                                "[::1]:4318 for IPv6, 0.0.0.0:4318 for every interface"),
                 nullptr, QStringLiteral("127.0.0.1:4318"), [&](const QString &v) {
                     const qsizetype colon = v.lastIndexOf(QLatin1Char(':'));
                     QString host = colon < 0 ? QString() : v.first(colon);
                     if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
                         host = host.mid(1, host.size() - 2);
                     bool ok = false;
                     const uint port = colon < 0 ? 0 : v.sliced(colon + 1).toUInt(&ok);
                     const QHostAddress address(host);
                     if (!ok || port > 65535 || address.isNull())
                         return QStringLiteral("\"%1\" is not an address and port like "
                                               "127.0.0.1:4318")
                             .arg(v);
                     o.otlp.address = address;
                     o.otlp.port = quint16(port);
                     return QString();
                 }});
    otlp.add(Row{QStringLiteral("max-body"), QStringLiteral("size"),
                 QStringLiteral("Largest request body, as sent and once inflated (gzip); larger "
                                "ones are answered 413 before they are read. 1K to 1G"),
                 nullptr, QStringLiteral("16M"),
                 ConfigOptions::size(&o.otlp.maxBodyBytes, 1024, 1024LL * 1024 * 1024,
                                     QStringLiteral("a size from 1K to 1G"))});
    otlp.add(Row{QStringLiteral("token-file"), QStringLiteral("path"),
                 QStringLiteral("Require \"Authorization: Bearer <token>\": the gateway's token "
                                "file format, one \"<token> <channel or glob>...\" per line, "
                                "where the channels are those the token may publish to"),
                 nullptr, QString(), [&](const QString &v) {
                     o.otlp.tokenFile = v;
                     return v.isEmpty() ? QStringLiteral("the path is empty") : QString();
                 }});
    const auto channelRow = [&](const QString &name, const QString &help, const QString &def,
                                QByteArray *field) {
        return Row{name, QStringLiteral("name"), help, nullptr, def, [field](const QString &v) {
                       *field = v.toUtf8();
                       return v.isEmpty() ? QStringLiteral("the name is empty") : QString();
                   }};
    };
    otlp.add(channelRow(QStringLiteral("logs-channel"), QStringLiteral("Channel for log records"),
                        QStringLiteral("logs:otel"), &o.otlp.channels.logs));
    otlp.add(channelRow(QStringLiteral("generation-channel"),
                        QStringLiteral("Channel for spans with gen_ai.* attributes"),
                        QStringLiteral("logs:generation"), &o.otlp.channels.generation));
    otlp.add(channelRow(QStringLiteral("errors-channel"),
                        QStringLiteral("Channel for spans with an error status"),
                        QStringLiteral("logs:errors"), &o.otlp.channels.errors));
    otlp.add(channelRow(QStringLiteral("spans-channel"),
                        QStringLiteral("Channel for the other spans, with --all-spans"),
                        QStringLiteral("logs:spans"), &o.otlp.channels.spans));
    otlp.add(Row{.name = QStringLiteral("all-spans"),
                 .help = QStringLiteral("Publish every span, not only generation and error spans"),
                 .apply = ConfigOptions::enable(&o.otlp.channels.allSpans),
                 .kind = Kind::Switch});

    *exitCode = 0;
    switch (options.parse(arguments, environment, output)) {
    case ConfigOptions::Outcome::Parsed:
        // Read now, so that a wrong path or file is refused at start, not retried forever.
        if (const QString problem = o.redis.tlsProblem(); !problem.isEmpty()) {
            options.refuse(problem, output);
            *exitCode = 2;
            break;
        }
        return o;
    case ConfigOptions::Outcome::Help:
        break;
    case ConfigOptions::Outcome::Version:
        *output = programName + QStringLiteral(" " LLMSTREAMER_VERSION "\n");
        break;
    case ConfigOptions::Outcome::Refused:
        *exitCode = 2;
        break;
    }
    return std::nullopt;
}
