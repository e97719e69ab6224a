#include "producerapp.h"

#include "filefollower.h"
#include "otlpreceiver.h"
#include "pipesource.h"
#include "producerlogging.h"
#include "redispublisher.h"
#include "simulatesource.h"

#include <QRandomGenerator>

#include <cstdio>

namespace {

void printError(const QString &message)
{
    std::fprintf(stderr, "llmstreamer-producer: %s\n", qUtf8Printable(message));
    std::fflush(stderr);
}

// "Redis stream llmstreamer:stream at redis://h:6379 (channel logs:app; trimmed to about 1000000
// entries)", or "Redis pub/sub channel logs:app at redis://h:6379".
QString destination(const ProducerOptions &options)
{
    const OtlpDecoder::Channels &otlp = options.otlp.channels;
    const QString channels =
        options.mode == ProducerOptions::Mode::Simulate
            ? QStringLiteral("channels %1:generation, %1:metrics and %1:errors")
                  .arg(QString::fromUtf8(options.channelPrefix))
        : options.mode == ProducerOptions::Mode::Otlp
            ? QStringLiteral("channels %1, %2, %3%4")
                  .arg(QString::fromUtf8(otlp.logs), QString::fromUtf8(otlp.generation),
                       QString::fromUtf8(otlp.errors),
                       otlp.allSpans ? QStringLiteral(", ") + QString::fromUtf8(otlp.spans)
                                     : QString())
            : QStringLiteral("channel ") + QString::fromUtf8(options.channel);
    const QString url = options.redis.toDisplayString();
    if (!options.transport.isStreams())
        return QStringLiteral("Redis pub/sub %1 at %2").arg(channels, url);
    const QString trimming =
        options.transport.streamMaxEntries > 0
            ? QStringLiteral("trimmed to about %1 entries").arg(options.transport.streamMaxEntries)
            : QStringLiteral("never trimmed");
    const int partitions = options.transport.streamPartitions;
    const QString stream =
        partitions > 1 ? QStringLiteral("%1 in %2 partitions, %3 ... %4")
                             .arg(QString::fromUtf8(options.transport.streamKey))
                             .arg(partitions)
                             .arg(QString::fromUtf8(options.transport.partitionKey(0)),
                                  QString::fromUtf8(options.transport.partitionKey(partitions - 1)))
                       : QString::fromUtf8(options.transport.streamKey);
    return QStringLiteral("Redis stream %1 at %2 (%3; %4)").arg(stream, url, channels, trimming);
}

LineParser lineParser(const ProducerOptions &options)
{
    return LineParser(options.format, options.channel, options.metricsChannel);
}

} // namespace

ProducerApp::ProducerApp(const ProducerOptions &options, int inputFd, QObject *parent)
    : QObject(parent), m_options(options), m_inputFd(inputFd),
      m_publisher(new RedisPublisher(options.redis, this))
{
    RedisPublisher::Limits limits;
    limits.maxMessages = options.bufferMessages;
    limits.maxBytes = options.bufferBytes;
    limits.maxInFlight = int(std::min<qsizetype>(limits.maxInFlight, options.bufferMessages));
    m_publisher->setLimits(limits);
    if (options.transport.isStreams())
        m_publisher->setStream(options.transport);
    // A simulation at a set rate keeps the newest records when Redis cannot keep up; real input
    // (and simulate --rate 0) is never dropped: reading pauses instead.
    m_publisher->setOverflow(options.mode == ProducerOptions::Mode::Simulate && options.rate > 0
                                 ? RedisPublisher::Overflow::DropOldest
                                 : RedisPublisher::Overflow::Block);
    connect(m_publisher, &RedisPublisher::errorOccurred, this, &printError);
    connect(m_publisher, &RedisPublisher::drained, this, [this] {
        if (m_waiting)
            finish();
    });
    m_graceTimer.setSingleShot(true);
    connect(&m_graceTimer, &QTimer::timeout, this, &ProducerApp::finish);
}

ProducerApp::~ProducerApp() = default;

