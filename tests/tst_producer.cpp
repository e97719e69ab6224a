#include "filefollower.h"
#include "linebuffer.h"
#include "logformatfixtures.h"
#include "pipesource.h"
#include "producerapp.h"
#include "redisconnection.h"
#include "redispublisher.h"
#include "testredis.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <fcntl.h>
#include <memory>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;

namespace {

constexpr int deliveryTimeoutMs = 20000;

// A pipe the test writes into from a helper thread (the reading end is served by our event loop,
// so the test thread must never block on a full pipe itself).
class PipeFeeder final
{
public:
    PipeFeeder() { QVERIFY(::pipe2(m_fds, O_CLOEXEC) == 0); }
    ~PipeFeeder()
    {
        ::close(m_fds[0]); // a writer still blocked gets EPIPE and returns
        join();
        if (m_fds[1] >= 0)
            ::close(m_fds[1]);
    }
    Q_DISABLE_COPY_MOVE(PipeFeeder)

    int readFd() const { return m_fds[0]; }
    // Call only once the reader consumed the previous write.
    void write(QByteArray data)
    {
        join();
        m_thread = std::thread([fd = m_fds[1], data = std::move(data)] {
            qsizetype done = 0;
            while (done < data.size()) {
                const ssize_t n = ::write(fd, data.constData() + done, size_t(data.size() - done));
                if (n <= 0)
                    return;
                done += n;
            }
        });
    }
    void closeWriteEnd()
    {
        join();
        ::close(m_fds[1]);
        m_fds[1] = -1;
    }
    void join()
    {
        if (m_thread.joinable())
            m_thread.join();
    }

private:
    int m_fds[2] = {-1, -1};
    std::thread m_thread;
};

QByteArray joinLines(const QByteArrayList &lines, qsizetype from, qsizetype to)
{
    QByteArray out;
    for (qsizetype i = from; i < to; ++i)
        out += lines.at(i) + '\n';
    return out;
}

QByteArrayList numberedLines(int n)
{
    QByteArrayList lines;
    for (int i = 0; i < n; ++i)
        lines.append("line " + QByteArray::number(i));
    return lines;
}

QByteArrayList payloads(const QList<QPair<QByteArray, QByteArray>> &messages)
{
    QByteArrayList out;
    out.reserve(messages.size());
    for (const auto &m : messages)
        out.append(m.second);
    return out;
}

// Compares without printing 100,000 lines on failure.
bool sameLines(const QByteArrayList &got, const QByteArrayList &expected, QByteArray *why)
{
    if (got.size() != expected.size())
        *why = "got " + QByteArray::number(got.size()) + " lines, expected " +
               QByteArray::number(expected.size());
    for (qsizetype i = 0; i < std::min(got.size(), expected.size()); ++i) {
        if (got.at(i) != expected.at(i)) {
            *why += " first difference at line " + QByteArray::number(i) + ": got \"" +
                    got.at(i).left(60).toPercentEncoding() + "\", expected \"" +
                    expected.at(i).left(60).toPercentEncoding() + '"';
            return false;
        }
    }
    return got.size() == expected.size();
}

RedisUrl urlOf(const TestRedis &redis)
{
    return *RedisUrl::parse(redis.url());
}

qint64 streamLength(TestRedis &redis, const QByteArray &key)
{
    return redis.command({"XLEN", key}).toLongLong();
}

bool appendTo(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    return file.open(QIODevice::Append) && file.write(bytes) == bytes.size();
}

// ASan's shadow memory and quarantine of freed blocks make resident memory say nothing about
// what the program holds.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool underAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool underAddressSanitizer = true;
#else
constexpr bool underAddressSanitizer = false;
#endif
#else
constexpr bool underAddressSanitizer = false;
#endif

// The most memory a process has had resident so far (VmHWM), in KiB; -1 if unknown.
qint64 peakResidentKiB(qint64 pid)
{
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    const QByteArrayList lines = status.readAll().split('\n');
    for (const QByteArray &line : lines) {
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').constFirst().toLongLong();
    }
    return -1;
}

// llmstreamer-producer itself, with the options under test taken from the arguments alone, and
// its messages as a user sees them (ctest turns our info messages off).
void startProgram(QProcess &process, const QStringList &arguments)
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    for (const char *name :
         {"LLMSTREAMER_MAX_LINE_BYTES", "LLMSTREAMER_TRANSPORT", "LLMSTREAMER_STREAM_KEY",
          "LLMSTREAMER_STREAM_MAX_ENTRIES", "QT_LOGGING_RULES"})
        environment.remove(QString::fromLatin1(name));
    process.setProcessEnvironment(environment);
    process.start(QStringLiteral(LLMSTREAMER_PRODUCER_EXECUTABLE), arguments);
}

// The follower's path is swapped for one leading to another file in one of these ways.
enum class Swap { FileBySymlink, SymlinkRetargeted, DirectoryRetargeted };

bool pointLink(const QString &link, const QString &target)
{
    return QFile::remove(link) && QFile::link(target, link);
}

// A FileFollower of a path publishing to a channel, a subscriber to that channel, and a spy on
// the follower's refusals.
class FollowSetup final
{
public:
    FollowSetup(const TestRedis &redis, const QString &path, const QByteArray &channel, bool trust)
        : subscriber(redis.port(), channel), publisher(urlOf(redis)),
          follower(path, channel, &publisher), refused(&follower, &FileFollower::refused)
    {
        follower.setPollInterval(20ms);
        follower.setTrustPath(trust);
    }
    Q_DISABLE_COPY_MOVE(FollowSetup)

    // Starts following and appends "a1" to `logFile`: true once that arrived.
    bool start(const QString &logFile)
    {
        if (!subscriber.waitSubscribed())
            return false;
        publisher.start();
        follower.start();
        return appendTo(logFile, "a1\n") &&
               QTest::qWaitFor([this] { return subscriber.count() == 1; }, deliveryTimeoutMs);
    }

