#include "produceroptions.h"

#include "configvalue.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QSysInfo>

#include <cmath>

namespace {

const QString programName = QStringLiteral("llmstreamer-producer");

std::optional<double> parseNumber(const QString &text, double min)
{
    bool ok = false;
    const double n = text.trimmed().toDouble(&ok);
    if (!ok || !std::isfinite(n) || n < min)
        return std::nullopt;
    return n;
}

std::optional<qint64> parseInteger(const QString &text, qint64 min)
{
    bool ok = false;
    const qint64 n = text.trimmed().toLongLong(&ok);
    if (!ok || n < min)
        return std::nullopt;
    return n;
}

struct GlobalOptions
{
    QCommandLineOption help{QStringList{QStringLiteral("h"), QStringLiteral("help")},
                            QStringLiteral("Show this help.")};
    QCommandLineOption version{QStringList{QStringLiteral("v"), QStringLiteral("version")},
                               QStringLiteral("Show the version.")};
    QCommandLineOption redisUrl{
        QStringLiteral("redis-url"),
        QStringLiteral("Redis to publish to: redis://[[user]:password@]host[:port][/db] or "
                       "unix:///path [REDIS_URL, default redis://127.0.0.1:6379]."),
        QStringLiteral("url")};
    QCommandLineOption buffer{
        QStringLiteral("buffer"),
        QStringLiteral("Messages kept until Redis acknowledges them, e.g. while it is down "
                       "[default 100000]."),
        QStringLiteral("messages")};
    QCommandLineOption bufferBytes{
        QStringLiteral("buffer-bytes"),
        QStringLiteral("Memory cap of that buffer, e.g. 64M [default 64M]."),
        QStringLiteral("size")};

    void addTo(QCommandLineParser &parser) const
    {
        parser.addOptions({help, version, redisUrl, buffer, bufferBytes});
    }
};

const QString delivery = QStringLiteral(
    "Delivery is at least once: a message stays buffered until Redis acknowledges it, and those "
    "in flight when the connection drops are sent again after the reconnect, so a few may be "
    "published twice. Redis pub/sub itself keeps nothing for subscribers that are not connected.");

QString topLevelDescription()
{
    return QStringLiteral(
               "Publishes LLM backend logs to Redis pub/sub.\n\n"
               "Commands:\n"
               "  simulate            Generate realistic LLM serving logs (JSON records).\n"
               "  pipe --channel C    Publish every line of stdin to channel C.\n"
               "  follow FILE --channel C\n"
               "                      Publish lines appended to FILE, like tail -F.\n\n"
               "Run '%1 <command> --help' for the options of a command.\n\n")
               .arg(programName) +
           delivery;
}

} // namespace

