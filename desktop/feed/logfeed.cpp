#include "logfeed.h"

#include "channelfetcher.h"
#include "feedlogging.h"
#include "historyfetcher.h"
#include "historysearch.h"
#include "vocabulary.h"

#include <QDateTime>
#include <QJsonDocument>

LogFeed::LogFeed(QObject *parent)
    : QObject(parent), m_connection(new SseConnection(this)),
      m_channelFetcher(new ChannelFetcher(this)), m_olderLines(new HistoryFetcher(this)),
      m_search(new HistorySearch(this))
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
    // Complete delivery is a statement about one selection from one gateway.
    if (base != m_connection->gatewayUrl() || channels != m_connection->channels())
        resetDelivery();
    m_token = token;
    m_connection->setGatewayUrl(base);
    m_connection->setToken(token);
    m_connection->setChannels(channels);
    m_olderLines->setSource(base, token, channels);
    m_search->fetcher()->setSource(base, token, channels);
    m_connection->start();
}

void LogFeed::stop()
{
    m_connection->stop();
}

void LogFeed::fail(const QString &reason)
{
    forgetChannels();
    resetDelivery();
    m_olderLines->setSource({}, {}, {});
    m_search->fetcher()->setSource({}, {}, {});
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
        m_lastMessage = *record;
    } else if (gap) {
        ++m_gaps;
        m_lastGap = record->message();
        m_sinceLastGap.start();
        qCInfo(lcDesktopFeed, "%s", qUtf8Printable(m_lastGap));
        noteGap(*record);
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
    if (state == SseConnection::State::Live) {
        m_channelFetcher->fetch(m_connection->gatewayUrl(), m_token);
        if (m_completeSinceMs < 0) {
            m_completeSinceMs = QDateTime::currentMSecsSinceEpoch();
            Q_EMIT deliveryChanged();
        }
    }
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

void LogFeed::resetDelivery()
{
    if (m_completeSinceMs < 0 && m_gapAtMs < 0)
        return;
    m_completeSinceMs = -1;
    m_gapAtMs = -1;
    m_gapReason.clear();
    m_gapText.clear();
    Q_EMIT deliveryChanged();
}

void LogFeed::noteGap(const LogRecord &gap)
{
    const QJsonObject o = QJsonDocument::fromJson(gap.raw).object();
    // A Redis outage says when it ended; other gaps are now.
    const qint64 until = qint64(o.value(QLatin1StringView("until")).toDouble());
    m_gapAtMs = until > 0 ? until : gap.ts;
    m_completeSinceMs = m_gapAtMs;
    m_gapReason = o.value(Vocabulary::reasonMember).toString();
    m_gapText = o.value(Vocabulary::messageMember).toString();
    if (m_gapText.isEmpty())
        m_gapText = m_gapReason;
    if (m_gapText.isEmpty())
        m_gapText = tr("events are missing here");
    Q_EMIT deliveryChanged();
}

void LogFeed::sampleRate()
{
    m_rate = double(m_received - m_receivedAtSample);
    m_receivedAtSample = m_received;
    Q_EMIT countersUpdated();
}