    TestSubscriber subscriber;
    RedisPublisher publisher;
    FileFollower follower;
    QSignalSpy refused;
};

} // namespace

class tst_Producer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void simulatePublishesExactlyCount_data();
    void simulatePublishesExactlyCount();
    void pipeDeliversEveryLineOnceInOrder();
    void pipeFormatAutoOverFixtures_data();
    void pipeFormatAutoOverFixtures();
    void followFormatAuto();
    void pipeLosesNothingAcrossRedisRestart();
    void inFlightMessagesAreResentAfterConnectionLoss_data();
    void inFlightMessagesAreResentAfterConnectionLoss();
    void streamReceivesEveryMessageInOrderBinarySafe();
    void streamProgramTrimsToMaxEntries();
    void streamKeyOfAnotherTypeIsReported();
    void followAppendsRotationTruncation();
    void followWaitsForFileAndReadsFromStart();
    void pipeCutsLongLinesWithoutHoldingThem();
    void followCutsLongLines();
    void followRefusesChangedPath_data();
    void followRefusesChangedPath();
    void followRefusesFileOfAnotherOwner_data();
    void followRefusesFileOfAnotherOwner();
    void followProgramReportsRefusal();
    void unreachableRedisIsReportedAndRetried();

private:
    TestRedis m_redis;
};

void tst_Producer::initTestCase()
{
    // hiredis writes with write(): a killed server must not kill the test with SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
}

void tst_Producer::init()
{
    // A test that failed while Redis was down must not take the following ones with it.
    if (m_redis.command({"PING"}) != "PONG")
        QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
}

void tst_Producer::simulatePublishesExactlyCount_data()
{
    QTest::addColumn<double>("rate");
    QTest::newRow("as fast as possible") << 0.0;
    QTest::newRow("paced") << 2000.0;
}

void tst_Producer::simulatePublishesExactlyCount()
{
    QFETCH(double, rate);
    const QByteArray prefix = "sim" + QByteArray::number(int(rate));
    TestSubscriber subscriber(m_redis.port(), prefix + ":*");
    QVERIFY(subscriber.waitSubscribed());

    ProducerOptions options;
    options.mode = ProducerOptions::Mode::Simulate;
    options.redis = urlOf(m_redis);
    options.rate = rate;
    options.count = 200;
    options.seedSet = true;
    options.seed = 42;
    options.service = QStringLiteral("tst-producer");
    options.channelPrefix = prefix;
    ProducerApp app(options);
    QSignalSpy finished(&app, &ProducerApp::finished);
    app.start();
    QVERIFY(finished.wait(deliveryTimeoutMs));
    QCOMPARE(finished.first().first().toInt(), 0);
    QCOMPARE(app.publisher()->published(), 200u);
    QCOMPARE(app.publisher()->dropped(), 0u);

    QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), 200, 30000);
    const QSet<QByteArray> channels{prefix + ":generation", prefix + ":errors",
                                    prefix + ":metrics"};
    for (const auto &[channel, payload] : subscriber.messages()) {
        QVERIFY2(channels.contains(channel), channel.constData());
        const QJsonDocument doc = QJsonDocument::fromJson(payload);
        QVERIFY2(doc.isObject(), payload.constData());
        QCOMPARE(doc.object().value(QLatin1StringView("service")).toString(),
                 QStringLiteral("tst-producer"));
        QVERIFY(doc.object().value(QLatin1StringView("ts")).isString());
    }
    QVERIFY(app.summary().startsWith(QLatin1StringView("published 200, dropped 0, pending 0")));
}