void ProducerApp::start()
{
    m_elapsed.start();
    qCInfo(lcProducer, "publishing to %s", qUtf8Printable(destination(m_options)));
    m_publisher->start();
    switch (m_options.mode) {
    case ProducerOptions::Mode::Simulate: {
        LogSimulator::Config config;
        config.service = m_options.service;
        config.channelPrefix = m_options.channelPrefix;
        config.seed = m_options.seedSet ? m_options.seed : QRandomGenerator::global()->generate();
        SimulateSource::Settings settings;
        settings.rate = m_options.rate;
        settings.count = m_options.count;
        settings.duration = std::chrono::milliseconds(m_options.durationMs);
        m_simulate = new SimulateSource(config, settings, m_publisher, this);
        connect(m_simulate, &SimulateSource::finished, this, &ProducerApp::handleSourceFinished);
        m_simulate->start();
        break;
    }
    case ProducerOptions::Mode::Pipe:
        m_pipe = new PipeSource(m_inputFd, m_options.channel, m_publisher, this);
        m_pipe->setMaxLineBytes(m_options.maxLineBytes);
        m_pipe->setLineParser(lineParser(m_options));
        connect(m_pipe, &PipeSource::finished, this, &ProducerApp::handleSourceFinished);
        connect(m_pipe, &PipeSource::linesTruncated, this, &ProducerApp::handleLinesTruncated);
        m_pipe->start();
        break;
    case ProducerOptions::Mode::Follow:
        m_follow = new FileFollower(m_options.file, m_options.channel, m_publisher, this);
        m_follow->setFromStart(m_options.fromStart);
        m_follow->setMaxLineBytes(m_options.maxLineBytes);
        m_follow->setLineParser(lineParser(m_options));
        m_follow->setTrustPath(m_options.trustPath);
        connect(m_follow, &FileFollower::linesTruncated, this, &ProducerApp::handleLinesTruncated);
        connect(m_follow, &FileFollower::refused, this, &printError);
        m_follow->start();
        break;
    case ProducerOptions::Mode::Otlp: {
        m_otlp = new OtlpReceiver(m_options.otlp, m_publisher, this);
        QString error;
        if (!m_otlp->listen(&error)) {
            printError(error);
            m_listenFailed = true;
            finish();
        }
        break;
    }
    }
}

void ProducerApp::stopSource()
{
    if (m_simulate)
        m_simulate->stop();
    if (m_pipe)
        m_pipe->stop();
    if (m_follow)
        m_follow->stop();
    if (m_otlp)
        m_otlp->close();
}

void ProducerApp::requestStop()
{
    if (m_finished)
        return;
    if (m_stopRequested) {
        finish(); // asked twice: stop waiting
        return;
    }
    m_stopRequested = true;
    stopSource(); // may finish us already: a pipe with nothing left to send
    if (m_finished)
        return;
    if (m_publisher->pending() > 0) {
        qCInfo(lcProducer, "stopping: waiting up to %lld ms for %lld buffered messages",
               static_cast<long long>(m_gracePeriod.count()),
               static_cast<long long>(m_publisher->pending()));
        m_graceTimer.start(m_gracePeriod);
    }
    waitForAcknowledgements();
}

void ProducerApp::handleSourceFinished()
{
    if (m_pipe && !m_pipe->errorString().isEmpty())
        printError(m_pipe->errorString());
    waitForAcknowledgements();
}

void ProducerApp::handleLinesTruncated(quint64 total, qint64 lineBytes)
{
    // Once per run: a log full of long lines must not turn into as many warnings. The summary
    // has the count.
    if (m_truncatedLines == 0)
        qCWarning(lcProducer,
                  "a line of %lld bytes is longer than --max-line-bytes (%lld): published its "
                  "first %lld bytes (to a whole character) and \"\xe2\x80\xa6 [truncated: %lld "
                  "bytes]\"; later ones are only counted (see the summary at exit). Raise "
                  "--max-line-bytes to keep such lines whole",
                  static_cast<long long>(lineBytes), static_cast<long long>(m_options.maxLineBytes),
                  static_cast<long long>(m_options.maxLineBytes),
                  static_cast<long long>(lineBytes));
    m_truncatedLines = total;
}

void ProducerApp::waitForAcknowledgements()
{
    m_waiting = true;
    if (m_publisher->pending() == 0)
        finish();
}

QString ProducerApp::summary() const
{
    QString text = QStringLiteral("published %1, dropped %2, pending %3, resent %4, reconnects %5")
                       .arg(m_publisher->published())
                       .arg(m_publisher->dropped() + m_publisher->rejected())
                       .arg(m_publisher->pending())
                       .arg(m_publisher->resent())
                       .arg(m_publisher->reconnects());
    if (m_truncatedLines > 0)
        text += QStringLiteral(", truncated %1").arg(m_truncatedLines);
    if (m_otlp) {
        const OtlpReceiver::Counters &c = m_otlp->counters();
        text += QStringLiteral(", OTLP requests %1 (refused %2, of them busy %3), records "
                               "rejected %4")
                    .arg(c.requests)
                    .arg(c.refused)
                    .arg(c.busy)
                    .arg(c.rejected);
    }
    return text +
           QStringLiteral(", elapsed %1 s").arg(double(m_elapsed.elapsed()) / 1000.0, 0, 'f', 1);
}

void ProducerApp::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    m_graceTimer.stop();
    stopSource();
    printError(summary());
    const bool inputFailed = (m_pipe && !m_pipe->errorString().isEmpty()) || m_listenFailed;
    // Losing messages (still buffered, or refused by Redis) is a failure, except for a
    // simulation, whose records are made up.
    const bool lost = (m_publisher->pending() > 0 || m_publisher->rejected() > 0) &&
                      m_options.mode != ProducerOptions::Mode::Simulate;
    Q_EMIT finished(inputFailed || lost ? 1 : 0);
}
