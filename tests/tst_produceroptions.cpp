#include "produceroptions.h"

#include <QTest>

class tst_ProducerOptions : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parses_data();
    void parses();
    void refuses_data();
    void refuses();
    void helpAndVersion_data();
    void helpAndVersion();
};

namespace {

std::optional<ProducerOptions> parse(const QStringList &args, const QStringList &env,
                                     QString *output, int *exitCode)
{
    return ProducerOptions::fromArguments(
        QStringList{QStringLiteral("llmstreamer-producer")} + args, env, output, exitCode);
}

QStringList split(const char *text)
{
    return QString::fromUtf8(text).split(QLatin1Char(' '), Qt::SkipEmptyParts);
}

} // namespace

void tst_ProducerOptions::parses_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("env");
    QTest::addColumn<int>("mode");
    QTest::addColumn<QString>("redis");
    QTest::addColumn<QString>("detail"); // mode-specific summary, see below

    QTest::newRow("simulate defaults")
        << split("simulate") << QStringList{} << int(ProducerOptions::Mode::Simulate)
        << QStringLiteral("redis://127.0.0.1:6379")
        << QStringLiteral("rate=20 count=0 ms=0 "
                          "prefix=logs seed=-");
    QTest::newRow("simulate all options")
        << split("simulate --rate 0 --count 200 --duration 1.5 --seed 42 --service svc "
                 "--channel-prefix app")
        << QStringList{} << int(ProducerOptions::Mode::Simulate)
        << QStringLiteral("redis://127.0.0.1:6379")
        << QStringLiteral("rate=0 count=200 ms=1500 prefix=app seed=42");
    QTest::newRow("env REDIS_URL")
        << split("pipe --channel logs:x")
        << QStringList{QStringLiteral("REDIS_URL=redis://r:7000/2")}
        << int(ProducerOptions::Mode::Pipe) << QStringLiteral("redis://r:7000/2")
        << QStringLiteral("channel=logs:x");
    QTest::newRow("flag beats env")
        << split("--redis-url redis://flag:1 pipe --channel c")
        << QStringList{QStringLiteral("REDIS_URL=redis://env:2")}
        << int(ProducerOptions::Mode::Pipe) << QStringLiteral("redis://flag:1")
        << QStringLiteral("channel=c");
    QTest::newRow("global option after the command")
        << split("pipe --channel c --redis-url redis://after:3") << QStringList{}
        << int(ProducerOptions::Mode::Pipe) << QStringLiteral("redis://after:3")
        << QStringLiteral("channel=c");
    QTest::newRow("follow") << split("follow /var/log/app.log --channel logs:app --from-start")
                            << QStringList{} << int(ProducerOptions::Mode::Follow)
                            << QStringLiteral("redis://127.0.0.1:6379")
                            << QStringLiteral("channel=logs:app file=/var/log/app.log start=1");
    QTest::newRow("buffer") << split("--buffer 500 --buffer-bytes 1M pipe --channel c")
                            << QStringList{} << int(ProducerOptions::Mode::Pipe)
                            << QStringLiteral("redis://127.0.0.1:6379")
                            << QStringLiteral("channel=c buffer=500/1048576");
    QTest::newRow("pipe max line bytes")
        << split("pipe --channel c --max-line-bytes 64K") << QStringList{}
        << int(ProducerOptions::Mode::Pipe) << QStringLiteral("redis://127.0.0.1:6379")
        << QStringLiteral("channel=c line=65536");
    QTest::newRow("env max line bytes")
        << split("pipe --channel c") << QStringList{QStringLiteral("LLMSTREAMER_MAX_LINE_BYTES=2M")}
        << int(ProducerOptions::Mode::Pipe) << QStringLiteral("redis://127.0.0.1:6379")
        << QStringLiteral("channel=c line=2097152");
    QTest::newRow("max line bytes flag beats env")
        << split("pipe --channel c --max-line-bytes 1K")
        << QStringList{QStringLiteral("LLMSTREAMER_MAX_LINE_BYTES=junk")}
        << int(ProducerOptions::Mode::Pipe) << QStringLiteral("redis://127.0.0.1:6379")
        << QStringLiteral("channel=c line=1024");
    QTest::newRow("follow trust path and max line bytes")
        << split("follow app.log --channel c --trust-path --max-line-bytes 64M") << QStringList{}
        << int(ProducerOptions::Mode::Follow) << QStringLiteral("redis://127.0.0.1:6379")
        << QStringLiteral("channel=c file=app.log start=0 line=67108864 trust=1");
    QTest::newRow("pipe format")
        << split("pipe --channel c --format logfmt --metrics-channel vllm:stats") << QStringList{}
        << int(ProducerOptions::Mode::Pipe) << QStringLiteral("redis://127.0.0.1:6379")
        << QStringLiteral("channel=c format=logfmt metrics=vllm:stats");
    QTest::newRow("follow format")
        << split("follow f --channel c --format text") << QStringList{}
        << int(ProducerOptions::Mode::Follow) << QStringLiteral("redis://127.0.0.1:6379")
        << QStringLiteral("channel=c file=f start=0 format=text");
    QTest::newRow("env format") << split("pipe --channel c")
                                << QStringList{QStringLiteral("LLMSTREAMER_FORMAT=json")}
                                << int(ProducerOptions::Mode::Pipe)
                                << QStringLiteral("redis://127.0.0.1:6379")
                                << QStringLiteral("channel=c format=json");
    QTest::newRow("streams transport")
        << split("--transport streams pipe --channel c") << QStringList{}
        << int(ProducerOptions::Mode::Pipe) << QStringLiteral("redis://127.0.0.1:6379")
        << QStringLiteral("channel=c streams");
    QTest::newRow("pubsub transport given")
        << split("--transport pubsub pipe --channel c") << QStringList{}
        << int(ProducerOptions::Mode::Pipe) << QStringLiteral("redis://127.0.0.1:6379")
        << QStringLiteral("channel=c");
    QTest::newRow("stream options")
        << split("--transport streams --stream-key app:log --stream-max-entries 5000 simulate")
        << QStringList{} << int(ProducerOptions::Mode::Simulate)
        << QStringLiteral("redis://127.0.0.1:6379")
        << QStringLiteral("rate=20 count=0 ms=0 prefix=logs seed=- streams key=app:log max=5000");
    QTest::newRow("env stream options")
        << split("pipe --channel c")
        << QStringList{QStringLiteral("LLMSTREAMER_TRANSPORT=streams"),
                       QStringLiteral("LLMSTREAMER_STREAM_KEY=env:stream"),
                       QStringLiteral("LLMSTREAMER_STREAM_MAX_ENTRIES=0")}
        << int(ProducerOptions::Mode::Pipe) << QStringLiteral("redis://127.0.0.1:6379")
        << QStringLiteral("channel=c streams key=env:stream max=0");
    QTest::newRow("stream flags after the command beat env")
        << split("follow f --channel c --transport pubsub --stream-key flag "
                 "--stream-max-entries 1000000000000")
        << QStringList{QStringLiteral("LLMSTREAMER_TRANSPORT=streams"),
                       QStringLiteral("LLMSTREAMER_STREAM_KEY=env"),
                       QStringLiteral("LLMSTREAMER_STREAM_MAX_ENTRIES=junk")}
        << int(ProducerOptions::Mode::Follow) << QStringLiteral("redis://127.0.0.1:6379")
        << QStringLiteral("channel=c file=f start=0 key=flag max=1000000000000");
    QTest::newRow("otlp defaults")
        << split("otlp") << QStringList{} << int(ProducerOptions::Mode::Otlp)
        << QStringLiteral("redis://127.0.0.1:6379")
        << QStringLiteral("listen=127.0.0.1:4318 body=16777216 tokens= "
                          "channels=logs:otel,logs:generation,logs:errors,logs:spans");
    QTest::newRow("otlp options")
        << split("otlp --listen [::1]:0 --max-body 1M --token-file /t --logs-channel a "
                 "--generation-channel b --errors-channel c --spans-channel d --all-spans")
        << QStringList{} << int(ProducerOptions::Mode::Otlp)
        << QStringLiteral("redis://127.0.0.1:6379")
        << QStringLiteral("listen=::1:0 body=1048576 tokens=/t channels=a,b,c,d all");
    QTest::newRow("empty stream env is not set")
        << split("pipe --channel c")
        << QStringList{QStringLiteral("LLMSTREAMER_TRANSPORT="),
                       QStringLiteral("LLMSTREAMER_STREAM_KEY=")}
        << int(ProducerOptions::Mode::Pipe) << QStringLiteral("redis://127.0.0.1:6379")
        << QStringLiteral("channel=c");
}