void tst_Producer::pipeDeliversEveryLineOnceInOrder()
{
    // 100,000 lines with what text tools get wrong: \r, NUL, invalid UTF-8, empty lines, lines
    // longer than one read chunk, and a last line without '\n'.
    QByteArrayList lines;
    for (int i = 0; i < 100'000; ++i) {
        const QByteArray n = QByteArray::number(i);
        switch (i % 8) {
        case 0:
            lines.append("plain " + n);
            break;
        case 1:
            lines.append(QByteArray());
            break;
        case 2:
            lines.append("crlf " + n + '\r');
            break;
        case 3:
            lines.append(QByteArray("nul\0byte ", 9) + n + QByteArray(1, '\0'));
            break;
        case 4:
            lines.append("bad utf-8 \xff\xfe\xc3 " + n);
            break;
        case 5:
            lines.append("\r");
            break;
        case 6:
            lines.append(QStringLiteral("ünïcödé ✓ %1").arg(i).toUtf8());
            break;
        default:
            lines.append(i % 20000 == 7 ? QByteArray(QByteArray(200'000, 'x') + n)
                                        : QByteArray("{\"n\":" + n + '}'));
        }
    }
    lines.last() = "last line without newline";
    QByteArray content = joinLines(lines, 0, lines.size());
    content.chop(1);

    QTemporaryDir dir;
    QFile file(dir.filePath(QStringLiteral("input.bin")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    QCOMPARE(file.write(content), content.size());
    file.close();
    const int fd = ::open(QFile::encodeName(file.fileName()).constData(), O_RDONLY | O_CLOEXEC);
    QVERIFY(fd >= 0);

    TestSubscriber subscriber(m_redis.port(), "pipe:*");
    QVERIFY(subscriber.waitSubscribed());
    ProducerOptions options;
    options.mode = ProducerOptions::Mode::Pipe;
    options.redis = urlOf(m_redis);
    options.channel = "pipe:bytes";
    options.format = LineParser::Format::Text; // byte for byte: the JSON lines too
    options.bufferMessages = 5000; // small, so reading has to pause and resume many times
    ProducerApp app(options, fd);
    QSignalSpy finished(&app, &ProducerApp::finished);
    app.start();
    QVERIFY(finished.wait(deliveryTimeoutMs));
    ::close(fd);
    QCOMPARE(finished.first().first().toInt(), 0); // exits only once all was acknowledged
    QCOMPARE(app.publisher()->published(), quint64(lines.size()));
    QCOMPARE(app.publisher()->pending(), 0);

    QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), lines.size(), deliveryTimeoutMs);
    QByteArray why;
    QVERIFY2(sameLines(payloads(subscriber.messages()), lines, &why), why.constData());
}

void tst_Producer::pipeFormatAutoOverFixtures_data()
{
    QTest::addColumn<QString>("file"); // in tests/fixtures/logformats/, or "large"
    QTest::addColumn<bool>("streams");
    QStringList files = LogFormatFixtures::files();
    QVERIFY(!files.isEmpty());
    files.append(QStringLiteral("large"));
    for (const QString &file : std::as_const(files)) {
        QTest::addRow("%s pubsub", qPrintable(file)) << file << false;
        QTest::addRow("%s streams", qPrintable(file)) << file << true;
    }
}

void tst_Producer::pipeFormatAutoOverFixtures()
{
    // The program, as a user runs it over a server's log: every line published once, in order,
    // as expected.json says (records with their fields and "raw", vLLM stats on logs:metrics,
    // other lines byte for byte), with either transport.
    QFETCH(QString, file);
    QFETCH(bool, streams);
    QList<LogFormatFixtures::Case> cases;
    if (file == QLatin1StringView("large")) {
        cases = LogFormatFixtures::largeCases();
    } else {
        QString error;
        const auto all = LogFormatFixtures::cases(&error);
        QVERIFY2(!all.isEmpty(), qPrintable(error));
        for (const auto &c : all)
            if (c.file == file)
                cases.append(c);
    }
    QVERIFY(!cases.isEmpty());
    QByteArray input;
    for (const auto &c : std::as_const(cases))
        input += c.line + '\n';

    const QByteArray channel = "fmt:" + file.toUtf8();
    const QByteArray metricsChannel = "fmt:metrics";
    const QByteArray key = "fmt:stream";
    m_redis.command({"DEL", key});
    TestSubscriber subscriber(m_redis.port(), "fmt:*");
    QVERIFY(subscriber.waitSubscribed());
    QStringList arguments{QStringLiteral("--redis-url"), m_redis.url()};
    if (streams)
        arguments << QStringLiteral("--transport") << QStringLiteral("streams")
                  << QStringLiteral("--stream-key") << QString::fromUtf8(key);
    // The large lines are up to 2 MiB: a 4M cap takes them whole.
    arguments << QStringLiteral("pipe") << QStringLiteral("--channel") << QString::fromUtf8(channel)
              << QStringLiteral("--format") << QStringLiteral("auto")
              << QStringLiteral("--metrics-channel") << QString::fromUtf8(metricsChannel)
              << QStringLiteral("--max-line-bytes") << QStringLiteral("4M");
    QProcess producer;
    startProgram(producer, arguments);
    QVERIFY2(producer.waitForStarted(), qPrintable(producer.errorString()));
    producer.write(input);
    producer.closeWriteChannel();
    QVERIFY(producer.waitForFinished(deliveryTimeoutMs));
    const QByteArray stderrText = producer.readAllStandardError();
    QCOMPARE(producer.exitStatus(), QProcess::NormalExit);
    QVERIFY2(producer.exitCode() == 0, stderrText.constData());

    QList<QPair<QByteArray, QByteArray>> got;
    if (streams) {
        got = m_redis.streamEntries(key);
        QCOMPARE(subscriber.count(), 0); // nothing went through pub/sub
    } else {
        QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), cases.size(), deliveryTimeoutMs);
        got = subscriber.messages();
    }
    QCOMPARE(got.size(), cases.size());
    for (qsizetype i = 0; i < cases.size(); ++i) {
        QString why;
        QVERIFY2(LogFormatFixtures::matches(cases.at(i), got.at(i).first, got.at(i).second, channel,
                                            metricsChannel, &why),
                 qPrintable(why));
    }
}

void tst_Producer::followFormatAuto()
{
    // follow reads lines the same way: records on the channel, stats on the metrics channel.
    QString error;
    QList<LogFormatFixtures::Case> cases;
    for (const auto &c : LogFormatFixtures::cases(&error))
        if (c.file == QLatin1StringView("vllm.log") || c.file == QLatin1StringView("ollama.log"))
            cases.append(c);
    QVERIFY2(!cases.isEmpty(), qPrintable(error));
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("server.log"));
    const QByteArray channel = "follow:fmt";
    const QByteArray metricsChannel = "follow:metrics";
    TestSubscriber subscriber(m_redis.port(), "follow:*");
    QVERIFY(subscriber.waitSubscribed());
    RedisPublisher publisher(urlOf(m_redis));
    FileFollower follower(path, channel, &publisher);
    follower.setLineParser(LineParser(LineParser::Format::Auto, channel, metricsChannel));
    follower.setPollInterval(std::chrono::milliseconds(20));
    publisher.start();
    follower.start();
    QByteArray content;
    for (const auto &c : std::as_const(cases))
        content += c.line + '\n';
    QVERIFY(appendTo(path, content));
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), cases.size(), deliveryTimeoutMs);
    const auto got = subscriber.messages();
    for (qsizetype i = 0; i < cases.size(); ++i) {
        QString why;
        QVERIFY2(LogFormatFixtures::matches(cases.at(i), got.at(i).first, got.at(i).second, channel,
                                            metricsChannel, &why),
                 qPrintable(why));
    }
}

