#include "logfeed.h"

#include "channelfetcher.h"
#include "feedlogging.h"
#include "vocabulary.h"

#include <QJsonDocument>

LogFeed::LogFeed(QObject *parent)
    : QObject(parent), m_connection(new SseConnection(this)),
      m_channelFetcher(new ChannelFetcher(this))
{
    connect(m_connection, &SseConnection::eventReceived, this, &LogFeed::handleEvent);
    connect(m_connection, &SseConnection::stateChanged, this, &LogFeed::handleStateChanged);
    connect(m_channelFetcher, &ChannelFetcher::channelsFetched, this,
            &LogFeed::handleChannelsFetched);
    m_rateTimer.setInterval(1000); // rate() is per second: one sample is one second's count
    connect(&m_rateTimer, &QTimer::timeout, this, &LogFeed::sampleRate);
    m_rateTimer.start();
}

LogFeed::~LogFeed() = default;

void LogFeed::start(const QUrl &base, const QString &token, const QStringList &channels)
{
    if (base != m_connection->gatewayUrl())
        forgetChannels();
    m_token = token;
    m_connection->setGatewayUrl(base);
    m_connection->setToken(token);
    m_connection->setChannels(channels);
    m_connection->start();
}

void LogFeed::stop()
{
    m_connection->stop();
}

void LogFeed::fail(const QString &reason)
{
    forgetChannels();
    m_connection->fail(reason);
}

qint64 LogFeed::msSinceLastGap() const
{
    return m_sinceLastGap.isValid() ? m_sinceLastGap.elapsed() : -1;
}

void LogFeed::handleEvent(const SseEvent &event)
{
    if (event.type == Vocabulary::statsEvent) {
        handleStats(event.data);
        return;
    }
    const std::optional<LogRecord> record = m_decoder.decode(event);
    if (!record)
        return;
    const bool gap = record->kind == LogRecord::Kind::Gap;
    if (record->kind == LogRecord::Kind::Message) {
        ++m_received;
    } else if (gap) {
        ++m_gaps;
        m_lastGap = record->message();
        m_sinceLastGap.start();
        qCInfo(lcDesktopFeed, "%s", qUtf8Printable(m_lastGap));
    }
    Q_EMIT recordReceived(*record);
    if (gap)
        Q_EMIT countersUpdated();
}

void LogFeed::handleStats(const QByteArray &data)
{
    const QJsonObject stats = QJsonDocument::fromJson(data).object();
    if (stats.isEmpty())
        return;
    Q_EMIT statsReceived(stats);
    QStringList names;
    const QJsonObject channels = stats.value(QLatin1StringView("channels")).toObject();
    for (auto it = channels.begin(); it != channels.end(); ++it)
        names.append(it.key());
    if (addKnownChannels(names))
        Q_EMIT channelsChanged();
}

void LogFeed::handleStateChanged(SseConnection::State state, const QString &reason)
{
    if (state == SseConnection::State::Live)
        m_channelFetcher->fetch(m_connection->gatewayUrl(), m_token);
    Q_EMIT stateChanged(state, reason);
}

void LogFeed::handleChannelsFetched(const QStringList &channels, const QStringList &allowlist)
{
    m_allowlist = allowlist;
    addKnownChannels(channels);
    Q_EMIT channelsChanged();
}

bool LogFeed::addKnownChannels(const QStringList &channels)
{
    bool changed = false;
    for (const QString &name : channels) {
        // "(other)" is the gateway's bucket beyond its per-channel limit, not a channel.
        if (name.isEmpty() || name.startsWith(u'(') || m_knownChannels.contains(name))
            continue;
        m_knownChannels.append(name);
        changed = true;
    }
    if (changed)
        m_knownChannels.sort();
    return changed;
}

void LogFeed::forgetChannels()
{
    if (m_knownChannels.isEmpty() && m_allowlist.isEmpty())
        return;
    m_knownChannels.clear();
    m_allowlist.clear();
    Q_EMIT channelsChanged();
}

void LogFeed::sampleRate()
{
    m_rate = double(m_received - m_receivedAtSample);
    m_receivedAtSample = m_received;
    Q_EMIT countersUpdated();
}