void tst_ProducerOptions::parses()
{
    QFETCH(QStringList, args);
    QFETCH(QStringList, env);
    QFETCH(int, mode);
    QFETCH(QString, redis);
    QFETCH(QString, detail);

    QString output;
    int exitCode = -1;
    const auto options = parse(args, env, &output, &exitCode);
    QVERIFY2(options, qPrintable(output));
    QCOMPARE(int(options->mode), mode);
    QCOMPARE(options->redis.toDisplayString(), redis);
    QString got;
    switch (options->mode) {
    case ProducerOptions::Mode::Simulate:
        got = QStringLiteral("rate=%1 count=%2 ms=%3 prefix=%4 seed=%5")
                  .arg(options->rate)
                  .arg(options->count)
                  .arg(options->durationMs)
                  .arg(QString::fromUtf8(options->channelPrefix),
                       options->seedSet ? QString::number(options->seed) : QStringLiteral("-"));
        QVERIFY(!options->service.isEmpty());
        break;
    case ProducerOptions::Mode::Pipe:
        got = QStringLiteral("channel=") + QString::fromUtf8(options->channel);
        if (options->bufferMessages != 100'000)
            got += QStringLiteral(" buffer=%1/%2")
                       .arg(options->bufferMessages)
                       .arg(options->bufferBytes);
        break;
    case ProducerOptions::Mode::Follow:
        got = QStringLiteral("channel=%1 file=%2 start=%3")
                  .arg(QString::fromUtf8(options->channel), options->file)
                  .arg(options->fromStart ? 1 : 0);
        break;
    case ProducerOptions::Mode::Otlp: {
        const OtlpReceiver::Settings &o = options->otlp;
        got = QStringLiteral("listen=%1:%2 body=%3 tokens=%4 channels=%5,%6,%7,%8%9")
                  .arg(o.address.toString())
                  .arg(o.port)
                  .arg(o.maxBodyBytes)
                  .arg(o.tokenFile, QString::fromUtf8(o.channels.logs),
                       QString::fromUtf8(o.channels.generation),
                       QString::fromUtf8(o.channels.errors), QString::fromUtf8(o.channels.spans),
                       o.channels.allSpans ? QStringLiteral(" all") : QString());
        break;
    }
    }
    if (options->maxLineBytes != LineBuffer::defaultMaxLineBytes)
        got += QStringLiteral(" line=%1").arg(options->maxLineBytes);
    if (options->trustPath)
        got += QStringLiteral(" trust=1");
    if (options->format != LineParser::Format::Auto)
        got += QStringLiteral(" format=") + LineParser::formatName(options->format);
    if (options->metricsChannel != "logs:metrics")
        got += QStringLiteral(" metrics=") + QString::fromUtf8(options->metricsChannel);
    if (options->transport.isStreams())
        got += QStringLiteral(" streams");
    if (options->transport.streamKey != "llmstreamer:stream")
        got += QStringLiteral(" key=") + QString::fromUtf8(options->transport.streamKey);
    if (options->transport.streamMaxEntries != 1'000'000)
        got += QStringLiteral(" max=%1").arg(options->transport.streamMaxEntries);
    QCOMPARE(got, detail);
}

void tst_ProducerOptions::refuses_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QStringList>("env");
    QTest::addColumn<QString>("message");

    QTest::newRow("no command") << QStringList{} << QStringList{}
                                << QStringLiteral("no command given");
    QTest::newRow("unknown command")
        << split("publish") << QStringList{} << QStringLiteral("unknown command \"publish\"");
    QTest::newRow("bad url flag") << split("--redis-url http://x simulate") << QStringList{}
                                  << QStringLiteral("--redis-url: unsupported scheme");
    QTest::newRow("bad url env") << split("simulate")
                                 << QStringList{QStringLiteral("REDIS_URL=http://x")}
                                 << QStringLiteral("REDIS_URL: unsupported scheme");
    QTest::newRow("otlp listen without port")
        << split("otlp --listen localhost") << QStringList{}
        << QStringLiteral("--listen: \"localhost\" is not an address and port like "
                          "127.0.0.1:4318");
    QTest::newRow("otlp listen bad port") << split("otlp --listen 127.0.0.1:70000") << QStringList{}
                                          << QStringLiteral("--listen: \"127.0.0.1:70000\" is not");
    QTest::newRow("otlp max body too small")
        << split("otlp --max-body 10") << QStringList{}
        << QStringLiteral("--max-body: \"10\" is not a size from 1K to 1G");
    QTest::newRow("negative rate")
        << split("simulate --rate -5") << QStringList{} << QStringLiteral("--rate: \"-5\"");
    QTest::newRow("zero count") << split("simulate --count 0") << QStringList{}
                                << QStringLiteral("--count: \"0\"");
    QTest::newRow("bad duration") << split("simulate --duration soon") << QStringList{}
                                  << QStringLiteral("--duration: \"soon\"");
    QTest::newRow("bad seed") << split("simulate --seed -1") << QStringList{}
                              << QStringLiteral("--seed: \"-1\"");
    QTest::newRow("pipe without channel")
        << split("pipe") << QStringList{} << QStringLiteral("pipe needs --channel");
    QTest::newRow("follow without file")
        << split("follow --channel c") << QStringList{} << QStringLiteral("follow: which FILE?");
    QTest::newRow("option of another command")
        << split("pipe --channel c --rate 3") << QStringList{}
        << QStringLiteral("Unknown option 'rate'");
    QTest::newRow("bad buffer") << split("--buffer lots simulate") << QStringList{}
                                << QStringLiteral("--buffer: \"lots\"");
    QTest::newRow("bad buffer bytes") << split("--buffer-bytes 0 simulate") << QStringList{}
                                      << QStringLiteral("--buffer-bytes: \"0\"");
    QTest::newRow("max line bytes below 1K")
        << split("pipe --channel c --max-line-bytes 512") << QStringList{}
        << QStringLiteral("--max-line-bytes: \"512\" is not a size from 1K to 64M");
    QTest::newRow("max line bytes above 64M")
        << split("follow f --channel c --max-line-bytes 65M") << QStringList{}
        << QStringLiteral("--max-line-bytes: \"65M\" is not a size from 1K to 64M");
    QTest::newRow("max line bytes not a size")
        << split("pipe --channel c --max-line-bytes lots") << QStringList{}
        << QStringLiteral("--max-line-bytes: \"lots\"");
    QTest::newRow("bad max line bytes env")
        << split("pipe --channel c") << QStringList{QStringLiteral("LLMSTREAMER_MAX_LINE_BYTES=0")}
        << QStringLiteral("LLMSTREAMER_MAX_LINE_BYTES: \"0\" is not a size from 1K to 64M");
    QTest::newRow("max line bytes is not for simulate")
        << split("simulate --max-line-bytes 1M") << QStringList{}
        << QStringLiteral("Unknown option 'max-line-bytes'");
    QTest::newRow("trust path is for follow only")
        << split("pipe --channel c --trust-path") << QStringList{}
        << QStringLiteral("Unknown option 'trust-path'");
    QTest::newRow("unknown format")
        << split("pipe --channel c --format yaml") << QStringList{}
        << QStringLiteral("--format: \"yaml\" is not one of auto, json, logfmt, text");
    QTest::newRow("format is not for simulate") << split("simulate --format json") << QStringList{}
                                                << QStringLiteral("Unknown option 'format'");
    QTest::newRow("empty metrics channel")
        << split("pipe --channel c --metrics-channel=") << QStringList{}
        << QStringLiteral("--metrics-channel: the name is empty");
    QTest::newRow("unknown transport")
        << split("--transport kafka simulate") << QStringList{}
        << QStringLiteral("--transport: \"kafka\" is not a transport; use pubsub or streams");
    QTest::newRow("bad transport env")
        << split("pipe --channel c") << QStringList{QStringLiteral("LLMSTREAMER_TRANSPORT=stream")}
        << QStringLiteral(
               "LLMSTREAMER_TRANSPORT: \"stream\" is not a transport; use pubsub or streams");
    QTest::newRow("transport names are lower case")
        << split("pipe --channel c --transport Streams") << QStringList{}
        << QStringLiteral("--transport: \"Streams\" is not a transport");
    QTest::newRow("empty stream key") << split("--stream-key= simulate") << QStringList{}
                                      << QStringLiteral("--stream-key: the key is empty");
    QTest::newRow("negative max entries")
        << split("--stream-max-entries -1 simulate") << QStringList{}
        << QStringLiteral("--stream-max-entries: \"-1\" is not a number of entries "
                          "(0-1000000000000)");
    QTest::newRow("max entries above 1e12")
        << split("--stream-max-entries 1000000000001 simulate") << QStringList{}
        << QStringLiteral("--stream-max-entries: \"1000000000001\" is not a number of entries");
    QTest::newRow("bad max entries env")
        << split("simulate") << QStringList{QStringLiteral("LLMSTREAMER_STREAM_MAX_ENTRIES=1M")}
        << QStringLiteral("LLMSTREAMER_STREAM_MAX_ENTRIES: \"1M\" is not a number of entries");
}