void tst_Producer::pipeLosesNothingAcrossRedisRestart()
{
    const QByteArrayList lines = numberedLines(100'000);
    PipeFeeder feeder;
    RedisPublisher publisher(urlOf(m_redis));
    PipeSource source(feeder.readFd(), "restart:lines", &publisher);
    auto before = std::make_unique<TestSubscriber>(m_redis.port(), "restart:*");
    QVERIFY(before->waitSubscribed());
    publisher.start();
    source.start();

    feeder.write(joinLines(lines, 0, 30'000));
    QTRY_COMPARE_WITH_TIMEOUT(before->count(), 30'000, deliveryTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(publisher.published(), 30'000u, 30000);

    // Hold Redis so the next lines are sent but not executed: they are in flight when it dies.
    QCOMPARE(m_redis.command({"CLIENT", "PAUSE", "60000", "WRITE"}), QByteArray("OK"));
    feeder.write(joinLines(lines, 30'000, 30'500));
    QTRY_COMPARE_WITH_TIMEOUT(source.lines(), 30'500u, 30000);
    QCOMPARE(publisher.pending(), 500);

    m_redis.stop();
    QTRY_VERIFY_WITH_TIMEOUT(!publisher.isConnected(), 30000);
    // Keep the publisher from reconnecting before the new subscriber listens (pub/sub keeps
    // nothing for absent subscribers); RedisConnection's own retry is covered below.
    publisher.connection()->stop();

    // Input keeps flowing into the buffer while Redis is down.
    feeder.write(joinLines(lines, 30'500, lines.size() - 1) + lines.last()); // last without \n
    QTRY_COMPARE_WITH_TIMEOUT(source.lines(), quint64(lines.size() - 1), deliveryTimeoutMs);
    feeder.closeWriteEnd();
    QTRY_VERIFY_WITH_TIMEOUT(source.isFinished(), 30000);
    QCOMPARE(source.lines(), quint64(lines.size()));
    QCOMPARE(publisher.pending(), 70'000);
    QCOMPARE(publisher.published(), 30'000u);

    QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
    TestSubscriber after(m_redis.port(), "restart:*");
    QVERIFY(after.waitSubscribed());
    QSignalSpy drained(&publisher, &RedisPublisher::drained);
    publisher.connection()->start();
    QVERIFY(drained.wait(deliveryTimeoutMs));
    QCOMPARE(publisher.published(), 100'000u);
    QCOMPARE(publisher.resent(), 500u); // the in-flight ones, sent again
    QCOMPARE(publisher.reconnects(), 1u);

    QTRY_COMPARE_WITH_TIMEOUT(after.count(), 70'000, deliveryTimeoutMs);
    QByteArray why;
    QVERIFY2(sameLines(payloads(before->messages()) + payloads(after.messages()), lines, &why),
             why.constData());
}

void tst_Producer::inFlightMessagesAreResentAfterConnectionLoss_data()
{
    QTest::addColumn<bool>("stream");
    QTest::newRow("pubsub") << false;
    QTest::newRow("streams") << true;
}

void tst_Producer::inFlightMessagesAreResentAfterConnectionLoss()
{
    QFETCH(bool, stream);
    const QByteArray key = "killed:stream";
    const QByteArrayList lines = numberedLines(20'000);
    TestSubscriber subscriber(m_redis.port(), "killed:*");
    QVERIFY(subscriber.waitSubscribed());
    PipeFeeder feeder;
    RedisPublisher publisher(urlOf(m_redis));
    if (stream) {
        m_redis.command({"DEL", key});
        publisher.setStream(key, 0);
    }
    // What arrived, wherever this row publishes to.
    const auto delivered = [&] {
        return stream ? m_redis.streamEntries(key) : subscriber.messages();
    };
    PipeSource source(feeder.readFd(), "killed:lines", &publisher);
    QSignalSpy errors(&publisher, &RedisPublisher::errorOccurred);
    publisher.start();
    source.start();

    feeder.write(joinLines(lines, 0, 10'000));
    QTRY_COMPARE_WITH_TIMEOUT(publisher.published(), 10'000u, deliveryTimeoutMs);

    // Paused, Redis holds the next PUBLISHes (or XADDs) unexecuted; killing our connection then
    // loses exactly the in-flight window, which must come back through the automatic reconnect.
    QCOMPARE(m_redis.command({"CLIENT", "PAUSE", "60000", "WRITE"}), QByteArray("OK"));
    feeder.write(joinLines(lines, 10'000, 12'000));
    QTRY_COMPARE_WITH_TIMEOUT(source.lines(), 12'000u, 30000);
    const int inFlight = publisher.limits().maxInFlight;
    QCOMPARE(m_redis.command({"CLIENT", "KILL", "TYPE", "normal"}), QByteArray("1"));
    QCOMPARE(m_redis.command({"CLIENT", "UNPAUSE"}), QByteArray("OK"));
    QTRY_COMPARE_WITH_TIMEOUT(publisher.reconnects(), 1u, 30000);

    feeder.write(joinLines(lines, 12'000, lines.size()));
    QTRY_COMPARE_WITH_TIMEOUT(publisher.published(), quint64(lines.size()), deliveryTimeoutMs);
    QCOMPARE(publisher.resent(), quint64(inFlight));
    if (stream)
        QCOMPARE(streamLength(m_redis, key), qint64(lines.size())); // acknowledged: stored
    else
        QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), lines.size(), deliveryTimeoutMs);
    QByteArray why;
    QVERIFY2(sameLines(payloads(delivered()), lines, &why), why.constData());
    if (stream) {
        QCOMPARE(subscriber.count(), 0); // nothing went to pub/sub
        QCOMPARE(delivered().constFirst().first, QByteArray("killed:lines"));
    }
    QCOMPARE(errors.size(), 1);
    QVERIFY2(errors.first().first().toString().contains(QLatin1StringView("lost connection")),
             qPrintable(errors.first().first().toString()));
}

void tst_Producer::streamReceivesEveryMessageInOrderBinarySafe()
{
    // What text handling gets wrong, in payloads and channels, a payload of 1 MiB holding every
    // byte value, and enough messages to fill the pipelined window twice over.
    QByteArray everyByte;
    for (int i = 0; i < 1024 * 1024; ++i)
        everyByte.append(char(i % 256));
    QList<QPair<QByteArray, QByteArray>> messages{
        {"bin:a", "plain"},
        {"bin:a", QByteArray("nul\0byte\0", 10)},
        {"bin:b", "two\nlines\r\n"},
        {"bin:b", "bad utf-8 \xff\xfe\xc3"},
        {"bin:b", QByteArray()},
        {QByteArray("bin:\0nul", 8), "a channel with a NUL"},
        {"bin:a", QStringLiteral("ünïcödé ✓").toUtf8()},
        {"bin:big", everyByte},
    };
    for (int i = 0; i < 2500; ++i)
        messages.append({"bin:n", QByteArray::number(i)});

    const QByteArray key = "binary:stream";
    m_redis.command({"DEL", key});
    RedisPublisher publisher(urlOf(m_redis));
    publisher.setStream(key, 0);
    QVERIFY(publisher.isStream());
    QSignalSpy drained(&publisher, &RedisPublisher::drained);
    for (const auto &[channel, payload] : messages)
        publisher.publish(channel, payload);
    publisher.start();
    QVERIFY(drained.wait(deliveryTimeoutMs));
    QCOMPARE(publisher.published(), quint64(messages.size()));
    QCOMPARE(publisher.rejected(), 0u);
    QCOMPARE(publisher.pending(), 0);

    const auto got = m_redis.streamEntries(key);
    QCOMPARE(got.size(), messages.size());
    for (qsizetype i = 0; i < got.size(); ++i) {
        QVERIFY2(got.at(i).first == messages.at(i).first,
                 qPrintable(
                     QStringLiteral("entry %1: channel %2")
                         .arg(i)
                         .arg(QString::fromLatin1(got.at(i).first.left(60).toPercentEncoding()))));
        QVERIFY2(got.at(i).second == messages.at(i).second,
                 qPrintable(QStringLiteral("entry %1: data of %2 bytes, expected %3")
                                .arg(i)
                                .arg(got.at(i).second.size())
                                .arg(messages.at(i).second.size())));
    }
}

void tst_Producer::streamProgramTrimsToMaxEntries()
{
    // The program itself: --transport streams reaches the publisher, the start says where it
    // publishes, and MAXLEN ~ keeps the stream near --stream-max-entries.
    const QByteArray key = "trim:stream";
    m_redis.command({"DEL", key});
    const QByteArrayList lines = numberedLines(5000);
    QProcess producer;
    startProgram(producer,
                 {QStringLiteral("--redis-url"), m_redis.url(), QStringLiteral("--transport"),
                  QStringLiteral("streams"), QStringLiteral("--stream-key"), QString::fromUtf8(key),
                  QStringLiteral("--stream-max-entries"), QStringLiteral("1000"),
                  QStringLiteral("pipe"), QStringLiteral("--channel"),
                  QStringLiteral("trim:lines")});
    QVERIFY2(producer.waitForStarted(), qPrintable(producer.errorString()));
    producer.write(joinLines(lines, 0, lines.size()));
    producer.closeWriteChannel();
    QVERIFY(producer.waitForFinished(deliveryTimeoutMs));
    const QByteArray stderrText = producer.readAllStandardError();
    QCOMPARE(producer.exitStatus(), QProcess::NormalExit);
    QVERIFY2(producer.exitCode() == 0, stderrText.constData());
    const QByteArray announced = "publishing to Redis stream trim:stream at " +
                                 m_redis.url().toUtf8() +
                                 " (channel trim:lines; trimmed to about 1000 entries)";
    QVERIFY2(stderrText.contains(announced), stderrText.constData());
    QVERIFY2(stderrText.contains("published 5000, dropped 0, pending 0"), stderrText.constData());

    // "~" lets Redis remove whole nodes only (100 entries each by default): never fewer than
    // asked for, at most about a node more.
    const qint64 length = streamLength(m_redis, key);
    QVERIFY2(length >= 1000 && length <= 1200, QByteArray::number(length).constData());
    const auto got = m_redis.streamEntries(key);
    QCOMPARE(qint64(got.size()), length);
    QCOMPARE(got.constFirst().first, QByteArray("trim:lines"));
    QByteArray why;
    QVERIFY2(sameLines(payloads(got), lines.mid(lines.size() - length), &why), why.constData());
}

void tst_Producer::streamKeyOfAnotherTypeIsReported()
{
    // Redis refuses every XADD (WRONGTYPE): each message is refused once, not retried, the user
    // is told once what to do, and `pipe` ends with exit code 1.
    const QByteArray key = "taken:key";
    QCOMPARE(m_redis.command({"SET", key, "a string"}), QByteArray("OK"));
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("input.txt"));
    QVERIFY(appendTo(path, "a\nb\nc\n"));
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_CLOEXEC);
    QVERIFY(fd >= 0);

    ProducerOptions options;
    options.mode = ProducerOptions::Mode::Pipe;
    options.redis = urlOf(m_redis);
    options.channel = "taken:lines";
    options.transport.kind = Transport::Kind::Streams;
    options.transport.streamKey = key;
    ProducerApp app(options, fd);
    QSignalSpy finished(&app, &ProducerApp::finished);
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("^Redis refused an XADD to the stream "
                                                           "taken:key: WRONGTYPE .*")));
    app.start();
    QVERIFY(finished.wait(deliveryTimeoutMs));
    ::close(fd);
    QCOMPARE(finished.first().first().toInt(), 1);
    QCOMPARE(app.publisher()->rejected(), 3u);
    QCOMPARE(app.publisher()->published(), 0u);
    QCOMPARE(app.publisher()->pending(), 0);
    const QString message = app.publisher()->lastError();
    for (const char *part : {"Redis refused an XADD to the stream taken:key: WRONGTYPE",
                             "the key taken:key is not a stream", "--stream-key"})
        QVERIFY2(message.contains(QLatin1String(part)), qPrintable(message));
    QVERIFY2(app.summary().startsWith(QLatin1StringView("published 0, dropped 3, pending 0")),
             qPrintable(app.summary()));
    QCOMPARE(m_redis.command({"GET", key}), QByteArray("a string"));
}

void tst_Producer::followAppendsRotationTruncation()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("app.log"));
    auto append = [](const QString &file, const QByteArray &bytes) {
        QVERIFY(appendTo(file, bytes));
    };
    append(path, "old 1\nold 2\n");

    TestSubscriber subscriber(m_redis.port(), "follow:*");
    QVERIFY(subscriber.waitSubscribed());
    RedisPublisher publisher(urlOf(m_redis));
    FileFollower follower(path, "follow:app", &publisher);
    follower.setPollInterval(20ms);
    publisher.start();
    follower.start(); // joins at the end: the old lines are not published

    append(path, "a1\na2\n");
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), 2, 30000);
    append(path, "a3 part");
    append(path, "ial\n");
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), 3, 30000);

    // Rotation: renamed, still written to for a moment, then a new file appears.
    QVERIFY(QFile::rename(path, path + QStringLiteral(".1")));
    append(path + QStringLiteral(".1"), "a4 after rename\n");
    append(path, "b1\nb2\n");
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), 6, 30000);
    QCOMPARE(follower.rotations(), 1u);

    // Truncation (copytruncate): shorter than what was read, then written again.
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        QCOMPARE(f.write("c1\n"), 3);
    }
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), 7, 30000);
    QCOMPARE(follower.truncations(), 1u);
    append(path, "c2\n");
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), 8, 30000);

    QCOMPARE(payloads(subscriber.messages()),
             (QByteArrayList{"a1", "a2", "a3 partial", "a4 after rename", "b1", "b2", "c1", "c2"}));
    QCOMPARE(follower.lines(), 8u);
}