std::optional<ProducerOptions> ProducerOptions::fromArguments(const QStringList &arguments,
                                                              const QStringList &environment,
                                                              QString *output, int *exitCode)
{
    auto usageError = [&](const QString &message) -> std::optional<ProducerOptions> {
        *output = programName + QStringLiteral(": ") + message +
                  QStringLiteral("\nTry '%1 --help'.\n").arg(programName);
        *exitCode = 2;
        return std::nullopt;
    };
    auto printed = [&](const QString &text) -> std::optional<ProducerOptions> {
        *output = text;
        *exitCode = 0;
        return std::nullopt;
    };

    const GlobalOptions global;
    QCommandLineParser top;
    top.setApplicationDescription(topLevelDescription());
    global.addTo(top);
    top.addPositionalArgument(QStringLiteral("command"),
                              QStringLiteral("simulate, pipe or follow."),
                              QStringLiteral("<command> [options]"));
    // Everything after the command is the command's, parsed below.
    top.setOptionsAfterPositionalArgumentsMode(QCommandLineParser::ParseAsPositionalArguments);
    if (!top.parse(arguments))
        return usageError(top.errorText());
    if (top.isSet(global.version))
        return printed(programName + QStringLiteral(" " LLMSTREAMER_VERSION "\n"));
    const QStringList positional = top.positionalArguments();
    if (positional.isEmpty()) {
        if (top.isSet(global.help))
            return printed(top.helpText());
        return usageError(QStringLiteral("no command given; use simulate, pipe or follow"));
    }

    ProducerOptions options;
    const QString command = positional.first();
    if (command == QLatin1StringView("simulate"))
        options.mode = Mode::Simulate;
    else if (command == QLatin1StringView("pipe"))
        options.mode = Mode::Pipe;
    else if (command == QLatin1StringView("follow"))
        options.mode = Mode::Follow;
    else
        return usageError(
            QStringLiteral("unknown command \"%1\"; use simulate, pipe or follow").arg(command));

    QCommandLineParser sub;
    global.addTo(sub); // global options may also follow the command
    const QCommandLineOption rate(
        QStringLiteral("rate"),
        QStringLiteral(
            "Records per second in total; 0 = as fast as Redis takes them [default 20]."),
        QStringLiteral("n"));
    const QCommandLineOption count(QStringLiteral("count"),
                                   QStringLiteral("Stop after n records [default: never]."),
                                   QStringLiteral("n"));
    const QCommandLineOption duration(QStringLiteral("duration"),
                                      QStringLiteral("Stop after this many seconds [default: "
                                                     "never]."),
                                      QStringLiteral("seconds"));
    const QCommandLineOption seed(QStringLiteral("seed"),
                                  QStringLiteral("Seed for reproducible records [default: "
                                                 "random]."),
                                  QStringLiteral("n"));
    const QCommandLineOption service(QStringLiteral("service"),
                                     QStringLiteral("The records' service field [default "
                                                    "<hostname>-<pid>]."),
                                     QStringLiteral("name"));
    const QCommandLineOption channelPrefix(
        QStringLiteral("channel-prefix"),
        QStringLiteral("Channels are <prefix>:generation, <prefix>:metrics and <prefix>:errors "
                       "[default logs]."),
        QStringLiteral("prefix"));
    const QCommandLineOption channel(QStringLiteral("channel"),
                                     QStringLiteral("Channel to publish each line to."),
                                     QStringLiteral("name"));
    const QCommandLineOption fromStart(
        QStringLiteral("from-start"),
        QStringLiteral("Read the file from its beginning instead of only new lines."));
    const QCommandLineOption maxLineBytes(
        QStringLiteral("max-line-bytes"),
        QStringLiteral("A longer line is published as its first <size> bytes (cut back to a whole "
                       "UTF-8 character) and \" \u2026 [truncated: N bytes]\"; the rest is "
                       "skipped as it is read, never held. 1K to 64M "
                       "[LLMSTREAMER_MAX_LINE_BYTES, default 1M]."),
        QStringLiteral("size"));
    const QCommandLineOption trustPath(
        QStringLiteral("trust-path"),
        QStringLiteral("Also follow FILE when it now leads to another file: it became a "
                       "symlink, its symlink (or a directory symlink on the way) was pointed "
                       "elsewhere, or the file there has another owner. Without it such a file "
                       "is not read (see above)."));

    switch (options.mode) {
    case Mode::Simulate:
        sub.setApplicationDescription(
            QStringLiteral("Publishes simulated LLM serving logs: JSON records with level, "
                           "service, msg, request_id, gen_ai.request.model, "
                           "gen_ai.usage.input_tokens/output_tokens, duration_ms, ttft_ms and "
                           "error.type, to <prefix>:generation (INFO, DEBUG), <prefix>:errors "
                           "(WARN, ERROR) and <prefix>:metrics (periodic summaries). When the "
                           "buffer is full (Redis down or too slow) the oldest buffered records "
                           "are dropped and counted, so what arrives stays current; with --rate "
                           "0 generation pauses instead.\n\n") +
            delivery);
        sub.addPositionalArgument(QStringLiteral("simulate"), QStringLiteral("The command."));
        sub.addOptions({rate, count, duration, seed, service, channelPrefix});
        break;
    case Mode::Pipe:
        sub.setApplicationDescription(
            QStringLiteral("Publishes every line of stdin, byte for byte, to one channel "
                           "(split on \\n only; a last line without \\n is sent too), then exits "
                           "once Redis acknowledged all of them. Reading pauses while the buffer "
                           "is full, so nothing is dropped. Lines longer than --max-line-bytes "
                           "are cut, with a marker.\n\n") +
            delivery);
        sub.addPositionalArgument(QStringLiteral("pipe"), QStringLiteral("The command."));
        sub.addOptions({channel, maxLineBytes});
        break;
    case Mode::Follow:
        sub.setApplicationDescription(
            QStringLiteral("Publishes each line appended to FILE, like tail -F: waits for the "
                           "file to exist, follows it across rotation and truncation. Reading "
                           "pauses while the buffer is full. Lines longer than --max-line-bytes "
                           "are cut, with a marker.\n\n"
                           "FILE must keep leading to the same place and owner: if it becomes a "
                           "symlink, its symlink is pointed at another file, or the file there "
                           "belongs to another user, that file is not read. The producer says "
                           "so on stderr, keeps running without publishing, and goes on once "
                           "FILE leads to a file like the first one again (restart it to accept "
                           "the new file, or pass --trust-path, e.g. for a symlink that a deploy "
                           "or rotation points at a new file).\n\n") +
            delivery);
        sub.addPositionalArgument(QStringLiteral("follow"), QStringLiteral("The command."));
        sub.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("The file to follow."));
        sub.addOptions({channel, fromStart, maxLineBytes, trustPath});
        break;
    }
    if (!sub.parse(QStringList{arguments.value(0, programName)} + positional.mid(1)))
        return usageError(sub.errorText());
    if (sub.isSet(global.help) || top.isSet(global.help))
        return printed(sub.helpText());
    if (sub.isSet(global.version))
        return printed(programName + QStringLiteral(" " LLMSTREAMER_VERSION "\n"));

    // A global option given after the command wins over one given before it.
    auto globalValue = [&](const QCommandLineOption &option) {
        return sub.isSet(option) ? sub.value(option) : top.value(option);
    };
    auto globalSet = [&](const QCommandLineOption &option) {
        return sub.isSet(option) || top.isSet(option);
    };

    QString text = globalSet(global.redisUrl)
                       ? globalValue(global.redisUrl)
                       : ConfigValue::fromEnvironment(environment, QLatin1StringView("REDIS_URL"))
                             .value_or(QString());
    if (!text.isEmpty() || globalSet(global.redisUrl)) {
        QString why;
        const auto url = RedisUrl::parse(text, &why);
        if (!url)
            return usageError(QStringLiteral("%1: %2").arg(globalSet(global.redisUrl)
                                                               ? QStringLiteral("--redis-url")
                                                               : QStringLiteral("REDIS_URL"),
                                                           why));
        options.redis = *url;
    }
    if (globalSet(global.buffer)) {
        text = globalValue(global.buffer);
        const auto n = parseInteger(text, 1);
        if (!n || *n > 100'000'000)
            return usageError(
                QStringLiteral("--buffer: \"%1\" is not a number of messages (1-100000000)")
                    .arg(text));
        options.bufferMessages = qsizetype(*n);
    }
    if (globalSet(global.bufferBytes)) {
        text = globalValue(global.bufferBytes);
        const auto n = ConfigValue::parseSize(text);
        if (!n || *n == 0)
            return usageError(
                QStringLiteral("--buffer-bytes: \"%1\" is not a size like 64M").arg(text));
        options.bufferBytes = *n;
    }

    const QStringList rest = sub.positionalArguments();
    switch (options.mode) {
    case Mode::Simulate:
        if (!rest.isEmpty())
            return usageError(
                QStringLiteral("simulate: unexpected argument \"%1\"").arg(rest.first()));
        if (sub.isSet(rate)) {
            const auto n = parseNumber(sub.value(rate), 0);
            if (!n || *n > 10'000'000)
                return usageError(
                    QStringLiteral("--rate: \"%1\" is not a rate in records per second "
                                   "(0-10000000)")
                        .arg(sub.value(rate)));
            options.rate = *n;
        }
        if (sub.isSet(count)) {
            const auto n = parseInteger(sub.value(count), 1);
            if (!n)
                return usageError(
                    QStringLiteral("--count: \"%1\" is not a number >= 1").arg(sub.value(count)));
            options.count = *n;
        }
        if (sub.isSet(duration)) {
            const auto n = parseNumber(sub.value(duration), 0);
            if (!n || *n <= 0 || *n > 1e9)
                return usageError(
                    QStringLiteral("--duration: \"%1\" is not a number of seconds > 0")
                        .arg(sub.value(duration)));
            options.durationMs = std::max<qint64>(1, qint64(*n * 1000.0));
        }
        if (sub.isSet(seed)) {
            bool ok = false;
            options.seed = sub.value(seed).trimmed().toUInt(&ok);
            if (!ok)
                return usageError(QStringLiteral("--seed: \"%1\" is not a number (0-4294967295)")
                                      .arg(sub.value(seed)));
            options.seedSet = true;
        }
        options.service = sub.isSet(service)
                              ? sub.value(service)
                              : QSysInfo::machineHostName() + QLatin1Char('-') +
                                    QString::number(QCoreApplication::applicationPid());
        if (options.service.isEmpty())
            return usageError(QStringLiteral("--service: the name is empty"));
        if (sub.isSet(channelPrefix)) {
            options.channelPrefix = sub.value(channelPrefix).toUtf8();
            if (options.channelPrefix.isEmpty())
                return usageError(QStringLiteral("--channel-prefix: the prefix is empty"));
        }
        break;
    case Mode::Pipe:
    case Mode::Follow:
        if (options.mode == Mode::Follow) {
            if (rest.isEmpty())
                return usageError(QStringLiteral("follow: which FILE? e.g. follow "
                                                 "/var/log/app.log --channel logs:app"));
            if (rest.size() > 1)
                return usageError(
                    QStringLiteral("follow: unexpected argument \"%1\"").arg(rest.at(1)));
            options.file = rest.first();
            options.fromStart = sub.isSet(fromStart);
            options.trustPath = sub.isSet(trustPath);
        } else if (!rest.isEmpty()) {
            return usageError(QStringLiteral("pipe: unexpected argument \"%1\"").arg(rest.first()));
        }
        options.channel = sub.value(channel).toUtf8();
        if (options.channel.isEmpty())
            return usageError(
                QStringLiteral("%1 needs --channel NAME, e.g. --channel logs:app").arg(command));
        if (const auto size =
                sub.isSet(maxLineBytes)
                    ? std::optional<QString>(sub.value(maxLineBytes))
                    : ConfigValue::fromEnvironment(
                          environment, QLatin1StringView("LLMSTREAMER_MAX_LINE_BYTES"))) {
            // 64M is a hard stop: Redis's default pub/sub output buffer limit (32mb, or 8mb for
            // 60 s) disconnects subscribers long before it, so above ~8M it must be raised too.
            const auto n = ConfigValue::parseSize(*size);
            if (!n || *n < 1024 || *n > 64 * 1024 * 1024)
                return usageError(QStringLiteral("%1: \"%2\" is not a size from 1K to 64M")
                                      .arg(sub.isSet(maxLineBytes)
                                               ? QStringLiteral("--max-line-bytes")
                                               : QStringLiteral("LLMSTREAMER_MAX_LINE_BYTES"),
                                           *size));
            options.maxLineBytes = qsizetype(*n);
        }
        break;
    }
    return options;
}