void tst_ProducerOptions::refuses()
{
    QFETCH(QStringList, args);
    QFETCH(QStringList, env);
    QFETCH(QString, message);

    QString output;
    int exitCode = -1;
    QVERIFY(!parse(args, env, &output, &exitCode));
    QCOMPARE(exitCode, 2);
    QVERIFY2(output.contains(message), qPrintable(output));
    QVERIFY2(output.contains(QLatin1StringView("--help")), qPrintable(output));
}

void tst_ProducerOptions::helpAndVersion_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("expected");

    QTest::newRow("help") << split("--help") << QStringLiteral("simulate");
    QTest::newRow("help mentions delivery") << split("--help") << QStringLiteral("at least once");
    QTest::newRow("command help") << split("pipe --help") << QStringLiteral("--channel");
    QTest::newRow("help before command")
        << split("--help follow") << QStringLiteral("--from-start");
    QTest::newRow("pipe help: line cap")
        << split("pipe --help") << QStringLiteral("--max-line-bytes <size>");
    QTest::newRow("follow help: line cap")
        << split("follow --help") << QStringLiteral("[LLMSTREAMER_MAX_LINE_BYTES, default 1M]");
    QTest::newRow("follow help: what a changed path does")
        << split("follow --help") << QStringLiteral("keeps running without publishing");
    QTest::newRow("follow help: trust path")
        << split("follow --help") << QStringLiteral("--trust-path");
    QTest::newRow("help: transport")
        << split("--help") << QStringLiteral("[LLMSTREAMER_TRANSPORT, default pubsub]");
    QTest::newRow("help: stream memory") << split("--help") << QStringLiteral("320 MB");
    QTest::newRow("command help: stream options")
        << split("pipe --help") << QStringLiteral("--stream-max-entries <n>");
    QTest::newRow("version") << split("--version")
                             << QStringLiteral("llmstreamer-producer " LLMSTREAMER_VERSION);
}

void tst_ProducerOptions::helpAndVersion()
{
    QFETCH(QStringList, args);
    QFETCH(QString, expected);

    QString output;
    int exitCode = -1;
    QVERIFY(!parse(args, {}, &output, &exitCode));
    QCOMPARE(exitCode, 0);
    // Help text is wrapped to the terminal's width: compared with line breaks as spaces.
    QVERIFY2(output.simplified().contains(expected), qPrintable(output));
}

QTEST_GUILESS_MAIN(tst_ProducerOptions)
#include "tst_produceroptions.moc"