void tst_Producer::followWaitsForFileAndReadsFromStart()
{
    QTemporaryDir dir;
    const QString missing = dir.filePath(QStringLiteral("later.log"));
    const QString existing = dir.filePath(QStringLiteral("existing.log"));
    {
        QFile f(existing);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("e1\ne2\n");
    }
    TestSubscriber subscriber(m_redis.port(), "wait:*");
    QVERIFY(subscriber.waitSubscribed());
    RedisPublisher publisher(urlOf(m_redis));
    FileFollower later(missing, "wait:later", &publisher);
    later.setPollInterval(20ms);
    FileFollower whole(existing, "wait:whole", &publisher);
    whole.setFromStart(true);
    whole.setPollInterval(20ms);
    publisher.start();
    later.start();
    whole.start();
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), 2, 30000);

    {
        QFile f(missing);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("l1\nl2\n"); // a file that appears after start is read from its start
    }
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), 4, 30000);
    QCOMPARE(subscriber.messages().mid(2),
             (QList<QPair<QByteArray, QByteArray>>{{"wait:later", "l1"}, {"wait:later", "l2"}}));
}

void tst_Producer::pipeCutsLongLinesWithoutHoldingThem()
{
    // Lines over the default cap of 1 MiB, one of 100 MiB, through the program itself: each
    // arrives as its first MiB (cut back to a whole character) and the marker, the lines around
    // them intact; stderr says so once; and the program never holds a long line whole.
    TestSubscriber subscriber(m_redis.port(), "long:*");
    QVERIFY(subscriber.waitSubscribed());
    QProcess producer;
    startProgram(producer,
                 {QStringLiteral("pipe"), QStringLiteral("--channel"), QStringLiteral("long:lines"),
                  QStringLiteral("--redis-url"), m_redis.url()});
    QVERIFY2(producer.waitForStarted(), qPrintable(producer.errorString()));
    const auto write = [&producer](const QByteArray &bytes) {
        producer.write(bytes);
        while (producer.bytesToWrite() > 0) {
            if (!producer.waitForBytesWritten(deliveryTimeoutMs))
                return false;
        }
        return true;
    };
    QVERIFY(write("before\n"));
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), 1, deliveryTimeoutMs); // up and connected
    const qint64 baselineKiB = peakResidentKiB(producer.processId());

    const QByteArray e = "\xc3\xa9"; // 'é': the cap falls inside one after the leading 'a'
    const QByteArray mebibyte = e.repeated(512 * 1024);
    QVERIFY(write("a"));
    for (int i = 0; i < 100; ++i)
        QVERIFY(write(mebibyte));
    QVERIFY(write("\n" + mebibyte + mebibyte + "\nafter\n"));
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), 4, deliveryTimeoutMs);
    const qint64 peakKiB = peakResidentKiB(producer.processId());
    producer.closeWriteChannel();
    QVERIFY(producer.waitForFinished(deliveryTimeoutMs));
    const QByteArray stderrText = producer.readAllStandardError();
    QCOMPARE(producer.exitStatus(), QProcess::NormalExit);
    QVERIFY2(producer.exitCode() == 0, stderrText.constData());

    const qsizetype cap = LineBuffer::defaultMaxLineBytes;
    const QByteArrayList got = payloads(subscriber.messages());
    const QByteArray first =
        "a" + e.repeated((cap - 1) / 2) + LineBuffer::truncationMarker(1 + 100LL * 1024 * 1024);
    const QByteArray second = mebibyte + LineBuffer::truncationMarker(2LL * 1024 * 1024);
    QCOMPARE(got.size(), 4);
    QCOMPARE(got.at(0), QByteArray("before"));
    QVERIFY2(got.at(1) == first, got.at(1).right(60).toPercentEncoding().constData());
    QVERIFY2(got.at(2) == second, got.at(2).right(60).toPercentEncoding().constData());
    QCOMPARE(got.at(3), QByteArray("after"));

    QVERIFY2(stderrText.contains("a line of 104857601 bytes is longer than --max-line-bytes "
                                 "(1048576)"),
             stderrText.constData());
    QCOMPARE(stderrText.count("longer than --max-line-bytes"), 1);
    QVERIFY2(stderrText.contains("reconnects 0, truncated 2, elapsed"), stderrText.constData());
    QVERIFY2(stderrText.contains("publishing to Redis pub/sub channel long:lines at"),
             stderrText.constData());

    if (underAddressSanitizer)
        return;
    QVERIFY(baselineKiB > 0 && peakKiB > 0);
    // Holding the 100 MiB line would add at least that; the cap allows a few copies of 1 MiB.
    QVERIFY2(peakKiB - baselineKiB < 32 * 1024,
             qPrintable(QStringLiteral("peak resident memory grew from %1 KiB to %2 KiB")
                            .arg(baselineKiB)
                            .arg(peakKiB)));
}

