#pragma once

#include "logrecord.h"
#include "logrecorddecoder.h"
#include "sseconnection.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QTimer>
#include <QUrl>

class ChannelFetcher;

// The monitor's data side, without a window: the gateway's /events stream decoded into log
// lines, the gateway's stats, the channels it has seen or allows (from the stats and from
// GET /api/channels), and the counts the status bar shows. A window connects the signals to its
// model, chart and status bar; a test drives it with a QCoreApplication.
class LogFeed final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LogFeed)

public:
    explicit LogFeed(QObject *parent = nullptr);
    ~LogFeed() override;

    // Connects to the gateway at `base` (see GatewayUrl::parse) for `channels`, names or globs
    // (empty: every channel), resuming from the last event. Another gateway than the last one
    // starts with no known channels.
    void start(const QUrl &base, const QString &token, const QStringList &channels);
    void stop();
    // Stops for want of a usable gateway URL, with the reason in plain words; the channels of the
    // last gateway are forgotten.
    void fail(const QString &reason);

    SseConnection *connection() const { return m_connection; }
    SseConnection::State state() const { return m_connection->state(); }

    // Message lines since the feed was made; marker lines (gaps, notices) are not counted.
    quint64 received() const { return m_received; }
    // Message lines in the last second, taken once a second.
    double rate() const { return m_rate; }
    int gaps() const { return m_gaps; }
    // The last gap's line, as the log shows it; empty before the first.
    QString lastGap() const { return m_lastGap; }
    // Milliseconds since the last gap arrived, or -1 before the first.
    qint64 msSinceLastGap() const;

    // Channel names the gateway has mentioned, sorted, without its "(other)" bucket.
    QStringList knownChannels() const { return m_knownChannels; }
    // The gateway's allowlist (globs), as /api/channels says.
    QStringList allowlist() const { return m_allowlist; }

Q_SIGNALS:
    // A line for the log, message or marker, in the order of the stream.
    void recordReceived(const LogRecord &record);
    void statsReceived(const QJsonObject &stats);
    void stateChanged(SseConnection::State state, const QString &reason);
    // Once a second when the rate is taken, and at once when a gap arrives.
    void countersUpdated();
    // knownChannels() or allowlist() changed.
    void channelsChanged();

private:
    void handleEvent(const SseEvent &event);
    void handleStats(const QByteArray &data);
    void handleStateChanged(SseConnection::State state, const QString &reason);
    void handleChannelsFetched(const QStringList &channels, const QStringList &allowlist);
    bool addKnownChannels(const QStringList &channels);
    void forgetChannels();
    void sampleRate();

    SseConnection *m_connection;
    ChannelFetcher *m_channelFetcher;
    LogRecordDecoder m_decoder;
    QString m_token;
    QTimer m_rateTimer;
    quint64 m_received = 0;
    quint64 m_receivedAtSample = 0;
    double m_rate = 0;
    int m_gaps = 0;
    QString m_lastGap;
    QElapsedTimer m_sinceLastGap;
    QStringList m_knownChannels;
    QStringList m_allowlist;
};