void tst_Producer::followCutsLongLines()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("long.log"));
    QVERIFY(appendTo(path, ""));
    TestSubscriber subscriber(m_redis.port(), "followlong:*");
    QVERIFY(subscriber.waitSubscribed());
    RedisPublisher publisher(urlOf(m_redis));
    FileFollower follower(path, "followlong:app", &publisher);
    follower.setPollInterval(20ms);
    follower.setMaxLineBytes(1024);
    QSignalSpy truncated(&follower, &FileFollower::linesTruncated);
    publisher.start();
    follower.start();

    QVERIFY(appendTo(path, QByteArray(3 * 1024 * 1024, 'x') + "\nnext\n"));
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), 2, deliveryTimeoutMs);
    QCOMPARE(payloads(subscriber.messages()),
             (QByteArrayList{QByteArray(1024, 'x') + LineBuffer::truncationMarker(3 * 1024 * 1024),
                             "next"}));
    QCOMPARE(follower.truncatedLines(), 1u);
    QCOMPARE(truncated.size(), 1);
    QCOMPARE(truncated.first().at(0).toULongLong(), 1u);
    QCOMPARE(truncated.first().at(1).toLongLong(), 3 * 1024 * 1024);
}

void tst_Producer::followRefusesChangedPath_data()
{
    QTest::addColumn<int>("swap");
    QTest::addColumn<bool>("trust");
    for (const bool trust : {false, true}) {
        const char *suffix = trust ? ", --trust-path" : "";
        QTest::addRow("file replaced by a symlink%s", suffix) << int(Swap::FileBySymlink) << trust;
        QTest::addRow("symlink pointed elsewhere%s", suffix)
            << int(Swap::SymlinkRetargeted) << trust;
        QTest::addRow("directory symlink pointed elsewhere%s", suffix)
            << int(Swap::DirectoryRetargeted) << trust;
    }
}

void tst_Producer::followRefusesChangedPath()
{
    // The producer may read more than the log's writer can (root, group adm): whoever can
    // replace the log must not make it publish another file, unless --trust-path says so.
    QFETCH(int, swap);
    QFETCH(bool, trust);
    QTemporaryDir dir;
    const auto at = [&dir](const char *name) { return dir.filePath(QString::fromUtf8(name)); };
    QVERIFY(QDir(dir.path()).mkpath(QStringLiteral("real1")));
    QVERIFY(QDir(dir.path()).mkpath(QStringLiteral("real2")));
    const QString secret = at("real2/app.log"); // somebody else's file
    QVERIFY(appendTo(secret, "secret 1\n"));
    QString path = at("app.log"); // what the follower is given
    QString logFile = path;       // the file the application writes
    switch (Swap(swap)) {
    case Swap::FileBySymlink:
        break;
    case Swap::SymlinkRetargeted:
        logFile = at("real1/app.log");
        QVERIFY(QFile::link(logFile, path));
        break;
    case Swap::DirectoryRetargeted:
        logFile = at("real1/app.log");
        QVERIFY(QFile::link(at("real1"), at("logs")));
        path = at("logs/app.log");
        break;
    }
    QVERIFY(appendTo(logFile, ""));

    const QByteArray channel = "swap:" + QByteArray::number(swap) + (trust ? ":trusted" : "");
    FollowSetup f(m_redis, path, channel, trust);
    QVERIFY(f.start(logFile));

    switch (Swap(swap)) {
    case Swap::FileBySymlink:
        QVERIFY(QFile::rename(path, at("app.log.away")));
        QVERIFY(QFile::link(secret, path));
        break;
    case Swap::SymlinkRetargeted:
        QVERIFY(pointLink(path, secret));
        break;
    case Swap::DirectoryRetargeted:
        QVERIFY(pointLink(at("logs"), at("real2")));
        break;
    }
    QVERIFY(appendTo(secret, "secret 2\n"));

    if (trust) {
        QTRY_COMPARE_WITH_TIMEOUT(f.subscriber.count(), 3, deliveryTimeoutMs);
        QCOMPARE(payloads(f.subscriber.messages()), (QByteArrayList{"a1", "secret 1", "secret 2"}));
        QCOMPARE(f.refused.size(), 0);
        return;
    }
    QVERIFY(f.refused.wait(deliveryTimeoutMs));
    const QString message = f.refused.first().first().toString();
    for (const QString &part :
         {QString(QStringLiteral("not reading ") + path), QFileInfo(secret).canonicalFilePath(),
          QStringLiteral("--trust-path")})
        QVERIFY2(message.contains(part), qPrintable(message));
    f.follower.poll();
    f.follower.poll();
    // Anything the follower handed over would reach Redis before this, on the same connection.
    f.publisher.publish(channel, "marker");
    QTRY_COMPARE_WITH_TIMEOUT(f.subscriber.count(), 2, deliveryTimeoutMs);
    QCOMPARE(payloads(f.subscriber.messages()), (QByteArrayList{"a1", "marker"}));
    QCOMPARE(f.follower.lines(), 1u);
    QCOMPARE(f.refused.size(), 1); // said once, not at every poll
    QCOMPARE(f.follower.refusals(), 1u);

    // Undone: the file read before is back, and following goes on where it stopped.
    switch (Swap(swap)) {
    case Swap::FileBySymlink:
        QVERIFY(QFile::remove(path));
        QVERIFY(QFile::rename(at("app.log.away"), path));
        break;
    case Swap::SymlinkRetargeted:
        QVERIFY(pointLink(path, logFile));
        break;
    case Swap::DirectoryRetargeted:
        QVERIFY(pointLink(at("logs"), at("real1")));
        break;
    }
    QVERIFY(appendTo(logFile, "a2\n"));
    QTRY_COMPARE_WITH_TIMEOUT(f.subscriber.count(), 3, deliveryTimeoutMs);
    QCOMPARE(payloads(f.subscriber.messages()), (QByteArrayList{"a1", "marker", "a2"}));
}

void tst_Producer::followRefusesFileOfAnotherOwner_data()
{
    QTest::addColumn<bool>("trust");
    QTest::newRow("refused") << false;
    QTest::newRow("--trust-path") << true;
}

void tst_Producer::followRefusesFileOfAnotherOwner()
{
    // Rotation, but the new file at the path belongs to another user (as a hard link to their
    // file would).
    if (::geteuid() != 0)
        QSKIP("giving a file to another user (chown) needs root");
    QFETCH(bool, trust);
    const uid_t nobody = 65534;
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("app.log"));
    const QString other = dir.filePath(QStringLiteral("other.log"));
    QVERIFY(appendTo(path, ""));
    QVERIFY(appendTo(other, "other 1\n"));
    QCOMPARE(::chown(QFile::encodeName(other).constData(), nobody, nobody), 0);

    const QByteArray channel = trust ? "owner:trusted" : "owner:refused";
    FollowSetup f(m_redis, path, channel, trust);
    QVERIFY(f.start(path));

    QVERIFY(QFile::rename(path, path + QStringLiteral(".1")));
    QVERIFY(QFile::rename(other, path));
    if (trust) {
        QTRY_COMPARE_WITH_TIMEOUT(f.subscriber.count(), 2, deliveryTimeoutMs);
        QCOMPARE(payloads(f.subscriber.messages()), (QByteArrayList{"a1", "other 1"}));
        QCOMPARE(f.refused.size(), 0);
        return;
    }
    QVERIFY(f.refused.wait(deliveryTimeoutMs));
    const QString message = f.refused.first().first().toString();
    QVERIFY2(message.contains(QStringLiteral("now belongs to uid 65534")), qPrintable(message));
    f.publisher.publish(channel, "marker");
    QTRY_COMPARE_WITH_TIMEOUT(f.subscriber.count(), 2, deliveryTimeoutMs);
    QCOMPARE(payloads(f.subscriber.messages()), (QByteArrayList{"a1", "marker"}));
}

void tst_Producer::followProgramReportsRefusal()
{
    // The program says so on stderr and keeps running (without reading) until it is stopped.
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("app.log"));
    const QString secret = dir.filePath(QStringLiteral("secret.log"));
    QVERIFY(appendTo(path, "a1\n"));
    QVERIFY(appendTo(secret, "secret 1\n"));
    TestSubscriber subscriber(m_redis.port(), "program:*");
    QVERIFY(subscriber.waitSubscribed());
    QProcess producer;
    startProgram(producer, {QStringLiteral("follow"), path, QStringLiteral("--from-start"),
                            QStringLiteral("--channel"), QStringLiteral("program:app"),
                            QStringLiteral("--redis-url"), m_redis.url()});
    QVERIFY2(producer.waitForStarted(), qPrintable(producer.errorString()));
    QTRY_COMPARE_WITH_TIMEOUT(subscriber.count(), 1, deliveryTimeoutMs); // it has the file open

    QVERIFY(QFile::remove(path));
    QVERIFY(QFile::link(secret, path));
    QByteArray stderrText;
    QTRY_VERIFY_WITH_TIMEOUT((stderrText += producer.readAllStandardError())
                                 .contains("llmstreamer-producer: not reading"),
                             deliveryTimeoutMs);
    QVERIFY2(stderrText.contains("--trust-path"), stderrText.constData());
    QCOMPARE(producer.state(), QProcess::Running);
    producer.terminate();
    QVERIFY(producer.waitForFinished(deliveryTimeoutMs));
    stderrText += producer.readAllStandardError();
    QCOMPARE(producer.exitStatus(), QProcess::NormalExit);
    QVERIFY2(producer.exitCode() == 0, stderrText.constData());
    QCOMPARE(stderrText.count("not reading"), 1);
    QCOMPARE(payloads(subscriber.messages()), QByteArrayList{"a1"});
}

void tst_Producer::unreachableRedisIsReportedAndRetried()
{
    const quint16 port = TestRedis::freePort(); // nothing listens there
    RedisPublisher publisher(*RedisUrl::parse(QStringLiteral("redis://127.0.0.1:%1").arg(port)));
    QSignalSpy errors(&publisher, &RedisPublisher::errorOccurred);
    QSignalSpy attempts(publisher.connection(), &RedisConnection::connectFailed);
    publisher.start();
    publisher.publish("x", "kept until Redis is there");
    QVERIFY(errors.wait());
    const QString message = errors.first().first().toString();
    for (const char *part : {"cannot reach Redis at redis://127.0.0.1:", "is redis-server running",
                             "REDIS_URL", "Retrying"})
        QVERIFY2(message.contains(QLatin1String(part)), qPrintable(message));
    QCOMPARE(publisher.lastError(), message);

    QTRY_VERIFY_WITH_TIMEOUT(attempts.size() >= 3,
                             30000); // keeps retrying (100, 200, 400 ms backoff)...
    QCOMPARE(errors.size(), 1);      // ...but tells the user once per outage
    QCOMPARE(publisher.pending(), 1);
    QVERIFY(!publisher.isConnected());
}

QTEST_GUILESS_MAIN(tst_Producer)
#include "tst_producer.moc"
